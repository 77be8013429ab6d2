"""Parse and validate client frames: text in, a typed frame or a FrameError out.

Pure functions, no I/O. Validation is strict about what the relay needs (types,
sizes, the key's encoding) and ignores fields it does not know, so later clients
can add fields without breaking older servers.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass

from . import protocol
from .protocol import ErrorCode

_B64URL_RE = re.compile(r"[A-Za-z0-9_-]*")
MAX_RESUME_TOKEN_CHARS = 128


class FrameError(Exception):
    """A client frame the relay refuses, with the stable error code to send back."""

    def __init__(self, code: str, detail: str | None = None) -> None:
        super().__init__(code if detail is None else f"{code}: {detail}")
        self.code = code
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Join:
    """A `join` frame: the member's Ed25519 public key, and resume fields if any."""

    key: str
    resume: str | None = None
    last_seq: int | None = None


@dataclass(frozen=True, slots=True)
class Ping:
    """A `ping` frame."""


@dataclass(frozen=True, slots=True)
class Direct:
    """A `direct` frame to one member."""

    to: str
    body: str


@dataclass(frozen=True, slots=True)
class Broadcast:
    """A `broadcast` frame to the whole room."""

    body: str


ClientFrame = Join | Ping | Direct | Broadcast


def b64url_decode_strict(text: str) -> bytes:
    """Decode unpadded base64url, refusing padding, the standard alphabet and junk."""
    if not _B64URL_RE.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not unpadded base64url")
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") != text:
        raise ValueError("not canonical base64url")
    return raw


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_unicode_text(value: str) -> bool:
    """Say whether a decoded JSON string is real text (no lone surrogate escapes)."""
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _require_str(obj: dict[str, object], field: str) -> str:
    value = obj.get(field)
    if not isinstance(value, str) or not _is_unicode_text(value):
        raise FrameError(ErrorCode.BAD_FRAME, f"`{field}` must be a string of Unicode text.")
    return value


def _parse_join(obj: dict[str, object]) -> Join:
    if not _is_int(obj.get("v")) or obj.get("v") != protocol.PROTOCOL_VERSION:
        raise FrameError(ErrorCode.BAD_FRAME, "`v` must be 1.")
    key = _require_str(obj, "key")
    try:
        if len(b64url_decode_strict(key)) != 32:
            raise ValueError("wrong length")
    except (ValueError, binascii.Error):
        raise FrameError(ErrorCode.BAD_FRAME, "`key` must be 32 bytes of base64url.") from None
    if obj.get("resume") is None:
        return Join(key=key)
    resume = _require_str(obj, "resume")
    if not 0 < len(resume) <= MAX_RESUME_TOKEN_CHARS:
        raise FrameError(ErrorCode.BAD_FRAME, "`resume` must be a token string.")
    last_seq = obj.get("last_seq")
    if not _is_int(last_seq) or last_seq < 0:  # type: ignore[operator]
        raise FrameError(ErrorCode.BAD_FRAME, "`last_seq` must be an integer >= 0.")
    return Join(key=key, resume=resume, last_seq=last_seq)  # type: ignore[arg-type]


def _parse_direct(obj: dict[str, object]) -> Direct:
    to = _require_str(obj, "to")
    body = _require_str(obj, "body")
    return Direct(to=to, body=body)


def _parse_broadcast(obj: dict[str, object]) -> Broadcast:
    return Broadcast(body=_require_str(obj, "body"))


def parse_client_frame(text: str) -> ClientFrame:
    """Parse one text frame from a client, raising FrameError with the code to send."""
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError):
        raise FrameError(ErrorCode.BAD_FRAME, "Frames are JSON objects.") from None
    if not isinstance(obj, dict):
        raise FrameError(ErrorCode.BAD_FRAME, "Frames are JSON objects.")
    frame_type = obj.get("type")
    if not isinstance(frame_type, str):
        raise FrameError(ErrorCode.BAD_FRAME, "`type` must be a string.")
    if frame_type == protocol.BROADCAST:
        return _parse_broadcast(obj)
    if frame_type == protocol.DIRECT:
        return _parse_direct(obj)
    if frame_type == protocol.PING:
        return Ping()
    if frame_type == protocol.JOIN:
        return _parse_join(obj)
    raise FrameError(ErrorCode.UNKNOWN_TYPE)
