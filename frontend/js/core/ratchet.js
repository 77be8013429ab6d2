/**
 * Sender-key hash ratchet of section 6: our sending chain and one receiving chain per
 * (sender, epoch), with bounded skipped message keys for out-of-order frames.
 *
 * MK_i = HMAC(CK_i, 0x01), CK_{i+1} = HMAC(CK_i, 0x02). A used MK and an old CK are
 * zeroed at once. A chain advances at most 2 000 steps at once; beyond 2 000 skipped keys
 * the oldest are dropped (as sotto/ratchet.py does). Receiving is two-phase: `prepare(i)`
 * computes the key without touching
 * the chain; the caller commits only after the frame authenticated, so a bad frame
 * cannot advance or spend anything.
 * @module core/ratchet
 */

import { LIMIT, RATCHET_BYTE, SIZE } from "./constants.js";
import { RatchetError } from "./errors.js";
import { hmacSha256, importAesKey } from "./webcrypto.js";

const MK_BYTE = new Uint8Array([RATCHET_BYTE.MESSAGE]);
const CK_BYTE = new Uint8Array([RATCHET_BYTE.CHAIN]);

/**
 * One ratchet step from CK: [MK, next CK].
 * @param {Uint8Array} ck
 * @returns {Promise<[Uint8Array, Uint8Array]>}
 */
export function step(ck) {
  return Promise.all([hmacSha256(ck, MK_BYTE), hmacSha256(ck, CK_BYTE)]);
}

/**
 * Import a raw message key as a non-extractable AES key and zero the raw bytes.
 * @param {Uint8Array} raw
 * @returns {Promise<CryptoKey>}
 */
export async function messageKey(raw) {
  const key = await importAesKey(raw);
  raw.fill(0);
  return key;
}

/** Our own chain: the keys we encrypt broadcasts with. */
export class SendChain {
  /**
   * @param {number} epoch
   * @param {Uint8Array} ck CK_0 (32 random bytes)
   */
  constructor(epoch, ck) {
    if (ck.length !== SIZE.CHAIN_KEY) throw new RangeError("chain key must be 32 bytes");
    this.epoch = epoch;
    this.index = 0;
    /** @private */ this.ck = ck;
  }

  /**
   * The state peers need to read what we send next: (epoch, index, CK_index), copied.
   * @returns {{epoch: number, index: number, chainKey: Uint8Array}}
   */
  snapshot() {
    return { epoch: this.epoch, index: this.index, chainKey: this.ck.slice() };
  }

  /**
   * Take the next message key and advance; the old CK is zeroed.
   * @returns {Promise<{index: number, key: CryptoKey}>}
   */
  async next() {
    const [mk, ck] = await step(this.ck);
    this.ck.fill(0);
    this.ck = ck;
    const index = this.index;
    this.index += 1;
    return { index, key: await messageKey(mk) };
  }

  /** Zero the chain key. */
  wipe() {
    this.ck.fill(0);
  }
}

/** A peer's chain for one epoch, as far as we have read it. */
export class ReceiveChain {
  /**
   * @param {number} epoch
   * @param {number} index index of the first message key `ck` yields
   * @param {Uint8Array} ck
   */
  constructor(epoch, index, ck) {
    if (ck.length !== SIZE.CHAIN_KEY) throw new RangeError("chain key must be 32 bytes");
    this.epoch = epoch;
    /** The index we were given the chain at: earlier messages were not meant for us. */
    this.firstIndex = index;
    this.index = index;
    /** @private */ this.ck = ck;
    /** @type {Map<number, Uint8Array>} skipped raw message keys by index */
    this.skipped = new Map();
  }

  /**
   * Compute the message key for `index` without changing the chain.
   * @param {number} index
   * @returns {Promise<{key: CryptoKey, commit: () => void}>}
   * @throws {RatchetError} already used or deleted, or more than 2 000 steps ahead
   */
  async prepare(index) {
    if (index < this.index) {
      const raw = this.skipped.get(index);
      if (raw === undefined) throw new RatchetError("message key already used or deleted");
      const key = await importAesKey(raw);
      return { key, commit: () => this.dropSkipped(index) };
    }
    if (index - this.index > LIMIT.MAX_CHAIN_STEPS) {
      throw new RatchetError("message index too far ahead");
    }
    /** @type {Array<[number, Uint8Array]>} */
    const pending = [];
    let ck = this.ck;
    let mk;
    for (let i = this.index; i <= index; i += 1) {
      const [m, next] = await step(ck);
      if (ck !== this.ck) ck.fill(0);
      ck = next;
      if (i < index) pending.push([i, m]);
      else mk = m;
    }
    const key = await messageKey(/** @type {Uint8Array} */ (mk));
    const commit = () => {
      if (this.index > index) throw new RatchetError("chain moved while decrypting");
      for (const [i, m] of pending) this.skipped.set(i, m);
      // Past the bound the oldest skipped keys go first (Map keeps insertion order).
      for (const i of this.skipped.keys()) {
        if (this.skipped.size <= LIMIT.MAX_SKIPPED_KEYS) break;
        this.dropSkipped(i);
      }
      this.ck.fill(0);
      this.ck = ck;
      this.index = index + 1;
    };
    return { key, commit };
  }

  /** @param {number} index */
  dropSkipped(index) {
    const raw = this.skipped.get(index);
    if (raw) raw.fill(0);
    this.skipped.delete(index);
  }

  /** Zero every key this chain holds. */
  wipe() {
    this.ck.fill(0);
    for (const raw of this.skipped.values()) raw.fill(0);
    this.skipped.clear();
  }
}
