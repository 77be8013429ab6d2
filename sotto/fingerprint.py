"""Fingerprints: ten bytes of a hash of the room id and a signing key, shown as 25 digits."""

from __future__ import annotations

import hashlib

from .constants import FINGERPRINT_BYTES, LABEL_FINGERPRINT, SEP


def fingerprint_bytes(room_id: str, public_key: bytes) -> bytes:
    """The 10-byte fingerprint of a signing key in a room."""
    data = LABEL_FINGERPRINT + SEP + room_id.encode("ascii") + SEP + public_key
    return hashlib.sha256(data).digest()[:FINGERPRINT_BYTES]


def fingerprint(room_id: str, public_key: bytes) -> str:
    """The fingerprint as five space-separated groups of five digits."""
    fp = fingerprint_bytes(room_id, public_key)
    return " ".join(f"{int.from_bytes(fp[i : i + 2], 'big'):05d}" for i in range(0, len(fp), 2))
