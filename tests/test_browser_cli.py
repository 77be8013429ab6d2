"""The browser and the `sotto` command in one room: they prove the password to each
other, messages cross in both directions, and a wrong password on either side shows."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from tests.browser_support import (
    REPO,
    NewPage,
    join,
    send,
    unique_room,
    wait_for_message,
    wait_members,
)
from tests.support.servers import DaphneProcess, scaled

pytestmark = pytest.mark.browser

PASSWORD = "copper meadow fiddle 8"


def sotto(
    server: DaphneProcess, password: str, *args: str, stdin: str | None = None
) -> subprocess.Popen[bytes]:
    """Start the `sotto` command against the test server, password in the environment."""
    env = {**os.environ, "SOTTO_PASSWORD": password}
    env.pop("SOTTO_SERVER", None)
    command = [sys.executable, "-m", "sotto", args[0], *args[1:], "--server", server.http_url]
    proc = subprocess.Popen(
        command,
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL if stdin is None else subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    if proc.stdin is not None and stdin is not None:
        proc.stdin.write(stdin.encode())
        proc.stdin.close()
        proc.stdin = None  # communicate() must not touch it again
    return proc


def finish(proc: subprocess.Popen[bytes]) -> tuple[int, str, str]:
    """Wait for the command; return its exit code, stdout and stderr as text."""
    try:
        out, err = proc.communicate(timeout=scaled(40))
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    return proc.returncode, out.decode(), err.decode()


def test_browser_to_cli(embedded_server: DaphneProcess, new_page: NewPage) -> None:
    """A message typed in the browser is printed by `sotto receive`, byte for byte."""
    room = unique_room("to cli")
    page = new_page()
    join(page, embedded_server, room, PASSWORD)
    receiver = sotto(embedded_server, PASSWORD, "receive", room, "--timeout", "30")
    wait_members(page, ["you", "verified"])
    text = "Ciao dal browser 👋\nsecond line, «quoted» & <tag>"
    send(page, text)
    code, out, err = finish(receiver)
    assert code == 0, err
    assert out == text + "\n"


def test_cli_to_browser(embedded_server: DaphneProcess, new_page: NewPage) -> None:
    """A message piped into `sotto send` appears in the browser as a verified message."""
    room = unique_room("from cli")
    page = new_page()
    join(page, embedded_server, room, PASSWORD)
    text = "Hello from the terminal ⌨️ — ünïcödé intact"
    sender = sotto(embedded_server, PASSWORD, "send", room, "--timeout", "30", stdin=text)
    wait_for_message(page, text)
    code, _, err = finish(sender)
    assert code == 0, err
    row = page.get_by_role("log").locator(".msg:not(.own)").last
    expect(row.locator(".msg-mark")).to_have_attribute("data-state", "verified")
    # The command leaves once its message is confirmed, and the browser sees it go.
    wait_members(page, ["you"])
    expect(page.get_by_role("log")).to_contain_text("left.")


def test_cli_with_a_wrong_password_is_refused(
    embedded_server: DaphneProcess, new_page: NewPage
) -> None:
    """`sotto send` with a wrong password exits with code 3; the browser sees the attempt."""
    room = unique_room("cli wrong")
    page = new_page()
    join(page, embedded_server, room, PASSWORD)
    sender = sotto(embedded_server, "not the password", "send", room, "--timeout", "20", stdin="x")
    expect(page.get_by_role("log")).to_contain_text("tried to join with a wrong password")
    code, _, err = finish(sender)
    assert code == 3, err
    assert "password" in err
    assert page.get_by_role("log").locator(".msg").count() == 0
