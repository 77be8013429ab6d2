"""Server processes as operators run them: runserver, daphne on Redis, a worker killed."""

from __future__ import annotations

import time

from tests.support.servers import RedisProcess, scaled, start_daphne, start_runserver
from tests.support.wsclient import RawClient, random_room_id


async def test_runserver_serves_the_websocket_endpoint() -> None:
    """`manage.py runserver --noreload` (embedded default) serves rooms over WebSocket."""
    server = start_runserver()
    try:
        room_id = random_room_id()
        a = await RawClient.connect(server.ws_url(room_id))
        await a.join()
        await a.send({"type": "broadcast", "body": "via runserver"})
        assert (await a.recv_type("message"))["body"] == "via runserver"
        await a.close()
    finally:
        server.stop()


async def test_sigkilled_worker_members_leave_within_30_seconds(redis_server: RedisProcess) -> None:
    """Members of a daphne worker killed with SIGKILL are announced as left within 30 s."""
    env = {"REDIS_URL": redis_server.url}
    survivor_worker, doomed_worker = start_daphne(env), start_daphne(env)
    try:
        room_id = random_room_id()
        survivor = await RawClient.connect(survivor_worker.ws_url(room_id))
        await survivor.join()
        doomed = await RawClient.connect(doomed_worker.ws_url(room_id))
        await doomed.join()
        await survivor.recv_type("presence")
        killed_at = time.monotonic()
        doomed_worker.kill()
        diff = await survivor.recv_type("presence", timeout=30)
        waited = time.monotonic() - killed_at
        assert list(diff["leaves"]) == [doomed.member_id]
        assert waited <= scaled(30)
        await survivor.send({"type": "broadcast", "body": "still on"})
        assert (await survivor.recv_type("message"))["body"] == "still on"
        await survivor.close()
    finally:
        survivor_worker.stop()
        doomed_worker.stop()
