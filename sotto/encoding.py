"""Strict base64url, big-endian integers and the compact JSON text every body uses."""

from __future__ import annotations

import base64
import json
import re
from typing import Any, NoReturn

from .constants import MAX_JSON_DEPTH, U32_MAX
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
    if not 0 <= value <= U32_MAX:
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


def json_depth(value: object) -> int:
    """How deeply a parsed JSON value nests: 0 for a scalar, 1 + its deepest member otherwise."""
    # A loop, not recursion, for the same reason as _all_text.
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, above = stack.pop()
        if isinstance(item, dict):
            stack.extend((inner, above + 1) for inner in item.values())
        elif isinstance(item, list):
            stack.extend((inner, above + 1) for inner in item)
        else:
            continue
        deepest = max(deepest, above + 1)
    return deepest


def _parse_int(literal: str) -> int | float:
    """An integer literal as JSON.parse reads it, as far as any check can tell."""
    # Past 20 digits every bound refuses it either way; int() would refuse 4 300 digits outright
    # where JavaScript reads a double (or Infinity), so the text would stop parsing at all.
    return int(literal) if len(literal) <= 20 else float(literal)


def _refuse_constant(literal: str) -> NoReturn:
    """NaN and Infinity are not JSON (JSON.parse refuses them); Python's parser would take them."""
    raise ValueError(f"{literal} is not JSON")


def loads_object(text: object) -> dict[str, Any]:
    """Parse JSON text that must hold an object of Unicode text; anything else is an EncodingError.

    JSON can write a lone surrogate (the escape `\\ud800` alone), which is not text: such a
    string, anywhere in the object, makes it malformed; so does nesting deeper than
    MAX_JSON_DEPTH, and NaN or Infinity, which JavaScript does not parse (section 2.1).
    """
    if not isinstance(text, str):
        raise EncodingError("body is not a string")
    if not is_text(text):
        raise EncodingError("body is not Unicode text")
    try:
        value = json.loads(text, parse_int=_parse_int, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        # RecursionError: nesting past the interpreter's recursion limit, from any peer.
        raise EncodingError("body is not JSON") from None
    if not isinstance(value, dict):
        raise EncodingError("body is not a JSON object")
    if json_depth(value) > MAX_JSON_DEPTH:
        raise EncodingError("body nests too deep")
    if not _all_text(value):
        raise EncodingError("body holds a string that is not Unicode text")
    return value


def json_int(value: object, low: int, high: int) -> int | None:
    """The integer a JSON number from a peer stands for if it lies in [low, high], else None.

    JavaScript reads every JSON number as a double, so `1.0` is the integer 1 there: an
    integral float counts here too; fractions, NaN, infinities and bools do not (section 2.1).
    """
    if isinstance(value, float):
        if not value.is_integer():
            return None
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        return None
    return value


def json_uint(value: object) -> int | None:
    """The u32 a JSON number from a peer stands for (1.0 included), else None."""
    return json_int(value, 0, U32_MAX)
