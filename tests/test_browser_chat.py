"""End to end in real Chromium against a real daphne: people chat, a wrong password is
caught and shown, a leave rotates keys, and long or unusual messages arrive intact."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser_support import (
    PAGE_ERRORS,
    NewPage,
    join,
    received,
    send,
    unique_room,
    wait_for_message,
    wait_members,
)
from tests.support.servers import DaphneProcess

pytestmark = pytest.mark.browser

PASSWORD = "otter maple quietly 42"


def test_two_people_chat_both_ways(embedded_server: DaphneProcess, new_page: NewPage) -> None:
    """Two browsers verify each other and exchange messages in both directions."""
    room = unique_room("chat")
    alice, bob = new_page(), new_page()
    join(alice, embedded_server, room, PASSWORD)
    expect(alice.get_by_role("log")).to_contain_text("Write something!")
    join(bob, embedded_server, room, PASSWORD)
    wait_members(alice, ["you", "verified"])
    wait_members(bob, ["you", "verified"])
    expect(alice.locator("#member-count")).to_have_text("2")

    send(alice, "Hello Bob, can you read this?")
    wait_for_message(bob, "Hello Bob, can you read this?")
    send(bob, "Loud and clear.\nAnd a second line.")
    wait_for_message(alice, "Loud and clear.\nAnd a second line.")

    last = alice.get_by_role("log").locator(".msg:not(.own)").last
    expect(last.locator(".msg-mark")).to_have_text(re.compile("verified"))
    expect(last.locator(".msg-time")).to_have_attribute("datetime", re.compile(r"^\d{4}-"))
    assert received(bob) == ["Hello Bob, can you read this?"]
    assert PAGE_ERRORS[alice] == PAGE_ERRORS[bob] == []


def test_composer_keys_and_byte_counter(embedded_server: DaphneProcess, new_page: NewPage) -> None:
    """Shift+Enter makes a new line, Enter sends, and the counter counts UTF-8 bytes."""
    page = new_page()
    join(page, embedded_server, unique_room("composer"), PASSWORD)
    box = page.get_by_role("textbox", name="Message")
    counter = page.locator("#bytes-left")
    expect(counter).to_have_text("16\u202f384 bytes left")
    box.type("é")
    box.press("Shift+Enter")
    box.type("€")
    expect(box).to_have_value("é\n€")
    expect(counter).to_have_text("16\u202f378 bytes left")  # 2 + 1 + 3 bytes
    box.fill("x" * 16_385)
    expect(counter).to_have_text("1 byte too long")
    expect(page.get_by_role("button", name="Send")).to_be_disabled()
    box.fill("short again")
    box.press("Enter")
    expect(box).to_have_value("")
    expect(page.locator(".msg.own .msg-text")).to_have_text("short again")


def test_wrong_password_is_told_and_seen(embedded_server: DaphneProcess, new_page: NewPage) -> None:
    """A third person with a wrong password is told so; the others see the failed attempt."""
    room = unique_room("wrong")
    alice, bob, mallory = new_page(), new_page(), new_page()
    join(alice, embedded_server, room, PASSWORD)
    join(bob, embedded_server, room, PASSWORD)
    join(mallory, embedded_server, room, "otter maple quietly 43", ready=False)

    alert = mallory.get_by_role("alert")
    expect(alert).to_contain_text("Wrong password")
    expect(alert).to_contain_text("Nobody in this room accepted your password")
    wait_members(mallory, ["you", "failed", "failed"])
    expect(mallory.get_by_role("textbox", name="Message")).to_be_disabled()
    expect(mallory.locator("#app")).to_have_attribute("data-state", "locked")
    for page in (alice, bob):
        wait_members(page, ["you", "verified", "failed"])
        expect(page.get_by_role("log")).to_contain_text("tried to join with a wrong password")
        failed = page.get_by_role("list", name="Members").locator("li[data-state=failed]")
        expect(failed).to_contain_text("wrong password")

    # The honest members still talk; the failed one reads nothing.
    send(alice, "Only for people who know the password")
    wait_for_message(bob, "Only for people who know the password")
    mallory.wait_for_timeout(300)
    assert received(mallory) == []

    # "Try another password" takes the person back to the entrance, room name kept.
    mallory.get_by_role("button", name="Try another password").click()
    expect(mallory.get_by_label("Room", exact=True)).to_have_value(room)
    expect(mallory.get_by_label("Password", exact=True)).to_be_focused()


def test_leave_rotates_keys_and_the_rest_keep_talking(
    embedded_server: DaphneProcess, new_page: NewPage
) -> None:
    """When one of three leaves, the others see it, rotate keys and keep talking."""
    room = unique_room("leave")
    alice, bob, carol = new_page(), new_page(), new_page()
    for page in (alice, bob, carol):
        join(page, embedded_server, room, PASSWORD)
    for page in (alice, bob, carol):
        wait_members(page, ["you", "verified", "verified"])
    send(carol, "Bye for now")
    wait_for_message(alice, "Bye for now")

    carol.get_by_role("button", name="Leave").click()
    expect(carol.get_by_label("Room", exact=True)).to_be_visible()
    assert carol.locator("#messages .msg").count() == 0  # the conversation is wiped
    assert carol.locator("#members li").count() == 0

    for page in (alice, bob):
        wait_members(page, ["you", "verified"])
        expect(page.get_by_role("log")).to_contain_text("left.")
        expect(page.get_by_role("log")).to_contain_text("Keys rotated")
    send(alice, "Carol cannot read this")
    wait_for_message(bob, "Carol cannot read this")
    send(bob, "Neither this")
    wait_for_message(alice, "Neither this")


def test_emoji_and_a_long_message_arrive_intact(
    embedded_server: DaphneProcess, new_page: NewPage
) -> None:
    """240 emoji (skin tones and ZWJ sequences) and a 10 KiB message arrive byte for byte."""
    room = unique_room("unicode")
    alice, bob = new_page(), new_page()
    join(alice, embedded_server, room, PASSWORD)
    join(bob, embedded_server, room, PASSWORD)
    wait_members(alice, ["you", "verified"])
    emoji = "".join(["😀", "👍🏽", "👩‍👩‍👧", "🇮🇹", "❤️", "🧑🏿‍🚀"][i % 6] for i in range(240))
    send(alice, emoji)
    wait_for_message(bob, emoji)
    long_text = ("Ünïcødé & <b>not html</b> \u202e " * 400)[: 10 * 1024]
    assert len(long_text.encode()) > 10 * 1024
    send(bob, long_text)
    wait_for_message(alice, long_text)
    # Markup stays text: nothing was parsed into elements.
    assert alice.locator("#messages b").count() == 0
