"""The embedded room store: plain dicts in one process.

Every method runs to completion without awaiting, so on one event loop each call
is atomic and a stamp followed by a local delivery cannot be interleaved.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from presence.colors import pick_color

from .base import Admission, Meta, ResumeOutcome, Resumption, RoomStore


@dataclass(slots=True)
class _Membership:
    token_hash: str
    key: str
    generation: int = 1
    held: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Room:
    members: dict[str, Meta] = field(default_factory=dict)
    memberships: dict[str, _Membership] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    seq: int = 0
    # (seq, monotonic time, frame) of recent broadcasts.
    buffer: deque[tuple[int, float, str]] = field(default_factory=deque)


class MemoryRoomStore(RoomStore):
    """Rooms in a dict; empty rooms are dropped after ``EMPTY_ROOM_TTL`` seconds."""

    def __init__(self, settings: dict[str, Any]) -> None:
        super().__init__(settings)
        self._rooms: dict[str, _Room] = {}
        self._capacity = int(settings["ROOM_CAPACITY"])
        self._replay_max = int(settings["REPLAY_MAX"])
        self._replay_seconds = float(settings["REPLAY_SECONDS"])
        self._empty_ttl = float(settings["EMPTY_ROOM_TTL"])
        self._held_max = int(settings["HELD_DIRECT_MAX"])
        # Rooms that became empty, oldest first, with when: expiry pops from the front.
        self._emptied: dict[str, float] = {}

    def _expire_empty_rooms(self, now: float) -> None:
        while self._emptied:
            room_id, emptied_at = next(iter(self._emptied.items()))
            if now - emptied_at <= self._empty_ttl:
                break
            del self._emptied[room_id]
            del self._rooms[room_id]

    async def sync_room(
        self,
        room_id: str,
        member_id: str,
        key: str,
        joined_at: int,
        process_id: str,
        token_hash: str,
    ) -> Admission:
        """Create the room or admit the member, enforcing capacity."""
        now = time.monotonic()
        self._expire_empty_rooms(now)
        room = self._rooms.setdefault(room_id, _Room())
        if len(room.members) >= self._capacity:
            return Admission(admitted=False)
        color = pick_color(meta["color"] for meta in room.members.values())
        room.members[member_id] = {"color": color, "key": key, "joined_at": joined_at}
        room.memberships[member_id] = _Membership(token_hash=token_hash, key=key)
        room.tokens[token_hash] = member_id
        self._emptied.pop(room_id, None)
        return Admission(admitted=True, color=color, members=dict(room.members), seq=room.seq)

    def _remove(self, room_id: str, room: _Room, member_id: str) -> Meta | None:
        meta = room.members.pop(member_id, None)
        membership = room.memberships.pop(member_id, None)
        if membership is not None:
            room.tokens.pop(membership.token_hash, None)
        if not room.members:
            self._emptied[room_id] = time.monotonic()
        return meta

    async def leave(
        self, room_id: str, member_id: str, generation: int | None = None
    ) -> Meta | None:
        """Remove a member unless a newer connection resumed it."""
        room = self._rooms.get(room_id)
        if room is None:
            return None
        membership = room.memberships.get(member_id)
        if generation is not None and (membership is None or membership.generation != generation):
            return None
        return self._remove(room_id, room, member_id)

    def _buffered(self, room: _Room, after_seq: int, upto_seq: int) -> list[str] | None:
        if upto_seq <= after_seq:
            return []
        cutoff = time.monotonic() - self._replay_seconds
        frames = [f for seq, at, f in room.buffer if after_seq < seq <= upto_seq and at >= cutoff]
        return frames if len(frames) == upto_seq - after_seq else None

    async def resume(
        self, room_id: str, token_hash: str, key: str, last_seq: int, process_id: str
    ) -> Resumption:
        """Resume by token if the buffer still covers everything after ``last_seq``."""
        room = self._rooms.get(room_id)
        member_id = room.tokens.get(token_hash) if room else None
        if room is None or member_id is None or room.memberships[member_id].key != key:
            return Resumption(outcome=ResumeOutcome.UNKNOWN)
        frames = self._buffered(room, last_seq, room.seq) if last_seq <= room.seq else None
        if frames is None:
            meta = self._remove(room_id, room, member_id)
            return Resumption(outcome=ResumeOutcome.STALE, member_id=member_id, ended_meta=meta)
        membership = room.memberships[member_id]
        membership.generation += 1
        held, membership.held = membership.held, []
        return Resumption(
            outcome=ResumeOutcome.RESUMED,
            member_id=member_id,
            generation=membership.generation,
            color=room.members[member_id]["color"],
            members=dict(room.members),
            seq=room.seq,
            held_directs=held,
            replay=frames,
        )

    async def hold_direct(self, room_id: str, member_id: str, text: str) -> None:
        """Keep a direct frame for a dropped member, up to the limit."""
        room = self._rooms.get(room_id)
        membership = room.memberships.get(member_id) if room else None
        if membership is not None and len(membership.held) < self._held_max:
            membership.held.append(text)

    async def stamp(self, room_id: str, prefix: str, suffix: str) -> int:
        """Take the next seq and keep the frame in the replay buffer."""
        room = self._rooms.setdefault(room_id, _Room())
        room.seq += 1
        now = time.monotonic()
        buffer = room.buffer
        buffer.append((room.seq, now, f"{prefix}{room.seq}{suffix}"))
        while len(buffer) > self._replay_max or now - buffer[0][1] > self._replay_seconds:
            buffer.popleft()
        return room.seq

    async def replay(self, room_id: str, after_seq: int, upto_seq: int) -> list[str] | None:
        """Return the frames with seq in (after_seq, upto_seq] if all are still held."""
        room = self._rooms.get(room_id)
        if room is None:
            return [] if upto_seq <= after_seq else None
        return self._buffered(room, after_seq, upto_seq)

    async def members(self, room_id: str) -> dict[str, Meta]:
        """Return a copy of the room's presence state."""
        room = self._rooms.get(room_id)
        return dict(room.members) if room else {}
