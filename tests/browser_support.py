"""Helpers for the browser tests: real headless Chromium driving the real page.

Test modules import the fixtures they use from here (`browser`, `new_page`). The
helpers speak to the page the way a person does: by labels, roles and button
names, so the tests also check that those labels exist.
"""

from __future__ import annotations

import os
import shutil
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    BrowserType,
    Page,
    Playwright,
    expect,
    sync_playwright,
)

from tests.support.servers import DaphneProcess, scaled

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("SOTTO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Playwright's own default, scaled for slow machines.
TIMEOUT_MS = scaled(15.0) * 1000
expect.set_options(timeout=TIMEOUT_MS)

NewPage = Callable[..., Page]

# Uncaught script errors of each page made by `new_page`; tests assert it stays empty.
PAGE_ERRORS: weakref.WeakKeyDictionary[Page, list[str]] = weakref.WeakKeyDictionary()


def launch(playwright_chromium: BrowserType, extra_args: list[str] | None = None) -> Browser:
    """Launch Debian's Chromium headless with the project's flags."""
    if shutil.which(CHROMIUM) is None and not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing (scripts/setup --test installs chromium)")
    return playwright_chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS + (extra_args or [])
    )


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    """The Playwright driver for a test module (one per thread: tests launch from it)."""
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """One headless Chromium for a test module."""
    chromium = launch(playwright.chromium)
    yield chromium
    chromium.close()


@pytest.fixture
def new_page(browser: Browser) -> Iterator[NewPage]:
    """Make pages, each in its own browser context (its own person); close them after."""
    contexts: list[BrowserContext] = []

    def make(width: int = 1280, height: int = 800, dark: bool = False) -> Page:
        context = browser.new_context(
            viewport={"width": width, "height": height},
            color_scheme="dark" if dark else "light",
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        errors: list[str] = []
        PAGE_ERRORS[page] = errors
        page.on("pageerror", lambda error: errors.append(str(error)))
        return page

    yield make
    for context in contexts:
        context.close()


def join(
    page: Page,
    server: DaphneProcess,
    room: str,
    password: str,
    *,
    ready: bool = True,
    load: bool = True,
) -> None:
    """Open the page (unless `load` is False), type the room and password, press Join,
    and wait until ready to send."""
    if load:
        page.goto(server.http_url + "/")
    expect(page.locator("#app")).to_have_attribute("data-state", "entrance")
    page.get_by_label("Room", exact=True).fill(room)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Join", exact=True).click()
    if ready:
        expect(page.locator("#app")).to_have_attribute("data-state", "ready")


def send(page: Page, text: str) -> None:
    """Type a message and press Enter, then wait until the server has echoed it."""
    box = page.get_by_role("textbox", name="Message")
    box.fill(text)
    box.press("Enter")
    expect(box).to_have_value("")
    expect(page.locator(".msg.own .msg-mark").last).to_have_attribute("data-state", "sent")


def received(page: Page) -> list[str]:
    """The texts of every message from others in the log, in order."""
    return page.get_by_role("log").locator(".msg:not(.own) .msg-text").all_text_contents()


def wait_for_message(page: Page, text: str) -> None:
    """Wait until a message from somebody else with exactly this text is in the log."""
    page.wait_for_function(
        """(want) => [...document.querySelectorAll('#messages .msg:not(.own) .msg-text')]
            .some((p) => p.textContent === want)""",
        arg=text,
        timeout=TIMEOUT_MS,
    )


def member_states(page: Page) -> list[str]:
    """The handshake state of every member in the Members list, in list order."""
    items = page.get_by_role("list", name="Members").get_by_role("listitem")
    return [item.get_attribute("data-state") or "" for item in items.all()]


def wait_members(page: Page, states: list[str]) -> None:
    """Wait until the Members list holds exactly these states (in any order; folded or not)."""
    page.wait_for_function(
        """(want) => {
            const got = [...document.querySelectorAll('#members > li')]
                .map((li) => li.dataset.state).sort();
            return JSON.stringify(got) === JSON.stringify(want);
        }""",
        arg=sorted(states),
        timeout=TIMEOUT_MS,
    )


def unique_room(tag: str) -> str:
    """A fresh room name for one test, so tests never share a room."""
    return f"{tag} {os.urandom(6).hex()}"
