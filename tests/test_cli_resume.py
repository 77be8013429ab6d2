"""A `sotto receive` whose connection is cut resumes its membership and misses nothing."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from typing import Any

from sotto.roomid import room_id
from tests.support.servers import scaled
from tests.support.wsclient import RawClient
from tests.test_cli_exchange import fresh, run_sotto

SOTTO = [sys.executable, "-m", "sotto"]


class CuttableProxy:
    """A loopback TCP forwarder whose connections the test can cut without a goodbye."""

    def __init__(self, target_port: int) -> None:
        """Forward to 127.0.0.1:target_port once started."""
        self.target_port = target_port
        self.writers: list[asyncio.StreamWriter] = []
        self.connections = 0
        self.server: asyncio.Server | None = None

    async def start(self) -> int:
        """Listen on a free port and return it."""
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self.writers += [writer, up_writer]
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    def cut(self) -> None:
        """Reset every open connection on both sides (no close frame, like a network blip)."""
        for writer in self.writers:
            writer.transport.abort()
        self.writers.clear()

    async def stop(self) -> None:
        """Stop listening and cut what is left."""
        self.cut()
        if self.server is not None:
            self.server.close()


async def test_receive_survives_a_cut_connection(embedded_server: Any) -> None:
    """After a cut the receiver resumes (no leave, no new id) and reads a later sender's message."""
    room, password, secret = fresh()
    spy = await RawClient.connect(embedded_server.ws_url(room_id(room)))
    await spy.join()
    presence: list[dict[str, Any]] = []

    async def record() -> None:
        with contextlib.suppress(Exception):
            while True:
                frame = await spy.recv(60)
                if frame.get("type") == "presence":
                    presence.append(frame)

    recorder = asyncio.create_task(record())
    proxy = CuttableProxy(embedded_server.port)
    port = await proxy.start()
    env = {**os.environ, "SOTTO_PASSWORD": password}
    receiver = await asyncio.create_subprocess_exec(
        *SOTTO,
        "receive",
        room,
        "--count",
        "2",
        "--timeout",
        str(scaled(40)),
        "--server",
        f"http://127.0.0.1:{port}",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await asyncio.sleep(0.3)
        url = embedded_server.http_url
        first = await run_sotto(["send", room, "--server", url], password, secret + " one")
        assert first.code == 0, first.stderr
        assert receiver.stdout is not None
        line = await asyncio.wait_for(receiver.stdout.readline(), scaled(20))
        assert line.decode() == secret + " one\n"
        await asyncio.sleep(0.3)
        before_cut = len(presence)
        proxy.cut()
        second = await run_sotto(["send", room, "--server", url], password, secret + " two")
        assert second.code == 0, second.stderr
        out, err = await asyncio.wait_for(receiver.communicate(), scaled(30))
        assert (receiver.returncode, err.decode()) == (0, "")
        assert out.decode() == secret + " two\n"
        assert proxy.connections == 2
        await asyncio.sleep(0.5)
        # Only the second sender joined; the receiver kept its id and left once, at its end.
        after = presence[before_cut:]
        joins = [mid for frame in after for mid in frame["joins"]]
        leaves = [mid for frame in after for mid in frame["leaves"]]
        assert len(joins) == 1 and len(leaves) == 2 and joins[0] in leaves
    finally:
        recorder.cancel()
        await spy.close()
        if receiver.returncode is None:
            receiver.kill()
            await receiver.wait()
        await proxy.stop()
