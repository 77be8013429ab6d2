"""HMAC-SHA256 and HKDF-SHA256 (RFC 5869), the two key-derivation tools of the protocol."""

from __future__ import annotations

import hashlib
import hmac


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    """HMAC-SHA256 of message under key."""
    return hmac.new(key, message, hashlib.sha256).digest()


def hkdf(ikm: bytes, salt: bytes, info: bytes, length: int) -> bytes:
    """HKDF-SHA256 extract-then-expand; an empty salt means HashLen zero bytes (RFC 5869)."""
    prk = hmac_sha256(salt or bytes(32), ikm)
    out = b""
    block = b""
    counter = 1
    while len(out) < length:
        block = hmac_sha256(prk, block + info + bytes([counter]))
        out += block
        counter += 1
    return out[:length]
