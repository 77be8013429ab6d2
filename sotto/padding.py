"""Plaintext padding: 0x80 then 0x00 bytes up to a multiple of 64 bytes (section 6)."""

from __future__ import annotations

from .constants import PAD_BLOCK, PAD_MARKER
from .errors import EncodingError


def pad(data: bytes) -> bytes:
    """Append 0x80 and as many 0x00 as needed to reach a multiple of 64 bytes."""
    padded = data + bytes([PAD_MARKER])
    return padded + bytes(-len(padded) % PAD_BLOCK)


def unpad(data: bytes) -> bytes:
    """Strip the padding, refusing a length that is not a multiple of 64 or a missing 0x80."""
    if not data or len(data) % PAD_BLOCK:
        raise EncodingError("padded length is not a multiple of 64")
    stripped = data.rstrip(b"\x00")
    if not stripped or stripped[-1] != PAD_MARKER:
        raise EncodingError("padding marker missing")
    return stripped[:-1]
