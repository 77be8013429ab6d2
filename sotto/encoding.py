"""Strict base64url, big-endian integers and the compact JSON text every body uses."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from .errors import EncodingError

_B64_ALPHABET = re.compile(r"[A-Za-z0-9_-]*")


def b64encode(data: bytes) -> str:
    """Encode bytes as base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64decode(text: object, length: int | None = None) -> bytes:
    """Decode strict unpadded base64url, optionally requiring an exact decoded length.

    Refuses `=`, `+`, `/`, whitespace, impossible lengths and non-canonical
    trailing bits (the text must be exactly what `b64encode` would produce).
    """
    if not isinstance(text, str) or not _B64_ALPHABET.fullmatch(text) or len(text) % 4 == 1:
        raise EncodingError("not strict base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64encode(data) != text:
        raise EncodingError("not canonical base64url")
    if length is not None and len(data) != length:
        raise EncodingError(f"expected {length} bytes, got {len(data)}")
    return data


def u32(value: int) -> bytes:
    """Encode an integer as 4 bytes big-endian."""
    if not 0 <= value <= 0xFFFFFFFF:
        raise EncodingError("u32 out of range")
    return value.to_bytes(4, "big")


def dumps(obj: dict[str, Any]) -> str:
    """The compact JSON text of an object, as JavaScript's JSON.stringify writes it."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def is_text(value: str) -> bool:
    """True if a string is Unicode text: it holds no lone surrogate, so UTF-8 can carry it."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _all_text(value: object) -> bool:
    """True if every string in a parsed JSON value, keys included, is Unicode text."""
    # A loop, not recursion: json.loads nests as deep as the recursion limit allows.
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if not is_text(item):
                return False
        elif isinstance(item, dict):
            if not all(is_text(key) for key in item):
                return False
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return True


def loads_object(text: object) -> dict[str, Any]:
    """Parse JSON text that must hold an object of Unicode text; anything else is an EncodingError.

    JSON can write a lone surrogate (the escape `\\ud800` alone), which is not text: such a
    string, anywhere in the object, makes it malformed (section 2.1).
    """
    if not isinstance(text, str):
        raise EncodingError("body is not a string")
    if not is_text(text):
        raise EncodingError("body is not Unicode text")
    try:
        value = json.loads(text)
    except ValueError:
        raise EncodingError("body is not JSON") from None
    if not isinstance(value, dict):
        raise EncodingError("body is not a JSON object")
    if not _all_text(value):
        raise EncodingError("body holds a string that is not Unicode text")
    return value


def is_uint(value: object) -> bool:
    """True for a JSON integer >= 0 that fits in u32 (bools are not integers here)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 0xFFFFFFFF
