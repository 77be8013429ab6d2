/**
 * Group keys of section 6: our sending chain and epoch, and every peer's receiving chains
 * by epoch, with the 10 s keep of an old epoch after its sender's new key arrives.
 * @module core/group
 */

import { LIMIT, SIZE } from "./constants.js";
import { ReceiveChain, SendChain } from "./ratchet.js";

/** Sender keys of the room, ours and the peers'. */
export class GroupKeys {
  /**
   * @param {(n: number) => Uint8Array} random
   */
  constructor(random) {
    /** @private */ this.random = random;
    /** Our chain; epochs count from 0. */
    this.own = new SendChain(0, random(SIZE.CHAIN_KEY));
    /** @type {Map<string, Map<number, {chain: ReceiveChain, dropAt: number|null}>>} */
    this.peers = new Map();
  }

  /** Our current epoch. */
  get epoch() {
    return this.own.epoch;
  }

  /**
   * Start our next epoch with a fresh chain key (after a verified member left).
   * @returns {number} the new epoch
   */
  rotate() {
    const next = new SendChain(this.own.epoch + 1, this.random(SIZE.CHAIN_KEY));
    this.own.wipe();
    this.own = next;
    return next.epoch;
  }

  /**
   * Start over at epoch 0 with a fresh chain (a new membership after a failed resume).
   */
  restart() {
    this.own.wipe();
    this.own = new SendChain(0, this.random(SIZE.CHAIN_KEY));
    for (const sender of [...this.peers.keys()]) this.forget(sender);
  }

  /**
   * Install a peer's sender key; a key for an epoch already held, or older than the
   * newest held, is ignored. Older epochs of that sender are then kept 10 s.
   * @param {string} sender
   * @param {number} epoch
   * @param {number} index
   * @param {Uint8Array} chainKey
   * @param {number} now ms
   * @returns {boolean} true when installed
   */
  install(sender, epoch, index, chainKey, now) {
    let epochs = this.peers.get(sender);
    if (!epochs) {
      epochs = new Map();
      this.peers.set(sender, epochs);
    }
    for (const held of epochs.keys()) {
      if (held >= epoch) {
        chainKey.fill(0);
        return false;
      }
    }
    for (const entry of epochs.values()) {
      if (entry.dropAt === null) entry.dropAt = now + LIMIT.OLD_EPOCH_KEEP_MS;
    }
    epochs.set(epoch, { chain: new ReceiveChain(epoch, index, chainKey), dropAt: null });
    return true;
  }

  /**
   * The receiving chain of a sender for an epoch, if held.
   * @param {string} sender
   * @param {number} epoch
   * @returns {ReceiveChain|undefined}
   */
  chain(sender, epoch) {
    return this.peers.get(sender)?.get(epoch)?.chain;
  }

  /**
   * True when a frame of this epoch may still get its key (no newer epoch of the sender held).
   * @param {string} sender
   * @param {number} epoch
   */
  mayArrive(sender, epoch) {
    const epochs = this.peers.get(sender);
    if (!epochs) return true;
    for (const held of epochs.keys()) if (held > epoch) return false;
    return true;
  }

  /**
   * Delete old epochs whose keep has run out.
   * @param {number} now ms
   */
  expire(now) {
    for (const epochs of this.peers.values()) {
      for (const [epoch, entry] of [...epochs]) {
        if (entry.dropAt !== null && now >= entry.dropAt) {
          entry.chain.wipe();
          epochs.delete(epoch);
        }
      }
    }
  }

  /**
   * Forget every chain of a sender (it left, or its handshake was redone).
   * @param {string} sender
   */
  forget(sender) {
    for (const entry of this.peers.get(sender)?.values() ?? []) entry.chain.wipe();
    this.peers.delete(sender);
  }

  /** Zero every key. */
  wipe() {
    this.own.wipe();
    for (const sender of [...this.peers.keys()]) this.forget(sender);
  }
}
