"""Two real `sotto` processes exchange a secret through a real server (embedded and Redis)."""

from __future__ import annotations

import asyncio
import base64
import os
import re
import secrets
import sys
import time
from dataclasses import dataclass
from typing import Any

import pytest

from sotto.roomid import room_id
from tests.support.servers import scaled
from tests.support.wsclient import RawClient

SOTTO = [sys.executable, "-m", "sotto"]


@dataclass
class Result:
    """How a `sotto` process ended."""

    code: int
    stdout: str
    stderr: str
    seconds: float


async def run_sotto(
    args: list[str], password: str, stdin: str | bytes = "", timeout: float = 60.0
) -> Result:
    """Run `sotto ARGS` with the password in the environment and wait for it to end."""
    env = {**os.environ, "SOTTO_PASSWORD": password}
    env.pop("SOTTO_SERVER", None)
    started = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        *SOTTO,
        *args,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        data = stdin if isinstance(stdin, bytes) else stdin.encode()
        out, err = await asyncio.wait_for(proc.communicate(data), scaled(timeout))
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode is not None
    return Result(proc.returncode, out.decode(), err.decode(), time.monotonic() - started)


def fresh() -> tuple[str, str, str]:
    """A new room name, password and secret for one test."""
    token = secrets.token_hex(6)
    return f"Test Room {token}", f"pw-{secrets.token_hex(6)}", f"the secret is {token}42"


@pytest.fixture(params=["embedded", "redis"])
def server_pair(request: pytest.FixtureRequest) -> tuple[str, str]:
    """Base URLs for the two clients: one embedded server, or two processes on one Redis."""
    if request.param == "embedded":
        server = request.getfixturevalue("embedded_server")
        return server.http_url, server.http_url
    cluster = request.getfixturevalue("redis_servers")
    return cluster.servers[0].http_url, cluster.servers[1].http_url


async def exchange(
    urls: tuple[str, str], room: str, pw_recv: str, pw_send: str, secret: str, timeout: float = 30
) -> tuple[Result, Result]:
    """Start a receiver, then a sender, and wait for both."""
    receiver = asyncio.create_task(
        run_sotto(
            ["receive", room, "--server", urls[0], "--timeout", str(scaled(timeout))], pw_recv
        )
    )
    await asyncio.sleep(0.3)
    sender = await run_sotto(
        ["send", room, "--server", urls[1], "--timeout", str(scaled(timeout))], pw_send, secret
    )
    return await receiver, sender


async def test_secret_goes_from_sender_to_receiver(server_pair: tuple[str, str]) -> None:
    """`sotto send` delivers stdin to `sotto receive`, both exit 0, nothing on stderr."""
    room, password, secret = fresh()
    received, sent = await exchange(server_pair, room, password, password, secret)
    assert (sent.code, sent.stderr) == (0, "")
    assert (received.code, received.stderr) == (0, "")
    assert received.stdout == secret + "\n"


async def test_wrong_password_exits_3_on_both_sides(server_pair: tuple[str, str]) -> None:
    """With different passwords both processes exit 3 within 10 s, with one line on stderr."""
    room, password, secret = fresh()
    received, sent = await exchange(server_pair, room, password, password + "x", secret)
    for result in (received, sent):
        assert result.code == 3, result.stderr
        assert result.seconds < scaled(10)
        assert result.stderr.count("\n") == 1 and "password" in result.stderr
        assert "Traceback" not in result.stderr
    assert received.stdout == ""


_B64_TOKEN = re.compile(r"[A-Za-z0-9_+/=-]{8,}")


def decodings(text: str) -> list[bytes]:
    """The text itself and every base64/base64url-looking token in it, decoded at each offset."""
    found = [text.encode()]
    for token in _B64_TOKEN.findall(text):
        token = token.rstrip("=")
        for start in range(4):
            chunk = token[start:]
            chunk = chunk[: len(chunk) - len(chunk) % 4]
            for alphabet in (b"-_", b"+/"):
                try:
                    found.append(base64.b64decode(chunk, altchars=alphabet))
                except ValueError:
                    pass
    return found


async def test_eavesdropper_in_the_room_sees_no_secret(embedded_server: Any) -> None:
    """A raw client in the room records every frame; none holds the secret, password or name."""
    room, password, secret = fresh()
    spy = await RawClient.connect(embedded_server.ws_url(room_id(room)))
    await spy.join()
    frames: list[str] = []

    async def record() -> None:
        async for raw in spy.ws:
            frames.append(raw if isinstance(raw, str) else raw.decode("latin1"))

    recorder = asyncio.create_task(record())
    url = embedded_server.http_url
    received, sent = await exchange((url, url), room, password, password, secret)
    await asyncio.sleep(0.5)
    await spy.close()
    await recorder
    assert (received.code, sent.code) == (0, 0)
    assert received.stdout == secret + "\n"
    assert any('"type": "message"' in f or '"type":"message"' in f for f in frames)
    assert sum('"presence"' in f for f in frames) >= 2
    needles = [s.encode() for s in (secret, password, room, room.lower(), "the secret")]
    for frame in frames:
        for blob in decodings(frame):
            for needle in needles:
                assert needle not in blob


async def test_send_reaches_every_receiver_present(embedded_server: Any) -> None:
    """`send` waits for the handshakes with everyone present, so each receiver gets the text."""
    room, password, secret = fresh()
    url = embedded_server.http_url
    args = ["receive", room, "--server", url, "--timeout", str(scaled(30))]
    receivers = [asyncio.create_task(run_sotto(args, password)) for _ in range(3)]
    await asyncio.sleep(0.5)
    sent = await run_sotto(["send", room, "--server", url], password, secret)
    assert sent.code == 0, sent.stderr
    for task in receivers:
        result = await task
        assert (result.code, result.stdout) == (0, secret + "\n"), result.stderr
