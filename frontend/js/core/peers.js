/**
 * Peers of a session and the directs between us (section 5): roster entries, handshakes,
 * pair channels, sealed sender keys, and the directs held until they can be processed.
 * @module core/peers
 */

import { DIRECT_KIND, FRAME, LIMIT, REASON, SIZE } from "./constants.js";
import { b64decode, parseJsonObject } from "./encoding.js";
import * as ev from "./events.js";
import { AuthenticationError, ProtocolError } from "./errors.js";
import { fingerprint } from "./fingerprint.js";
import { Handshake, STATE } from "./handshake.js";
import { retryHeld } from "./inbox.js";
import { PairChannel, parseSenderKey, senderKeyPlaintext } from "./pairwise.js";
import { ROLE } from "./spake2.js";
import { VerifyKey } from "./signing.js";

const PAKE_KINDS = new Set([DIRECT_KIND.PAKE1, DIRECT_KIND.PAKE2, DIRECT_KIND.PAKE3,
  DIRECT_KIND.PAKE_FAIL]);

/** One other member of the room and everything we hold about it. */
export class Peer {
  /**
   * @param {string} id
   * @param {{color: string, key: Uint8Array, joinedAt: number}} meta
   * @param {VerifyKey} verifyKey
   * @param {Handshake} handshake
   */
  constructor(id, meta, verifyKey, handshake) {
    this.id = id;
    this.color = meta.color;
    this.key = meta.key;
    this.joinedAt = meta.joinedAt;
    this.verifyKey = verifyKey;
    this.handshake = handshake;
    /** @type {PairChannel|null} */
    this.channel = null;
    /** @type {Array<Record<string, unknown>>} sealed bodies waiting for the handshake */
    this.heldSealed = [];
    /** @type {Array<{seq: number, fields: object, at: number}>} broadcasts waiting for a key */
    this.heldBroadcasts = [];
    /** @type {string|null} the last handshake body we sent, re-sent after a resume */
    this.lastSent = null;
  }

  /** True once the peer proved the password. */
  get verified() {
    return this.handshake.isVerified;
  }

  /** Forget every key about this peer. */
  wipe() {
    this.handshake.wipe();
    this.channel?.wipe();
    this.channel = null;
    this.heldSealed = [];
    this.heldBroadcasts = [];
  }
}

/**
 * Parse presence/welcome meta {color, key, joined_at} (key: b64 Ed25519 public key).
 * @param {unknown} meta
 * @returns {{color: string, key: Uint8Array, joinedAt: number}}
 * @throws {ProtocolError}
 */
export function parseMeta(meta) {
  if (meta === null || typeof meta !== "object" || Array.isArray(meta)) {
    throw new ProtocolError("member meta is not an object");
  }
  const m = /** @type {Record<string, unknown>} */ (meta);
  if (typeof m.color !== "string" || !Number.isInteger(m.joined_at)) {
    throw new ProtocolError("member meta lacks color or joined_at");
  }
  return { color: m.color, key: b64decode(m.key, SIZE.PUBLIC_KEY),
    joinedAt: /** @type {number} */ (m.joined_at) };
}

/**
 * Add a member to the roster; A starts its handshake at once. Held directs are replayed.
 * @param {import("./session.js").SessionState} s
 * @param {string} id
 * @param {{color: string, key: Uint8Array, joinedAt: number}} meta
 * @param {import("./events.js").Output} out
 */
export async function addPeer(s, id, meta, out) {
  const handshake = new Handshake({ roomId: s.roomId, w: s.w, me: s.memberId,
    myKey: s.signer.publicKey, peer: id, peerKey: meta.key });
  const peer = new Peer(id, meta, await VerifyKey.fromRaw(meta.key), handshake);
  s.peers.set(id, peer);
  if (handshake.role === ROLE.A) startHandshake(s, peer, out);
  const held = s.unannounced.get(id) ?? [];
  s.unannounced.delete(id);
  for (const frame of held) await onDirect(s, frame, out);
}

/**
 * A (re)starts its handshake with a peer.
 * @param {import("./session.js").SessionState} s
 * @param {Peer} peer
 * @param {import("./events.js").Output} out
 */
export function startHandshake(s, peer, out) {
  sendDirect(s, peer, peer.handshake.start(s.random, s.now()), out);
}

/** Send a handshake body, remembering it for a resume. @param {Peer} peer */
function sendDirect(s, peer, body, out) {
  peer.lastSent = body;
  out.send({ type: FRAME.DIRECT, to: peer.id, body });
}

/**
 * Handle a `direct` frame from the server.
 * @param {import("./session.js").SessionState} s
 * @param {{from: string, body: string}} frame
 * @param {import("./events.js").Output} out
 */
export async function onDirect(s, frame, out) {
  const peer = s.peers.get(frame.from);
  if (!peer) {
    holdUnannounced(s, frame, out);
    return;
  }
  let body;
  try {
    body = parseJsonObject(frame.body);
  } catch {
    out.emit(ev.rejected(peer.id, REASON.BAD_FRAME));
    return;
  }
  if (PAKE_KINDS.has(/** @type {string} */ (body.k))) await onPake(s, peer, body, out);
  else if (body.k === DIRECT_KIND.SEALED) await onSealed(s, peer, body, out);
  else out.emit(ev.rejected(peer.id, REASON.BAD_FRAME));
}

/** A direct from an id not announced yet waits for its presence join (bounded). */
function holdUnannounced(s, frame, out) {
  const held = s.unannounced.get(frame.from);
  if (held && held.length < LIMIT.HELD_DIRECTS_PER_SENDER) held.push(frame);
  else if (!held && s.unannounced.size < LIMIT.HELD_DIRECT_SENDERS) {
    s.unannounced.set(frame.from, [frame]);
  } else out.emit(ev.rejected(frame.from, REASON.UNKNOWN_SENDER));
}

/** True when 5 handshakes failed within the last minute. */
function refusing(s) {
  const since = s.now() - LIMIT.FAILURE_WINDOW_MS;
  s.failures = s.failures.filter((t) => t > since);
  return s.failures.length >= LIMIT.FAILURES_PER_WINDOW;
}

/** @param {Peer} peer */
async function onPake(s, peer, body, out) {
  if (body.k === DIRECT_KIND.PAKE1 && peer.handshake.role === ROLE.B && !peer.verified
    && refusing(s)) {
    out.emit(ev.handshakeRefused(peer.id));
    return;
  }
  const step = await peer.handshake.receive(body, s.random, s.now());
  if (step.reply !== null) sendDirect(s, peer, step.reply, out);
  if (step.outcome === "verified") await onVerified(s, peer, /** @type {Uint8Array} */ (step.Ke),
    out);
  else if (step.outcome === "failed") {
    s.failures.push(s.now());
    peer.heldSealed = [];
    out.emit(ev.peerFailed(peer.id, /** @type {string} */ (step.reason)));
  }
}

/** Derive the pair channel, announce the peer, send it our sender key, replay held frames. */
async function onVerified(s, peer, Ke, out) {
  peer.channel = await PairChannel.derive(Ke, s.roomId, s.memberId, peer.id);
  Ke.fill(0);
  out.emit(ev.peerVerified(peer.id, await fingerprint(s.roomId, peer.key)));
  await sendSenderKey(s, peer, out);
  const held = peer.heldSealed;
  peer.heldSealed = [];
  for (const body of held) await onSealed(s, peer, body, out);
}

/**
 * Seal our current (epoch, index, CK) to a verified peer.
 * @param {import("./session.js").SessionState} s
 * @param {Peer} peer
 * @param {import("./events.js").Output} out
 */
export async function sendSenderKey(s, peer, out) {
  const snap = s.group.own.snapshot();
  const plain = senderKeyPlaintext(snap.epoch, snap.index, snap.chainKey);
  snap.chainKey.fill(0);
  const body = await /** @type {PairChannel} */ (peer.channel).seal(plain, s.random(SIZE.NONCE));
  out.send({ type: FRAME.DIRECT, to: peer.id, body });
}

/** A sealed direct: held before the handshake completes, dropped after a failure. */
async function onSealed(s, peer, body, out) {
  if (!peer.verified) {
    const waiting = peer.handshake.state !== STATE.FAILED;
    if (waiting && peer.heldSealed.length < LIMIT.HELD_DIRECTS_PER_SENDER) {
      peer.heldSealed.push(body);
    } else out.emit(ev.rejected(peer.id, REASON.UNVERIFIED));
    return;
  }
  let key;
  try {
    key = parseSenderKey(await /** @type {PairChannel} */ (peer.channel).open(body));
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    const reason = err instanceof AuthenticationError ? REASON.DECRYPT_FAILED : REASON.BAD_FRAME;
    out.emit(ev.rejected(peer.id, reason));
    return;
  }
  if (s.group.install(peer.id, key.epoch, key.index, key.chainKey, s.now())) {
    await retryHeld(s, peer, out);
  }
}

/**
 * After a resume: re-send our last handshake body to each peer and our sender key to each
 * verified one, since frames we sent just before the drop may be lost. Both are
 * idempotent on the receiving side (a repeated pake1 gets the same pake2, a late pake3 or
 * pake_fail is ignored, a sender key already held is ignored).
 * @param {import("./session.js").SessionState} s
 * @param {import("./events.js").Output} out
 */
export async function resendAfterResume(s, out) {
  for (const peer of s.peers.values()) {
    if (peer.lastSent !== null) out.send({ type: FRAME.DIRECT, to: peer.id, body: peer.lastSent });
    if (peer.verified) await sendSenderKey(s, peer, out);
  }
}
