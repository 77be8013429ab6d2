"""`sotto chat` against a real server: typed lines reach a receiver; events are shown as lines."""

from __future__ import annotations

import asyncio
from typing import Any

from sotto.chatview import render
from sotto.events import Rejected, ServerError
from sotto.session import RoomSession
from tests.support.servers import scaled
from tests.test_cli_exchange import fresh, run_sotto


async def test_chat_lines_reach_a_receiver(embedded_server: Any) -> None:
    """Lines typed before anyone verified are held then sent, one not UTF-8 refused; EOF exits 0."""
    room, password, _ = fresh()
    url = embedded_server.http_url
    timeout = str(scaled(30))
    receiver = asyncio.create_task(
        run_sotto(
            ["receive", room, "--server", url, "--count", "2", "--timeout", timeout], password
        )
    )
    await asyncio.sleep(0.3)
    # The middle line is not UTF-8: it is refused with a notice and the chat goes on.
    typed = b"hello there\ncaf\xe9\n\x1b[31mred\n"
    chat = await run_sotto(["chat", room, "--server", url], password, typed)
    received = await receiver
    assert (chat.code, chat.stderr) == (0, "")
    assert (received.code, received.stderr) == (0, "")
    assert received.stdout == "hello there\n\x1b[31mred\n"
    assert "! not sent: the line is not UTF-8 text" in chat.stdout
    assert "proved the password" in chat.stdout
    assert "you joined as" in chat.stdout
    # Our own lines are echoed as "you", with the escape made harmless.
    assert "you (" in chat.stdout and "\x1b[31m" not in chat.stdout


def test_lines_shown_for_hostile_strings_can_always_be_written() -> None:
    """A server's error text or a `from` holding lone surrogates is shown as U+FFFD, not a crash."""
    session = RoomSession("room", "password", w=1)
    for event in [Rejected("\ud800abc", "unknown_sender"), ServerError("x", "slow \udcff down")]:
        line = render(session, event)
        assert line is not None and "\ufffd" in line
        line.encode("utf-8")
