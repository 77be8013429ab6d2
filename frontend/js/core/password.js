/**
 * The password scalar w of SPAKE2: PBKDF2 of the NFKC password, reduced mod the P-256 order.
 * @module core/password
 */

import { p256 } from "@noble/curves/nist.js";
import { LABEL, PBKDF2_ITERATIONS, SIZE } from "./constants.js";
import { bigIntToBytes, bytesToBigInt, joinZero, utf8 } from "./encoding.js";
import { UsageError } from "./errors.js";
import { pbkdf2Sha256 } from "./webcrypto.js";

/** Order of the P-256 group. */
export const P256_ORDER = p256.Point.Fn.ORDER;

/**
 * The PBKDF2 salt of a room: "sotto/1 spake2" || 0x00 || room_id.
 * @param {string} roomId
 * @returns {Uint8Array}
 */
export function passwordSalt(roomId) {
  return joinZero(LABEL.SPAKE2_SALT, roomId);
}

/**
 * The 40-byte PBKDF2-HMAC-SHA256 output of UTF-8(NFKC(password)) in a room.
 * @param {string} password
 * @param {string} roomId
 * @returns {Promise<Uint8Array>}
 */
export async function stretchPassword(password, roomId) {
  if (typeof password !== "string") throw new UsageError("The password must be text.");
  const secret = utf8(password.normalize("NFKC"));
  try {
    return await pbkdf2Sha256(secret, passwordSalt(roomId), PBKDF2_ITERATIONS, SIZE.PBKDF2_OUT);
  } finally {
    secret.fill(0);
  }
}

/**
 * The SPAKE2 scalar w of a password in a room: the PBKDF2 output big-endian mod n.
 * @param {string} password
 * @param {string} roomId
 * @returns {Promise<bigint>}
 */
export async function passwordScalar(password, roomId) {
  const out = await stretchPassword(password, roomId);
  const w = bytesToBigInt(out) % P256_ORDER;
  out.fill(0);
  return w;
}

/**
 * w as the 32-byte big-endian string that goes into the SPAKE2 transcript.
 * @param {bigint} w
 * @returns {Uint8Array}
 */
export function scalarBytes(w) {
  return bigIntToBytes(w, SIZE.SCALAR);
}
