"""SPAKE2 (RFC 9382), suite P256-SHA256-HKDF-HMAC-SHA256, on pycryptodome's ECC points.

Pure functions: `start` makes our share from a scalar drawn by the caller, `finish`
validates the peer's share, computes K and the transcript keys. Both roles use the
same code; `role` picks M or N. Shares are validated strictly (section 5): 65 bytes,
0x04 prefix, coordinates below p, on the curve, not the identity; K must not be the
identity either (pycryptodome would silently treat 0x04||0^64 as infinity and
reduce coordinates mod p, so we check before handing it points).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Literal

# ECC re-exports EccPoint (its documented home) without listing it in __all__.
from Crypto.PublicKey.ECC import EccPoint  # type: ignore[attr-defined]

from .constants import LABEL_CONFIRMATION, POINT_LENGTH, SCALAR_DRAW_LENGTH
from .errors import InvalidShare, UsageError
from .kdf import hkdf, hmac_sha256
from .password import P256_ORDER

Role = Literal["A", "B"]

_P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
_B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
_GX = 0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296
_GY = 0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5
_M_COMPRESSED = bytes.fromhex("02886e2f97ace46e55ba9dd7242579f2993b64e16ef3dcab95afd497333d8fa12f")
_N_COMPRESSED = bytes.fromhex("03d8bbd6c639c62937b04d997f38c3770719c629d7014d49a24b4f98baa1292b49")


def _on_curve(x: int, y: int) -> bool:
    return (y * y - (x * x * x - 3 * x + _B)) % _P == 0


def _decompress(encoded: bytes) -> EccPoint:
    """A point from its SEC1 compressed form (only for the constants M and N)."""
    x = int.from_bytes(encoded[1:], "big")
    y = pow((x * x * x - 3 * x + _B) % _P, (_P + 1) // 4, _P)
    if y % 2 != encoded[0] - 2:
        y = _P - y
    if not _on_curve(x, y):
        raise ValueError("constant not on P-256")
    return EccPoint(x, y, "p256")


G = EccPoint(_GX, _GY, "p256")
M = _decompress(_M_COMPRESSED)
N = _decompress(_N_COMPRESSED)


def encode_point(point: EccPoint) -> bytes:
    """SEC1 uncompressed encoding (65 bytes) of a point that is not the identity."""
    if point.is_point_at_infinity():
        raise InvalidShare("the identity has no uncompressed encoding")
    x, y = point.xy
    return b"\x04" + x.to_bytes(32, "big") + y.to_bytes(32, "big")


def decode_share(encoded: bytes) -> EccPoint:
    """Decode and validate a received share; anything but a proper P-256 point is refused."""
    if len(encoded) != POINT_LENGTH or encoded[0] != 0x04:
        raise InvalidShare("a share must be 65 bytes starting with 0x04")
    x = int.from_bytes(encoded[1:33], "big")
    y = int.from_bytes(encoded[33:], "big")
    if x >= _P or y >= _P:
        raise InvalidShare("share coordinate out of range")
    if not _on_curve(x, y):
        # Also refuses 0x04 || 0^64: (0, 0) is not on P-256 since b != 0.
        raise InvalidShare("share is not on P-256")
    return EccPoint(x, y, "p256")


def scalar_from_bytes(draw: bytes) -> int:
    """A secret scalar from 40 random bytes: big-endian mod the order (0 means draw again)."""
    if len(draw) != SCALAR_DRAW_LENGTH:
        raise UsageError("a scalar needs 40 random bytes")
    return int.from_bytes(draw, "big") % P256_ORDER


def _mask(role: Role) -> EccPoint:
    return M if role == "A" else N


def start(role: Role, w: int, secret: int) -> bytes:
    """Our share: pA = x*G + w*M for A, pB = y*G + w*N for B."""
    if not 0 < secret < P256_ORDER:
        raise UsageError("secret scalar out of range")
    return encode_point(G * secret + _mask(role) * w)


def _length_prefixed(*fields: bytes) -> bytes:
    return b"".join(len(f).to_bytes(8, "little") + f for f in fields)


@dataclass(frozen=True)
class Keys:
    """The outcome of one SPAKE2 exchange: Ke for the channel, both confirmation MACs."""

    transcript: bytes
    ke: bytes
    ka: bytes
    kc_a: bytes
    kc_b: bytes
    c_a: bytes
    c_b: bytes
    k_point: bytes

    def my_confirmation(self, role: Role) -> bytes:
        """The MAC this role sends."""
        return self.c_a if role == "A" else self.c_b

    def check_peer_confirmation(self, role: Role, mac: bytes) -> bool:
        """True if the peer's MAC matches, compared in constant time."""
        expected = self.c_b if role == "A" else self.c_a
        return hmac.compare_digest(expected, mac)


def finish(
    role: Role,
    w: int,
    secret: int,
    id_a: bytes,
    id_b: bytes,
    p_a: bytes,
    p_b: bytes,
    aad: bytes,
) -> Keys:
    """Validate the peer's share, compute K, the transcript and every derived key."""
    peer_share = p_b if role == "A" else p_a
    peer = decode_share(peer_share)
    peer_mask = N if role == "A" else M
    # The cofactor of P-256 is 1.
    k = (peer + (-(peer_mask * w))) * secret
    if k.is_point_at_infinity():
        raise InvalidShare("the shared point is the identity")
    k_bytes = encode_point(k)
    tt = _length_prefixed(id_a, id_b, p_a, p_b, k_bytes, w.to_bytes(32, "big"))
    digest = hashlib.sha256(tt).digest()
    ke, ka = digest[:16], digest[16:]
    kc = hkdf(ka, b"", LABEL_CONFIRMATION + aad, 32)
    kc_a, kc_b = kc[:16], kc[16:]
    return Keys(
        transcript=tt,
        ke=ke,
        ka=ka,
        kc_a=kc_a,
        kc_b=kc_b,
        c_a=hmac_sha256(kc_a, tt),
        c_b=hmac_sha256(kc_b, tt),
        k_point=k_bytes,
    )
