"""`sotto chat` against a real server: typed lines reach a receiver; events are shown as lines."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.support.servers import scaled
from tests.test_cli_exchange import fresh, run_sotto


async def test_chat_lines_reach_a_receiver(embedded_server: Any) -> None:
    """Lines typed before anyone verified are held, then sent; stdin EOF ends chat with exit 0."""
    room, password, _ = fresh()
    url = embedded_server.http_url
    timeout = str(scaled(30))
    receiver = asyncio.create_task(
        run_sotto(
            ["receive", room, "--server", url, "--count", "2", "--timeout", timeout], password
        )
    )
    await asyncio.sleep(0.3)
    chat = await run_sotto(["chat", room, "--server", url], password, "hello there\n\x1b[31mred\n")
    received = await receiver
    assert (chat.code, chat.stderr) == (0, "")
    assert (received.code, received.stderr) == (0, "")
    assert received.stdout == "hello there\n\x1b[31mred\n"
    assert "proved the password" in chat.stdout
    assert "you joined as" in chat.stdout
    # Our own lines are echoed as "you", with the escape made harmless.
    assert "you (" in chat.stdout and "\x1b[31m" not in chat.stdout
