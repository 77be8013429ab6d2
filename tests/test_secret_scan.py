"""The secret scan: after a real chat, no trace of the room name, password or messages anywhere.

A browser and two `sotto` processes (receive, send) chat in a room with a
distinctive name and password, through a recording proxy (tests/hostile/relay.py
with no rules) in front of a real daphne at DEBUG log level: once on the embedded
default, once on two workers sharing one Redis. Then every place the server side
could have kept something is searched for each secret in plain text, hex, and
base64 in both alphabets at all three alignments (tests/hostile/needles.py):

- every WebSocket frame, both directions, of every participant;
- the servers' logs (SOTTO_LOG_LEVEL=DEBUG, Django's too), HTTP access lines included;
- a dump of the SQLite database (iterdump), after the statistics flushed;
- every Redis key and value (SCAN, then DUMP and GET/HGETALL/ZRANGE/LRANGE/SMEMBERS),
  taken while members are still in the room and again after, plus every command
  Redis received during the chat (MONITOR), which includes the channel layer's
  messages between the workers.

Positive controls keep the scan honest: the scanner finds planted secrets in every
form, the places scanned hold the room id or the member ids they must hold, and
the password scalar's bytes are a needle too.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis

from sotto.password import password_scalar
from sotto.roomid import norm, room_id
from tests.browser_support import (
    NewPage,
    join,
    send,
    wait_for_message,
    wait_members,
)
from tests.hostile.needles import Needle, base64_cores, needles, search
from tests.hostile.relay import RelayThread
from tests.support.servers import (
    REPO,
    DaphneProcess,
    RedisProcess,
    migrated_database_url,
    scaled,
    start_daphne,
    start_redis,
)

pytestmark = pytest.mark.browser

ROOM = "quokka lantern 7781 scanroom"
PASSWORD = "velvet-octopus-hunter2-991"
FROM_CLI = "the eagle lands at 0400 nephelococcygia"
FROM_BROWSER = "zanzibar midnight 4417 ultramarine"
DEBUG_ENV = {
    "SOTTO_LOG_LEVEL": "DEBUG",
    "SOTTO_DJANGO_LOG_LEVEL": "DEBUG",
    "SOTTO_STATS_FLUSH_SECONDS": "0.5",
}


def all_needles() -> list[Needle]:
    """The secrets in every form, the password scalar (32 bytes, big-endian) among them."""
    w = password_scalar(PASSWORD, room_id(ROOM)).to_bytes(32, "big")
    found = []
    for name, secret in (
        ("room name", ROOM),
        ("normalised room name", norm(ROOM)),
        ("password", PASSWORD),
        ("message from the CLI", FROM_CLI),
        ("message from the browser", FROM_BROWSER),
        ("password scalar w", w),
    ):
        found.extend(needles(name, secret))
    return found


def test_scanner_finds_planted_secrets_in_every_form() -> None:
    """A secret planted as plain, hex or base64 (any alignment, either alphabet) is found."""
    import base64

    everything = all_needles()
    secret = PASSWORD.encode()
    planted = [
        b"junk " + secret.upper() + b" junk",
        b"x" + secret.hex().upper().encode() + b"y",
    ]
    for shift in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            planted.append(b'{"ct":"' + encode(os.urandom(shift) + secret + b"\xff") + b'"}')
    for blob in planted:
        assert [h for h in search(blob, "planted", everything) if h.startswith("password ")], blob
    assert len(base64_cores(secret, "std")) == 3
    assert search(os.urandom(4096), "noise", everything) == []


# ----- the chat --------------------------------------------------------------------------------


@dataclass
class Backend:
    """The servers of one run, and what they left behind."""

    servers: list[DaphneProcess]
    redis: RedisProcess | None = None
    monitor: list[bytes] = field(default_factory=list)
    redis_snapshots: list[bytes] = field(default_factory=list)


def sotto(relay: RelayThread, *args: str, stdin: str | None = None) -> subprocess.Popen[bytes]:
    """Start the `sotto` command through the relay, the password in its environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOTTO_")}
    env["SOTTO_PASSWORD"] = PASSWORD
    proc = subprocess.Popen(
        [sys.executable, "-m", "sotto", *args, "--server", relay.http_url],
        cwd=REPO,
        env=env,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    if stdin is not None:
        assert proc.stdin is not None
        proc.stdin.write(stdin.encode())
        proc.stdin.close()
        proc.stdin = None
    return proc


def finish(proc: subprocess.Popen[bytes]) -> tuple[int, str, str]:
    """Wait for a `sotto` process: exit code, stdout, stderr."""
    try:
        out, err = proc.communicate(timeout=scaled(45))
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    return proc.returncode, out.decode(), err.decode()


def redis_dump(url: str) -> bytes:
    """Every key of a Redis with its type, DUMP and readable value, as one blob."""
    client = redis.Redis.from_url(url)
    parts: list[bytes] = []
    for key in client.scan_iter(count=1000):
        kind = client.type(key).decode()
        parts += [b"KEY ", key, b" ", kind.encode(), b"\n", client.dump(key) or b"", b"\n"]
        if kind == "string":
            value: Any = client.get(key)
        elif kind == "hash":
            value = client.hgetall(key)
        elif kind == "zset":
            value = client.zrange(key, 0, -1, withscores=True)
        elif kind == "list":
            value = client.lrange(key, 0, -1)
        elif kind == "set":
            value = client.smembers(key)
        else:
            value = kind
        parts += [repr(value).encode(), b"\n"]
    client.close()
    return b"".join(parts)


@contextlib.contextmanager
def monitor(url: str, sink: list[bytes]) -> Iterator[None]:
    """Record every command Redis receives while the context is open."""
    client = redis.Redis.from_url(url)
    stop = threading.Event()

    def run() -> None:
        with client.monitor() as feed:
            for command in feed.listen():
                sink.append(repr(command).encode())
                if stop.is_set():
                    return

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        client.ping()  # one more command, so the listener wakes up and sees the stop
        thread.join(timeout=5)


@pytest.fixture(params=["embedded", "redis"])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    """One daphne at DEBUG on the embedded store, or two on a fresh Redis of their own."""
    if request.param == "embedded":
        run = Backend([start_daphne(DEBUG_ENV)])
    else:
        store = start_redis()
        env = {**DEBUG_ENV, "REDIS_URL": store.url}
        run = Backend([start_daphne(env), start_daphne(env)], redis=store)
    yield run
    for server in run.servers:
        server.stop()
    if run.redis is not None:
        run.redis.stop()


def chat(relay: RelayThread, new_page: NewPage) -> None:
    """The scripted chat: a browser and `sotto receive` read, `sotto send` and the browser write."""
    page = new_page()
    join(page, relay, ROOM, PASSWORD)
    receiver = sotto(relay, "receive", ROOM, "--count", "2", "--timeout", "40")
    # The holder and the receiver both verified: the receiver is in before anything is sent.
    wait_members(page, ["you", "verified", "verified"])
    sender = sotto(relay, "send", ROOM, "--timeout", "40", stdin=FROM_CLI)
    wait_for_message(page, FROM_CLI)
    code, _, err = finish(sender)
    assert code == 0, err
    send(page, FROM_BROWSER)
    code, out, err = finish(receiver)
    assert code == 0, err
    assert sorted(out.splitlines()) == sorted([FROM_CLI, FROM_BROWSER])
    page.close()


def test_no_trace_of_room_password_or_messages_anywhere(
    backend: Backend, new_page: NewPage
) -> None:
    """Frames, DEBUG logs, the database and Redis hold no form of any secret."""
    relay = RelayThread(*(s.http_url for s in backend.servers))
    with contextlib.ExitStack() as stack:
        stack.enter_context(relay)
        if backend.redis is not None:
            stack.enter_context(monitor(backend.redis.url, backend.monitor))
        page_holder = new_page()  # a second person who stays, so the room lives on
        join(page_holder, relay, ROOM, PASSWORD)
        chat(relay, new_page)
        if backend.redis is not None:
            backend.redis_snapshots.append(redis_dump(backend.redis.url))
        page_holder.close()
        relay.run(_sleep(scaled(1.5)))  # the leave, and a statistics flush
        if backend.redis is not None:
            backend.redis_snapshots.append(redis_dump(backend.redis.url))
    links = relay.relay.links
    frames = [text.encode() for link in links for text in (*link.raw_down, *link.raw_up)]
    logs = [server.log_path.read_bytes() for server in backend.servers]
    database = "\n".join(sqlite3.connect(_sqlite_path()).iterdump()).encode()
    places = {
        "frames": b"\n".join(frames),
        "server logs": b"\n".join(logs),
        "database dump": database,
        "redis keys and values": b"\n".join(backend.redis_snapshots),
        "redis command stream": b"\n".join(backend.monitor),
    }
    # Positive controls: each place holds what it must, so an empty scan means something.
    rid = room_id(ROOM).encode()
    member_ids = {link.member_id.encode() for link in links if link.member_id}
    assert len(member_ids) >= 4 and len(frames) >= 20
    assert any(b'"type": "message"' in f or b'"type":"message"' in f for f in frames)
    assert rid in places["server logs"] and b"DEBUG" in places["server logs"]
    assert all(m in places["frames"] for m in member_ids)
    assert rid in places["database dump"]
    if backend.redis is not None:
        assert rid in places["redis keys and values"] and rid in places["redis command stream"]
        assert any(m in places["redis command stream"] for m in member_ids)
    everything = all_needles()
    hits = [hit for where, blob in places.items() for hit in search(blob, where, everything)]
    assert hits == []


async def _sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)


def _sqlite_path() -> Path:
    """The file behind the test servers' DATABASE_URL."""
    url = migrated_database_url()
    assert url.startswith("sqlite:///")
    return Path(url.removeprefix("sqlite:///"))
