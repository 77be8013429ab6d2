"""Resume after a blip (docs/protocol.md section 4.1) against real daphne processes.

The servers here run with a 2 s grace period and an 8-message replay buffer so the
edges are reachable quickly. On Redis the member resumes on the other worker.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import pytest

from tests.support.servers import RedisProcess, start_daphne
from tests.support.wsclient import RawClient, random_room_id

GRACE = 2.0
REPLAY_MAX = 8
ENV = {"SOTTO_RESUME_GRACE": str(GRACE), "SOTTO_REPLAY_MAX": str(REPLAY_MAX)}

UrlFor = Callable[[str, int], str]


@pytest.fixture(scope="module")
def resume_embedded() -> Iterator[UrlFor]:
    """One embedded daphne with a short grace period."""
    server = start_daphne(ENV)
    yield lambda room_id, index: server.ws_url(room_id)
    server.stop()


@pytest.fixture(scope="module")
def resume_redis(redis_server: RedisProcess) -> Iterator[UrlFor]:
    """Two daphne workers on Redis with a short grace period."""
    env = {**ENV, "REDIS_URL": redis_server.url}
    servers = [start_daphne(env), start_daphne(env)]
    yield lambda room_id, index: servers[index % 2].ws_url(room_id)
    for server in servers:
        server.stop()


@pytest.fixture(params=["embedded", "redis"])
def url_for(request: pytest.FixtureRequest) -> UrlFor:
    """url_for(room_id, index): where the index-th connection goes (alternating on Redis)."""
    return request.getfixturevalue(f"resume_{request.param}")


async def pair(url_for: UrlFor) -> tuple[str, RawClient, RawClient]:
    """A room with a steady member (index 0) and a member that will drop (index 1)."""
    room_id = random_room_id()
    steady = await RawClient.connect(url_for(room_id, 0))
    await steady.join()
    mover = await RawClient.connect(url_for(room_id, 1))
    await mover.join()
    await steady.recv_type("presence")
    return room_id, steady, mover


def drop(client: RawClient) -> None:
    """Cut a client's TCP connection without a close frame."""
    client.ws.transport.abort()


async def reconnect(url: str, old: RawClient, last_seq: int, token: str | None = None) -> RawClient:
    """Reconnect with the old key and resume token."""
    client = await RawClient.connect(url)
    client.key = old.key
    await client.join(resume=token or old.welcome["resume"], last_seq=last_seq)
    return client


async def test_resume_within_grace_keeps_id_and_replays_missed(url_for: UrlFor) -> None:
    """A dropped member resumes: same id, nobody sees leave/join, missed messages once in order."""
    room_id, steady, mover = await pair(url_for)
    await steady.send({"type": "broadcast", "body": "seen"})
    seen = await mover.recv_type("message")
    await steady.recv_type("message")
    mark = len(steady.received)
    drop(mover)
    await asyncio.sleep(0.3)
    for n in range(3):
        await steady.send({"type": "broadcast", "body": f"missed {n}"})
    back = await reconnect(url_for(room_id, 0), mover, seen["seq"])
    assert back.welcome["resumed"] is True
    assert back.welcome["you"] == mover.member_id
    assert back.welcome["color"] == mover.welcome["color"]
    assert back.welcome["resume"] == mover.welcome["resume"]
    replayed = [await back.recv_type("message") for _ in range(3)]
    assert [f["body"] for f in replayed] == ["missed 0", "missed 1", "missed 2"]
    assert [f["seq"] for f in replayed] == [2, 3, 4]
    await steady.send({"type": "broadcast", "body": "live"})
    assert (await back.recv_type("message"))["seq"] == 5
    assert await back.quiet(0.2) == []
    assert [f for f in steady.received[mark:] if f["type"] == "presence"] == []
    await asyncio.sleep(GRACE + 0.5)
    assert [f for f in await steady.quiet(0.2) if f["type"] == "presence"] == []
    await asyncio.gather(steady.close(), back.close())


async def test_directs_to_a_dropped_member_are_held_and_come_first(url_for: UrlFor) -> None:
    """Directs sent during the drop arrive after the resumed welcome, before replayed messages."""
    room_id, steady, mover = await pair(url_for)
    drop(mover)
    await asyncio.sleep(0.3)
    await steady.send({"type": "direct", "to": mover.member_id, "body": "sender key"})
    await steady.send({"type": "broadcast", "body": "after key"})
    await steady.recv_type("message")
    back = await reconnect(url_for(room_id, 0), mover, 0)
    assert back.welcome["resumed"] is True
    frames = [await back.recv() for _ in range(2)]
    assert [f["type"] for f in frames] == ["direct", "message"]
    assert frames[0]["body"] == "sender key" and frames[0]["from"] == steady.member_id
    await asyncio.gather(steady.close(), back.close())


async def test_grace_period_end_announces_the_leave(url_for: UrlFor) -> None:
    """A dropped member that does not come back is announced as left when its grace ends."""
    _, steady, mover = await pair(url_for)
    drop(mover)
    diff = await steady.recv_type("presence", timeout=GRACE + 5)
    assert list(diff["leaves"]) == [mover.member_id]
    await steady.close()


async def test_resume_after_buffer_moved_on_is_fresh_with_leave_then_join(url_for: UrlFor) -> None:
    """Too far behind: a fresh welcome (new id, resumed false); others see leave then join."""
    room_id, steady, mover = await pair(url_for)
    drop(mover)
    await asyncio.sleep(0.3)
    for n in range(REPLAY_MAX + 2):
        await steady.send({"type": "broadcast", "body": str(n)})
        await steady.recv_type("message")
    back = await reconnect(url_for(room_id, 1), mover, 0)
    assert back.welcome["resumed"] is False
    assert back.welcome["you"] != mover.member_id
    leave = await steady.recv_type("presence")
    join = await steady.recv_type("presence")
    assert list(leave["leaves"]) == [mover.member_id] and not leave["joins"]
    assert list(join["joins"]) == [back.member_id]
    await asyncio.gather(steady.close(), back.close())


async def test_token_with_another_key_gets_a_fresh_welcome_and_leaves_member_alone(
    url_for: UrlFor,
) -> None:
    """Someone with the token but not the key gets a new membership; the owner is undisturbed."""
    room_id, steady, mover = await pair(url_for)
    thief = await RawClient.connect(url_for(room_id, 0))
    await thief.join(resume=mover.welcome["resume"], last_seq=0)
    assert thief.welcome["resumed"] is False and thief.member_id != mover.member_id
    await steady.send({"type": "broadcast", "body": "to all"})
    assert (await mover.recv_type("message"))["body"] == "to all"
    assert mover.member_id in thief.welcome["members"]
    await asyncio.gather(steady.close(), mover.close(), thief.close())


async def test_unknown_token_gets_a_fresh_welcome(url_for: UrlFor) -> None:
    """A token the room does not know gives an ordinary fresh welcome."""
    room_id = random_room_id()
    client = await RawClient.connect(url_for(room_id, 0))
    await client.join(resume="not-a-real-token", last_seq=0)
    assert client.welcome["resumed"] is False
    await client.close()


async def test_second_connection_with_the_token_replaces_the_first_4009(url_for: UrlFor) -> None:
    """Resuming while the old connection is still open closes the old one with 4009."""
    room_id, steady, mover = await pair(url_for)
    back = await reconnect(url_for(room_id, 0), mover, 0)
    assert back.welcome["resumed"] is True and back.member_id == mover.member_id
    await asyncio.wait_for(mover.ws.wait_closed(), 5)
    assert mover.ws.close_code == 4009
    await steady.send({"type": "broadcast", "body": "x"})
    assert (await back.recv_type("message"))["body"] == "x"
    assert [f for f in await steady.quiet(0.5) if f["type"] == "presence"] == []
    await asyncio.gather(steady.close(), back.close())


async def test_close_frame_is_an_immediate_leave(url_for: UrlFor) -> None:
    """A member that closes with a close frame is gone at once, no grace."""
    _, steady, mover = await pair(url_for)
    await mover.close()
    diff = await steady.recv_type("presence", timeout=1.0)
    assert list(diff["leaves"]) == [mover.member_id]
    await steady.close()
