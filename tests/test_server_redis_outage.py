"""Redis unavailable at start or restarted mid-chat: no worker exits, service comes back."""

from __future__ import annotations

import asyncio
import time

from tests.support.servers import free_port, scaled, start_daphne, start_redis
from tests.support.wsclient import RawClient, random_room_id


async def broadcast_until_echoed(client: RawClient, body: str, within: float) -> dict:
    """Send a broadcast until its echo comes back (`unavailable` errors allowed meanwhile)."""
    deadline = time.monotonic() + scaled(within)
    while time.monotonic() < deadline:
        await client.send({"type": "broadcast", "body": body})
        try:
            while True:
                frame = await client.recv(1.0)
                if frame["type"] == "message" and frame["body"] == body:
                    return frame
                if frame["type"] == "error":
                    assert frame["code"] == "unavailable", frame
                    break
        except TimeoutError:
            pass
        await asyncio.sleep(0.5)
    raise AssertionError(f"no echo within {within} s")


async def test_redis_restart_mid_chat_recovers_within_10_seconds() -> None:
    """After Redis restarts empty: chat back within 10 s, seqs never go back, presence converges."""
    redis = start_redis()
    env = {"REDIS_URL": redis.url}
    workers = [start_daphne(env), start_daphne(env)]
    try:
        room_id = random_room_id()
        a = await RawClient.connect(workers[0].ws_url(room_id))
        await a.join()
        b = await RawClient.connect(workers[1].ws_url(room_id))
        await b.join()
        before = await broadcast_until_echoed(a, "before", 5)
        redis.restart(down_for=1.0)
        returned = time.monotonic()
        after = await broadcast_until_echoed(a, "after", 10)
        assert time.monotonic() - returned <= scaled(10)
        assert after["seq"] > before["seq"]
        deadline = time.monotonic() + scaled(10)
        while True:
            frame = await b.recv_type("message", timeout=10)
            if frame["body"] == "after":
                break
        assert time.monotonic() < deadline
        await asyncio.sleep(scaled(6))  # one heartbeat later every worker has restored
        newcomer = await RawClient.connect(workers[1].ws_url(room_id))
        await newcomer.join()
        assert {a.member_id, b.member_id} <= set(newcomer.welcome["members"])
        assert all(worker.proc.poll() is None for worker in workers)
        await asyncio.gather(a.close(), b.close(), newcomer.close())
    finally:
        for worker in workers:
            worker.stop()
        redis.stop()


async def test_redis_down_at_start_answers_unavailable_then_works() -> None:
    """A worker started before Redis answers `unavailable` to joins, then serves once it is up."""
    port = free_port()
    worker = start_daphne({"REDIS_URL": f"redis://127.0.0.1:{port}/0"})
    try:
        room_id = random_room_id()
        client = await RawClient.connect(worker.ws_url(room_id))
        await client.send({"type": "join", "v": 1, "key": client.key})
        error = await client.recv()
        assert error["type"] == "error" and error["code"] == "unavailable"
        assert worker.proc.poll() is None
        redis = start_redis(port)
        try:
            deadline = time.monotonic() + scaled(10)
            while time.monotonic() < deadline:
                await client.send({"type": "join", "v": 1, "key": client.key})
                frame = await client.recv()
                if frame["type"] == "welcome":
                    break
                await asyncio.sleep(0.5)
            assert frame["type"] == "welcome"
            await client.close()
        finally:
            redis.stop()
    finally:
        worker.stop()
