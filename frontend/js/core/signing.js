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

const ED_P = 2n ** 255n - 19n;
const ED_D = (-121665n * modPow(121666n, ED_P - 2n, ED_P)) % ED_P + ED_P;
const SQRT_M1 = modPow(2n, (ED_P - 1n) / 4n, ED_P);

/** @param {bigint} b @param {bigint} e @param {bigint} m */
function modPow(b, e, m) {
  let r = 1n;
  let x = ((b % m) + m) % m;
  for (let k = e; k > 0n; k >>= 1n) {
    if (k & 1n) r = (r * x) % m;
    x = (x * x) % m;
  }
  return r;
}

/**
 * True when 32 bytes decode to a point of edwards25519 (RFC 8032 section 5.1.3), which
 * is what pycryptodome checks on import; WebCrypto in Node imports any 32 bytes.
 * @param {Uint8Array} raw
 * @returns {boolean}
 */
export function isEd25519Point(raw) {
  if (raw.length !== SIZE.PUBLIC_KEY) return false;
  let y = 0n;
  for (let i = 31; i >= 0; i -= 1) y = (y << 8n) | BigInt(raw[i]);
  const sign = y >> 255n;
  y &= (1n << 255n) - 1n;
  if (y >= ED_P) return false;
  const u = (y * y - 1n + ED_P) % ED_P;
  const v = (ED_D * y * y + 1n) % ED_P;
  const v3 = (v * v * v) % ED_P;
  let x = (u * v3 * modPow(u * v3 * v3 * v, (ED_P - 5n) / 8n, ED_P)) % ED_P;
  const vx2 = (v * x * x) % ED_P;
  if (vx2 === (ED_P - u) % ED_P && u !== 0n) x = (x * SQRT_M1) % ED_P;
  else if (vx2 !== u) return false;
  return !(x === 0n && sign === 1n);
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
   * @throws {EncodingError} unless 32 bytes encoding a curve point
   */
  static async fromRaw(raw) {
    if (!isEd25519Point(raw)) throw new EncodingError("not an Ed25519 public key");
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
