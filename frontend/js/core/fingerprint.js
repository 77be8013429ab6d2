/**
 * Fingerprints of section 7: five groups of five digits people compare out of band.
 * @module core/fingerprint
 */

import { LABEL, SIZE } from "./constants.js";
import { joinZero } from "./encoding.js";
import { sha256 } from "./webcrypto.js";

/**
 * SHA-256("sotto/1 fingerprint" || 0x00 || room_id || 0x00 || key)[0:10] as
 * "ddddd ddddd ddddd ddddd ddddd" (each group a big-endian u16, zero-padded).
 * @param {string} roomId
 * @param {Uint8Array} publicKey raw 32-byte Ed25519 public key
 * @returns {Promise<string>}
 */
export async function fingerprint(roomId, publicKey) {
  const fp = (await sha256(joinZero(LABEL.FINGERPRINT, roomId, publicKey)))
    .subarray(0, SIZE.FINGERPRINT);
  const groups = [];
  for (let i = 0; i < fp.length; i += 2) {
    groups.push(String((fp[i] << 8) | fp[i + 1]).padStart(5, "0"));
  }
  return groups.join(" ");
}
