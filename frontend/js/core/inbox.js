/**
 * Room messages (section 6): sealing our text, the seq order and gaps, our own echo,
 * opening peers' broadcasts, and holding those whose key has not arrived (30 s, 256 each).
 * @module core/inbox
 */

import { FRAME, LIMIT, MSG_TYPE, REASON, SIZE } from "./constants.js";
import {
  checkSignature, openBroadcast, parseBroadcast, sealBroadcast, textPlaintext,
} from "./broadcast.js";
import { isUint, utf8 } from "./encoding.js";
import * as ev from "./events.js";
import { AuthenticationError, ProtocolError, RatchetError, UsageError } from "./errors.js";

/**
 * Seal one text as a `broadcast` frame and remember its body to recognise the echo.
 * @param {import("./session.js").SessionState} s
 * @param {string} text
 * @param {import("./events.js").Output} out
 */
export async function sealText(s, text, out) {
  if (s.memberId === null) throw new UsageError("Not in the room yet.");
  if (typeof text !== "string") throw new UsageError("A message must be text.");
  if (utf8(text).length > SIZE.MAX_TEXT) throw new UsageError("The message is too long.");
  const ts = s.now();
  const { index, key } = await s.group.own.next();
  const body = await sealBroadcast({ roomId: s.roomId, senderId: s.memberId,
    epoch: s.group.epoch, index, key, signer: s.signer, plaintext: textPlaintext(text, ts),
    nonce: s.random(SIZE.NONCE) });
  s.pending.set(body, { text, ts });
  out.send({ type: FRAME.BROADCAST, body });
}

/**
 * Handle a `message` frame: seq bookkeeping, then our echo or a peer's broadcast.
 * @param {import("./session.js").SessionState} s
 * @param {Record<string, unknown>} frame
 * @param {import("./events.js").Output} out
 */
export async function onMessage(s, frame, out) {
  const { from, seq, body } = frame;
  if (typeof from !== "string" || !isUint(seq, Number.MAX_SAFE_INTEGER)
    || typeof body !== "string") {
    out.emit(ev.rejected(null, REASON.BAD_FRAME));
    return;
  }
  const n = /** @type {number} */ (seq);
  if (n <= s.lastSeq) {
    out.emit(ev.rejected(from, REASON.REPLAY));
    return;
  }
  if (n > s.lastSeq + 1) out.emit(ev.gap(s.lastSeq + 1, n - 1, REASON.MISSING));
  s.lastSeq = n;
  if (from === s.memberId) {
    onEcho(s, n, body, out);
    return;
  }
  const peer = s.peers.get(from);
  if (!peer) {
    out.emit(ev.rejected(from, REASON.UNKNOWN_SENDER));
    return;
  }
  let fields;
  try {
    fields = parseBroadcast(body);
  } catch {
    out.emit(ev.rejected(from, REASON.BAD_FRAME));
    return;
  }
  await deliver(s, peer, { seq: n, fields, at: s.now() }, out);
}

/** Our own broadcast came back: the acknowledgement, and the message as the room saw it. */
function onEcho(s, seq, body, out) {
  const mine = s.pending.get(body);
  if (!mine) {
    out.emit(ev.rejected(s.memberId, REASON.REPLAY));
    return;
  }
  s.pending.delete(body);
  out.emit(ev.messageReceived(s.memberId, mine.text, mine.ts, seq, true));
  out.emit(ev.messageSent(seq));
}

/**
 * Open a broadcast now, or hold it while its sender is unverified or its key is missing.
 * @param {import("./session.js").SessionState} s
 * @param {import("./peers.js").Peer} peer
 * @param {{seq: number, fields: import("./broadcast.js").BroadcastFields, at: number}} item
 * @param {import("./events.js").Output} out
 */
async function deliver(s, peer, item, out) {
  const { fields } = item;
  const chain = peer.verified ? s.group.chain(peer.id, fields.epoch) : undefined;
  if (!chain) {
    if (peer.verified && !s.group.mayArrive(peer.id, fields.epoch)) {
      out.emit(ev.rejected(peer.id, REASON.REPLAY));
      return;
    }
    if (peer.heldBroadcasts.length >= LIMIT.HELD_BROADCASTS_PER_SENDER) {
      const dropped = /** @type {{seq: number}} */ (peer.heldBroadcasts.shift());
      out.emit(ev.gap(dropped.seq, dropped.seq, REASON.EXPIRED));
    }
    peer.heldBroadcasts.push(item);
    return;
  }
  const plain = await openChecked(s, peer, chain, fields, out);
  if (plain === null) return;
  if (plain.t !== MSG_TYPE.TEXT) return; // later versions' kinds are ignored
  if (typeof plain.body !== "string" || !Number.isFinite(plain.ts)) {
    out.emit(ev.rejected(peer.id, REASON.BAD_FRAME));
    return;
  }
  out.emit(ev.messageReceived(peer.id, plain.body, plain.ts, item.seq, false));
}

/**
 * Signature first, then the ratchet key, then AES-GCM; the chain moves only on success.
 * Returns null after reporting a rejection.
 */
async function openChecked(s, peer, chain, fields, out) {
  let stage = REASON.BAD_SIGNATURE;
  try {
    await checkSignature(fields, s.roomId, peer.id, peer.verifyKey);
    stage = REASON.REPLAY;
    const { key, commit } = await chain.prepare(fields.index);
    stage = REASON.DECRYPT_FAILED;
    const plain = await openBroadcast(fields, s.roomId, peer.id, key);
    commit();
    return plain;
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    const known = err instanceof AuthenticationError || err instanceof RatchetError;
    out.emit(ev.rejected(peer.id, known ? stage : REASON.BAD_FRAME));
    return null;
  }
}

/**
 * Try a peer's held broadcasts again, in seq order (its key or verification just arrived).
 * @param {import("./session.js").SessionState} s
 * @param {import("./peers.js").Peer} peer
 * @param {import("./events.js").Output} out
 */
export async function retryHeld(s, peer, out) {
  const held = peer.heldBroadcasts;
  peer.heldBroadcasts = [];
  for (const item of held) await deliver(s, peer, item, out);
}

/**
 * Drop held broadcasts older than 30 s, each reported as a gap.
 * @param {import("./session.js").SessionState} s
 * @param {import("./events.js").Output} out
 */
export function expireHeld(s, out) {
  const cutoff = s.now() - LIMIT.HELD_BROADCAST_MS;
  for (const peer of s.peers.values()) {
    while (peer.heldBroadcasts.length > 0 && peer.heldBroadcasts[0].at <= cutoff) {
      const dropped = /** @type {{seq: number}} */ (peer.heldBroadcasts.shift());
      out.emit(ev.gap(dropped.seq, dropped.seq, REASON.EXPIRED));
    }
  }
}
