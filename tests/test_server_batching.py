"""Batched store calls: the Batcher on its own, and Redis stamps sharing script calls."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis
from django.conf import settings

from rooms.store.base import StoreUnavailable
from rooms.store.batching import Batcher


class _Recorder:
    """A batch function that records each call and answers after ``delay`` seconds."""

    def __init__(self, delay: float = 0.0, fail: bool = False) -> None:
        self.calls: list[list[int]] = []
        self.delay = delay
        self.fail = fail

    async def __call__(self, requests: list[int]) -> list[int]:
        self.calls.append(list(requests))
        await asyncio.sleep(self.delay)
        if self.fail:
            raise StoreUnavailable("ConnectionError")
        return [request * 10 for request in requests]


async def test_requests_of_one_turn_share_one_call_and_keep_their_order() -> None:
    run = _Recorder()
    batcher: Batcher[int, int] = Batcher(run)
    results = await asyncio.gather(*(batcher.submit(n) for n in range(5)))
    assert results == [0, 10, 20, 30, 40]
    assert run.calls == [[0, 1, 2, 3, 4]]


async def test_requests_made_during_a_call_leave_together_in_the_next() -> None:
    run = _Recorder(delay=0.05)
    batcher: Batcher[int, int] = Batcher(run)
    first = asyncio.ensure_future(batcher.submit(1))
    await asyncio.sleep(0.01)  # the first call is in flight now
    later = [asyncio.ensure_future(batcher.submit(n)) for n in (2, 3, 4)]
    assert await asyncio.gather(first, *later) == [10, 20, 30, 40]
    assert run.calls == [[1], [2, 3, 4]]


async def test_batches_are_cut_at_the_limit() -> None:
    run = _Recorder()
    batcher: Batcher[int, int] = Batcher(run, limit=2)
    assert await asyncio.gather(*(batcher.submit(n) for n in range(5))) == [0, 10, 20, 30, 40]
    assert run.calls == [[0, 1], [2, 3], [4]]


async def test_a_failed_call_fails_each_request_of_its_batch_and_no_other() -> None:
    run = _Recorder(fail=True)
    batcher: Batcher[int, int] = Batcher(run)
    outcomes = await asyncio.gather(*(batcher.submit(n) for n in range(3)), return_exceptions=True)
    assert all(isinstance(outcome, StoreUnavailable) for outcome in outcomes)
    assert len({id(outcome) for outcome in outcomes}) == 3  # one exception each
    run.fail = False
    assert await batcher.submit(7) == 70


async def test_a_cancelled_request_does_not_disturb_the_rest_of_its_batch() -> None:
    run = _Recorder(delay=0.02)
    batcher: Batcher[int, int] = Batcher(run)
    kept = asyncio.ensure_future(batcher.submit(1))
    dropped = asyncio.ensure_future(batcher.submit(2))
    await asyncio.sleep(0)
    dropped.cancel()
    assert await kept == 10
    assert dropped.cancelled()


async def test_a_wrong_number_of_results_is_an_error_not_a_mix_up() -> None:
    async def short(requests: list[int]) -> list[int]:
        return requests[:-1]

    batcher: Batcher[int, int] = Batcher(short)
    outcomes = await asyncio.gather(batcher.submit(1), batcher.submit(2), return_exceptions=True)
    assert all(isinstance(outcome, RuntimeError) for outcome in outcomes)


async def _evalsha_calls(client: aioredis.Redis) -> int:
    stats = await client.info("commandstats")
    return int(stats.get("cmdstat_evalsha", {}).get("calls", 0))


@pytest.mark.redis
async def test_concurrent_redis_stamps_share_script_calls_and_number_each_room_densely(
    redis_server: object,
) -> None:
    """Many broadcasts at once: seqs 1..n per room, frames buffered, far fewer script calls."""
    from rooms.store.redis import RedisRoomStore

    url = redis_server.url  # type: ignore[attr-defined]
    store = RedisRoomStore({**settings.SOTTO, "REDIS_URL": url})
    probe = aioredis.Redis.from_url(url, decode_responses=True)
    rooms = [f"batch{n}".ljust(22, "x") for n in range(3)]
    try:
        await probe.delete(*(f"sotto:{{{room}}}:{key}" for room in rooms for key in ("seq", "buf")))
        await store.stamp(rooms[0], "warm", "up")  # loads the script
        before = await _evalsha_calls(probe)
        requests = [(rooms[n % 3], f"<{n}:") for n in range(300)]
        seqs = await asyncio.gather(*(store.stamp(room, prefix, ">") for room, prefix in requests))
        calls = await _evalsha_calls(probe) - before
        assert 1 <= calls <= 30, calls
        for index, room in enumerate(rooms):
            mine = [seq for (r, _), seq in zip(requests, seqs, strict=True) if r == room]
            first = 2 if index == 0 else 1  # the warm-up took seq 1 of the first room
            assert sorted(mine) == list(range(first, first + 100))
            frames = await store.replay(room, first - 1, first + 99)
            assert frames is not None and len(frames) == 100
            sent = {
                f"{prefix}{seq}>"
                for (r, prefix), seq in zip(requests, seqs, strict=True)
                if r == room
            }
            assert set(frames) == sent
    finally:
        await store.close()
        await probe.aclose()
