/**
 * SPAKE2 (RFC 9382), suite P256-SHA256-HKDF-HMAC-SHA256: shares, K, transcript, key schedule.
 *
 * Point arithmetic is @noble/curves p256; hashing, HKDF and HMAC go through webcrypto.js.
 * Every received share is validated (65 bytes, 0x04, on the curve, not the identity) and
 * a K equal to the identity is refused, both as InvalidShare.
 * @module core/spake2
 */

import { p256 } from "@noble/curves/nist.js";
import { LABEL, SIZE, SPAKE2_M_HEX, SPAKE2_N_HEX } from "./constants.js";
import { bytesToBigInt, concat, joinZero, u64le, utf8 } from "./encoding.js";
import { InvalidShare } from "./errors.js";
import { scalarBytes } from "./password.js";
import { hkdfSha256, hmacSha256, hmacSha256Verify, sha256 } from "./webcrypto.js";

const Point = p256.Point;
const ORDER = Point.Fn.ORDER;

/** The RFC's M and N points. */
export const M = Point.fromHex(SPAKE2_M_HEX);
export const N = Point.fromHex(SPAKE2_N_HEX);

/** Roles: A is the member whose id sorts lower (section 5). */
export const ROLE = Object.freeze({ A: "A", B: "B" });

/**
 * scalar * point, constant-time for secret scalars; 0 gives the identity.
 * @param {import("@noble/curves/abstract/weierstrass.js").WeierstrassPoint<bigint>} point
 * @param {bigint} scalar in [0, n)
 */
function mul(point, scalar) {
  return scalar === 0n ? Point.ZERO : point.multiply(scalar);
}

/**
 * A secret scalar from injected randomness, as sotto/spake2.py draws it: 40 bytes taken
 * big-endian mod n (bias below 2^-64), drawn again in the negligible case of 0.
 * @param {(n: number) => Uint8Array} random
 * @returns {bigint}
 */
export function randomScalar(random) {
  for (;;) {
    const draw = random(SIZE.SCALAR_DRAW);
    const candidate = bytesToBigInt(draw) % ORDER;
    draw.fill(0);
    if (candidate !== 0n) return candidate;
  }
}

/**
 * Our share: pA = x*G + w*M for role A, pB = y*G + w*N for role B (SEC1 uncompressed).
 * @param {"A"|"B"} role
 * @param {bigint} w password scalar
 * @param {bigint} scalar our secret x or y
 * @returns {Uint8Array} 65 bytes
 */
export function computeShare(role, w, scalar) {
  const blind = role === ROLE.A ? M : N;
  return mul(Point.BASE, scalar).add(mul(blind, w)).toBytes(false);
}

/**
 * Decode and validate a received share.
 * @param {Uint8Array} bytes
 * @throws {InvalidShare} unless 65 bytes, 0x04, on the curve and not the identity
 */
export function decodeShare(bytes) {
  if (!(bytes instanceof Uint8Array) || bytes.length !== SIZE.SHARE || bytes[0] !== 0x04) {
    throw new InvalidShare("share is not an uncompressed P-256 point");
  }
  let point;
  try {
    point = Point.fromBytes(bytes);
    point.assertValidity();
  } catch {
    throw new InvalidShare("share is not a point on P-256");
  }
  if (point.is0()) throw new InvalidShare("share is the identity");
  return point;
}

/**
 * K = scalar * (peerShare - w * (N for A, M for B)), refusing the identity.
 * @param {"A"|"B"} role our role
 * @param {bigint} w
 * @param {bigint} scalar our x or y
 * @param {Uint8Array} peerShare received share (validated here)
 * @returns {Uint8Array} K, 65 bytes
 */
export function computeK(role, w, scalar, peerShare) {
  const peer = decodeShare(peerShare);
  const unblind = role === ROLE.A ? N : M;
  const K = mul(peer.subtract(mul(unblind, w)), scalar);
  if (K.is0()) throw new InvalidShare("shared point is the identity");
  return K.toBytes(false);
}

/**
 * The RFC 9382 transcript: each field with its 8-byte little-endian length prefix.
 * @param {{idA: Uint8Array, idB: Uint8Array, pA: Uint8Array, pB: Uint8Array,
 *          K: Uint8Array, w: bigint}} t
 * @returns {Uint8Array}
 */
export function transcript({ idA, idB, pA, pB, K, w }) {
  const fields = [idA, idB, pA, pB, K, scalarBytes(w)];
  return concat(...fields.flatMap((f) => [u64le(f.length), f]));
}

/**
 * @typedef {object} KeySchedule
 * @property {Uint8Array} Ke 16-byte shared secret
 * @property {Uint8Array} Ka 16 bytes
 * @property {Uint8Array} KcA confirmation key of A
 * @property {Uint8Array} KcB confirmation key of B
 * @property {Uint8Array} cA HMAC(KcA, TT)
 * @property {Uint8Array} cB HMAC(KcB, TT)
 */

/**
 * Ke || Ka = SHA-256(TT); KcA || KcB = HKDF(Ka, salt empty, "ConfirmationKeys" || aad, 32).
 * @param {Uint8Array} tt transcript
 * @param {Uint8Array} aad
 * @returns {Promise<KeySchedule>}
 */
export async function keySchedule(tt, aad) {
  const h = await sha256(tt);
  const Ke = h.slice(0, SIZE.HALF_HASH);
  const Ka = h.slice(SIZE.HALF_HASH);
  const kc = await hkdfSha256(Ka, new Uint8Array(0), concat(utf8(LABEL.CONFIRMATION), aad), 32);
  const KcA = kc.slice(0, 16);
  const KcB = kc.slice(16);
  const [cA, cB] = await Promise.all([hmacSha256(KcA, tt), hmacSha256(KcB, tt)]);
  return { Ke, Ka, KcA, KcB, cA, cB };
}

/**
 * Check the peer's confirmation MAC in constant time.
 * @param {Uint8Array} key the peer's confirmation key (KcB when we are A)
 * @param {Uint8Array} mac received cA or cB
 * @param {Uint8Array} tt transcript
 * @returns {Promise<boolean>}
 */
export function verifyConfirmation(key, mac, tt) {
  return hmacSha256Verify(key, mac, tt);
}

/**
 * Our half of a SPAKE2 run for one pair: holds x (or y) and our share until finished.
 */
export class Spake2 {
  /**
   * @param {"A"|"B"} role
   * @param {bigint} w
   * @param {Uint8Array} idA
   * @param {Uint8Array} idB
   * @param {Uint8Array} aad
   * @param {bigint} scalar secret x (role A) or y (role B)
   */
  constructor(role, w, idA, idB, aad, scalar) {
    this.role = role;
    this.idA = idA;
    this.idB = idB;
    this.aad = aad;
    /** @private */ this.w = w;
    /** @private */ this.scalar = scalar;
    /** Our share, to send. */
    this.share = computeShare(role, w, scalar);
  }

  /**
   * Finish with the peer's share: validate it, compute K, TT and the key schedule.
   * @param {Uint8Array} peerShare
   * @returns {Promise<KeySchedule & {tt: Uint8Array, ourMac: Uint8Array,
   *   peerKey: Uint8Array}>}
   * @throws {InvalidShare}
   */
  async finish(peerShare) {
    const K = computeK(this.role, this.w, this.scalar, peerShare);
    const isA = this.role === ROLE.A;
    const pA = isA ? this.share : peerShare;
    const pB = isA ? peerShare : this.share;
    const tt = transcript({ idA: this.idA, idB: this.idB, pA, pB, K, w: this.w });
    K.fill(0);
    const ks = await keySchedule(tt, this.aad);
    this.scalar = 0n;
    return { ...ks, tt, ourMac: isA ? ks.cA : ks.cB, peerKey: isA ? ks.KcB : ks.KcA };
  }
}

/**
 * The handshake identity: "sotto/1" || 0x00 || member_id || 0x00 || raw public key.
 * @param {string} memberId
 * @param {Uint8Array} publicKey
 * @returns {Uint8Array}
 */
export function identity(memberId, publicKey) {
  return joinZero(LABEL.IDENTITY, memberId, publicKey);
}
