/**
 * Room messages (section 6), as the group-message part of sotto/session.py: sealing our
 * text, room seq bookkeeping (duplicates refused, gaps reported, late fillers of a
 * reported gap accepted), our own echo, and opening peers' broadcasts in the order
 * sender verified -> signature -> epoch key -> ratchet -> tag, holding those that wait.
 * @module core/inbox
 */

import { FRAME, GAP, LIMIT, MSG_TYPE, REJECT, SIZE } from "./constants.js";
import {
  checkSignature, decryptBroadcast, parseBroadcast, parsePlaintext, sealBroadcast, textPlaintext,
} from "./broadcast.js";
import { isText, isUint, utf8 } from "./encoding.js";
import * as ev from "./events.js";
import { EncodingError, ProtocolError, RatchetError, UsageError } from "./errors.js";

/** @typedef {import("./session.js").SessionState} SessionState */
/** @typedef {import("./peers.js").Peer} Peer */
/** @typedef {import("./events.js").Output} Output */

/**
 * Seal one text as a `broadcast` frame and remember its body to recognise the echo.
 * @param {SessionState} s
 * @param {string} text
 * @param {Output} out
 */
export async function sealText(s, text, out) {
  if (s.memberId === null) throw new UsageError("Not in the room yet.");
  if (typeof text !== "string") throw new UsageError("A message must be text.");
  if (!isText(text)) {
    throw new UsageError("This message holds a broken character (a lone surrogate) and cannot "
      + "be sent.");
  }
  if (utf8(text).length > SIZE.MAX_TEXT) {
    throw new UsageError(`A message holds at most ${SIZE.MAX_TEXT} bytes.`);
  }
  const ts = Math.floor(s.now());
  const { index, key } = await s.chain.next();
  const body = await sealBroadcast({ roomId: s.roomId, senderId: s.memberId,
    epoch: s.chain.epoch, index, key, signer: s.signer, plaintext: textPlaintext(text, ts),
    nonce: s.random(SIZE.NONCE) });
  s.pending.set(body, { text, ts });
  out.send({ type: FRAME.BROADCAST, body });
}

/**
 * Account for a room seq: false for a duplicate, else true (reporting any gap).
 * @param {SessionState} s
 * @param {string} sender
 * @param {number} seq
 * @param {Output} out
 */
function checkSeq(s, sender, seq, out) {
  if (seq <= s.lastSeq) {
    if (s.missing.delete(seq)) return true;
    out.emit(ev.rejected(sender, REJECT.REPLAYED));
    return false;
  }
  if (seq > s.lastSeq + 1) {
    out.emit(ev.gap(s.lastSeq + 1, seq - 1, GAP.MISSING));
    for (let n = Math.max(s.lastSeq + 1, seq - LIMIT.MAX_MISSING); n < seq; n += 1) {
      s.missing.add(n);
    }
    // Seqs enter in increasing order, so the Set's first entries are the smallest.
    for (const n of s.missing) {
      if (s.missing.size <= LIMIT.MAX_MISSING) break;
      s.missing.delete(n);
    }
  }
  s.lastSeq = seq;
  return true;
}

/**
 * Handle a `message` frame.
 * @param {SessionState} s
 * @param {Record<string, unknown>} frame
 * @param {Output} out
 */
export async function onMessage(s, frame, out) {
  const { from: sender, seq, body } = frame;
  if (s.memberId === null || typeof sender !== "string" || !isUint(seq)) {
    out.emit(ev.rejected(null, REJECT.BAD_FRAME));
    return;
  }
  const n = /** @type {number} */ (seq);
  if (typeof body !== "string") {
    out.emit(ev.rejected(sender, REJECT.MALFORMED));
    return;
  }
  if (!checkSeq(s, sender, n, out)) return;
  if (sender === s.memberId) {
    const own = s.pending.get(body);
    if (own === undefined) out.emit(ev.rejected(sender, REJECT.REPLAYED));
    else {
      s.pending.delete(body);
      out.emit(ev.messageReceived(sender, own.text, own.ts, n, true));
      out.emit(ev.messageSent(n));
    }
    return;
  }
  const peer = s.peers.get(sender) ?? s.departed.get(sender)?.peer;
  if (peer === undefined) {
    out.emit(ev.rejected(sender, REJECT.UNKNOWN_SENDER));
    return;
  }
  if (!(await tryOpen(s, peer, n, body, out))) {
    const pushed = peer.holdBroadcast({ seq: n, body, since: s.now() });
    if (pushed !== undefined) out.gapAt(pushed.seq, GAP.HELD_OVERFLOW);
  }
}

/**
 * Open a broadcast from a peer; false means it must wait (sender or key not ready).
 * @param {SessionState} s
 * @param {Peer} peer
 * @param {number} seq
 * @param {string} body
 * @param {Output} out
 * @returns {Promise<boolean>}
 */
async function tryOpen(s, peer, seq, body, out) {
  let env;
  try {
    env = parseBroadcast(body);
  } catch (err) {
    if (!(err instanceof EncodingError)) throw err;
    out.emit(ev.rejected(peer.id, REJECT.MALFORMED));
    return true;
  }
  if (peer.failed) {
    out.emit(ev.rejected(peer.id, REJECT.UNVERIFIED_SENDER));
    out.gapAt(seq, GAP.SENDER_UNVERIFIED);
    return true;
  }
  if (!peer.verified) return false;
  const reason = await openVerified(s, peer, seq, env, out);
  if (reason === "wait") return false;
  if (reason !== null) out.emit(ev.rejected(peer.id, reason));
  return true;
}

/**
 * Signature, epoch key, ratchet, tag; the chain moves only once all pass.
 * @returns {Promise<string|null>} a Rejected reason, "wait", or null when handled
 */
async function openVerified(s, peer, seq, env, out) {
  try {
    await checkSignature(env, s.roomId, peer.id, peer.verifyKey);
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    return REJECT.BAD_SIGNATURE;
  }
  const chain = peer.chains.get(env.epoch);
  if (chain === undefined) {
    if (env.epoch > peer.newestEpoch) return "wait";
    out.gapAt(seq, GAP.OLD_EPOCH);
    return null;
  }
  if (env.index < chain.firstIndex) {
    // Sent before the key we were given: not for us (we joined or verified later).
    out.gapAt(seq, GAP.BEFORE_KEY);
    return null;
  }
  let prepared;
  try {
    prepared = await chain.prepare(env.index);
  } catch (err) {
    if (!(err instanceof RatchetError)) throw err;
    return env.index < chain.index ? REJECT.REPLAYED : REJECT.TOO_FAR_AHEAD;
  }
  let padded;
  try {
    padded = await decryptBroadcast(env, s.roomId, peer.id, prepared.key);
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    return REJECT.BAD_CIPHERTEXT;
  }
  // Signed and authentic: the key is used up, whatever the plaintext turns out to hold.
  prepared.commit();
  let plain;
  try {
    plain = parsePlaintext(padded);
  } catch (err) {
    if (!(err instanceof EncodingError)) throw err;
    // Bad padding, not UTF-8, not a JSON object, or a string that is not Unicode text.
    return REJECT.MALFORMED;
  }
  if (plain.t !== MSG_TYPE.TEXT) return null; // later versions' kinds are ignored
  // ts as section 2.1 bounds it: an integer JavaScript holds exactly (sotto/inbox.py).
  if (typeof plain.body !== "string" || !Number.isSafeInteger(plain.ts)) return REJECT.MALFORMED;
  out.emit(ev.messageReceived(peer.id, plain.body, plain.ts, seq, false));
  return null;
}

/**
 * Try a peer's held broadcasts again, in order (its sender key just arrived).
 * @param {SessionState} s
 * @param {Peer} peer
 * @param {Output} out
 */
export async function retryHeld(s, peer, out) {
  const keep = [];
  for (const held of peer.heldBroadcasts) {
    if (!(await tryOpen(s, peer, held.seq, held.body, out))) keep.push(held);
  }
  peer.heldBroadcasts = keep;
}

/**
 * Drop a peer's held broadcasts older than 30 s, each reported as a gap.
 * @param {Peer} peer
 * @param {number} now ms
 * @param {Output} out
 */
export function expireHeld(peer, now, out) {
  while (peer.heldBroadcasts.length > 0
    && peer.heldBroadcasts[0].since + LIMIT.HELD_BROADCAST_MS <= now) {
    out.gapAt(/** @type {{seq: number}} */ (peer.heldBroadcasts.shift()).seq, GAP.KEY_MISSING);
  }
}
