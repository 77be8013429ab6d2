"""Reliability with real clients and real workers: away during a rotation, a killed
worker, a flooding member. Runs on the embedded default and on two Redis workers."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Iterator

import pytest
import websockets

from sotto.events import Joined, KeysRotated, MemberLeft
from tests.hostile.relay import Hold, HostileRelay
from tests.support.servers import DaphneProcess, RedisProcess, scaled, start_daphne
from tests.support.wsclient import RawClient, random_room_id
from tests.test_hostile_relay import Room, any_relay  # noqa: F401 (a fixture)


async def test_member_away_during_rotation_gets_held_keys_after_resume(
    any_relay: HostileRelay,  # noqa: F811 (the imported fixture)
) -> None:
    """C is away while B leaves and A rotates; after resuming, C reads A's next message."""
    relay = any_relay
    room = Room(relay)
    try:
        a, b, c = await room.verified(3)
        await a.say("all three")
        await c.read("all three")
        resume_join = Hold(lambda link, frame: frame.get("type") == "join" and "resume" in frame)
        relay.up_rules.append(resume_join)
        relay.link_of(c.id).cut()
        await asyncio.sleep(scaled(0.5))
        await b.close()
        await a.wait(lambda e: isinstance(e, KeysRotated), timeout=5)
        await a.say("after the rotation")
        assert resume_join.caught, "c should be trying to resume"
        resume_join.when = lambda link, frame: False
        for link, frame in resume_join.caught:
            await link.forward(frame)  # held upstream: now on to the server
        await c.wait(lambda e: isinstance(e, Joined) and e.resumed, timeout=10)
        await c.read("after the rotation", timeout=10)
        await a.say("and later")
        await c.read("and later")
        assert not a.of(MemberLeft) or all(e.member_id == b.id for e in a.of(MemberLeft))
    finally:
        await room.close()


@pytest.fixture(scope="module")
def fast_reaping_workers(redis_server: RedisProcess) -> Iterator[list[DaphneProcess]]:
    """Two workers on Redis that reap a silent worker's members after about 2 s."""
    env = {
        "REDIS_URL": redis_server.url,
        "SOTTO_PRESENCE_HEARTBEAT": "0.5",
        "SOTTO_PRESENCE_TTL": "2",
    }
    workers = [start_daphne(env), start_daphne(env)]
    yield workers
    for worker in workers:
        worker.stop()


async def test_sigkilled_worker_member_resumes_on_the_other_worker(
    fast_reaping_workers: list[DaphneProcess],
) -> None:
    """SIGKILL the member's worker: it resumes on the other one, misses nothing, never leaves."""
    survivor_worker, doomed_worker = fast_reaping_workers
    room_id = random_room_id()
    steady = await RawClient.connect(survivor_worker.ws_url(room_id))
    await steady.join()
    mover = await RawClient.connect(doomed_worker.ws_url(room_id))
    await mover.join()
    await steady.recv_type("presence")
    await steady.send({"type": "broadcast", "body": "seen"})
    seen = await mover.recv_type("message")
    mark = len(steady.received)
    doomed_worker.kill()
    for n in range(3):
        await steady.send({"type": "broadcast", "body": f"missed {n}"})
    back = await RawClient.connect(survivor_worker.ws_url(room_id))
    back.key = mover.key
    await back.join(resume=mover.welcome["resume"], last_seq=seen["seq"])
    assert back.welcome["resumed"] is True and back.member_id == mover.member_id
    replayed = [await back.recv_type("message") for _ in range(3)]
    assert [f["body"] for f in replayed] == ["missed 0", "missed 1", "missed 2"]
    await asyncio.sleep(scaled(4))  # the dead worker is reaped meanwhile
    await steady.send({"type": "broadcast", "body": "later"})
    assert (await back.recv_type("message"))["body"] == "later"
    assert [f for f in steady.received[mark:] if f["type"] == "presence"] == []
    await asyncio.gather(steady.close(), back.close())


@pytest.fixture(scope="module")
def flood_servers(redis_server: RedisProcess) -> Iterator[dict[str, list[DaphneProcess]]]:
    """Embedded and two Redis workers that close a flooder after 1.5 s of excess."""
    limits = {"SOTTO_RATE_CLOSE_AFTER": "1.5"}
    redis_env = {**limits, "REDIS_URL": redis_server.url}
    servers = {
        "embedded": [start_daphne(limits)],
        "redis": [start_daphne(redis_env), start_daphne(redis_env)],
    }
    yield servers
    for group in servers.values():
        for server in group:
            server.stop()


@pytest.mark.parametrize("backend", ["embedded", "redis"])
async def test_flooder_is_limited_then_closed_while_the_room_chats_on(
    flood_servers: dict[str, list[DaphneProcess]], backend: str
) -> None:
    """A flooding member gets rate_limited, then close 4029; the others keep chatting."""
    servers = flood_servers[backend]
    room_id = random_room_id()
    flooder = await RawClient.connect(servers[0].ws_url(room_id), max_queue=None)
    await flooder.join()
    talkers = []
    for index in range(2):
        talker = await RawClient.connect(servers[(index + 1) % len(servers)].ws_url(room_id))
        await talker.join()
        talkers.append(talker)
    started = time.monotonic()
    sent = 0
    while time.monotonic() - started < scaled(4) and flooder.ws.close_code is None:
        try:
            await flooder.send({"type": "broadcast", "body": os.urandom(8).hex()})
        except Exception:
            break
        sent += 1
        if sent % 20 == 0:
            await talkers[0].send({"type": "broadcast", "body": f"talk {sent}"})
            await asyncio.sleep(0.01)
    await asyncio.wait_for(flooder.ws.wait_closed(), scaled(5))
    assert flooder.ws.close_code == 4029
    codes = set()
    with contextlib.suppress(websockets.ConnectionClosed):
        while True:
            codes.add((await flooder.recv(0.5)).get("code"))
    assert "rate_limited" in codes
    await talkers[0].send({"type": "broadcast", "body": "after the flood"})
    for talker in talkers:
        while (await talker.recv_type("message"))["body"] != "after the flood":
            pass
    await asyncio.gather(*(t.close() for t in talkers))
