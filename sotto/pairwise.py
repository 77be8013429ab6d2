"""Pairwise keys from a SPAKE2 Ke, and the sealed direct that carries sender keys (section 5)."""

from __future__ import annotations

from typing import Any

from . import aead
from .constants import (
    K_SEALED,
    LABEL_DIRECT,
    LABEL_PAIR,
    NONCE_LENGTH,
    PAIR_KEY_LENGTH,
    SEP,
)
from .encoding import b64decode, b64encode, dumps, loads_object
from .errors import EncodingError
from .kdf import hkdf


def pair_key(ke: bytes, room_id: str, sender: str, recipient: str) -> bytes:
    """The 32-byte key for directs from sender to recipient."""
    info = LABEL_PAIR + SEP + sender.encode("ascii") + SEP + recipient.encode("ascii")
    return hkdf(ke, room_id.encode("ascii"), info, PAIR_KEY_LENGTH)


def direct_aad(room_id: str, sender: str, recipient: str) -> bytes:
    """The AES-GCM associated data of a sealed direct."""
    parts = (room_id, sender, recipient)
    return LABEL_DIRECT + b"".join(SEP + p.encode("ascii") for p in parts)


def seal_direct(
    key: bytes, nonce: bytes, room_id: str, sender: str, recipient: str, payload: dict[str, Any]
) -> str:
    """The body string of a sealed direct holding payload as JSON."""
    aad = direct_aad(room_id, sender, recipient)
    ct = aead.seal(key, nonce, dumps(payload).encode("utf-8"), aad)
    return dumps({"k": K_SEALED, "n": b64encode(nonce), "ct": b64encode(ct)})


def open_direct(
    key: bytes, body: dict[str, Any], room_id: str, sender: str, recipient: str
) -> dict[str, Any]:
    """The JSON object inside a parsed sealed direct; raises on a bad tag or bad JSON."""
    nonce = b64decode(body.get("n"), NONCE_LENGTH)
    ct = b64decode(body.get("ct"))
    plaintext = aead.open_(key, nonce, ct, direct_aad(room_id, sender, recipient))
    try:
        text = plaintext.decode("utf-8")
    except UnicodeDecodeError:
        raise EncodingError("sealed direct is not UTF-8") from None
    return loads_object(text)
