/**
 * What a session knows about one other member (as sotto/peer.py): key, handshake, pair
 * channel, receiving chains by epoch with their expiry, and frames held for it.
 * @module core/peers
 */

import { LIMIT, REJECT, SIZE } from "./constants.js";
import { b64decode } from "./encoding.js";
import * as ev from "./events.js";
import { EncodingError } from "./errors.js";
import { Handshake, STATE } from "./handshake.js";
import { ReceiveChain } from "./ratchet.js";
import { VerifyKey } from "./signing.js";

/**
 * @typedef {object} HeldBroadcast
 * @property {number} seq
 * @property {string} body
 * @property {number} since ms
 */

/** One other member of the room, from our point of view. */
export class Peer {
  /**
   * @param {string} id
   * @param {string} color
   * @param {Uint8Array} key raw Ed25519 public key
   * @param {VerifyKey} verifyKey
   * @param {Handshake} handshake
   */
  constructor(id, color, key, verifyKey, handshake) {
    Object.assign(this, { id, color, key, verifyKey, handshake });
    /** @type {import("./pairwise.js").PairChannel|null} */
    this.channel = null;
    this.notAnswering = false;
    this.refused = false;
    /** @type {Map<number, ReceiveChain>} */
    this.chains = new Map();
    /** @type {Map<number, number>} epoch -> ms after which that old chain is deleted */
    this.expiries = new Map();
    /** @type {Array<Record<string, unknown>>} */
    this.heldSealed = [];
    /** @type {HeldBroadcast[]} */
    this.heldBroadcasts = [];
  }

  /** True once the handshake completed (the peer proved the password). */
  get verified() {
    return this.handshake.state === STATE.VERIFIED;
  }

  /** True if the last handshake with this peer failed. */
  get failed() {
    return this.handshake.state === STATE.FAILED;
  }

  /** The newest epoch we hold a chain for, or -1. */
  get newestEpoch() {
    return Math.max(-1, ...this.chains.keys());
  }

  /**
   * Hold a broadcast; returns the oldest one pushed out when the queue is full.
   * @param {HeldBroadcast} held
   * @returns {HeldBroadcast|undefined}
   */
  holdBroadcast(held) {
    this.heldBroadcasts.push(held);
    if (this.heldBroadcasts.length > LIMIT.HELD_BROADCASTS_PER_SENDER) {
      return this.heldBroadcasts.shift();
    }
    return undefined;
  }

  /**
   * Install a sender key: one for an epoch held, or older than the newest, is ignored;
   * otherwise every older chain is kept 10 s more (if not already counting down).
   * @param {number} epoch
   * @param {number} index
   * @param {Uint8Array} chainKey
   * @param {number} now ms
   * @returns {boolean} true when installed
   */
  installChain(epoch, index, chainKey, now) {
    if (this.chains.has(epoch) || epoch < this.newestEpoch) return false;
    for (const old of this.chains.keys()) {
      if (!this.expiries.has(old)) this.expiries.set(old, now + LIMIT.OLD_EPOCH_KEEP_MS);
    }
    this.chains.set(epoch, new ReceiveChain(epoch, index, chainKey));
    return true;
  }

  /**
   * Delete old chains whose keep has run out.
   * @param {number} now ms
   */
  expireChains(now) {
    for (const [epoch, expiry] of [...this.expiries]) {
      if (now >= expiry) {
        this.chains.get(epoch)?.wipe();
        this.chains.delete(epoch);
        this.expiries.delete(epoch);
      }
    }
  }

  /** Forget every key held for this peer. */
  wipe() {
    this.handshake.wipe();
    this.channel?.wipe();
    this.channel = null;
    for (const chain of this.chains.values()) chain.wipe();
    this.chains.clear();
    this.expiries.clear();
    this.heldSealed = [];
    this.heldBroadcasts = [];
  }
}

/**
 * True for a member id: 22 characters of strict base64url (16 bytes).
 * @param {unknown} value
 * @returns {boolean}
 */
export function isMemberId(value) {
  if (typeof value !== "string" || value.length !== 22) return false;
  try {
    b64decode(value);
    return true;
  } catch {
    return false;
  }
}

/**
 * Build a peer from presence/welcome meta {color, key}, reporting a bad entry instead.
 * @param {import("./session.js").SessionState} s
 * @param {unknown} id
 * @param {unknown} meta
 * @param {import("./events.js").Output} out
 * @returns {Promise<Peer|null>}
 */
export async function makePeer(s, id, meta, out) {
  if (!isMemberId(id) || meta === null || typeof meta !== "object" || Array.isArray(meta)) {
    out.emit(ev.rejected(null, REJECT.BAD_MEMBER));
    return null;
  }
  const m = /** @type {Record<string, unknown>} */ (meta);
  const mid = /** @type {string} */ (id);
  let key;
  let verifyKey;
  try {
    key = b64decode(m.key, SIZE.PUBLIC_KEY);
    verifyKey = await VerifyKey.fromRaw(key);
  } catch (err) {
    if (!(err instanceof EncodingError)) throw err;
    out.emit(ev.rejected(mid, REJECT.BAD_KEY));
    return null;
  }
  const handshake = new Handshake({ roomId: s.roomId, w: s.w,
    me: /** @type {string} */ (s.memberId), myKey: s.signer.publicKey, peer: mid, peerKey: key });
  return new Peer(mid, typeof m.color === "string" ? m.color : "", key, verifyKey, handshake);
}
