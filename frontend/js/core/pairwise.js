/**
 * Pairwise keys from a finished SPAKE2 and the sealed direct frames they protect (section 5).
 * @module core/pairwise
 */

import { DIRECT_KIND, LABEL, SIZE } from "./constants.js";
import {
  b64decode, b64encode, fromUtf8, isUint, joinZero, parseJsonObject, toJson, utf8,
} from "./encoding.js";
import { EncodingError } from "./errors.js";
import {
  aesGcmDecrypt, aesGcmEncrypt, hkdfAesKey, hkdfSha256, importAesKey,
} from "./webcrypto.js";

/**
 * HKDF parameters of the key for frames from X to Y.
 * @param {string} roomId
 * @param {string} from X
 * @param {string} to Y
 */
function pairParams(roomId, from, to) {
  return { salt: utf8(roomId), info: joinZero(LABEL.PAIR, from, to) };
}

/**
 * The raw 32-byte key for frames from `from` to `to` (for vectors; sessions use PairChannel).
 * @param {Uint8Array} Ke SPAKE2 shared secret
 * @param {string} roomId
 * @param {string} from
 * @param {string} to
 * @returns {Promise<Uint8Array>}
 */
export function pairKeyBytes(Ke, roomId, from, to) {
  const { salt, info } = pairParams(roomId, from, to);
  return hkdfSha256(Ke, salt, info, SIZE.AES_KEY);
}

/**
 * AAD of a sealed direct: "sotto/1 direct" || 0x00 || room_id || 0x00 || from || 0x00 || to.
 * @param {string} roomId
 * @param {string} from
 * @param {string} to
 * @returns {Uint8Array}
 */
export function directAad(roomId, from, to) {
  return joinZero(LABEL.DIRECT, roomId, from, to);
}

/** Both directions of one pair's channel, as non-extractable AES-GCM keys. */
export class PairChannel {
  /**
   * @param {string} roomId
   * @param {string} me
   * @param {string} peer
   * @param {CryptoKey} sendKey
   * @param {CryptoKey} receiveKey
   */
  constructor(roomId, me, peer, sendKey, receiveKey) {
    Object.assign(this, { roomId, me, peer });
    /** @private */ this.sendKey = sendKey;
    /** @private */ this.receiveKey = receiveKey;
  }

  /**
   * Derive both directions from Ke.
   * @param {Uint8Array} Ke
   * @param {string} roomId
   * @param {string} me
   * @param {string} peer
   * @returns {Promise<PairChannel>}
   */
  static async derive(Ke, roomId, me, peer) {
    const out = pairParams(roomId, me, peer);
    const back = pairParams(roomId, peer, me);
    const [sendKey, receiveKey] = await Promise.all([
      hkdfAesKey(Ke, out.salt, out.info), hkdfAesKey(Ke, back.salt, back.info)]);
    return new PairChannel(roomId, me, peer, sendKey, receiveKey);
  }

  /**
   * A channel from raw 32-byte keys (known-answer tests); the bytes are imported
   * non-extractable.
   * @param {string} roomId
   * @param {string} me
   * @param {string} peer
   * @param {Uint8Array} sendRaw key for frames me -> peer
   * @param {Uint8Array} receiveRaw key for frames peer -> me
   * @returns {Promise<PairChannel>}
   */
  static async fromRawKeys(roomId, me, peer, sendRaw, receiveRaw) {
    const [sendKey, receiveKey] = await Promise.all([importAesKey(sendRaw),
      importAesKey(receiveRaw)]);
    return new PairChannel(roomId, me, peer, sendKey, receiveKey);
  }

  /**
   * Seal a plaintext object into a direct body string {"k":"sealed","n","ct"}.
   * @param {object} plaintext JSON object
   * @param {Uint8Array} nonce 12 fresh random bytes
   * @returns {Promise<string>}
   */
  async seal(plaintext, nonce) {
    const aad = directAad(this.roomId, this.me, this.peer);
    const ct = await aesGcmEncrypt(this.sendKey, nonce, utf8(toJson(plaintext)), aad);
    return toJson({ k: DIRECT_KIND.SEALED, n: b64encode(nonce), ct: b64encode(ct) });
  }

  /**
   * Open a parsed sealed body from the peer; returns its plaintext object.
   * @param {Record<string, unknown>} body
   * @returns {Promise<Record<string, unknown>>}
   * @throws {EncodingError|import("./errors.js").AuthenticationError}
   */
  async open(body) {
    const nonce = b64decode(body.n, SIZE.NONCE);
    const ct = b64decode(body.ct);
    if (ct.length < SIZE.TAG) throw new EncodingError("sealed ciphertext too short");
    const aad = directAad(this.roomId, this.peer, this.me);
    return parseJsonObject(fromUtf8(await aesGcmDecrypt(this.receiveKey, nonce, ct, aad)));
  }

  /** Forget both keys. */
  wipe() {
    this.sendKey = null;
    this.receiveKey = null;
  }
}

/**
 * The plaintext of a sender-key direct.
 * @param {number} epoch
 * @param {number} index
 * @param {Uint8Array} chainKey CK_index
 * @returns {{k: string, epoch: number, index: number, ck: string}}
 */
export function senderKeyPlaintext(epoch, index, chainKey) {
  return { k: DIRECT_KIND.SENDER_KEY, epoch, index, ck: b64encode(chainKey) };
}

/**
 * Validate a sender-key plaintext.
 * @param {Record<string, unknown>} plain
 * @returns {{epoch: number, index: number, chainKey: Uint8Array}}
 * @throws {EncodingError}
 */
export function parseSenderKey(plain) {
  if (plain.k !== DIRECT_KIND.SENDER_KEY || !isUint(plain.epoch) || !isUint(plain.index)) {
    throw new EncodingError("not a sender key");
  }
  return { epoch: /** @type {number} */ (plain.epoch), index: /** @type {number} */ (plain.index),
    chainKey: b64decode(plain.ck, SIZE.CHAIN_KEY) };
}
