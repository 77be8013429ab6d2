"""Room counters for the admin, aggregated in memory and flushed to the database.

The per-message path only adds to a dict; a background task writes the totals
every ``STATS_FLUSH_SECONDS`` in one transaction, one row per room that changed,
with F() increments so several processes can flush into the same row.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from channels.db import database_sync_to_async
from django.db import DatabaseError, models, transaction
from django.db.models.functions import Greatest
from django.utils import timezone

if TYPE_CHECKING:
    from .hub import Hub

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class _Counts:
    messages: int = 0
    bytes_relayed: int = 0


class RoomStats:
    """Counts messages and bytes per room and flushes them off the hot path."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.pending: dict[str, _Counts] = {}

    def count(self, room_id: str, messages: int, nbytes: int) -> None:
        """Add to a room's counters (cheap: called per frame)."""
        counts = self.pending.get(room_id)
        if counts is None:
            counts = self.pending[room_id] = _Counts()
        counts.messages += messages
        counts.bytes_relayed += nbytes

    def touch(self, room_id: str) -> None:
        """Mark a room for a flush because its membership changed."""
        if room_id not in self.pending:
            self.pending[room_id] = _Counts()

    async def run(self) -> None:
        """Flush forever, every ``STATS_FLUSH_SECONDS``."""
        interval = float(self.hub.settings["STATS_FLUSH_SECONDS"])
        while True:
            await asyncio.sleep(interval)
            await self.flush()

    async def flush(self) -> None:
        """Write the pending counters and current member counts to the database."""
        if not self.pending:
            return
        batch, self.pending = self.pending, {}
        members_now: dict[str, int] = {}
        for room_id in batch:
            try:
                members_now[room_id] = len(await self.hub.store.members(room_id))
            except Exception:  # store down: keep the last known count
                logger.warning("room %s: member count unavailable for stats", room_id)
        try:
            await _write(batch, members_now)
        except DatabaseError as exc:
            logger.warning(
                "stats flush failed (%s); %d rooms dropped", type(exc).__name__, len(batch)
            )


@database_sync_to_async
def _write(batch: dict[str, _Counts], members_now: dict[str, int]) -> None:
    from ops.traffic import record_traffic

    from .models import Room

    now = timezone.now()
    with transaction.atomic():
        Room.objects.bulk_create(
            [Room(room_id=room_id, last_active=now) for room_id in batch], ignore_conflicts=True
        )
        for room_id, counts in batch.items():
            current = members_now.get(room_id)
            update: dict[str, object] = {
                "last_active": now,
                "messages": models.F("messages") + counts.messages,
                "bytes_relayed": models.F("bytes_relayed") + counts.bytes_relayed,
            }
            if current is not None:
                update["current_members"] = current
                update["peak_members"] = Greatest(models.F("peak_members"), current)
            Room.objects.filter(room_id=room_id).update(**update)
        # The site-wide per-minute totals behind the admin's "messages in the last hour".
        record_traffic(
            now,
            sum(counts.messages for counts in batch.values()),
            sum(counts.bytes_relayed for counts in batch.values()),
        )
