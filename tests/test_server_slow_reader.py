"""A member that stops reading is cut before the server buffers without bound."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import pytest

from tests.support.servers import DaphneProcess, start_daphne
from tests.support.wsclient import RawClient, random_room_id

QUEUE_LIMIT = 256 * 1024


def start_with_send_queue(queue_bytes: int, **extra: str) -> DaphneProcess:
    """Start an embedded server with this send-queue bound and generous rate limits."""
    limits = {"SOTTO_BROADCAST_RATE": "10000", "SOTTO_BROADCAST_BURST": "10000"}
    return start_daphne({"SOTTO_SEND_QUEUE_BYTES": str(queue_bytes), **limits, **extra})


@pytest.fixture(scope="module")
def small_queue_server() -> Iterator[DaphneProcess]:
    """An embedded server with a 256 KiB send queue and a one-second resume grace."""
    server = start_with_send_queue(QUEUE_LIMIT, SOTTO_RESUME_GRACE="1")
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


@pytest.fixture(scope="module")
def large_queue_server() -> Iterator[DaphneProcess]:
    """An embedded server that lets a member fall 64 MiB behind before it is cut."""
    server = start_with_send_queue(64 * 1024 * 1024)
    yield server
    server.stop()


async def test_a_reader_that_pauses_below_the_limit_gets_everything_in_order(
    large_queue_server: DaphneProcess,
) -> None:
    """Frames its socket could not take wait for writability, then all arrive, in order.

    The pause fills the member's socket buffers (a few MiB on loopback), so the relay's sends
    to it are partial and the rest must wait for the reactor to report the socket
    writable (rooms/turn_flush.py hands such sockets back to it).
    """
    room_id = random_room_id()
    sender = await RawClient.connect(large_queue_server.ws_url(room_id), max_queue=None)
    await sender.join()
    paused = await RawClient.connect(large_queue_server.ws_url(room_id), max_queue=None)
    await paused.join()
    await sender.recv_type("presence")
    paused.ws.transport.pause_reading()
    body = "y" * 48_000
    count = 200  # ~9.6 MB: beyond what the kernel buffers, below the queue limit
    for _ in range(count):
        await sender.send({"type": "broadcast", "body": body})
    for expected in range(1, count + 1):
        assert (await sender.recv_type("message", timeout=20))["seq"] == expected
    await asyncio.sleep(0.5)
    paused.ws.transport.resume_reading()
    for expected in range(1, count + 1):
        message = await paused.recv_type("message", timeout=20)
        assert (message["seq"], len(message["body"])) == (expected, len(body))
    assert "stopped reading; cut" not in large_queue_server.log_text()
    await asyncio.gather(sender.close(), paused.close())
