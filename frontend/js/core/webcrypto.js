/**
 * Every WebCrypto call of the core, in one place: hashes, HMAC, HKDF, PBKDF2, AES-GCM, Ed25519.
 *
 * Keys that never need to leave WebCrypto are imported non-extractable with the one usage
 * they serve. Raw key bytes that pass through JS memory are zeroed by callers once imported.
 * @module core/webcrypto
 */

import { AuthenticationError, EncodingError } from "./errors.js";

/** @returns {SubtleCrypto} */
function subtle() {
  const s = globalThis.crypto && globalThis.crypto.subtle;
  if (!s) throw new Error("WebCrypto is unavailable (it needs https or localhost)");
  return s;
}

const AES_GCM = "AES-GCM";
const ED25519 = "Ed25519";
const HMAC_SHA256 = Object.freeze({ name: "HMAC", hash: "SHA-256" });

/**
 * Cryptographically random bytes from the platform.
 * @param {number} n
 * @returns {Uint8Array}
 */
export function randomBytes(n) {
  const out = new Uint8Array(n);
  // getRandomValues fills at most 65 536 bytes per call.
  for (let i = 0; i < n; i += 65536) globalThis.crypto.getRandomValues(out.subarray(i, i + 65536));
  return out;
}

/**
 * SHA-256 digest.
 * @param {Uint8Array} data
 * @returns {Promise<Uint8Array>}
 */
export async function sha256(data) {
  return new Uint8Array(await subtle().digest("SHA-256", data));
}

/**
 * Import raw bytes as a non-extractable HMAC-SHA256 key.
 * @param {Uint8Array} key
 * @returns {Promise<CryptoKey>}
 */
function importHmacKey(key) {
  return subtle().importKey("raw", key, HMAC_SHA256, false, ["sign", "verify"]);
}

/**
 * HMAC-SHA256 of `data` under `key`.
 * @param {Uint8Array} key
 * @param {Uint8Array} data
 * @returns {Promise<Uint8Array>}
 */
export async function hmacSha256(key, data) {
  const k = await importHmacKey(key);
  return new Uint8Array(await subtle().sign("HMAC", k, data));
}

/**
 * Check an HMAC-SHA256 tag in constant time (WebCrypto's verify).
 * @param {Uint8Array} key
 * @param {Uint8Array} tag
 * @param {Uint8Array} data
 * @returns {Promise<boolean>}
 */
export async function hmacSha256Verify(key, tag, data) {
  const k = await importHmacKey(key);
  return subtle().verify("HMAC", k, tag, data);
}

/**
 * HKDF-SHA256 (RFC 5869) output bytes.
 * @param {Uint8Array} ikm
 * @param {Uint8Array} salt (empty means the RFC's all-zero salt)
 * @param {Uint8Array} info
 * @param {number} length bytes
 * @returns {Promise<Uint8Array>}
 */
export async function hkdfSha256(ikm, salt, info, length) {
  const base = await subtle().importKey("raw", ikm, "HKDF", false, ["deriveBits"]);
  const bits = await subtle().deriveBits({ name: "HKDF", hash: "SHA-256", salt, info }, base,
    8 * length);
  return new Uint8Array(bits);
}

/**
 * HKDF-SHA256 straight into a non-extractable AES-256-GCM key (its bytes never reach JS).
 * @param {Uint8Array} ikm
 * @param {Uint8Array} salt
 * @param {Uint8Array} info
 * @returns {Promise<CryptoKey>}
 */
export async function hkdfAesKey(ikm, salt, info) {
  const base = await subtle().importKey("raw", ikm, "HKDF", false, ["deriveKey"]);
  return subtle().deriveKey({ name: "HKDF", hash: "SHA-256", salt, info }, base,
    { name: AES_GCM, length: 256 }, false, ["encrypt", "decrypt"]);
}

/**
 * PBKDF2-HMAC-SHA256 output bytes.
 * @param {Uint8Array} password
 * @param {Uint8Array} salt
 * @param {number} iterations
 * @param {number} length bytes
 * @returns {Promise<Uint8Array>}
 */
export async function pbkdf2Sha256(password, salt, iterations, length) {
  const base = await subtle().importKey("raw", password, "PBKDF2", false, ["deriveBits"]);
  const bits = await subtle().deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations },
    base, 8 * length);
  return new Uint8Array(bits);
}

/**
 * Import 32 raw bytes as a non-extractable AES-256-GCM key.
 * @param {Uint8Array} raw
 * @returns {Promise<CryptoKey>}
 */
export function importAesKey(raw) {
  return subtle().importKey("raw", raw, { name: AES_GCM }, false, ["encrypt", "decrypt"]);
}

/**
 * AES-GCM encryption; returns ciphertext || 16-byte tag.
 * @param {CryptoKey} key
 * @param {Uint8Array} nonce 12 bytes
 * @param {Uint8Array} plaintext
 * @param {Uint8Array} aad
 * @returns {Promise<Uint8Array>}
 */
export async function aesGcmEncrypt(key, nonce, plaintext, aad) {
  const ct = await subtle().encrypt({ name: AES_GCM, iv: nonce, additionalData: aad,
    tagLength: 128 }, key, plaintext);
  return new Uint8Array(ct);
}

/**
 * AES-GCM decryption of ciphertext || tag.
 * @param {CryptoKey} key
 * @param {Uint8Array} nonce
 * @param {Uint8Array} ct
 * @param {Uint8Array} aad
 * @returns {Promise<Uint8Array>}
 * @throws {AuthenticationError} when the tag does not verify
 */
export async function aesGcmDecrypt(key, nonce, ct, aad) {
  try {
    const pt = await subtle().decrypt({ name: AES_GCM, iv: nonce, additionalData: aad,
      tagLength: 128 }, key, ct);
    return new Uint8Array(pt);
  } catch {
    throw new AuthenticationError("ciphertext did not authenticate");
  }
}

/**
 * @typedef {object} SigningKeyPair
 * @property {CryptoKey} privateKey non-extractable, usage "sign"
 * @property {Uint8Array} publicKey raw 32-byte Ed25519 public key
 */

/**
 * Generate an Ed25519 key pair whose private key never leaves WebCrypto.
 * @returns {Promise<SigningKeyPair>}
 */
export async function ed25519Generate() {
  const pair = await subtle().generateKey({ name: ED25519 }, false, ["sign", "verify"]);
  const publicKey = new Uint8Array(await subtle().exportKey("raw", pair.publicKey));
  return { privateKey: pair.privateKey, publicKey };
}

// PKCS#8 wrapping of a 32-byte Ed25519 seed (RFC 8410).
const PKCS8_ED25519_PREFIX = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06,
  0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]);

/**
 * An Ed25519 key pair from a 32-byte seed (RFC 8032 private key), for pinned-randomness runs.
 * The key is imported once extractable only to read its public half, then re-imported
 * non-extractable; the extractable handle is dropped.
 * @param {Uint8Array} seed
 * @returns {Promise<SigningKeyPair>}
 */
export async function ed25519FromSeed(seed) {
  if (seed.length !== 32) throw new RangeError("Ed25519 seed must be 32 bytes");
  const pkcs8 = new Uint8Array(48);
  pkcs8.set(PKCS8_ED25519_PREFIX);
  pkcs8.set(seed, 16);
  const probe = await subtle().importKey("pkcs8", pkcs8, { name: ED25519 }, true, ["sign"]);
  const jwk = await subtle().exportKey("jwk", probe);
  const privateKey = await subtle().importKey("pkcs8", pkcs8, { name: ED25519 }, false, ["sign"]);
  pkcs8.fill(0);
  const publicKey = base64UrlToBytes(/** @type {string} */ (jwk.x));
  return { privateKey, publicKey };
}

/** @param {string} s JWK base64url from WebCrypto itself (trusted) */
function base64UrlToBytes(s) {
  const b64 = s.replace(/-/g, "+").replace(/_/g, "/");
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

/**
 * Ed25519 signature (pure, RFC 8032).
 * @param {CryptoKey} privateKey
 * @param {Uint8Array} data
 * @returns {Promise<Uint8Array>} 64 bytes
 */
export async function ed25519Sign(privateKey, data) {
  return new Uint8Array(await subtle().sign({ name: ED25519 }, privateKey, data));
}

/**
 * Import a raw 32-byte Ed25519 public key for verification.
 * @param {Uint8Array} raw
 * @returns {Promise<CryptoKey>}
 * @throws {EncodingError} when WebCrypto refuses the bytes
 */
export async function ed25519ImportPublic(raw) {
  try {
    return await subtle().importKey("raw", raw, { name: ED25519 }, true, ["verify"]);
  } catch {
    throw new EncodingError("not an Ed25519 public key");
  }
}

/**
 * Verify an Ed25519 signature; false on any failure.
 * @param {CryptoKey} publicKey
 * @param {Uint8Array} signature
 * @param {Uint8Array} data
 * @returns {Promise<boolean>}
 */
export async function ed25519Verify(publicKey, signature, data) {
  try {
    return await subtle().verify({ name: ED25519 }, publicKey, signature, data);
  } catch {
    return false;
  }
}
