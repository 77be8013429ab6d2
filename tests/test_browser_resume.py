"""A server process dies under two chatting browsers: the page says it is reconnecting,
resumes its membership on the restarted process (Redis keeps the room), and the
conversation carries on with the same members and keys."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser_support import (
    PAGE_ERRORS,
    NewPage,
    join,
    send,
    unique_room,
    wait_for_message,
    wait_members,
)
from tests.support.servers import RedisProcess, start_daphne, start_redis

pytestmark = [pytest.mark.browser, pytest.mark.redis]

PASSWORD = "harbor thistle gadget 19"


def test_pages_resume_after_the_server_process_dies(
    redis_server: RedisProcess, new_page: NewPage
) -> None:
    """After SIGKILL and a restart on the same port, both pages resume and keep talking."""
    env = {"REDIS_URL": redis_server.url}
    server = start_daphne(env)
    try:
        room = unique_room("resume")
        alice, bob = new_page(), new_page()
        join(alice, server, room, PASSWORD)
        join(bob, server, room, PASSWORD)
        wait_members(alice, ["you", "verified"])
        send(alice, "before the crash")
        wait_for_message(bob, "before the crash")
        bob_id = bob.locator("#members li[data-state=you]").get_attribute("data-member-id")
        notices = alice.locator("#messages .notice")
        joins_before = notices.filter(has_text="joined.").count()

        server.kill()
        for page in (alice, bob):
            expect(page.locator("#room-status")).to_contain_text("reconnecting")
            expect(page.get_by_role("textbox", name="Message")).to_be_disabled()
        server = start_daphne(env, port=server.port)

        for page in (alice, bob):
            expect(page.get_by_role("log")).to_contain_text("Reconnected.")
            expect(page.get_by_role("textbox", name="Message")).to_be_enabled()
            wait_members(page, ["you", "verified"])
        # The same membership: same id, no new join, no handshake redone.
        assert bob.locator("#members li[data-state=you]").get_attribute("data-member-id") == bob_id
        assert notices.filter(has_text="joined.").count() == joins_before
        assert notices.filter(has_text="left").count() == 0

        send(bob, "after the crash")
        wait_for_message(alice, "after the crash")
        send(alice, "still here")
        wait_for_message(bob, "still here")
        assert PAGE_ERRORS[alice] == PAGE_ERRORS[bob] == []
        for page in (alice, bob):  # leave first, so the server stops without waiting
            page.context.close()
    finally:
        server.stop()


def test_pages_rejoin_as_new_members_when_the_server_forgot_them(new_page: NewPage) -> None:
    """If the server lost the room (process and Redis both restarted), the pages rejoin
    as new members, prove the password again and talk on."""
    redis = start_redis()  # our own: restarting it must not disturb other tests
    env = {"REDIS_URL": redis.url}
    server = start_daphne(env)
    try:
        room = unique_room("rejoin")
        alice, bob = new_page(), new_page()
        join(alice, server, room, PASSWORD)
        join(bob, server, room, PASSWORD)
        wait_members(alice, ["you", "verified"])
        bob_id = bob.locator("#members li[data-state=you]").get_attribute("data-member-id")

        server.kill()
        redis.restart()  # no persistence: every room, token and buffer is gone
        expect(bob.locator("#room-status")).to_contain_text("reconnecting")
        server = start_daphne(env, port=server.port)

        for page in (alice, bob):
            expect(page.get_by_role("log")).to_contain_text("Reconnected as a new member")
            wait_members(page, ["you", "verified"])
        assert bob.locator("#members li[data-state=you]").get_attribute("data-member-id") != bob_id
        send(alice, "fresh keys, same room")
        wait_for_message(bob, "fresh keys, same room")
        assert PAGE_ERRORS[alice] == PAGE_ERRORS[bob] == []
        for page in (alice, bob):
            page.context.close()
    finally:
        server.stop()
        redis.stop()
