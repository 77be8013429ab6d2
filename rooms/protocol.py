"""Every wire string of the relay protocol (docs/protocol.md section 4), in one place.

Error codes, close codes and the messages people read are mapped here and nowhere
else, so the consumer, the tests and the docs cannot drift apart.
"""

from __future__ import annotations

import json
import re
from typing import Final

PROTOCOL_VERSION: Final = 1

# Client to server.
JOIN: Final = "join"
PING: Final = "ping"
DIRECT: Final = "direct"
BROADCAST: Final = "broadcast"
CLIENT_TYPES: Final = frozenset({JOIN, PING, DIRECT, BROADCAST})

# Server to client.
WELCOME: Final = "welcome"
PRESENCE: Final = "presence"
MESSAGE: Final = "message"
ERROR: Final = "error"
PONG: Final = "pong"

ROOM_ID_PATTERN: Final = r"[A-Za-z0-9_-]{22}"
ROOM_ID_RE: Final = re.compile(ROOM_ID_PATTERN)
MEMBER_ID_RE: Final = re.compile(r"[A-Za-z0-9_-]{22}")


class ErrorCode:
    """Stable error codes sent in `error` frames."""

    BAD_FRAME: Final = "bad_frame"
    UNKNOWN_TYPE: Final = "unknown_type"
    NOT_JOINED: Final = "not_joined"
    ALREADY_JOINED: Final = "already_joined"
    NO_SUCH_MEMBER: Final = "no_such_member"
    FRAME_TOO_LARGE: Final = "frame_too_large"
    RATE_LIMITED: Final = "rate_limited"
    ROOM_FULL: Final = "room_full"
    UNAVAILABLE: Final = "unavailable"


# What a person reads next to each code.
ERROR_MESSAGES: Final[dict[str, str]] = {
    ErrorCode.BAD_FRAME: "That frame is not valid for this protocol.",
    ErrorCode.UNKNOWN_TYPE: "Unknown frame type.",
    ErrorCode.NOT_JOINED: "Join the room first.",
    ErrorCode.ALREADY_JOINED: "You are already in this room.",
    ErrorCode.NO_SUCH_MEMBER: "Nobody with that id is in the room.",
    ErrorCode.FRAME_TOO_LARGE: "That frame is larger than the server accepts.",
    ErrorCode.RATE_LIMITED: "Too many frames: slow down. This one was dropped.",
    ErrorCode.ROOM_FULL: "This room is full.",
    ErrorCode.UNAVAILABLE: "The server cannot reach its room store right now; try again.",
}


class CloseCode:
    """WebSocket close codes the server uses."""

    GOING_AWAY: Final = 1001
    POLICY: Final = 1008
    TOO_BIG: Final = 1009
    RESTARTING: Final = 1012
    TRY_AGAIN_LATER: Final = 1013
    ROOM_FULL: Final = 4003
    REPLACED: Final = 4009
    RATE_LIMITED: Final = 4029


def error_frame(code: str, detail: str | None = None) -> str:
    """Encode an `error` frame for ``code``; ``detail`` may refine the message."""
    message = ERROR_MESSAGES[code] if detail is None else f"{ERROR_MESSAGES[code]} {detail}"
    return json.dumps({"type": ERROR, "code": code, "message": message})


PONG_FRAME: Final = json.dumps({"type": PONG})
