/**
 * Byte encodings shared by the core: strict base64url, UTF-8, u32/u64, hex, bigints, JSON.
 * @module core/encoding
 */

import { LIMIT } from "./constants.js";
import { EncodingError } from "./errors.js";

const B64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const B64_VALUE = new Int16Array(128).fill(-1);
for (let i = 0; i < B64_ALPHABET.length; i += 1) B64_VALUE[B64_ALPHABET.charCodeAt(i)] = i;

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Encode bytes as base64url without padding.
 * @param {Uint8Array} bytes
 * @returns {string}
 */
export function b64encode(bytes) {
  let out = "";
  let i = 0;
  for (; i + 3 <= bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += B64_ALPHABET[n >> 18] + B64_ALPHABET[(n >> 12) & 63];
    out += B64_ALPHABET[(n >> 6) & 63] + B64_ALPHABET[n & 63];
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i] << 16;
    out += B64_ALPHABET[n >> 18] + B64_ALPHABET[(n >> 12) & 63];
  } else if (rest === 2) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8);
    out += B64_ALPHABET[n >> 18] + B64_ALPHABET[(n >> 12) & 63] + B64_ALPHABET[(n >> 6) & 63];
  }
  return out;
}

/**
 * Decode unpadded base64url strictly: no padding, no `+`/`/`, no junk, canonical trailing bits.
 * @param {unknown} text
 * @param {number} [expectedLength] exact decoded length required, if given
 * @returns {Uint8Array}
 * @throws {EncodingError} on any deviation
 */
export function b64decode(text, expectedLength) {
  if (typeof text !== "string") throw new EncodingError("base64url field is not a string");
  if (text.length % 4 === 1) throw new EncodingError("base64url field has a bad length");
  const values = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    const value = code < 128 ? B64_VALUE[code] : -1;
    if (value < 0) throw new EncodingError("base64url field has a character outside the alphabet");
    values[i] = value;
  }
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let o = 0;
  let i = 0;
  for (; i + 4 <= values.length; i += 4) {
    const n = (values[i] << 18) | (values[i + 1] << 12) | (values[i + 2] << 6) | values[i + 3];
    out[o++] = n >> 16;
    out[o++] = (n >> 8) & 255;
    out[o++] = n & 255;
  }
  const rest = values.length - i;
  if (rest === 2) {
    if (values[i + 1] & 15) throw new EncodingError("base64url field is not canonical");
    out[o++] = (values[i] << 2) | (values[i + 1] >> 4);
  } else if (rest === 3) {
    if (values[i + 2] & 3) throw new EncodingError("base64url field is not canonical");
    const n = (values[i] << 12) | (values[i + 1] << 6) | values[i + 2];
    out[o++] = n >> 10;
    out[o++] = (n >> 2) & 255;
  }
  if (expectedLength !== undefined && out.length !== expectedLength) {
    throw new EncodingError(`base64url field must decode to ${expectedLength} bytes`);
  }
  return out;
}

/**
 * UTF-8 encode a string.
 * @param {string} text
 * @returns {Uint8Array}
 */
export function utf8(text) {
  return utf8Encoder.encode(text);
}

/**
 * Decode strict UTF-8 (a malformed sequence is a ProtocolError).
 * @param {Uint8Array} bytes
 * @returns {string}
 */
export function fromUtf8(bytes) {
  try {
    return utf8Decoder.decode(bytes);
  } catch {
    throw new EncodingError("text is not valid UTF-8");
  }
}

/**
 * Concatenate byte strings (`||`); strings are taken as UTF-8.
 * @param {...(Uint8Array|string)} parts
 * @returns {Uint8Array}
 */
export function concat(...parts) {
  const chunks = parts.map((p) => (typeof p === "string" ? utf8(p) : p));
  const out = new Uint8Array(chunks.reduce((sum, c) => sum + c.length, 0));
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

/**
 * Join labels and fields with 0x00 separators: `a || 0x00 || b || 0x00 || c`.
 * @param {...(Uint8Array|string)} parts
 * @returns {Uint8Array}
 */
export function joinZero(...parts) {
  const spaced = [];
  parts.forEach((p, i) => {
    if (i > 0) spaced.push(new Uint8Array([0]));
    spaced.push(p);
  });
  return concat(...spaced);
}

/**
 * Four bytes big-endian.
 * @param {number} x integer in [0, 2^32)
 * @returns {Uint8Array}
 */
export function u32(x) {
  if (!Number.isInteger(x) || x < 0 || x > 0xffffffff) throw new RangeError("u32 out of range");
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, x, false);
  return out;
}

/**
 * Eight bytes little-endian (RFC 9382 transcript length prefixes).
 * @param {number} x non-negative safe integer
 * @returns {Uint8Array}
 */
export function u64le(x) {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(x), true);
  return out;
}

/**
 * Lowercase hex of bytes.
 * @param {Uint8Array} bytes
 * @returns {string}
 */
export function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Bytes from hex (even length, hex digits only).
 * @param {string} hex
 * @returns {Uint8Array}
 */
export function fromHex(hex) {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw new TypeError("bad hex");
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i += 1) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * Big-endian unsigned integer of bytes.
 * @param {Uint8Array} bytes
 * @returns {bigint}
 */
export function bytesToBigInt(bytes) {
  return bytes.length === 0 ? 0n : BigInt("0x" + toHex(bytes));
}

/**
 * Fixed-length big-endian bytes of a non-negative bigint.
 * @param {bigint} n
 * @param {number} length
 * @returns {Uint8Array}
 */
export function bigIntToBytes(n, length) {
  const hex = n.toString(16).padStart(2 * length, "0");
  if (hex.length > 2 * length) throw new RangeError("integer too large");
  return fromHex(hex);
}

/**
 * Equality of byte strings, without early exit.
 * @param {Uint8Array} a
 * @param {Uint8Array} b
 * @returns {boolean}
 */
export function bytesEqual(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i += 1) diff |= a[i] ^ b[i];
  return diff === 0;
}

/**
 * Serialise a JSON object compactly, key order as given (Python: separators=(",", ":"),
 * ensure_ascii=False), so both cores write the same bytes.
 * @param {object} value
 * @returns {string}
 */
export function toJson(value) {
  return JSON.stringify(value);
}

// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * True if a string is Unicode text: it holds no lone surrogate, so UTF-8 can carry it
 * (sotto/encoding.py is_text).
 * @param {string} text
 * @returns {boolean}
 */
export function isText(text) {
  return !LONE_SURROGATE.test(text);
}

/**
 * True if every string in a parsed JSON value, keys included, is Unicode text.
 * @param {unknown} value
 * @returns {boolean}
 */
function allText(value) {
  // A loop, not recursion: JSON.parse nests deeper than the call stack would allow a walk.
  const stack = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (typeof item === "string") {
      if (!isText(item)) return false;
    } else if (Array.isArray(item)) {
      for (const inner of item) stack.push(inner);
    } else if (item !== null && typeof item === "object") {
      for (const [key, inner] of Object.entries(item)) {
        if (!isText(key)) return false;
        stack.push(inner);
      }
    }
  }
  return true;
}

/**
 * How deeply a parsed JSON value nests: 0 for a scalar, 1 + its deepest member for an object
 * or array (sotto/encoding.py json_depth).
 * @param {unknown} value
 * @returns {number}
 */
export function jsonDepth(value) {
  // A loop, not recursion, for the same reason as allText.
  let deepest = 0;
  const stack = [[value, 0]];
  while (stack.length > 0) {
    const [item, above] = /** @type {[unknown, number]} */ (stack.pop());
    if (item === null || typeof item !== "object") continue;
    const depth = above + 1;
    if (depth > deepest) deepest = depth;
    for (const inner of Object.values(item)) stack.push([inner, depth]);
  }
  return deepest;
}

/**
 * Parse JSON text that must be an object (not null, not an array) of Unicode text, nested at
 * most LIMIT.MAX_JSON_DEPTH deep: JSON can write a lone surrogate (the escape \ud800 alone),
 * which is not text, and such a string anywhere in it makes it malformed (section 2.1).
 * @param {unknown} text
 * @returns {Record<string, unknown>}
 * @throws {EncodingError}
 */
export function parseJsonObject(text) {
  if (typeof text !== "string") throw new EncodingError("body is not a string");
  if (!isText(text)) throw new EncodingError("body is not Unicode text");
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    // A SyntaxError, or a RangeError should an engine's parser run out of stack.
    throw new EncodingError("body is not JSON");
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new EncodingError("body is not a JSON object");
  }
  if (jsonDepth(value) > LIMIT.MAX_JSON_DEPTH) throw new EncodingError("body nests too deep");
  if (!allText(value)) throw new EncodingError("body holds a string that is not Unicode text");
  return value;
}

/**
 * True when `x` is a JSON integer within [0, max]. JSON.parse reads `1.0` as 1, and so does
 * sotto/encoding.py json_int (section 2.1).
 * @param {unknown} x
 * @param {number} [max]
 * @returns {boolean}
 */
export function isUint(x, max = 0xffffffff) {
  return Number.isInteger(x) && /** @type {number} */ (x) >= 0 && /** @type {number} */ (x) <= max;
}
