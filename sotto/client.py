"""The asyncio shell around RoomSession: one WebSocket (the `websockets` library), timers, resume.

The session decides everything; this module only moves frames. It opens
`ws(s)://HOST/ws/rooms/<room_id>/` without an Origin header, sends the join
frame, feeds every received frame to the session, sends what it returns in
order, calls `tick()` a few times a second, and puts the session's events on a
queue. A connection that drops without a protocol close is resumed within the
server's grace period; a close the server starts for a protocol reason (room
full, rate limited, replaced) ends the client with `Closed(refused=True)`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, InvalidURI, WebSocketException

from .errors import UsageError
from .events import Event, Output
from .session import RoomSession

logger = logging.getLogger(__name__)

# Server closes that end a membership for a protocol reason: never reconnect after them.
REFUSING_CLOSE_CODES = frozenset({1008, 1009, 4003, 4009, 4029})
RESUME_WINDOW = 10.0
TICK_INTERVAL = 0.25
MAX_FRAME = 1 << 20


@dataclass(frozen=True)
class Closed:
    """The connection ended for good: `refused` when the server ended it on purpose."""

    kind: ClassVar[str] = "closed"
    code: int | None
    reason: str
    refused: bool


def websocket_url(server: str, room_id: str) -> str:
    """The room's WebSocket URL under a server base URL (http -> ws, https -> wss)."""
    parts = urlsplit(server.strip())
    schemes = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}
    if parts.scheme not in schemes or not parts.netloc:
        raise UsageError("the server URL must look like http://host:port or https://host")
    path = parts.path.rstrip("/") + f"/ws/rooms/{room_id}/"
    return urlunsplit((schemes[parts.scheme], parts.netloc, path, "", ""))


class Client:
    """A RoomSession connected to a server."""

    def __init__(self, session: RoomSession, server: str, *, open_timeout: float = 10.0) -> None:
        """Prepare a client for a session and a server base URL (nothing is opened yet)."""
        self.session = session
        self.url = websocket_url(server, session.room_id)
        self.events: asyncio.Queue[Event | Closed] = asyncio.Queue()
        self._open_timeout = open_timeout
        self._outgoing: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._ws: ClientConnection | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._closing = False
        self.closed: Closed | None = None

    async def start(self) -> None:
        """Connect and join; raises OSError or WebSocketException if the server is unreachable."""
        self._ws = await self._connect()
        self._tasks = [
            asyncio.create_task(self._read(), name="sotto-read"),
            asyncio.create_task(self._write(), name="sotto-write"),
            asyncio.create_task(self._tick(), name="sotto-tick"),
        ]

    async def _connect(self) -> ClientConnection:
        ws = await connect(
            self.url,
            origin=None,
            proxy=None,
            compression=None,
            open_timeout=self._open_timeout,
            max_size=MAX_FRAME,
            user_agent_header="sotto",
        )
        await ws.send(json.dumps(self.session.join_frame()))
        return ws

    def send_text(self, text: str) -> None:
        """Seal a text and queue its broadcast frame."""
        self._apply(self.session.send_text(text))

    async def close(self) -> None:
        """Leave the room (a close frame from us is a leave) and stop every task."""
        self._closing = True
        if self._ws is not None:
            with contextlib.suppress(WebSocketException, OSError):
                await self._ws.close()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.session.wipe()

    def _apply(self, out: Output) -> None:
        for frame in out.frames:
            self._outgoing.put_nowait(frame)
        for event in out.events:
            self.events.put_nowait(event)

    def _finish(self, closed: Closed) -> None:
        if self.closed is None:
            self.closed = closed
            self.events.put_nowait(closed)

    async def _read(self) -> None:
        while True:
            ws = self._ws
            assert ws is not None
            try:
                async for raw in ws:
                    self._on_raw(raw)
            except ConnectionClosed:
                pass
            if self._closing:
                return
            rcvd = ws.protocol.close_rcvd
            code = rcvd.code if rcvd is not None else None
            if code in REFUSING_CLOSE_CODES or (code is not None and 4000 <= code < 5000):
                self._finish(Closed(code, rcvd.reason if rcvd else "", refused=True))
                return
            logger.info("connection dropped (code %s); resuming", code)
            if not await self._reconnect():
                self._finish(Closed(code, "connection lost", refused=False))
                return

    def _on_raw(self, raw: str | bytes) -> None:
        frame: object = None
        if isinstance(raw, str):
            # Whatever a hostile server sends, nesting too deep included, is a bad frame.
            with contextlib.suppress(ValueError, RecursionError):
                frame = json.loads(raw)
        self._apply(self.session.receive(frame))

    async def _reconnect(self) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + RESUME_WINDOW
        delay = 0.2
        while loop.time() < deadline and not self._closing:
            try:
                self._ws = await self._connect()
                return True
            except (TimeoutError, OSError, WebSocketException):
                # Jittered, so that members cut by one blip do not all return at once.
                await asyncio.sleep(delay * random.uniform(0.75, 1.25))
                delay = min(delay * 2, 2.0)
        return False

    async def _write(self) -> None:
        while True:
            frame = await self._outgoing.get()
            while True:
                ws = self._ws
                try:
                    if ws is not None:
                        await ws.send(json.dumps(frame, ensure_ascii=False))
                        break
                except ConnectionClosed:
                    pass
                if self._closing or self.closed is not None:
                    return
                # Wait for the reader to resume the connection, then send again.
                await asyncio.sleep(0.1)

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(TICK_INTERVAL)
            self._apply(self.session.tick())


def describe_connect_error(exc: BaseException) -> tuple[str, bool]:
    """A one-line reason for a failed connection, and whether the server refused us."""
    if isinstance(exc, InvalidStatus):
        return f"the server refused the connection (HTTP {exc.response.status_code})", True
    if isinstance(exc, InvalidURI):
        return "the server URL is not valid", False
    if isinstance(exc, TimeoutError):
        return "the server did not answer in time", False
    if isinstance(exc, OSError):
        return "cannot reach the server", False
    return f"the connection failed ({type(exc).__name__})", False
