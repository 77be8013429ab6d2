/**
 * Plaintext padding of section 6: 0x80 then 0x00 bytes up to a multiple of 64 bytes.
 * @module core/padding
 */

import { PAD, SIZE } from "./constants.js";
import { EncodingError } from "./errors.js";

/**
 * Pad to a multiple of 64 bytes; the 0x80 marker is always present.
 * @param {Uint8Array} data
 * @returns {Uint8Array}
 */
export function pad(data) {
  const length = Math.ceil((data.length + 1) / SIZE.PAD_BLOCK) * SIZE.PAD_BLOCK;
  const out = new Uint8Array(length);
  out.set(data);
  out[data.length] = PAD.MARK;
  return out;
}

/**
 * Remove padding: a multiple of 64 bytes, trailing 0x00 stripped, then a required 0x80.
 * @param {Uint8Array} data
 * @returns {Uint8Array} a view into `data`
 * @throws {EncodingError}
 */
export function unpad(data) {
  if (data.length === 0 || data.length % SIZE.PAD_BLOCK !== 0) {
    throw new EncodingError("padded plaintext is not a multiple of 64 bytes");
  }
  let end = data.length;
  while (end > 0 && data[end - 1] === PAD.FILL) end -= 1;
  if (end === 0 || data[end - 1] !== PAD.MARK) throw new EncodingError("padding marker missing");
  return data.subarray(0, end - 1);
}
