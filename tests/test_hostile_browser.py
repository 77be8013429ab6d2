"""The page in real Chromium against the malicious relay: what the person is shown.

The page is loaded through tests/hostile/relay.py (which forwards plain HTTP), so
its WebSocket, built from the page's own origin, passes through the relay's rules.
Each test is one attack from tests/test_hostile_relay.py whose outcome the page
shows: a member marked failed, a notice for a dropped or missing message, a text
shown exactly once.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from sotto.roomid import room_id
from sotto.session import RoomSession
from sotto.signing import SigningKey
from tests.browser_support import (
    NewPage,
    join,
    received,
    send,
    unique_room,
    wait_for_message,
    wait_members,
)
from tests.hostile.impostor import HIGHEST_ID, Impostor
from tests.hostile.members import scalar
from tests.hostile.relay import (
    Frame,
    Link,
    RelayThread,
    drop,
    duplicate,
    flip_byte,
    substitute_key,
    tamper_body,
)
from tests.support.servers import DaphneProcess

pytestmark = pytest.mark.browser

PASSWORD = "hostile page 5150"


@pytest.fixture
def relay(embedded_server: DaphneProcess) -> Iterator[RelayThread]:
    """A malicious relay in front of the embedded daphne, on its own thread."""
    with RelayThread(embedded_server.http_url) as relay:
        yield relay


def member_id(relay: RelayThread, index: int) -> str:
    """The member id of the index-th WebSocket through the relay (in connection order)."""
    link = relay.relay.links[index]
    assert link.member_id is not None
    return link.member_id


def log_of(page: Page) -> str:
    """Everything in the page's message log."""
    return page.get_by_role("log").inner_text()


def test_key_substitution_shows_the_peer_as_failed(relay: RelayThread, new_page: NewPage) -> None:
    """A member's key swapped in another's welcome: both pages mark the other as failed."""
    room = unique_room("hostile key")
    alice, bob = new_page(), new_page()
    join(alice, relay, room, PASSWORD)
    alice_id = member_id(relay, 0)
    fake = SigningKey(bytes(range(32))).public_key
    relay.relay.down_rules.append(
        substitute_key(lambda link, f: link.member_id != alice_id, lambda: alice_id, fake)
    )
    join(bob, relay, room, PASSWORD, ready=False)
    wait_members(alice, ["you", "failed"])
    wait_members(bob, ["you", "failed"])
    # Bob is told nobody accepted his password (what the relay's swap looks like to him).
    expect(bob.locator("#app")).to_have_attribute("data-state", "locked")
    expect(bob.locator("body")).to_contain_text("Nobody in this room accepted your password")
    send(alice, "not for the relay")
    expect(bob.get_by_role("log")).to_contain_text("has not proved the password")
    assert received(bob) == []


def test_impostor_with_a_guessed_password_is_shown_failed(
    relay: RelayThread, new_page: NewPage
) -> None:
    """A member the relay invents, with a wrong password, is listed as failed and named so."""
    room = unique_room("hostile impostor")
    page = new_page()
    join(page, relay, room, PASSWORD)
    victim = relay.relay.links[0]
    session = RoomSession(room, "a guess", w=scalar(room, "a guess"))

    async def announce() -> Impostor:
        impostor = Impostor(relay.relay, victim, session, HIGHEST_ID)
        await impostor.announce()
        return impostor

    impostor = relay.run(announce())
    wait_members(page, ["you", "failed"])
    expect(page.get_by_role("log")).to_contain_text("tried to join with a wrong password")
    relay.run(impostor.say("let me in"))
    expect(page.get_by_role("log")).to_contain_text("has not proved the password")
    assert received(page) == []
    assert room_id(room) == victim.room_id


def messages_between(relay: RelayThread, sender: int, receiver: int) -> object:
    """A predicate: `message` frames from the sender-th member on the receiver-th link."""
    return lambda link, f: (
        f.get("type") == "message"
        and link.index == receiver
        and f.get("from") == member_id(relay, sender)
    )


def verified_pair(relay: RelayThread, new_page: NewPage, tag: str) -> tuple[Page, Page]:
    """Two pages in a fresh room through the relay, verified with each other."""
    room = unique_room(tag)
    alice, bob = new_page(), new_page()
    join(alice, relay, room, PASSWORD)
    join(bob, relay, room, PASSWORD)
    wait_members(alice, ["you", "verified"])
    wait_members(bob, ["you", "verified"])
    return alice, bob


def test_tampered_message_is_dropped_and_shown(relay: RelayThread, new_page: NewPage) -> None:
    """A broadcast with a flipped ciphertext bit is not shown; a notice says it was dropped."""
    alice, bob = verified_pair(relay, new_page, "hostile tamper")
    relay.relay.down_rules.append(tamper_body(messages_between(relay, 0, 1), flip_byte("ct")))
    send(alice, "flipped on the way")
    expect(bob.get_by_role("log")).to_contain_text("its signature did not match")
    relay.relay.down_rules.clear()
    send(alice, "intact")
    wait_for_message(bob, "intact")
    assert received(bob) == ["intact"]


def test_dropped_message_is_shown_as_a_gap(relay: RelayThread, new_page: NewPage) -> None:
    """A broadcast the relay loses is reported as missing once the next one arrives."""
    alice, bob = verified_pair(relay, new_page, "hostile gap")
    lose_first = messages_between(relay, 0, 1)
    relay.relay.down_rules.append(drop(lambda link, f: lose_first(link, f) and f["seq"] == 1))
    send(alice, "lost on the way")
    send(alice, "arrives")
    wait_for_message(bob, "arrives")
    expect(bob.get_by_role("log")).to_contain_text("Message 1 never arrived")
    assert received(bob) == ["arrives"]


def test_duplicate_delivery_is_harmless(relay: RelayThread, new_page: NewPage) -> None:
    """Every message delivered twice: each text is shown exactly once."""
    alice, bob = verified_pair(relay, new_page, "hostile dup")
    relay.relay.down_rules.append(duplicate(_messages))
    for text in ("one", "two", "three"):
        send(alice, text)
    wait_for_message(bob, "three")
    send(bob, "and back")
    wait_for_message(alice, "and back")
    assert received(bob) == ["one", "two", "three"]
    assert received(alice) == ["and back"]
    assert alice.locator(".msg.own").count() == 3 and bob.locator(".msg.own").count() == 1


def _messages(link: Link, frame: Frame) -> bool:
    return frame.get("type") == "message"
