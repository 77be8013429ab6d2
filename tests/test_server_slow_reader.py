"""A member that stops reading is cut before the server buffers without bound."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import pytest

from tests.support.servers import DaphneProcess, start_daphne
from tests.support.wsclient import RawClient, random_room_id

QUEUE_LIMIT = 256 * 1024


@pytest.fixture(scope="module")
def small_queue_server() -> Iterator[DaphneProcess]:
    """An embedded server with a 256 KiB send queue and generous rate limits."""
    server = start_daphne(
        {
            "SOTTO_SEND_QUEUE_BYTES": str(QUEUE_LIMIT),
            "SOTTO_BROADCAST_RATE": "10000",
            "SOTTO_BROADCAST_BURST": "10000",
            "SOTTO_RESUME_GRACE": "1",
        }
    )
    yield server
    server.stop()


async def test_stalled_reader_is_cut_and_the_room_goes_on(
    small_queue_server: DaphneProcess,
) -> None:
    """A member that stops reading is dropped (then leaves); the others get every message."""
    room_id = random_room_id()
    sender = await RawClient.connect(small_queue_server.ws_url(room_id), max_queue=None)
    await sender.join()
    listener = await RawClient.connect(small_queue_server.ws_url(room_id), max_queue=None)
    await listener.join()
    stalled = await RawClient.connect(small_queue_server.ws_url(room_id))
    await stalled.join()
    stalled.ws.transport.get_extra_info("socket").setsockopt(
        socket.SOL_SOCKET, socket.SO_RCVBUF, 4096
    )
    stalled.ws.transport.pause_reading()
    await sender.recv_type("presence"), await sender.recv_type("presence")
    await listener.recv_type("presence")
    body = "x" * 48_000
    count = 200  # ~9.6 MB, far beyond socket buffers and the queue limit
    for _ in range(count):
        await sender.send({"type": "broadcast", "body": body})
    for expected in range(1, count + 1):
        assert (await listener.recv_type("message", timeout=20))["seq"] == expected
    leave = await listener.recv_type("presence", timeout=10)
    assert list(leave["leaves"]) == [stalled.member_id]
    log = small_queue_server.log_text()
    assert "stopped reading; cut" in log
    assert "dropped; holding its place" in log
    await asyncio.gather(sender.close(), listener.close())
