"""Pure unit tests of the relay's parts: frame parsing, limits, colours, presence, ordering."""

from __future__ import annotations

import json

import pytest

from presence.colors import PALETTE, contrast_ratio, pick_color
from presence.sync import sync_diff, sync_state
from rooms.frames import Broadcast, Direct, FrameError, Join, Ping, parse_client_frame
from rooms.local import LocalRoom
from rooms.ratelimit import ExcessTracker, TokenBucket

KEY = "A" * 43


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"type":"join","v":1,"key":"' + KEY + '"}', Join(key=KEY)),
        (
            '{"type":"join","v":1,"key":"' + KEY + '","resume":"tok","last_seq":3}',
            Join(key=KEY, resume="tok", last_seq=3),
        ),
        ('{"type":"ping"}', Ping()),
        ('{"type":"direct","to":"x","body":"b"}', Direct(to="x", body="b")),
        ('{"type":"broadcast","body":"b","extra":1}', Broadcast(body="b")),
    ],
)
def test_parse_valid_frames(text: str, expected: object) -> None:
    """Well-formed frames parse into their typed form; unknown fields are ignored."""
    assert parse_client_frame(text) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("not json", "bad_frame"),
        ("[1,2]", "bad_frame"),
        ('"join"', "bad_frame"),
        ("{}", "bad_frame"),
        ('{"type":7}', "bad_frame"),
        ('{"type":"teleport"}', "unknown_type"),
        ('{"type":"join","key":"' + KEY + '"}', "bad_frame"),
        ('{"type":"join","v":2,"key":"' + KEY + '"}', "bad_frame"),
        ('{"type":"join","v":true,"key":"' + KEY + '"}', "bad_frame"),
        ('{"type":"join","v":1,"key":"' + "A" * 42 + '"}', "bad_frame"),
        ('{"type":"join","v":1,"key":"' + "A" * 42 + '="}', "bad_frame"),
        ('{"type":"join","v":1,"key":"' + "A" * 42 + '+"}', "bad_frame"),
        ('{"type":"join","v":1,"key":"' + "A" * 42 + 'B"}', "bad_frame"),
        ('{"type":"join","v":1,"key":"' + KEY + '","resume":"t"}', "bad_frame"),
        ('{"type":"join","v":1,"key":"' + KEY + '","resume":"t","last_seq":-1}', "bad_frame"),
        ('{"type":"direct","body":"b"}', "bad_frame"),
        ('{"type":"direct","to":5,"body":"b"}', "bad_frame"),
        ('{"type":"broadcast","body":{"x":1}}', "bad_frame"),
        ("[" * 100000 + "]" * 100000, "bad_frame"),
        ('{"type":"broadcast","body":"x\\ud800y"}', "bad_frame"),
        ('{"type":"direct","to":"a","body":"\\udfff"}', "bad_frame"),
        ('{"type":"join","v":1,"key":"' + KEY + '","resume":"\\ud800","last_seq":0}', "bad_frame"),
    ],
)
def test_parse_refuses_bad_frames(text: str, code: str) -> None:
    """Each kind of malformed frame is refused with its stable error code."""
    with pytest.raises(FrameError) as caught:
        parse_client_frame(text)
    assert caught.value.code == code


def test_token_bucket_allows_burst_then_rate() -> None:
    """A bucket gives its burst at once, then refills at its rate."""
    bucket = TokenBucket(rate=10, burst=3)
    assert [bucket.allow(0.0) for _ in range(4)] == [True, True, True, False]
    assert bucket.allow(0.1) is True
    assert bucket.allow(0.1) is False


def test_excess_tracker_closes_only_after_continued_excess() -> None:
    """Refusals that keep coming for the close period close; a pause resets the clock."""
    tracker = ExcessTracker(close_after=10.0)
    assert not any(tracker.record_refusal(t * 0.5) for t in range(19))
    assert tracker.record_refusal(10.0) is True
    tracker = ExcessTracker(close_after=10.0)
    assert not tracker.record_refusal(0.0)
    assert not tracker.record_refusal(9.0)  # a pause of more than a second restarts
    assert not tracker.record_refusal(18.5)


def test_palette_is_distinct_and_readable_on_light_and_dark() -> None:
    """Every colour differs and reads at 4:1 or better on white and on near-black."""
    assert len(set(PALETTE)) == len(PALETTE) >= 64
    for colour in PALETTE:
        assert contrast_ratio(colour, "#ffffff") >= 4.0
        assert contrast_ratio(colour, "#121212") >= 4.0


def test_pick_color_avoids_colours_in_use() -> None:
    """A new member gets the first colour nobody in the room has."""
    assert pick_color([]) == PALETTE[0]
    assert pick_color([PALETTE[0], PALETTE[2]]) == PALETTE[1]


def test_presence_state_plus_diffs_equals_fresh_state() -> None:
    """Applying each sync_state diff to the old state always yields the new state."""
    states = [
        {},
        {"a": {"color": "#1"}},
        {"a": {"color": "#1"}, "b": {"color": "#2"}},
        {"b": {"color": "#2"}, "c": {"color": "#3"}},
        {"b": {"color": "#9"}},
        {},
    ]
    view: dict[str, dict[str, str]] = {}
    for fresh in states:
        _, joins, leaves = sync_state(view, fresh)
        view = sync_diff(view, joins, leaves)
        assert view == fresh


class _Recorder:
    def __init__(self, member_id: str, min_seq: int = 0) -> None:
        self.member_id = member_id
        self.min_seq = min_seq
        self.frames: list[str] = []

    async def write(self, text: str) -> bool:
        self.frames.append(text)
        return True


async def test_local_room_delivers_in_seq_order() -> None:
    """Messages arriving out of order are written in seq order, duplicates dropped."""
    room = LocalRoom("r" * 22)
    member = _Recorder("m")
    room.add_pending("m")
    room.start_at(0)
    await room.admit(member, {})
    for seq in (2, 1, 3, 3, 5):
        await room.accept_message(seq, f"m{seq}")
    assert member.frames == ["m1", "m2", "m3"]
    assert room.missing() == (4, 4)
    room.skip_to(5)
    await room.drain()
    assert member.frames == ["m1", "m2", "m3", "m5"]


async def test_pending_member_gets_what_was_published_while_joining() -> None:
    """Frames published between admission and welcome reach the new member after it."""
    room = LocalRoom("r" * 22)
    first = _Recorder("a")
    room.add_pending("a")
    room.start_at(0)
    await room.admit(first, {})
    room.add_pending("b")
    await room.accept_message(1, "before-b")
    presence = json.dumps({"type": "presence"})
    await room.deliver_presence(presence, {"c": {}}, {})
    late = _Recorder("b", min_seq=0)
    await room.admit(late, {})
    assert late.frames == ["before-b", presence]
    assert first.frames == ["before-b", presence]


async def test_memory_store_expires_rooms_empty_for_longer_than_the_ttl() -> None:
    """An emptied room is dropped after EMPTY_ROOM_TTL; a room in use is kept."""
    import asyncio

    from django.conf import settings

    from rooms.store.memory import MemoryRoomStore

    store = MemoryRoomStore({**settings.SOTTO, "EMPTY_ROOM_TTL": 0.05})
    emptied, busy = "e" * 22, "b" * 22
    await store.sync_room(emptied, "a" * 22, KEY, 0, "proc", "token-a")
    await store.stamp(emptied, "x", "y")
    await store.leave(emptied, "a" * 22)
    await store.sync_room(busy, "b" * 22, KEY, 0, "proc", "token-b")
    assert await store.replay(emptied, 0, 1) is not None  # still held within the TTL
    await asyncio.sleep(0.1)
    await store.sync_room(busy, "c" * 22, KEY, 0, "proc", "token-c")
    assert await store.replay(emptied, 0, 1) is None
    assert len(await store.members(busy)) == 2
