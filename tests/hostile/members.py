"""Test members: RoomSessions inside sotto.client's asyncio shell, events kept for assertions.

Each member runs the real client shell (its reader, writer, ticker and resume) over
a real WebSocket; the test only reads the events the session reported and can move
the member's clock forward to reach the protocol's 10 s and 30 s timers at once.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable
from typing import Any

from sotto.client import Client, Closed
from sotto.events import Event, Joined, MessageReceived
from sotto.password import password_scalar
from sotto.roomid import room_id
from sotto.session import RoomSession
from tests.support.servers import scaled

EventLike = Event | Closed


class ShiftClock:
    """Wall-clock seconds plus an offset the test can advance."""

    def __init__(self) -> None:
        """Start at the real time."""
        self.offset = 0.0

    def __call__(self) -> float:
        """The current (shifted) time."""
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        """Jump forward."""
        self.offset += seconds


@functools.lru_cache(maxsize=64)
def scalar(room: str, password: str) -> int:
    """The password scalar for a room (PBKDF2 once per room and password)."""
    return password_scalar(password, room_id(room))


class Member:
    """One person: a RoomSession in a sotto.client.Client connected to a server URL."""

    def __init__(self, name: str, room: str, password: str, server: str) -> None:
        """Prepare a member; nothing is connected until `start`."""
        self.name = name
        self.clock = ShiftClock()
        self.session = RoomSession(room, password, clock=self.clock, w=scalar(room, password))
        self.client = Client(self.session, server)
        self.events: list[EventLike] = []

    @property
    def id(self) -> str:
        """The member id from the welcome."""
        assert self.session.member_id is not None
        return self.session.member_id

    async def start(self) -> Member:
        """Connect, join and wait for the welcome."""
        await self.client.start()
        await self.wait(lambda e: isinstance(e, Joined))
        return self

    async def close(self) -> None:
        """Leave (a close frame) and stop the shell."""
        await self.client.close()

    def _drain(self) -> None:
        while not self.client.events.empty():
            self.events.append(self.client.events.get_nowait())

    async def wait(self, check: Callable[[EventLike], bool], timeout: float = 5.0) -> EventLike:
        """Return the first event (seen so far or arriving within ``timeout``) that passes."""
        deadline = asyncio.get_running_loop().time() + scaled(timeout)
        seen = 0
        while True:
            self._drain()
            for event in self.events[seen:]:
                if check(event):
                    return event
            seen = len(self.events)
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(f"{self.name} never saw it; events: {self.events}")
            try:
                event = await asyncio.wait_for(self.client.events.get(), remaining)
            except TimeoutError:
                continue
            self.events.append(event)

    async def settle(self, seconds: float = 0.3) -> None:
        """Collect whatever events arrive within ``seconds``."""
        await asyncio.sleep(scaled(seconds))
        self._drain()

    def of(self, kind: type[Any]) -> list[Any]:
        """The events of one type seen so far."""
        self._drain()
        return [e for e in self.events if isinstance(e, kind)]

    def texts(self) -> list[tuple[str, str]]:
        """(sender, text) of every message read from others, in order."""
        return [(e.sender, e.text) for e in self.of(MessageReceived) if not e.own]

    async def read(self, text: str, timeout: float = 5.0) -> None:
        """Wait until a message with this text from someone else has been read."""
        await self.wait(
            lambda e: isinstance(e, MessageReceived) and not e.own and e.text == text, timeout
        )

    async def say(self, text: str, timeout: float = 5.0) -> int:
        """Send a text and wait for the server's echo; return its seq."""
        self.client.send_text(text)
        event = await self.wait(
            lambda e: isinstance(e, MessageReceived) and e.own and e.text == text, timeout
        )
        assert isinstance(event, MessageReceived)
        return event.seq
