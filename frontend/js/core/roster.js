/**
 * Who is in the room, as the welcome and presence parts of sotto/session.py: our
 * (re)welcome, presence diffs, the roster of peers, departed members kept 10 s, and the
 * epoch bump when a verified member leaves. A resumed welcome re-sends each unfinished
 * handshake step as it was (restarting none) and our sender key to every verified peer.
 * @module core/roster
 */

import { FRAME, GAP, LIMIT, REJECT, SIZE } from "./constants.js";
import { releaseUnannounced, sendSenderKey, startHandshake } from "./directs.js";
import { isUint } from "./encoding.js";
import * as ev from "./events.js";
import { isMemberId, makePeer } from "./peers.js";
import { SendChain } from "./ratchet.js";
import { ROLE } from "./spake2.js";

/** @typedef {import("./session.js").SessionState} SessionState */
/** @typedef {import("./events.js").Output} Output */

/**
 * Our welcome: a fresh membership, or a resumed one.
 * @param {SessionState} s
 * @param {Record<string, unknown>} f
 * @param {Output} out
 */
export async function onWelcome(s, f, out) {
  const { you, color, members, seq, resume: token } = f;
  if (!isMemberId(you) || typeof color !== "string" || !isObject(members) || !isUint(seq)
    || typeof token !== "string") {
    out.emit(ev.rejected(null, REJECT.BAD_FRAME));
    return;
  }
  const resumed = f.resumed === true && you === s.memberId;
  if (!resumed) restart(s, /** @type {string} */ (you), /** @type {number} */ (seq), out);
  s.color = color;
  s.resume = token;
  const others = Object.entries(/** @type {object} */ (members)).filter(([id]) => id !== you);
  if (resumed) await resumePeers(s, new Map(others), out);
  else {
    for (const [id, meta] of others) await addPeer(s, id, meta, out);
  }
  const list = Object.create(null);
  for (const peer of s.peers.values()) list[peer.id] = peer.color;
  out.emit(ev.joined(s.memberId, color, Object.freeze(list), resumed));
  for (const peer of [...s.peers.values()]) await releaseUnannounced(s, peer, out);
}

/** A fresh membership: forget every peer, start a new epoch, report what we missed. */
function restart(s, you, seq, out) {
  if (s.memberId !== null) {
    if (seq > s.lastSeq) out.emit(ev.gap(s.lastSeq + 1, seq, GAP.RESUME_FAILED));
    for (const peer of s.peers.values()) peer.wipe();
    s.peers.clear();
    s.pending.clear();
    newEpoch(s);
  }
  s.memberId = you;
  s.lastSeq = seq;
  s.missing.clear();
}

/** After a resumed welcome: re-send unfinished steps, apply who came and went, re-key. */
async function resumePeers(s, others, out) {
  const gone = [...s.peers.keys()].filter((id) => !others.has(id));
  const came = [...others].filter(([id]) => !s.peers.has(id));
  const now = s.now();
  for (const peer of s.peers.values()) {
    const body = gone.includes(peer.id) ? null : peer.handshake.resend(now);
    if (body !== null) {
      // The re-sent step is the live handshake: a retry on top of it would have the peer
      // answer two pake1 frames, and the first answer would no longer fit.
      peer.notAnswering = false;
      peer.refused = false;
      out.send({ type: FRAME.DIRECT, to: peer.id, body });
    }
  }
  const epoch = s.chain.epoch;
  await applyPresence(s, came, gone, out);
  // A sender key sent just before the drop may be lost; one a peer holds is ignored.
  if (s.chain.epoch === epoch) { // else the rotation has just sent every peer our key
    for (const peer of s.peers.values()) {
      if (peer.verified) await sendSenderKey(s, peer, out);
    }
  }
}

/**
 * A presence diff.
 * @param {SessionState} s
 * @param {Record<string, unknown>} f
 * @param {Output} out
 */
export async function onPresence(s, f, out) {
  const joins = f.joins ?? {};
  const leaves = f.leaves ?? {};
  if (s.memberId === null || !isObject(joins) || !isObject(leaves)) {
    out.emit(ev.rejected(null, REJECT.BAD_FRAME));
    return;
  }
  await applyPresence(s, Object.entries(joins), Object.keys(leaves), out);
}

/** Leaves (one epoch bump if a verified peer left), joins, then A's retries. */
async function applyPresence(s, joins, leaves, out) {
  const retry = [...s.peers.values()].filter((p) => p.handshake.role === ROLE.A
    && (p.notAnswering || p.refused) && !p.verified);
  let leaverVerified = false;
  for (const id of leaves) {
    s.unannounced.delete(id);
    const peer = s.peers.get(id);
    if (peer === undefined) continue;
    s.peers.delete(id);
    out.emit(ev.memberLeft(id));
    leaverVerified ||= peer.verified;
    s.departed.set(id, { peer, until: s.now() + LIMIT.OLD_EPOCH_KEEP_MS });
  }
  if (leaverVerified) await rotate(s, out);
  for (const [id, meta] of joins) {
    if (id === s.memberId || s.peers.has(id)) continue;
    const peer = await addPeer(s, id, meta, out);
    if (peer !== null) {
      out.emit(ev.memberJoined(id, peer.color));
      await releaseUnannounced(s, peer, out);
    }
  }
  for (const peer of retry) {
    if (s.peers.has(peer.id)) startHandshake(s, peer, out);
  }
}

/** Add a member to the roster; A starts the handshake. */
async function addPeer(s, id, meta, out) {
  const peer = await makePeer(s, id, meta, out);
  if (peer === null) return null;
  s.peers.set(peer.id, peer);
  if (peer.handshake.role === ROLE.A) startHandshake(s, peer, out);
  return peer;
}

/** Start our next epoch and send its key to every verified peer. */
async function rotate(s, out) {
  newEpoch(s);
  for (const peer of s.peers.values()) {
    if (peer.verified) await sendSenderKey(s, peer, out);
  }
  out.emit(ev.keysRotated(s.chain.epoch));
}

/**
 * Replace our chain by a fresh one of the next epoch.
 * @param {SessionState} s
 */
export function newEpoch(s) {
  const old = s.chain;
  s.chain = new SendChain(old.epoch + 1, s.random(SIZE.CHAIN_KEY));
  old.wipe();
}

/** @param {unknown} x */
function isObject(x) {
  return x !== null && typeof x === "object" && !Array.isArray(x);
}
