"""`sotto bench --e2e`: the full protocol (SPAKE2 between every pair, sender keys) timed end to end.

Every simulated member is a real RoomSession behind a thin `websockets` shell,
all in this one process. Two scenes per room size M:

- all at once: M members join together; for each, the time from its join to
  having verified every other member (join-to-verified), and until the whole
  room is verified; then everyone sends one message and every member must read
  every one (decrypted, signature checked);
- a newcomer: one more member joins the settled room; its join-to-verified.

All members share one core here, where real members each have their own
device, so the times are upper bounds; the CPU time the core spent is recorded
beside them. The password's PBKDF2 runs once per room and is timed apart (every
member would run it once, in parallel). Wire bytes are the text frames' sizes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from ..events import MessageReceived, Output, PeerFailed, PeerVerified
from ..password import password_scalar
from ..roomid import room_id as make_room_id
from ..session import RoomSession
from .accounting import latency_summary
from .errors import BenchError
from .wsclient import ws_base

TICK = 0.25
MESSAGE_TEXT = "The quick brown fox jumps over the lazy dog. " * 2  # 90 characters


@dataclass
class _Member:
    """One member: its session, its socket, and when things happened to it."""

    session: RoomSession
    expected_peers: int
    ws: ClientConnection | None = None
    joined_at: float = 0.0
    verified_at: float | None = None
    verified: set[str] = field(default_factory=set)
    failures: list[str] = field(default_factory=list)
    received: int = 0
    bytes_up: list[int] = field(default_factory=list)
    bytes_down: list[int] = field(default_factory=list)
    all_verified: asyncio.Event = field(default_factory=asyncio.Event)
    all_read: asyncio.Event = field(default_factory=asyncio.Event)
    expect_messages: int = 0
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def send(self, out: Output) -> None:
        """Send a session's frames and take in its events."""
        for frame in out.frames:
            text = json.dumps(frame, ensure_ascii=False)
            if frame.get("type") == "broadcast":
                self.bytes_up.append(len(text.encode()))
            assert self.ws is not None
            await self.ws.send(text)
        now = time.monotonic()
        for event in out.events:
            if isinstance(event, PeerVerified):
                self.verified.add(event.member_id)
                if len(self.verified) >= self.expected_peers and self.verified_at is None:
                    self.verified_at = now
                    self.all_verified.set()
            elif isinstance(event, PeerFailed):
                self.failures.append(event.reason)
            elif isinstance(event, MessageReceived) and not event.own:
                self.received += 1
                if self.received >= self.expect_messages > 0:
                    self.all_read.set()

    async def start(self, url: str) -> None:
        """Connect, join, and start reading and ticking."""
        self.joined_at = time.monotonic()
        self.ws = await connect(url, origin=None, compression=None, max_size=1 << 20)
        await self.ws.send(json.dumps(self.session.join_frame()))
        if self.expected_peers == 0:
            self.verified_at = time.monotonic()
            self.all_verified.set()
        self.tasks = [asyncio.create_task(self._read()), asyncio.create_task(self._tick())]

    async def _read(self) -> None:
        assert self.ws is not None
        with contextlib.suppress(Exception):
            async for raw in self.ws:
                frame: object = None
                with contextlib.suppress(ValueError):
                    frame = json.loads(raw)
                if isinstance(frame, dict) and frame.get("type") == "message":
                    self.bytes_down.append(len(raw if isinstance(raw, bytes) else raw.encode()))
                await self.send(self.session.receive(frame))

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(TICK)
            await self.send(self.session.tick())

    async def close(self) -> None:
        """Leave the room and stop the tasks."""
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.session.wipe()


async def measure_room(server: str, members: int, timeout: float = 300.0) -> dict[str, Any]:
    """Measure both scenes for a room of `members` and return the figures."""
    name, password = f"bench {secrets.token_hex(8)}", secrets.token_hex(8)
    rid = make_room_id(name)
    began = time.perf_counter()
    w = password_scalar(password, rid)
    pbkdf2_s = time.perf_counter() - began
    url = f"{server.rstrip('/')}/ws/rooms/{rid}/"
    crowd = [RoomSession(name, password, w=w) for _ in range(members - 1)]
    group = [_Member(session, members - 2) for session in crowd]
    newcomer: _Member | None = None
    try:
        cpu0, wall0 = time.process_time(), time.monotonic()
        await asyncio.gather(*(m.start(url) for m in group))
        await asyncio.wait_for(asyncio.gather(*(m.all_verified.wait() for m in group)), timeout)
        settle_s, settle_cpu = time.monotonic() - wall0, time.process_time() - cpu0
        joins = [m.verified_at - m.joined_at for m in group if m.verified_at is not None]
        newcomer = _Member(RoomSession(name, password, w=w), members - 1)
        everyone = [*group, newcomer]
        for m in group:
            m.expected_peers, m.verified_at = members - 1, None
            m.all_verified.clear()
        cpu1 = time.process_time()
        await newcomer.start(url)
        await asyncio.wait_for(asyncio.gather(*(m.all_verified.wait() for m in everyone)), timeout)
        assert newcomer.verified_at is not None
        newcomer_s = newcomer.verified_at - newcomer.joined_at
        newcomer_cpu = time.process_time() - cpu1
        for m in everyone:
            m.expect_messages = members - 1
        sent_at = time.monotonic()
        for m in everyone:
            await m.send(m.session.send_text(MESSAGE_TEXT))
        await asyncio.wait_for(asyncio.gather(*(m.all_read.wait() for m in everyone)), timeout)
        read_s = time.monotonic() - sent_at
    except TimeoutError:
        raise BenchError(f"room of {members}: not everyone verified and read in time") from None
    finally:
        await asyncio.gather(*(m.close() for m in [*group, *([newcomer] if newcomer else [])]))
    up = [b for m in everyone for b in m.bytes_up]
    down = [b for m in everyone for b in m.bytes_down]
    return {
        "members": members,
        "pbkdf2_s": pbkdf2_s,
        "crowd": members - 1,
        "crowd_verified_p50_s": latency_summary(joins)["p50_ms"] / 1000,
        "crowd_verified_max_s": latency_summary(joins)["max_ms"] / 1000,
        "crowd_all_verified_s": settle_s,
        "crowd_cpu_s": settle_cpu,
        "newcomer_verified_s": newcomer_s,
        "newcomer_cpu_s": newcomer_cpu,
        "everyone_read_everyone_s": read_s,
        "failures": sum(len(m.failures) for m in everyone),
        "message_chars": len(MESSAGE_TEXT),
        "upload_bytes_per_message": sum(up) / len(up) if up else None,
        "download_bytes_per_delivery": sum(down) / len(down) if down else None,
    }


def measure_rooms(server: str, sizes: list[int]) -> list[dict[str, Any]]:
    """Measure rooms of each size in turn against a server base URL (ws://host:port)."""

    async def all_sizes() -> list[dict[str, Any]]:
        return [await measure_room(server, size) for size in sizes]

    return asyncio.run(all_sizes())


def format_rows(rows: list[dict[str, Any]]) -> str:
    """Return the table `sotto bench --e2e` prints."""
    lines = [
        "room  all but one verified  newcomer verified  everyone read  bytes up  down  failures"
    ]
    for r in rows:
        lines.append(
            f"{r['members']:>4}  {r['crowd_all_verified_s']:>18.2f} s  "
            f"{r['newcomer_verified_s']:>15.2f} s  {r['everyone_read_everyone_s']:>11.2f} s  "
            f"{r['upload_bytes_per_message'] or 0:>8.0f}  "
            f"{r['download_bytes_per_delivery'] or 0:>4.0f}  {r['failures']:>8}"
        )
    return "\n".join(lines)


def run_e2e(args: argparse.Namespace) -> int:
    """Run `sotto bench --e2e` for rooms of 2, 10 and 50 (or --members) and print a table."""
    server = ws_base((args.server or ["ws://127.0.0.1:8000"])[0])
    sizes = [args.members] if args.members else [2, 10, 50]
    rows = measure_rooms(server, sizes)
    print(format_rows(rows))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"e2e": rows}, handle, indent=2)
    return 0 if all(r["failures"] == 0 for r in rows) else 1
