"""This process's view of one room: its local members and in-order delivery.

Messages reach a process from two sides: its own members' broadcasts, stamped here,
and other processes' broadcasts over the channel layer. Both pass through
``LocalRoom.accept_message``, which delivers them to the local members strictly in
seq order: a message that arrives early waits until the ones before it came, or
until the hub gives up waiting and refills or skips the gap.

A member is "pending" from the moment it starts joining until its `welcome` has
been sent; frames for it are queued meanwhile, so nothing published while it was
being admitted is lost.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from presence.sync import Meta, State, sync_diff

logger = logging.getLogger(__name__)


class Member(Protocol):
    """What the room needs of a connected member (the consumer implements it)."""

    member_id: str
    min_seq: int

    async def write(self, text: str) -> bool:
        """Write one frame; return False if the connection is gone."""
        ...


class Replaceable(Member, Protocol):
    """A member connection that a resumed connection can replace."""

    generation: int
    resume_token: str

    async def replaced(self) -> None:
        """Close this connection as replaced (4009), without ending the membership."""
        ...


class LocalRoom:
    """The members of one room on this process, and the delivery order of its messages."""

    def __init__(self, room_id: str) -> None:
        self.room_id = room_id
        self.members: dict[str, Any] = {}
        self.pending: dict[str, list[tuple[int, str]]] = {}
        self.presence: State = {}
        self.dropped: set[str] = set()
        self.next_seq: int | None = None
        self.early: dict[int, str] = {}
        self.gap_timer: Any = None

    def __len__(self) -> int:
        return len(self.members) + len(self.pending)

    def add_pending(self, member_id: str) -> None:
        """Start queueing frames for a member that is being admitted."""
        self.pending[member_id] = []

    def start_at(self, seq: int) -> None:
        """Set where delivery starts, once the first member's admission tells the room seq."""
        if self.next_seq is None:
            self.next_seq = seq + 1
            self.early = {s: f for s, f in self.early.items() if s > seq}

    async def admit(self, member: Member, members: State) -> None:
        """Make a pending member live and write what was queued for it."""
        self.presence = sync_diff(self.presence, members, {})
        queued = self.pending.pop(member.member_id, [])
        self.members[member.member_id] = member
        for seq, text in queued:
            if seq == 0 or seq > member.min_seq:
                await member.write(text)

    def rename_pending(self, old_id: str, new_id: str) -> None:
        """Re-key a pending place once a resume has told whose it is."""
        self.pending[new_id] = self.pending.pop(old_id, [])

    def remove(self, member_id: str) -> None:
        """Forget a local member (admitted or pending)."""
        self.members.pop(member_id, None)
        self.pending.pop(member_id, None)

    async def accept_message(self, seq: int, text: str) -> None:
        """Take one stamped message and deliver every message now in order."""
        if self.next_seq is None:
            self.early[seq] = text
            return
        if seq < self.next_seq:
            return
        self.early[seq] = text
        await self.drain()

    async def drain(self) -> None:
        """Deliver every held message that is next in order."""
        if self.next_seq is None:
            return
        while self.next_seq in self.early:
            seq = self.next_seq
            self.next_seq += 1
            await self._deliver(seq, self.early.pop(seq))

    def missing(self) -> tuple[int, int] | None:
        """Return the (first, last) seq missing before early messages, if any."""
        if self.next_seq is None or not self.early:
            return None
        return self.next_seq, min(self.early) - 1

    def skip_to(self, seq: int) -> None:
        """Give up on everything before ``seq`` (lost for good; clients see the gap)."""
        if self.next_seq is not None and seq > self.next_seq:
            logger.warning(
                "room %s: skipping lost seqs %d..%d", self.room_id, self.next_seq, seq - 1
            )
            self.next_seq = seq

    async def _deliver(self, seq: int, text: str) -> None:
        for member in list(self.members.values()):
            if seq > member.min_seq:
                await member.write(text)
        for queue in self.pending.values():
            queue.append((seq, text))

    async def deliver_presence(self, text: str, joins: State, leaves: dict[str, Meta]) -> None:
        """Update the room's presence mirror and write a presence diff to every member."""
        self.presence = sync_diff(self.presence, joins, leaves)
        self.dropped.difference_update(leaves)
        for member_id, member in list(self.members.items()):
            if member_id not in joins:
                await member.write(text)
        for queue in self.pending.values():
            queue.append((0, text))

    async def deliver_direct(self, to: str, text: str) -> bool:
        """Write a direct frame to a local member; return False if it is not here."""
        member = self.members.get(to)
        if member is not None:
            await member.write(text)
            return True
        queue = self.pending.get(to)
        if queue is not None:
            queue.append((0, text))
            return True
        return False
