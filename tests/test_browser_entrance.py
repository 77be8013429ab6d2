"""The entrance and the invitation link: the room name travels in the URL fragment, the
password only when the person explicitly asks for it, and never stays in the address bar."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from tests.browser_support import (
    NewPage,
    join,
    unique_room,
    wait_members,
)
from tests.support.servers import DaphneProcess

pytestmark = pytest.mark.browser


def test_room_name_comes_from_the_fragment(
    embedded_server: DaphneProcess, new_page: NewPage
) -> None:
    """`#room=...` fills the Room field and leaves the Password empty."""
    page = new_page()
    page.goto(f"{embedded_server.http_url}/#room={quote('Café crème')}")
    expect(page.get_by_label("Room", exact=True)).to_have_value("Café crème")
    expect(page.get_by_label("Password", exact=True)).to_have_value("")
    expect(page.get_by_label("Password", exact=True)).to_have_attribute("type", "password")


def test_password_from_a_link_is_used_then_removed_from_the_address(
    embedded_server: DaphneProcess, new_page: NewPage
) -> None:
    """A link with the password fills it in, then the address bar keeps only the room."""
    page = new_page()
    room = unique_room("link")
    page.goto(f"{embedded_server.http_url}/#room={quote(room)}&password=tulip%20anchor%2099")
    expect(page.get_by_label("Password", exact=True)).to_have_value("tulip anchor 99")
    expect(page.locator("#join-status")).to_contain_text("came with the link")
    assert "password" not in page.evaluate("location.href")
    assert quote(room) in page.evaluate("location.hash")
    page.get_by_role("button", name="Join").click()
    expect(page.locator("#app")).to_have_attribute("data-state", "ready")
    # Once used, the password is out of the form's fields.
    assert page.evaluate("document.getElementById('room-password').value") == ""


def test_invite_link_includes_the_password_only_when_ticked(
    embedded_server: DaphneProcess, new_page: NewPage
) -> None:
    """The invite link carries the password only after ticking the box, with a warning."""
    page = new_page()
    room = unique_room("invite")
    join(page, embedded_server, room, "walnut harbor 55")
    link = page.locator("#invite-link")
    expect(link).to_contain_text(quote(room))
    expect(link).not_to_contain_text("password")
    warning = page.locator("#include-password-warning")
    expect(warning).to_be_hidden()
    page.get_by_label("include the password in the link").check()
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("Anyone who sees this link can join")
    expect(link).to_contain_text("password=walnut%20harbor%2055")

    # The link works: a second person opens it and gets in without typing anything.
    friend = new_page()
    friend.goto(link.inner_text())
    friend.get_by_role("button", name="Join").click()
    expect(friend.locator("#app")).to_have_attribute("data-state", "ready")
    expect(
        friend.get_by_role("list", name="Members").locator("li[data-state=verified]")
    ).to_have_count(1)


def test_password_strength_note_is_honest(
    embedded_server: DaphneProcess, new_page: NewPage
) -> None:
    """The note says what a weak password risks, and the hint rates what is typed."""
    page = new_page()
    page.goto(embedded_server.http_url + "/")
    note = page.locator("#password-note")
    expect(note).to_contain_text("safe from the server")
    expect(note).to_contain_text("live try")
    password = page.get_by_label("Password", exact=True)
    password.fill("123456")
    expect(page.locator("#password-strength")).to_have_attribute("data-level", "weak")
    password.fill("velvet canyon orbit plume")
    expect(page.locator("#password-strength")).to_have_attribute("data-level", "good")


def test_join_needs_a_room_and_a_password(
    embedded_server: DaphneProcess, new_page: NewPage
) -> None:
    """Pressing Join with an empty field says what is missing and stays on the entrance."""
    page = new_page()
    page.goto(embedded_server.http_url + "/")
    expect(page.locator("#app")).to_have_attribute("data-state", "entrance")
    page.get_by_label("Room", exact=True).fill("   ")
    page.get_by_role("button", name="Join").click()
    expect(page.locator("#join-status")).to_have_text("Please type a room name.")
    page.get_by_label("Room", exact=True).fill("somewhere")
    page.get_by_role("button", name="Join").click()
    expect(page.locator("#join-status")).to_have_text("Please type the room's password.")
    expect(page.locator("#app")).to_have_attribute("data-state", "entrance")


def test_join_uses_what_is_in_the_fields_not_what_was_prepared(
    embedded_server: DaphneProcess, new_page: NewPage
) -> None:
    """A session prepared during a pause is dropped when the password changes afterwards."""
    room = unique_room("prepared")
    alice = new_page()
    join(alice, embedded_server, room, "right horse staple 1")
    page = new_page()
    page.goto(embedded_server.http_url + "/")
    page.get_by_label("Room", exact=True).fill(room)
    page.get_by_label("Password", exact=True).fill("right horse staple 1")
    expect(page.locator("#app")).to_have_attribute("data-prepared", "1")
    page.get_by_label("Password", exact=True).fill("wrong horse staple 1")
    expect(page.locator("#app")).not_to_have_attribute("data-prepared", "1")
    page.get_by_role("button", name="Join").click()
    expect(page.get_by_role("alert")).to_contain_text("Wrong password")
    wait_members(alice, ["you", "failed"])
