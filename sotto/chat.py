"""`sotto chat`: print the room's events as lines and send each line typed on stdin."""

from __future__ import annotations

import asyncio
import sys
import threading
from typing import Any

from .chatview import render
from .client import Client, Closed
from .constants import MAX_TEXT_BYTES
from .encoding import is_text
from .errors import RefusedByServer, SottoError, TimedOut
from .events import Event, MessageSent, PeerVerified

# After stdin ends, how long we wait for held and unacknowledged lines to go out.
FLUSH_TIMEOUT = 120.0


def _stdin_lines(loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[str | None]) -> None:
    """Read stdin lines in a daemon thread (so a blocked read never holds up exit)."""

    def pump() -> None:
        # Bytes, decoded here whatever the locale: a line that is not UTF-8 keeps its bad
        # bytes as lone surrogates (refused when sent) instead of stopping this thread.
        for raw in sys.stdin.buffer:
            line = raw.decode("utf-8", "surrogateescape").removesuffix("\n").removesuffix("\r")
            loop.call_soon_threadsafe(queue.put_nowait, line)
        loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=pump, name="sotto-stdin", daemon=True).start()


class Chat:
    """One interactive chat over a connected client."""

    def __init__(self, client: Client, *, colors: bool) -> None:
        """Prepare to show events (in colour if asked) and send typed lines."""
        self.client = client
        self.colors = colors
        self.held: list[str] = []
        self.unacked = 0
        self.eof = False

    async def run(self) -> int:
        """Run until stdin ends and every line is acknowledged; returns the exit code."""
        loop = asyncio.get_running_loop()
        lines: asyncio.Queue[str | None] = asyncio.Queue()
        _stdin_lines(loop, lines)
        events: asyncio.Future[Any] = asyncio.ensure_future(self.client.events.get())
        typed: asyncio.Future[Any] = asyncio.ensure_future(lines.get())
        deadline: float | None = None
        try:
            while not (self.eof and not self.held and not self.unacked):
                timeout = None if deadline is None else max(deadline - loop.time(), 0)
                done, _ = await asyncio.wait(
                    {events, typed}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
                )
                if not done:
                    raise TimedOut("stdin ended but some lines could not be delivered in time")
                if events in done:
                    self._on_event(events.result())
                    events = asyncio.ensure_future(self.client.events.get())
                if typed in done:
                    line = typed.result()
                    if line is None:
                        self.eof, deadline = True, loop.time() + FLUSH_TIMEOUT
                    else:
                        self._on_line(line)
                        typed = asyncio.ensure_future(lines.get())
        finally:
            events.cancel()
            typed.cancel()
        return 0

    def _on_event(self, event: Event | Closed) -> None:
        if isinstance(event, Closed):
            if event.refused:
                raise RefusedByServer("the server closed the room to us")
            raise SottoError("the connection to the server was lost")
        line = render(self.client.session, event, colors=self.colors)
        if line is not None:
            print(line, flush=True)
        if isinstance(event, MessageSent):
            self.unacked = max(self.unacked - 1, 0)
        if isinstance(event, PeerVerified) and self.held:
            for text in self.held:
                self._send(text)
            self.held.clear()

    def _on_line(self, text: str) -> None:
        if not text:
            return
        if not is_text(text):
            # Bytes that are not UTF-8 arrive as lone surrogates (see _stdin_lines).
            print("! not sent: the line is not UTF-8 text", flush=True)
        elif len(text.encode("utf-8")) > MAX_TEXT_BYTES:
            print(f"! not sent: longer than {MAX_TEXT_BYTES} bytes", flush=True)
        elif self.client.session.verified_peers():
            self._send(text)
        else:
            self.held.append(text)
            print("* held until someone proves the password", flush=True)

    def _send(self, text: str) -> None:
        self.client.send_text(text)
        self.unacked += 1
