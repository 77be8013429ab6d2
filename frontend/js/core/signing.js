/**
 * Ed25519 signing keys: our own (private half non-extractable) and peers' public keys.
 * @module core/signing
 */

import { SIZE } from "./constants.js";
import { EncodingError } from "./errors.js";
import {
  ed25519FromSeed, ed25519Generate, ed25519ImportPublic, ed25519Sign, ed25519Verify,
} from "./webcrypto.js";

/** Our Ed25519 key pair. */
export class SigningKey {
  /**
   * @param {CryptoKey} privateKey
   * @param {Uint8Array} publicKey
   */
  constructor(privateKey, publicKey) {
    /** @private */ this.privateKey = privateKey;
    /** Raw 32-byte public key. */
    this.publicKey = publicKey;
  }

  /**
   * A fresh key pair; with `random`, the 32-byte seed is drawn from it (pinned-randomness
   * runs), otherwise WebCrypto generates the pair and the private key never reaches JS.
   * @param {((n: number) => Uint8Array)|undefined} random
   * @returns {Promise<SigningKey>}
   */
  static async generate(random) {
    if (random === undefined) {
      const pair = await ed25519Generate();
      return new SigningKey(pair.privateKey, pair.publicKey);
    }
    const seed = random(32);
    const pair = await ed25519FromSeed(seed);
    seed.fill(0);
    return new SigningKey(pair.privateKey, pair.publicKey);
  }

  /**
   * Sign bytes (pure Ed25519).
   * @param {Uint8Array} data
   * @returns {Promise<Uint8Array>} 64 bytes
   */
  sign(data) {
    return ed25519Sign(this.privateKey, data);
  }

  /** Forget the private key handle. */
  wipe() {
    this.privateKey = null;
  }
}

/** A peer's Ed25519 public key, imported once for verification. */
export class VerifyKey {
  /**
   * @param {Uint8Array} raw
   * @param {CryptoKey} key
   */
  constructor(raw, key) {
    this.raw = raw;
    /** @private */ this.key = key;
  }

  /**
   * Import a raw 32-byte public key.
   * @param {Uint8Array} raw
   * @returns {Promise<VerifyKey>}
   * @throws {EncodingError} for a wrong length or bytes WebCrypto refuses
   */
  static async fromRaw(raw) {
    if (raw.length !== SIZE.PUBLIC_KEY) throw new EncodingError("public key must be 32 bytes");
    return new VerifyKey(raw, await ed25519ImportPublic(raw));
  }

  /**
   * Check a signature; false when it does not verify.
   * @param {Uint8Array} signature
   * @param {Uint8Array} data
   * @returns {Promise<boolean>}
   */
  verify(signature, data) {
    if (signature.length !== SIZE.SIGNATURE) return Promise.resolve(false);
    return ed25519Verify(this.key, signature, data);
  }
}
