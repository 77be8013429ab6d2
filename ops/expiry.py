"""Expiry of old records: rooms idle for days, traffic minutes past their use.

A room's record is "idle" when nothing happened in it (no join, leave or message)
for ``idle_days``; it is deleted even if its stored member count is not zero,
because a worker that died cannot lower that count. If people are in fact still
there, the next statistics flush creates the record again with fresh counters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from .models import TrafficMinute

TRAFFIC_RETENTION = timedelta(hours=48)


def idle_record_days() -> int:
    """Return the configured idle age, in days, after which a room record expires."""
    return int(settings.SOTTO.get("IDLE_RECORD_DAYS", 30))


def idle_cutoff(now: datetime | None = None, days: int | None = None) -> datetime:
    """Return the moment before which a room's last activity makes its record expire."""
    return (now or timezone.now()) - timedelta(days=idle_record_days() if days is None else days)


@dataclass(frozen=True, slots=True)
class Expired:
    """How many records one pass deleted."""

    rooms: int
    traffic_minutes: int


def expire_idle_records(now: datetime | None = None, days: int | None = None) -> Expired:
    """Delete room records idle since before the cutoff and traffic rows past retention."""
    from rooms.models import Room

    now = now or timezone.now()
    rooms, _ = Room.objects.filter(last_active__lt=idle_cutoff(now, days)).delete()
    minutes, _ = TrafficMinute.objects.filter(minute__lt=now - TRAFFIC_RETENTION).delete()
    return Expired(rooms=rooms, traffic_minutes=minutes)
