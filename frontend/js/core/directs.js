/**
 * Directs between us and one peer (section 5): handshake steps, the failure limit, pair
 * channels, sealed sender keys, and directs held until their sender is announced or
 * verified. Mirrors the handshake and direct parts of sotto/session.py.
 * @module core/directs
 */

import { DIRECT_KIND, FRAME, GAP, LIMIT, REJECT, SIZE } from "./constants.js";
import { b64decode, isUint, parseJsonObject } from "./encoding.js";
import * as ev from "./events.js";
import { EncodingError, ProtocolError } from "./errors.js";
import { fingerprint } from "./fingerprint.js";
import { retryHeld } from "./inbox.js";
import { PairChannel, senderKeyPlaintext } from "./pairwise.js";
import { isMemberId } from "./peers.js";

const PAKE_KINDS = new Set([DIRECT_KIND.PAKE1, DIRECT_KIND.PAKE2, DIRECT_KIND.PAKE3,
  DIRECT_KIND.PAKE_FAIL]);

/** @typedef {import("./session.js").SessionState} SessionState */
/** @typedef {import("./peers.js").Peer} Peer */
/** @typedef {import("./events.js").Output} Output */

/** Queue a direct frame to a peer. */
function direct(peerId, body, out) {
  out.send({ type: FRAME.DIRECT, to: peerId, body });
}

/**
 * True when 5 handshakes failed within the last minute (older failures are forgotten).
 * @param {SessionState} s
 * @param {number} now ms
 */
export function overLimit(s, now) {
  while (s.failures.length > 0 && s.failures[0] + LIMIT.FAILURE_WINDOW_MS <= now) {
    s.failures.shift();
  }
  return s.failures.length >= LIMIT.FAILURES_PER_WINDOW;
}

/**
 * A (re)starts its handshake with a peer, unless the failure limit holds it back.
 * @param {SessionState} s
 * @param {Peer} peer
 * @param {Output} out
 */
export function startHandshake(s, peer, out) {
  const now = s.now();
  if (overLimit(s, now)) {
    peer.refused = true;
    out.emit(ev.handshakeRefused(peer.id));
    return;
  }
  peer.refused = false;
  peer.notAnswering = false;
  direct(peer.id, peer.handshake.start(s.random, now), out);
}

/**
 * Handle a `direct` frame from the server.
 * @param {SessionState} s
 * @param {Record<string, unknown>} frame
 * @param {Output} out
 */
export async function onDirect(s, frame, out) {
  const sender = frame.from;
  const body = frame.body;
  if (s.memberId === null || typeof sender !== "string" || typeof body !== "string") {
    out.emit(ev.rejected(null, REJECT.BAD_FRAME));
    return;
  }
  const peer = s.peers.get(sender);
  if (peer === undefined) holdUnannounced(s, sender, body, out);
  else await dispatchDirect(s, peer, body, out);
}

/** A direct from an id not announced yet waits for its presence join (bounded). */
function holdUnannounced(s, sender, body, out) {
  if (sender === s.memberId || !isMemberId(sender)) {
    out.emit(ev.rejected(sender, REJECT.UNKNOWN_SENDER));
    return;
  }
  const queue = s.unannounced.get(sender);
  if ((queue === undefined && s.unannounced.size >= LIMIT.HELD_DIRECT_SENDERS)
    || (queue !== undefined && queue.length >= LIMIT.HELD_DIRECTS_PER_SENDER)) {
    out.emit(ev.rejected(sender, REJECT.TOO_MANY_HELD));
    return;
  }
  if (queue === undefined) s.unannounced.set(sender, [body]);
  else queue.push(body);
}

/**
 * Process the directs a newly announced peer sent before its join.
 * @param {SessionState} s
 * @param {Peer} peer
 * @param {Output} out
 */
export async function releaseUnannounced(s, peer, out) {
  const held = s.unannounced.get(peer.id) ?? [];
  s.unannounced.delete(peer.id);
  for (const body of held) {
    if (s.peers.has(peer.id)) await dispatchDirect(s, peer, body, out);
  }
}

/** A direct body from a known peer: a handshake step or a sealed direct. */
async function dispatchDirect(s, peer, text, out) {
  let body;
  try {
    body = parseJsonObject(text);
  } catch {
    out.emit(ev.rejected(peer.id, REJECT.MALFORMED));
    return;
  }
  const kind = body.k;
  if (PAKE_KINDS.has(/** @type {string} */ (kind))) await onPake(s, peer, body, out);
  else if (kind === DIRECT_KIND.SEALED) {
    if (peer.verified) await openSealed(s, peer, body, out);
    else if (peer.failed) out.emit(ev.rejected(peer.id, REJECT.UNVERIFIED_SENDER));
    else if (peer.heldSealed.length < LIMIT.HELD_DIRECTS_PER_SENDER) peer.heldSealed.push(body);
    else out.emit(ev.rejected(peer.id, REJECT.TOO_MANY_HELD));
  }
  // Unknown kinds are ignored, so later versions can add some.
}

/** A handshake step from a peer. */
async function onPake(s, peer, body, out) {
  const now = s.now();
  // A repeat of the pake1 being answered starts nothing new, so the limit lets it by.
  const fresh = body.k === DIRECT_KIND.PAKE1 && !peer.handshake.repeats(body);
  if (fresh && peer.handshake.accepts(DIRECT_KIND.PAKE1) && overLimit(s, now)) {
    out.emit(ev.handshakeRefused(peer.id));
    return;
  }
  const step = await peer.handshake.receive(body, s.random, now);
  if (step.outcome === "ignored") return;
  peer.notAnswering = false;
  if (step.reply !== null) direct(peer.id, step.reply, out);
  if (step.outcome === "failed") {
    s.failures.push(now);
    out.emit(ev.peerFailed(peer.id, /** @type {string} */ (step.reason)));
    peer.heldSealed = [];
    for (const held of peer.heldBroadcasts) {
      out.emit(ev.rejected(peer.id, REJECT.UNVERIFIED_SENDER));
      out.gapAt(held.seq, GAP.SENDER_UNVERIFIED);
    }
    peer.heldBroadcasts = [];
  } else if (step.outcome === "verified") {
    await onVerified(s, peer, /** @type {Uint8Array} */ (step.Ke), out);
  }
}

/** Derive the pair channel, announce the peer, send it our sender key, open held directs. */
async function onVerified(s, peer, Ke, out) {
  peer.channel = await PairChannel.derive(Ke, s.roomId, /** @type {string} */ (s.memberId),
    peer.id);
  Ke.fill(0);
  out.emit(ev.peerVerified(peer.id, await fingerprint(s.roomId, peer.key)));
  await sendSenderKey(s, peer, out);
  const held = peer.heldSealed;
  peer.heldSealed = [];
  for (const body of held) await openSealed(s, peer, body, out);
}

/**
 * Seal our current (epoch, index, CK) to a verified peer.
 * @param {SessionState} s
 * @param {Peer} peer
 * @param {Output} out
 */
export async function sendSenderKey(s, peer, out) {
  const snap = s.chain.snapshot();
  const plain = senderKeyPlaintext(snap.epoch, snap.index, snap.chainKey);
  snap.chainKey.fill(0);
  const body = await /** @type {PairChannel} */ (peer.channel).seal(plain, s.random(SIZE.NONCE));
  direct(peer.id, body, out);
}

/** Open a sealed direct from a verified peer and install the sender key inside. */
async function openSealed(s, peer, body, out) {
  let epoch;
  let index;
  let chainKey;
  try {
    const payload = await /** @type {PairChannel} */ (peer.channel).open(body);
    if (payload.k !== DIRECT_KIND.SENDER_KEY) return;
    chainKey = b64decode(payload.ck, SIZE.CHAIN_KEY);
    if (!isUint(payload.epoch) || !isUint(payload.index)) throw new EncodingError("bad key");
    epoch = /** @type {number} */ (payload.epoch);
    index = /** @type {number} */ (payload.index);
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    out.emit(ev.rejected(peer.id, REJECT.BAD_DIRECT));
    return;
  }
  if (peer.installChain(epoch, index, chainKey, s.now())) await retryHeld(s, peer, out);
  else chainKey.fill(0);
}
