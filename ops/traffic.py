"""Per-minute traffic counters and the totals the admin shows at the top of the room list.

Every server process adds its flushed counts to the row of the current minute with
an F() increment, so any number of workers can write into one row. "Messages in
the last hour" then sums at most 60 rows, however busy the site.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, models, transaction
from django.db.models import Sum
from django.utils import timezone

from .models import TrafficMinute

HOUR = timedelta(hours=1)


def minute_of(moment: datetime) -> datetime:
    """Return the start of the minute that holds ``moment``."""
    return moment.replace(second=0, microsecond=0)


def record_traffic(moment: datetime, messages: int, nbytes: int) -> None:
    """Add ``messages`` broadcasts and ``nbytes`` bytes to the minute of ``moment``."""
    if messages <= 0 and nbytes <= 0:
        return
    minute = minute_of(moment)
    increments = {
        "messages": models.F("messages") + messages,
        "bytes_relayed": models.F("bytes_relayed") + nbytes,
    }
    if TrafficMinute.objects.filter(minute=minute).update(**increments):
        return
    try:
        with transaction.atomic():
            TrafficMinute.objects.create(minute=minute, messages=messages, bytes_relayed=nbytes)
    except IntegrityError:
        # Another process created the row between our update and insert.
        TrafficMinute.objects.filter(minute=minute).update(**increments)


def messages_within(window: timedelta, now: datetime | None = None) -> int:
    """Return the broadcasts relayed in the whole minutes that ``window`` before ``now`` spans."""
    now = now or timezone.now()
    first = minute_of(now - window) + timedelta(minutes=1)
    total = TrafficMinute.objects.filter(minute__gte=first).aggregate(n=Sum("messages"))["n"]
    return int(total or 0)


@dataclass(frozen=True, slots=True)
class SiteTotals:
    """What the admin shows above the room list."""

    rooms_now: int
    members_now: int
    messages_last_hour: int


def site_totals(now: datetime | None = None) -> SiteTotals:
    """Return rooms with members now, members now, and broadcasts in the last hour."""
    from rooms.models import Room

    occupied = Room.objects.filter(current_members__gt=0).aggregate(
        rooms=models.Count("pk"), members=Sum("current_members")
    )
    return SiteTotals(
        rooms_now=int(occupied["rooms"] or 0),
        members_now=int(occupied["members"] or 0),
        messages_last_hour=messages_within(HOUR, now),
    )
