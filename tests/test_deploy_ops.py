"""The operator's tools: per-minute traffic, admin totals and filter, idle-record expiry."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone

from ops.management.commands.expire_rooms import heartbeat_fresh, write_heartbeat
from ops.models import TrafficMinute
from ops.traffic import messages_within, record_traffic, site_totals
from rooms.models import Room

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 26, 12, 34, 20, tzinfo=UTC)


def make_room(room_id: str, members: int, idle: timedelta, messages: int = 0) -> Room:
    """Create a room record with ``members`` now, last active ``idle`` before now."""
    return Room.objects.create(
        room_id=room_id,
        last_active=timezone.now() - idle,
        current_members=members,
        peak_members=max(members, 1),
        messages=messages,
    )


def test_record_traffic_adds_into_the_row_of_the_minute() -> None:
    """Two flushes in one minute share a row; the next minute gets its own."""
    record_traffic(NOW, 3, 300)
    record_traffic(NOW.replace(second=59), 2, 200)
    record_traffic(NOW + timedelta(minutes=1), 1, 100)
    record_traffic(NOW, 0, 0)
    rows = list(
        TrafficMinute.objects.order_by("minute").values_list("minute", "messages", "bytes_relayed")
    )
    assert rows == [
        (NOW.replace(second=0), 5, 500),
        (NOW.replace(second=0) + timedelta(minutes=1), 1, 100),
    ]


def test_messages_in_the_last_hour_counts_sixty_whole_minutes() -> None:
    """The current minute and the 59 before it count; the 60th minute back does not."""
    record_traffic(NOW, 1, 10)
    record_traffic(NOW - timedelta(minutes=59), 10, 10)
    record_traffic(NOW - timedelta(minutes=60), 100, 10)
    assert messages_within(timedelta(hours=1), NOW) == 11


def test_site_totals_count_occupied_rooms_and_their_members() -> None:
    """Rooms now and members now come from rooms with members; idle rooms add nothing."""
    make_room("a" * 22, 3, timedelta(0))
    make_room("b" * 22, 2, timedelta(minutes=5))
    make_room("c" * 22, 0, timedelta(days=2))
    record_traffic(timezone.now(), 7, 700)
    totals = site_totals()
    assert (totals.rooms_now, totals.members_now, totals.messages_last_hour) == (2, 5, 7)


def test_expiry_deletes_only_records_idle_past_the_cutoff() -> None:
    """Rooms quiet for longer than the idle age go, whatever their stale member count."""
    make_room("fresh-idle-room-000000", 0, timedelta(days=29))
    make_room("old-idle-room-00000000", 0, timedelta(days=31))
    make_room("old-ghost-room-0000000", 2, timedelta(days=31))
    record_traffic(timezone.now() - timedelta(hours=49), 1, 1)
    record_traffic(timezone.now(), 1, 1)
    call_command("expire_rooms", stdout=io.StringIO())
    assert list(Room.objects.values_list("room_id", flat=True)) == ["fresh-idle-room-000000"]
    assert TrafficMinute.objects.count() == 1
    call_command("expire_rooms", "--days", "1", stdout=io.StringIO())
    assert Room.objects.count() == 0


def test_admin_room_list_shows_totals_and_filters_by_activity(admin_client: Client) -> None:
    """The room list carries the totals, and the activity filter narrows it."""
    make_room("active-room-0000000000", 2, timedelta(0), messages=9)
    make_room("quiet-room-00000000000", 0, timedelta(hours=2))
    make_room("stale-room-00000000000", 0, timedelta(days=45))
    record_traffic(timezone.now(), 4, 40)
    page = admin_client.get("/admin/rooms/room/").content.decode()
    assert 'data-total="rooms-now">1<' in page
    assert 'data-total="members-now">2<' in page
    assert 'data-total="messages-last-hour">4<' in page

    def listed(activity: str) -> set[str]:
        html = admin_client.get(f"/admin/rooms/room/?activity={activity}").content.decode()
        return {r for r in ("active", "quiet", "stale") if f"{r}-room-" in html}

    assert listed("active") == {"active"}
    assert listed("idle") == {"quiet", "stale"}
    assert listed("idle-day") == {"stale"}
    assert listed("expiring") == {"stale"}


def test_admin_cannot_add_rooms(admin_client: Client) -> None:
    """Rooms come from use only: the admin's add page is forbidden."""
    assert admin_client.get("/admin/rooms/room/add/").status_code == 403


def test_heartbeat_is_fresh_until_its_due_time(tmp_path: Path) -> None:
    """A heartbeat file is fresh until the time written in it; a missing one is not."""
    path = tmp_path / "beat"
    assert not heartbeat_fresh(path, time.time())
    write_heartbeat(path, 1000.0)
    assert heartbeat_fresh(path, 999.0)
    assert not heartbeat_fresh(path, 1001.0)


def test_check_heartbeat_fails_for_an_overdue_janitor(tmp_path: Path) -> None:
    """The janitor's health check raises once the next pass is overdue."""
    path = tmp_path / "beat"
    write_heartbeat(path, time.time() - 1)
    with pytest.raises(CommandError):
        call_command("expire_rooms", "--check-heartbeat", str(path))
    write_heartbeat(path, time.time() + 60)
    call_command("expire_rooms", "--check-heartbeat", str(path))
