"""Send what a member's connection was given at the end of the loop turn, once.

Twisted buffers each write and registers the socket for writability (an
``epoll_ctl``); on the next loop turn the reactor sends the buffer and unregisters
the socket (another ``epoll_ctl``). At half load, where a member gets about one frame
per turn, the registering and unregistering (``selector.modify``) took about a fifth
of the relay's CPU (docs/performance.md, finding 2). For member connections this replaces the
registration with a flush queued at the end of the current turn: every connection
written to during the turn sends its whole buffer with one ``send``, as before, but
without touching epoll. Only a socket that does not take everything (a slow reader)
is registered with the reactor the usual way and waits for writability.

The flush goes through the reactor's own write handler, so errors and closes are
handled exactly as when the reactor calls it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from .backpressure import unsent_bytes


class TurnFlusher:
    """The connections of one event loop with writes waiting for the end of the turn."""

    def __init__(self, loop: asyncio.AbstractEventLoop, reactor: Any) -> None:
        self._loop = loop
        self._reactor = reactor
        self._waiting: dict[Any, Any] = {}  # transport -> its original startWriting
        self._scheduled = False

    def install(self, transport: Any) -> None:
        """Make ``transport`` flush at the end of the turn instead of waiting for epoll."""
        register = transport.startWriting

        def start_writing() -> None:
            if transport in self._reactor._writers:
                return  # already waiting for writability; the reactor will send
            self._waiting[transport] = register
            if not self._scheduled:
                self._scheduled = True
                self._loop.call_soon(self._flush)

        transport.startWriting = start_writing

    def _flush(self) -> None:
        self._scheduled = False
        waiting, self._waiting = self._waiting, {}
        for transport, register in waiting.items():
            if transport.disconnected or not transport.connected or transport._aborting:
                continue
            self._reactor._readOrWrite(transport, False)
            if transport.connected and not transport.disconnected and unsent_bytes(transport):
                register()


_flushers: dict[asyncio.AbstractEventLoop, TurnFlusher] = {}


def flush_at_end_of_turn(transport: Any) -> None:
    """Install the end-of-turn flush on a Twisted TCP transport of daphne's reactor.

    Does nothing when the reactor is not Twisted's asyncio reactor (whose write
    handler the flush calls).
    """
    from twisted.internet import reactor

    if not hasattr(reactor, "_readOrWrite") or not hasattr(reactor, "_writers"):
        return
    loop = asyncio.get_running_loop()
    flusher = _flushers.get(loop)
    if flusher is None:
        flusher = _flushers[loop] = TurnFlusher(loop, reactor)
    flusher.install(transport)
