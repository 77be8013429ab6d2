"""The contract every room store keeps.

A store holds, per room id: the members with their presence meta, the room's
sequence counter and a replay buffer of recent `message` frames (ciphertext only).
Every method that changes several of these does so atomically. Room ids are
already hashes of room names; a store never sees a name, a body in clear, or a key
other than members' public signing keys.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any

Meta = dict[str, Any]


class StoreUnavailable(Exception):
    """The store cannot be reached; the request may succeed later."""


@dataclass(frozen=True, slots=True)
class Admission:
    """What ``sync_room`` decided: admitted with a colour and the room's state, or full."""

    admitted: bool
    color: str = ""
    members: dict[str, Meta] | None = None
    seq: int = 0


class ResumeOutcome:
    """How a resume attempt ended (``Resumption.outcome``)."""

    RESUMED = "resumed"  # same member, nothing seen by others
    UNKNOWN = "unknown"  # no such token here, or another key: the member is untouched
    STALE = "stale"  # valid token but the replay buffer cannot cover the gap: membership ended


@dataclass(frozen=True, slots=True)
class Resumption:
    """What ``resume`` decided, with everything the resumed welcome needs."""

    outcome: str
    member_id: str = ""
    generation: int = 0
    color: str = ""
    members: dict[str, Meta] | None = None
    seq: int = 0
    held_directs: list[str] = field(default_factory=list)
    replay: list[str] = field(default_factory=list)
    ended_meta: Meta | None = None


@dataclass(frozen=True, slots=True)
class Reaped:
    """A member removed because its server process stopped sending heartbeats."""

    room_id: str
    member_id: str
    meta: Meta


@dataclass(frozen=True, slots=True)
class RestoredMember:
    """A live local member to put back into a store that lost its state."""

    member_id: str
    meta: Meta
    generation: int
    token_hash: str
    seq_floor: int


class RoomStore(abc.ABC):
    """Shared room state: membership, sequence numbers, replay buffer, liveness."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings = settings

    @abc.abstractmethod
    async def sync_room(
        self,
        room_id: str,
        member_id: str,
        key: str,
        joined_at: int,
        process_id: str,
        token_hash: str,
    ) -> Admission:
        """Create the room or admit the member to it, picking a free colour, atomically.

        Refuses (``admitted=False``) when the room holds ``ROOM_CAPACITY`` members.
        The membership starts at generation 1, resumable with the token hashed
        to ``token_hash``.
        """

    @abc.abstractmethod
    async def leave(
        self, room_id: str, member_id: str, generation: int | None = None
    ) -> Meta | None:
        """Remove a member (only if still at ``generation``, when given); return its meta."""

    @abc.abstractmethod
    async def resume(
        self, room_id: str, token_hash: str, key: str, last_seq: int, process_id: str
    ) -> Resumption:
        """Resume a membership by token, atomically (docs/protocol.md section 4.1).

        On success the member moves to ``process_id`` at the next generation, and the
        result carries its held directs (now cleared) and the buffered messages after
        ``last_seq``. A valid token whose gap the buffer cannot cover ends the membership.
        """

    @abc.abstractmethod
    async def hold_direct(self, room_id: str, member_id: str, text: str) -> None:
        """Keep a direct frame for a dropped member (at most ``HELD_DIRECT_MAX``)."""

    @abc.abstractmethod
    async def stamp(self, room_id: str, prefix: str, suffix: str) -> int:
        """Take the room's next seq and buffer the frame ``prefix + seq + suffix``."""

    @abc.abstractmethod
    async def replay(self, room_id: str, after_seq: int, upto_seq: int) -> list[str] | None:
        """Return the buffered frames with seq in (after_seq, upto_seq], or None if any is gone."""

    @abc.abstractmethod
    async def members(self, room_id: str) -> dict[str, Meta]:
        """Return the room's presence state."""

    async def heartbeat(self, process_id: str) -> bool:
        """Say that ``process_id`` is alive; return False if the store had lost track of it."""
        return True

    async def restore(self, room_id: str, member: RestoredMember, process_id: str) -> None:  # noqa: B027
        """Put a live member back after the store lost its state (shared stores only)."""

    async def reap(self) -> list[Reaped]:
        """Remove the members of processes that stopped sending heartbeats."""
        return []

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
