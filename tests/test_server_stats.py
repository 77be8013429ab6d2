"""Room counters reach the admin's Room records off the hot path, with no content."""

from __future__ import annotations

import pytest

from rooms.hub import Hub
from rooms.models import Room
from rooms.stats import RoomStats
from tests.support.wsclient import random_room_id


@pytest.mark.django_db(transaction=True)
async def test_flush_accumulates_counts_and_member_peaks() -> None:
    """Two flushes add up messages and bytes; peak members never goes down."""
    from django.conf import settings

    hub = Hub(settings.SOTTO)
    stats = RoomStats(hub)
    room_id = random_room_id()
    for member in ("a" * 22, "b" * 22):
        await hub.store.sync_room(room_id, member, "k" * 43, 0, hub.process_id, member)
    stats.count(room_id, 1, 100)
    stats.count(room_id, 1, 50)
    await stats.flush()
    await hub.store.leave(room_id, "a" * 22)
    stats.count(room_id, 0, 30)
    await stats.flush()
    room = await Room.objects.aget(room_id=room_id)
    assert (room.messages, room.bytes_relayed) == (2, 180)
    assert (room.current_members, room.peak_members) == (1, 2)
    assert stats.pending == {}
