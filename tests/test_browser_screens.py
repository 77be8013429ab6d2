"""The room view at 1280 px and 360 px, light and dark: it fits, and its screenshots
are saved (to test-artifacts/ always; to docs/screenshots/ with SOTTO_UPDATE_SCREENSHOTS=1)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser_support import (
    REPO,
    NewPage,
    join,
    send,
    wait_for_message,
    wait_members,
)
from tests.support.servers import DaphneProcess

pytestmark = pytest.mark.browser

PASSWORD = "lantern pebble orchard 7"
ARTIFACTS = REPO / "test-artifacts" / "screenshots"
DOCS = REPO / "docs" / "screenshots"


def fill_room(server: DaphneProcess, new_page: NewPage, viewer: Page, room: str) -> None:
    """Bring two friends and a wrong-password attempt into the viewer's room, and talk.

    Each screenshot uses its own room name (no random suffix, so the header reads well)."""
    friend, other = new_page(), new_page()
    join(friend, server, room, PASSWORD)
    join(other, server, room, PASSWORD)
    send(friend, "Hi! Is this the place for the trip plans?")
    join(viewer, server, room, PASSWORD)
    wait_members(viewer, ["you", "verified", "verified"])
    send(other, "Yes 🙂 I booked the cabin for the 14th.\nTwo nights, lake view.")
    wait_for_message(viewer, "Yes 🙂 I booked the cabin for the 14th.\nTwo nights, lake view.")
    stranger = new_page()
    join(stranger, server, room, "lantern pebble orchard 8", ready=False)
    wait_members(viewer, ["you", "verified", "verified", "failed"])
    send(friend, "Perfect. Who brings the canoe?")
    wait_for_message(viewer, "Perfect. Who brings the canoe?")
    send(viewer, "I will! And snacks 🥨")


def save(page: Page, name: str) -> None:
    """Save a screenshot under test-artifacts/, and under docs/ when asked to update them."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name))
    if os.environ.get("SOTTO_UPDATE_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS / name))


def assert_fits(page: Page, width: int) -> None:
    """Nothing sticks out sideways, and the log, the box and Leave are all on screen."""
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"page is {scroll_width}px wide in a {width}px viewport"
    for locator in (
        page.get_by_role("log"),
        page.get_by_role("textbox", name="Message"),
        page.get_by_role("button", name="Leave"),
    ):
        expect(locator).to_be_in_viewport()


@pytest.mark.parametrize(
    ("width", "height", "dark", "name", "room"),
    [
        (1280, 800, False, "room-1280.png", "Trip to the lake"),
        (360, 740, False, "room-360.png", "Lake trip"),
        (360, 740, True, "room-360-dark.png", "Lake trip, late"),
        (1280, 800, True, "room-1280-dark.png", "Trip to the lake, late"),
    ],
)
def test_room_view_fits_and_is_captured(
    embedded_server: DaphneProcess,
    new_page: NewPage,
    width: int,
    height: int,
    dark: bool,
    name: str,
    room: str,
) -> None:
    """The room view fits the screen at this width and scheme; a screenshot is saved."""
    viewer = new_page(width=width, height=height, dark=dark)
    fill_room(embedded_server, new_page, viewer, room)
    expect(viewer.locator(".msg.own .msg-mark").last).to_have_attribute("data-state", "sent")
    scheme = viewer.evaluate("matchMedia('(prefers-color-scheme: dark)').matches")
    assert scheme is dark
    assert_fits(viewer, width)
    viewer.mouse.move(0, 0)
    save(viewer, name)
    assert Path(ARTIFACTS / name).stat().st_size > 10_000


def test_entrance_is_captured(embedded_server: DaphneProcess, new_page: NewPage) -> None:
    """The entrance fits a phone, explains the password, and a screenshot is saved."""
    page = new_page(width=360, height=740)
    page.goto(embedded_server.http_url + "/#room=Trip%20to%20the%20lake")
    expect(page.get_by_label("Room", exact=True)).to_have_value("Trip to the lake")
    page.get_by_label("Password", exact=True).fill("hunter2")
    expect(page.locator("#password-strength")).to_contain_text("Weak")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    save(page, "entrance-360.png")
