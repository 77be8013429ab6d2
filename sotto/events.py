"""Events a RoomSession reports to its user interface (frozen dataclasses with a `kind`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, NamedTuple


@dataclass(frozen=True)
class Joined:
    """Our welcome arrived: our id and colour, and every member now in the room (id -> colour)."""

    kind: ClassVar[str] = "joined"
    member_id: str
    color: str
    members: dict[str, str] = field(hash=False)
    resumed: bool = False


@dataclass(frozen=True)
class MemberJoined:
    """Someone joined the room (not yet verified)."""

    kind: ClassVar[str] = "member_joined"
    member_id: str
    color: str


@dataclass(frozen=True)
class MemberLeft:
    """Someone left the room."""

    kind: ClassVar[str] = "member_left"
    member_id: str


@dataclass(frozen=True)
class PeerVerified:
    """A handshake completed: the peer proved the password; its fingerprint is shown."""

    kind: ClassVar[str] = "peer_verified"
    member_id: str
    fingerprint: str


@dataclass(frozen=True)
class PeerFailed:
    """A handshake failed: "wrong_password" or "invalid_share"."""

    kind: ClassVar[str] = "peer_failed"
    member_id: str
    reason: str


@dataclass(frozen=True)
class PeerNotAnswering:
    """A handshake step got no answer within 10 s (not a password failure)."""

    kind: ClassVar[str] = "peer_not_answering"
    member_id: str


@dataclass(frozen=True)
class MessageReceived:
    """A decrypted message whose signature checked; `own` marks the echo of our own.

    Our own echo gives MessageReceived(own=True) followed by MessageSent(seq).
    """

    kind: ClassVar[str] = "message_received"
    sender: str
    text: str
    ts: int
    seq: int
    own: bool


@dataclass(frozen=True)
class MessageSent:
    """The server echoed our own message back with this room sequence number."""

    kind: ClassVar[str] = "message_sent"
    seq: int


@dataclass(frozen=True)
class Gap:
    """Messages first_seq..last_seq are missing or were dropped unread, for `reason`.

    Reasons: "missing" (seq jumped), "key_missing" (held 30 s, no sender key came),
    "held_overflow" (over 256 held from one sender), "sender_left" (left before its
    key came), "sender_unverified" (its handshake failed), "old_epoch" (that epoch's
    keys are deleted), "before_key" (sealed before the key we were given),
    "resume_failed" (a fresh welcome replaced our membership).
    """

    kind: ClassVar[str] = "gap"
    first_seq: int
    last_seq: int
    reason: str


@dataclass(frozen=True)
class KeysRotated:
    """We started a new sender-key epoch (someone verified left)."""

    kind: ClassVar[str] = "keys_rotated"
    epoch: int


@dataclass(frozen=True)
class Rejected:
    """A forged, replayed, tampered or malformed frame was dropped.

    Reasons: "bad_frame", "unknown_frame" (server frames; member_id None),
    "bad_member", "bad_key", "unknown_sender", "too_many_held", "malformed",
    "unverified_sender", "bad_direct", "replayed", "bad_signature",
    "too_far_ahead", "bad_ciphertext". "malformed" is a peer's direct or broadcast body,
    or a broadcast's authentic plaintext, that is not what the protocol asks for (a string
    in it that is not Unicode text included); a sealed direct's plaintext is "bad_direct".
    """

    kind: ClassVar[str] = "rejected"
    member_id: str | None
    reason: str


@dataclass(frozen=True)
class ServerError:
    """The server sent an `error` frame."""

    kind: ClassVar[str] = "server_error"
    code: str
    message: str


@dataclass(frozen=True)
class HandshakeRefused:
    """The 5-failures-a-minute limit was hit: a handshake with this member was not run."""

    kind: ClassVar[str] = "handshake_refused"
    member_id: str


Event = (
    Joined
    | MemberJoined
    | MemberLeft
    | PeerVerified
    | PeerFailed
    | PeerNotAnswering
    | MessageReceived
    | MessageSent
    | Gap
    | KeysRotated
    | Rejected
    | ServerError
    | HandshakeRefused
)


class Output(NamedTuple):
    """What one call to the session produced: frames to send to the server, and events."""

    frames: list[dict[str, Any]]
    events: list[Event]
