"""`sotto` failure paths: each gives its documented exit code and one line on stderr."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from sotto.cli import build_parser
from sotto.client import websocket_url
from sotto.errors import UsageError
from sotto.roomid import room_id
from tests.support.servers import DaphneProcess, free_port, scaled, start_daphne
from tests.support.wsclient import RawClient

SOTTO = [sys.executable, "-m", "sotto"]


def sotto(
    *args: str, stdin: str = "", password: str | None = "pw", timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    """Run `sotto` without a controlling terminal and return how it ended."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOTTO_")}
    if password is not None:
        env["SOTTO_PASSWORD"] = password
    return subprocess.run(
        [*SOTTO, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=scaled(timeout),
        start_new_session=True,
    )


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single stderr line of a failed run (asserting there is exactly one, no traceback)."""
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if not line.startswith("usage:")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_help_documents_exit_codes() -> None:
    """`sotto --help` lists every exit code and says where the password comes from."""
    result = sotto("--help")
    assert result.returncode == 0
    for line in ("0  done", "2  usage error", "3  wrong password", "4  timed out", "5  refused"):
        assert line in result.stdout
    assert "SOTTO_PASSWORD" in result.stdout


@pytest.mark.parametrize(
    "args,stdin",
    [
        ((), ""),
        (("send",), "x"),
        (("send", "room"), ""),
        (("send", "room"), "é" * 8193),
        (("receive", "room", "--count", "0"), ""),
        (("send", "room", "--server", "ftp://example.org"), "x"),
        (("send", "   "), "x"),
    ],
)
def test_usage_errors_exit_2(args: tuple[str, ...], stdin: str) -> None:
    """Missing arguments, empty or oversized input and bad URLs are usage errors (exit 2)."""
    result = sotto(*args, "--timeout", "1", stdin=stdin) if args else sotto(stdin=stdin)
    assert result.returncode == 2, result.stderr
    one_line(result)


def test_no_password_and_no_terminal_is_a_usage_error() -> None:
    """Without SOTTO_PASSWORD and without a terminal to prompt on, sotto exits 2."""
    result = sotto("send", "room", stdin="x", password=None)
    assert result.returncode == 2
    assert "SOTTO_PASSWORD" in one_line(result)


def test_unreachable_server_exits_1() -> None:
    """Nothing listening at the server URL is an ordinary failure with one line."""
    result = sotto("send", "room", "--server", f"http://127.0.0.1:{free_port()}", stdin="x")
    assert result.returncode == 1
    assert "cannot reach the server" in one_line(result)


def test_no_peer_exits_4(embedded_server: Any) -> None:
    """`send` and `receive` alone in a room time out with exit 4."""
    for command in ("send", "receive"):
        result = sotto(
            command,
            "lonely room " + command,
            "--server",
            embedded_server.http_url,
            "--timeout",
            "1",
            stdin="x",
        )
        assert result.returncode == 4, result.stderr
        assert "timed out" in one_line(result) or "no peer" in one_line(result)


@pytest.fixture(scope="module")
def tiny_server() -> Iterator[DaphneProcess]:
    """A server whose rooms hold one member."""
    server = start_daphne({"SOTTO_ROOM_CAPACITY": "1"})
    yield server
    server.stop()


async def test_room_full_exits_5(tiny_server: DaphneProcess) -> None:
    """When the room is full the server refuses and sotto exits 5."""
    spy = await RawClient.connect(tiny_server.ws_url(room_id("full room")))
    await spy.join()
    try:
        result = sotto("receive", "full room", "--server", tiny_server.http_url, "--timeout", "20")
    finally:
        await spy.close()
    assert result.returncode == 5, result.stderr
    assert "full" in one_line(result)


def test_server_urls_map_to_websocket_urls() -> None:
    """http maps to ws and https to wss, keeping a path prefix; other schemes are refused."""
    assert websocket_url("http://127.0.0.1:8000", "R") == "ws://127.0.0.1:8000/ws/rooms/R/"
    assert websocket_url("https://ex.org/sotto/", "R") == "wss://ex.org/sotto/ws/rooms/R/"
    with pytest.raises(UsageError):
        websocket_url("ftp://ex.org", "R")


def test_password_is_never_an_argument() -> None:
    """No subcommand accepts a password option."""
    for command in ("send", "receive", "chat"):
        with pytest.raises(SystemExit):
            build_parser([command]).parse_args([command, "room", "--password", "x"])


def test_console_script_runs() -> None:
    """The installed `sotto` console script (scripts/setup installs it) runs the same CLI."""
    script = os.path.join(os.path.dirname(sys.executable), "sotto")
    result = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0 and "exit codes:" in result.stdout
