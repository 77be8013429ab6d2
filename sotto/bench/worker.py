"""One load-generator process: its rooms' members connect, join, send, receive, and keep books.

Every member of a room lives in the same worker, so one ledger sees a room's
sends and all its receipts on one clock. The parent drives the phases over a
pipe: the worker connects and joins everyone and says "ready"; the parent
answers "go" with a start time t0 shared by all workers (CLOCK_MONOTONIC is
system-wide); the worker warms up, measures the window, stops sending, waits
for what is in flight (the drain), closes, and sends back its result.

Sending is open-loop at `rate` broadcasts per second per room (the schedule
does not wait for the server), or closed-loop with `rate=None`: each room keeps
`window` broadcasts in flight and sends the next one when a sender's own echo
comes back, which drives the relay as hard as it will go.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import resource
import threading
import time
import traceback
from collections import Counter, deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from .. import constants as c
from .accounting import RoomLedger, Tally
from .errors import BenchError
from .wire import RATE_LIMITED, broadcast_frame, filler, read_message, read_tag
from .wsclient import BenchSocket

PROGRESS_EVERY = 0.5
PACER_TICK = 0.001


@dataclass(frozen=True)
class RoomPlan:
    """One simulated room: its id, the server URL of each member, and its stalled members."""

    room_id: str
    urls: tuple[str, ...]
    stalled: tuple[int, ...] = ()


@dataclass(frozen=True)
class LoadSettings:
    """One load run, as the options describe it."""

    servers: tuple[str, ...]
    rooms: int = 10
    members: int = 10
    rate: float | None = None
    window: int = 8
    size: int = 340
    duration: float = 10.0
    warmup: float = 2.0
    drain: float = 5.0
    workers: int = 0
    stall: int = 0
    watch_pids: tuple[int, ...] = ()
    connect_concurrency: int = 100
    connect_timeout: float = 30.0


@dataclass(frozen=True)
class WorkerPlan:
    """A worker's share of a run: its rooms, and the run's settings."""

    index: int
    rooms: tuple[RoomPlan, ...]
    settings: LoadSettings


@dataclass
class WorkerResult:
    """What a worker measured, sent back to the parent once the run is over."""

    tally: Tally
    cpu_s: float
    window_s: float
    join_s: list[float]
    connect_started: float
    connect_finished: float
    errors: dict[str, int]
    upload_bytes: int
    upload_frames: int
    download_bytes: int
    download_frames: int
    pacer_lag_s: list[float] = field(default_factory=list)
    unanswered_closes: int = 0


class _Member:
    """A simulated member: its socket and where it sits."""

    __slots__ = ("room", "index", "socket", "welcomed", "unanswered")

    def __init__(self, room: _Room, index: int, welcomed: asyncio.Future[None]) -> None:
        self.room = room
        self.index = index
        self.socket: BenchSocket | None = None
        self.welcomed = welcomed
        # counters of our broadcasts the server has neither echoed nor refused yet; it
        # answers one connection's frames in order, so a refusal is for the oldest
        self.unanswered: deque[int] = deque()


class _Room:
    """A room's members, its ledger once the run starts, and its sending state."""

    def __init__(self, plan: RoomPlan, order: int) -> None:
        self.plan = plan
        self.order = order
        self.members: list[_Member] = []
        self.senders = [i for i in range(len(plan.urls)) if i not in plan.stalled]
        self.next_sender = 0
        self.ledger: RoomLedger | None = None
        self.sent = 0
        self.inflight = 0


def _run_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Worker:
    """The asyncio side of one worker process."""

    def __init__(self, plan: WorkerPlan, conn: Connection) -> None:
        self.plan = plan
        self.settings = plan.settings
        self.conn = conn
        self.rooms: list[_Room] = []
        self.errors: Counter[str] = Counter()
        self.sending = False
        self.t0 = 0.0
        self.receipts = 0
        self.upload_bytes = self.upload_frames = 0
        self.download_bytes = self.download_frames = 0
        self.pacer_lag: list[float] = []
        self.join_s: list[float] = []
        self.unanswered_closes = 0
        self.pad = filler(plan.settings.size)
        self._inbox: asyncio.Queue[Any] = asyncio.Queue()

    async def run(self) -> None:
        """Play the run from connecting to reporting."""
        loop = asyncio.get_running_loop()
        # A thread blocks on the pipe: an event-loop reader would make the pipe non-blocking
        # (uvloop does), and a large result would then fail to send.
        threading.Thread(target=self._read_pipe, args=(loop,), daemon=True).start()
        started = time.monotonic()
        await self._connect_all()
        finished = time.monotonic()
        self.conn.send(("ready", len(self.join_s)))
        message = await self._inbox.get()
        if message[0] != "go":
            return
        self.t0 = t0 = float(message[1])
        window_start = t0 + self.settings.warmup
        window_end = window_start + self.settings.duration
        for room in self.rooms:
            room.ledger = RoomLedger(
                len(room.members), (window_start, window_end), room.plan.stalled
            )
        progress = asyncio.create_task(self._report_progress())
        await asyncio.sleep(max(0.0, t0 - time.monotonic()))
        self.sending = True
        pacer = asyncio.create_task(self._pace()) if self.settings.rate is not None else None
        if self.settings.rate is None:
            for room in self.rooms:
                for _ in range(self.settings.window):
                    self._send(room, time.monotonic())
        await asyncio.sleep(max(0.0, window_start - time.monotonic()))
        cpu_start, wall_start = _run_cpu(), time.monotonic()
        for room in self.rooms:
            for index in room.plan.stalled:
                sock = room.members[index].socket
                if sock is not None:
                    sock.pause_reading()
        await asyncio.sleep(max(0.0, window_end - time.monotonic()))
        cpu_used, wall_used = _run_cpu() - cpu_start, time.monotonic() - wall_start
        self.sending = False
        if pacer is not None:
            await pacer
        await self._drain(window_end + self.settings.drain)
        progress.cancel()
        tally = Tally()
        for room in self.rooms:
            assert room.ledger is not None
            tally.merge(room.ledger.close())
        await self._close_all()
        result = WorkerResult(
            tally=tally,
            cpu_s=cpu_used,
            window_s=wall_used,
            join_s=self.join_s,
            connect_started=started,
            connect_finished=finished,
            errors=dict(self.errors),
            upload_bytes=self.upload_bytes,
            upload_frames=self.upload_frames,
            download_bytes=self.download_bytes,
            download_frames=self.download_frames,
            pacer_lag_s=self.pacer_lag,
            unanswered_closes=self.unanswered_closes,
        )
        self.conn.send(("result", result))

    def _read_pipe(self, loop: asyncio.AbstractEventLoop) -> None:
        while True:
            try:
                message = self.conn.recv()
            except (EOFError, OSError):
                message = ("abort",)
            try:
                loop.call_soon_threadsafe(self._inbox.put_nowait, message)
            except RuntimeError:  # the loop is closed: the run is over
                return
            if message[0] == "abort":
                return

    async def _connect_all(self) -> None:
        loop = asyncio.get_running_loop()
        gate = asyncio.Semaphore(self.settings.connect_concurrency)
        jobs = []
        for order, plan in enumerate(self.plan.rooms):
            room = _Room(plan, order)
            self.rooms.append(room)
            for index in range(len(plan.urls)):
                member = _Member(room, index, loop.create_future())
                room.members.append(member)
                jobs.append(self._connect(member, gate))
        await asyncio.gather(*jobs)

    async def _connect(self, member: _Member, gate: asyncio.Semaphore) -> None:
        timeout = self.settings.connect_timeout
        async with gate:
            began = time.monotonic()
            sock = BenchSocket(member.room.plan.urls[member.index], self._handler(member))
            member.socket = sock
            try:
                await sock.connect(timeout)
                key = base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()
                sock.send_text(json.dumps({"type": c.T_JOIN, "v": 1, "key": key}))
                await asyncio.wait_for(asyncio.shield(member.welcomed), timeout)
            except (OSError, TimeoutError) as exc:
                raise BenchError(f"could not connect and join: {exc!r}") from None
            self.join_s.append(time.monotonic() - began)

    def _handler(self, member: _Member) -> Any:
        room, index = member.room, member.index
        closed_loop = self.settings.rate is None
        loads = json.loads

        def on_message(sender: int, counter: int, seq: int, size: int, now: float) -> None:
            self.download_frames += 1
            self.download_bytes += size + (2 if size < 126 else 4)
            ledger = room.ledger
            if ledger is None:
                self.errors["message_before_start"] += 1
                return
            ledger.record_receipt(index, sender, counter, seq, now)
            if sender == index:
                unanswered = member.unanswered
                while unanswered and unanswered[0] <= counter:
                    unanswered.popleft()
                if closed_loop:
                    room.inflight -= 1
                    if self.sending:
                        self._send(room, now)

        def on_refused(now: float) -> None:
            # the server dropped our oldest unanswered broadcast (rate limit): nobody gets it
            if room.ledger is None or not member.unanswered:
                return
            room.ledger.record_refused(index, member.unanswered.popleft())
            if closed_loop:
                room.inflight -= 1
                if self.sending:
                    self._send(room, now)

        def on_text(sock: BenchSocket, payload: bytes, now: float) -> None:
            self.receipts += 1
            fast = read_message(payload)
            if fast is not None:
                on_message(fast[0], fast[1], fast[2], len(payload), now)
                return
            try:
                frame = loads(payload)
                kind = frame["type"]
                if kind == c.T_MESSAGE:
                    sender, counter = read_tag(frame["body"])
                    on_message(sender, counter, int(frame["seq"]), len(payload), now)
                elif kind == c.T_WELCOME:
                    if not member.welcomed.done():
                        member.welcomed.set_result(None)
                elif kind == c.T_ERROR:
                    self.errors[str(frame.get("code"))] += 1
                    if frame.get("code") == RATE_LIMITED:
                        on_refused(now)
                    if not member.welcomed.done():
                        member.welcomed.set_exception(
                            BenchError(f"join refused: {frame.get('code')}")
                        )
            except (ValueError, KeyError, TypeError):
                self.errors["unreadable_frame"] += 1

        return on_text

    def _send(self, room: _Room, now: float) -> None:
        if not room.senders or room.ledger is None:
            return
        sender = room.senders[room.next_sender]
        room.next_sender = (room.next_sender + 1) % len(room.senders)
        sock = room.members[sender].socket
        if sock is None:
            return
        counter = room.ledger.record_send(sender, now)
        room.members[sender].unanswered.append(counter)
        self.upload_bytes += sock.send_text(broadcast_frame(sender, counter, self.pad))
        self.upload_frames += 1
        room.sent += 1
        room.inflight += 1

    async def _pace(self) -> None:
        rate = self.settings.rate
        assert rate is not None
        spread = len(self.rooms)
        while self.sending:
            now = time.monotonic()
            oldest_due = now
            for room in self.rooms:
                due = int((now - self.t0) * rate + room.order / spread) - room.sent
                if due > 0:
                    oldest_due = min(
                        oldest_due, self.t0 + (room.sent + 1 - room.order / spread) / rate
                    )
                    for _ in range(due):
                        self._send(room, now)
            self.pacer_lag.append(now - oldest_due)
            await asyncio.sleep(PACER_TICK)

    async def _drain(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            if all(room.ledger is None or room.ledger.inflight == 0 for room in self.rooms):
                return
            await asyncio.sleep(0.01)

    async def _report_progress(self) -> None:
        while True:
            await asyncio.sleep(PROGRESS_EVERY)
            self.conn.send(("progress", self.receipts, sum(r.sent for r in self.rooms)))

    async def _close_all(self) -> None:
        members = [m for room in self.rooms for m in room.members if m.socket is not None]
        sockets = [m.socket for m in members if m.socket is not None]
        stalled = {id(m.socket) for m in members if m.index in m.room.plan.stalled}
        for sock in sockets:
            if id(sock) in stalled:  # read again: a connection the server cut shows as reset
                sock.resume_reading()
        if stalled:
            await asyncio.sleep(0.5)
        for sock in sockets:
            if not sock.closed.done():
                continue
            if id(sock) in stalled:
                self.errors["stalled_cut_by_server"] += 1
            else:  # the connection ended before we said goodbye
                self.errors[f"closed_{sock.closed.result()}"] += 1
        timeout = 2.0 + len(sockets) / 1000  # the server announces every leave
        await asyncio.gather(*(s.close(timeout) for s in sockets), return_exceptions=True)
        self.unanswered_closes = sum(
            1 for s in sockets if not s.closed.done() or s.closed.result() == 1006
        )


def _event_loop_runner() -> Callable[[Coroutine[Any, Any, None]], None]:
    """Return uvloop.run if installed (its C read path is cheaper per frame), else asyncio.run."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run
    return uvloop.run


def worker_main(plan: WorkerPlan, conn: Connection) -> None:
    """Entry point of a worker process: run the plan and report, or report the failure."""
    try:
        _event_loop_runner()(Worker(plan, conn).run())
    except BenchError as exc:
        conn.send(("failed", str(exc)))
    except Exception:  # the parent must hear about any crash, with where it happened
        conn.send(("failed", traceback.format_exc()))
    finally:
        conn.close()
