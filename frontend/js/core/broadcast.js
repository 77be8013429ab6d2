/**
 * Broadcast bodies of section 6: sign-then-check, AES-GCM under a ratchet message key,
 * padded JSON plaintext {"t","body","ts"}.
 * @module core/broadcast
 */

import { LABEL, MSG_TYPE, SIZE } from "./constants.js";
import {
  b64decode, b64encode, concat, fromUtf8, isUint, joinZero, parseJsonObject, toJson, u32, utf8,
} from "./encoding.js";
import { AuthenticationError, EncodingError } from "./errors.js";
import { pad, unpad } from "./padding.js";
import { aesGcmDecrypt, aesGcmEncrypt } from "./webcrypto.js";

/**
 * aad = "sotto/1 msg" || 0x00 || room_id || 0x00 || sender_id || 0x00 || u32(e) || u32(i).
 * @param {string} roomId
 * @param {string} senderId
 * @param {number} epoch
 * @param {number} index
 * @returns {Uint8Array}
 */
export function messageAad(roomId, senderId, epoch, index) {
  return concat(joinZero(LABEL.MSG, roomId, senderId, ""), u32(epoch), u32(index));
}

/**
 * The plaintext object of a text message.
 * @param {string} text
 * @param {number} ts unix milliseconds
 */
export function textPlaintext(text, ts) {
  return { t: MSG_TYPE.TEXT, body: text, ts };
}

/**
 * Seal one broadcast body string.
 * @param {object} p
 * @param {string} p.roomId
 * @param {string} p.senderId
 * @param {number} p.epoch
 * @param {number} p.index
 * @param {CryptoKey} p.key message key MK_index
 * @param {{sign: (d: Uint8Array) => Promise<Uint8Array>}} p.signer
 * @param {object} p.plaintext JSON object
 * @param {Uint8Array} p.nonce 12 random bytes
 * @returns {Promise<string>}
 */
export async function sealBroadcast({ roomId, senderId, epoch, index, key, signer, plaintext,
  nonce }) {
  const aad = messageAad(roomId, senderId, epoch, index);
  const ct = await aesGcmEncrypt(key, nonce, pad(utf8(toJson(plaintext))), aad);
  const sig = await signer.sign(concat(aad, nonce, ct));
  return toJson({ e: epoch, i: index, n: b64encode(nonce), ct: b64encode(ct),
    sig: b64encode(sig) });
}

/**
 * @typedef {object} BroadcastFields
 * @property {number} epoch
 * @property {number} index
 * @property {Uint8Array} nonce
 * @property {Uint8Array} ct
 * @property {Uint8Array} sig
 */

/**
 * Parse and shape-check a broadcast body string.
 * @param {unknown} body
 * @returns {BroadcastFields}
 * @throws {EncodingError}
 */
export function parseBroadcast(body) {
  const obj = parseJsonObject(body);
  if (!isUint(obj.e) || !isUint(obj.i)) throw new EncodingError("broadcast needs e and i");
  return { epoch: /** @type {number} */ (obj.e), index: /** @type {number} */ (obj.i),
    nonce: b64decode(obj.n, SIZE.NONCE), ct: b64decode(obj.ct),
    sig: b64decode(obj.sig, SIZE.SIGNATURE) };
}

/**
 * Check the sender's signature over aad || nonce || ct (before any decryption).
 * @param {BroadcastFields} f
 * @param {string} roomId
 * @param {string} senderId the `from` the server stamped
 * @param {{verify: (s: Uint8Array, d: Uint8Array) => Promise<boolean>}} verifier
 * @throws {AuthenticationError}
 */
export async function checkSignature(f, roomId, senderId, verifier) {
  const aad = messageAad(roomId, senderId, f.epoch, f.index);
  if (!(await verifier.verify(f.sig, concat(aad, f.nonce, f.ct)))) {
    throw new AuthenticationError("broadcast signature does not verify");
  }
}

/**
 * Decrypt a broadcast whose signature was checked; returns the padded plaintext.
 * @param {BroadcastFields} f
 * @param {string} roomId
 * @param {string} senderId
 * @param {CryptoKey} key
 * @returns {Promise<Uint8Array>}
 * @throws {AuthenticationError|EncodingError}
 */
export async function decryptBroadcast(f, roomId, senderId, key) {
  if (f.ct.length < SIZE.TAG) throw new EncodingError("ciphertext shorter than its tag");
  const aad = messageAad(roomId, senderId, f.epoch, f.index);
  return aesGcmDecrypt(key, f.nonce, f.ct, aad);
}

/**
 * Unpad and parse a decrypted plaintext: a JSON object of Unicode text.
 * @param {Uint8Array} padded
 * @returns {Record<string, unknown>}
 * @throws {EncodingError}
 */
export function parsePlaintext(padded) {
  return parseJsonObject(fromUtf8(unpad(padded)));
}

/**
 * Decrypt, unpad and parse a broadcast whose signature was checked.
 * @param {BroadcastFields} f
 * @param {string} roomId
 * @param {string} senderId
 * @param {CryptoKey} key
 * @returns {Promise<Record<string, unknown>>}
 * @throws {AuthenticationError|EncodingError}
 */
export async function openBroadcast(f, roomId, senderId, key) {
  return parsePlaintext(await decryptBroadcast(f, roomId, senderId, key));
}
