"""The password scalar w: PBKDF2-HMAC-SHA256 of the NFKC password, reduced mod the P-256 order."""

from __future__ import annotations

import hashlib
import unicodedata

from .constants import LABEL_SPAKE2_SALT, PBKDF2_ITERATIONS, PBKDF2_LENGTH, SEP

# Order of the P-256 group.
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def password_bytes(password: str) -> bytes:
    """The password as the protocol hashes it: NFKC, UTF-8, neither trimmed nor case-folded."""
    return unicodedata.normalize("NFKC", password).encode("utf-8")


def salt(room_id: str) -> bytes:
    """The PBKDF2 salt of a room: "sotto/1 spake2" || 0x00 || room_id."""
    return LABEL_SPAKE2_SALT + SEP + room_id.encode("ascii")


def stretch(password: str, room_id: str, iterations: int = PBKDF2_ITERATIONS) -> bytes:
    """The 40-byte PBKDF2-HMAC-SHA256 output for a password in a room."""
    return hashlib.pbkdf2_hmac(
        "sha256", password_bytes(password), salt(room_id), iterations, PBKDF2_LENGTH
    )


def password_scalar(password: str, room_id: str) -> int:
    """The SPAKE2 scalar w of a password in a room (section 2)."""
    return int.from_bytes(stretch(password, room_id), "big") % P256_ORDER
