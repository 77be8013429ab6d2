"""The contract every room store keeps.

A store holds, per room id: the members with their presence meta, the room's
sequence counter and a replay buffer of recent `message` frames (ciphertext only).
Every method that changes several of these does so atomically. Room ids are
already hashes of room names; a store never sees a name, a body in clear, or a key
other than members' public signing keys.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class Reaped:
    """A member removed because its server process stopped sending heartbeats."""

    room_id: str
    member_id: str
    meta: Meta


class RoomStore(abc.ABC):
    """Shared room state: membership, sequence numbers, replay buffer, liveness."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings = settings

    @abc.abstractmethod
    async def sync_room(
        self, room_id: str, member_id: str, key: str, joined_at: int, process_id: str
    ) -> Admission:
        """Create the room or admit the member to it, picking a free colour, atomically.

        Refuses (``admitted=False``) when the room holds ``ROOM_CAPACITY`` members.
        """

    @abc.abstractmethod
    async def leave(self, room_id: str, member_id: str, process_id: str) -> Meta | None:
        """Remove a member; return its meta, or None if it was not there."""

    @abc.abstractmethod
    async def stamp(self, room_id: str, prefix: str, suffix: str) -> int:
        """Take the room's next seq and buffer the frame ``prefix + seq + suffix``."""

    @abc.abstractmethod
    async def replay(self, room_id: str, after_seq: int, upto_seq: int) -> list[str] | None:
        """Return the buffered frames with seq in (after_seq, upto_seq], or None if any is gone."""

    @abc.abstractmethod
    async def members(self, room_id: str) -> dict[str, Meta]:
        """Return the room's presence state."""

    @abc.abstractmethod
    async def room_seq(self, room_id: str) -> int:
        """Return the room's last seq (0 before any broadcast)."""

    async def heartbeat(self, process_id: str) -> None:  # noqa: B027 - optional hook
        """Say that ``process_id`` is alive (only meaningful across processes)."""

    async def reap(self) -> list[Reaped]:
        """Remove the members of processes that stopped sending heartbeats."""
        return []

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""

    async def ping(self) -> bool:
        """Say whether the store answers."""
        return True
