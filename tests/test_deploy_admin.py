"""The operator's admin in the deployed topology: after a chat it shows counts, never content.

Two members chat through Caddy over wss (two workers, Redis, PostgreSQL); then a
real Chromium logs into the admin through the same proxy and reads the room's row
and the site totals. Neither the admin pages, the database dump nor any server log
may contain the room name, a message body or a direct body.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
import secrets
import ssl
import time
from collections.abc import Iterator

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

from frontend.bundles import MANIFEST_PATH
from sotto.roomid import room_id as room_id_of
from tests.browser_support import TIMEOUT_MS, launch
from tests.deploy_stack import DOMAIN, Stack, manage, start_stack
from tests.support.servers import scaled
from tests.support.wsclient import RawClient

pytestmark = [pytest.mark.redis, pytest.mark.browser, pytest.mark.slow]

ROOM_NAME = "admin sees counts " + secrets.token_hex(4)
BODIES = [f"broadcast-canary-{secrets.token_hex(6)}" for _ in range(3)]
DIRECT_BODY = f"direct-canary-{secrets.token_hex(6)}"
SECRETS = [ROOM_NAME, *BODIES, DIRECT_BODY]
OPERATOR = ("operator", "correct horse battery staple 42")


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    """The whole deployment with a first admin user, created as docs/deploy.md says."""
    deployment = start_stack(workers=2)
    try:
        manage(
            {**deployment.env, "DJANGO_SUPERUSER_PASSWORD": OPERATOR[1]},
            "createsuperuser",
            "--noinput",
            "--username",
            OPERATOR[0],
            "--email",
            "ops@example.org",
        )
        yield deployment
    finally:
        deployment.stop()


def leaf_spki_pin(stack: Stack) -> str:
    """Return the base64 SHA-256 of the proxy's certificate key, verified against its root."""
    context = stack.caddy.ssl_context()
    with ssl.create_connection(("127.0.0.1", stack.caddy.https_port)) as raw:
        with context.wrap_socket(raw, server_hostname=DOMAIN) as tls:
            der = tls.getpeercert(binary_form=True)
    assert der is not None
    spki = (
        x509.load_der_x509_certificate(der)
        .public_key()
        .public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    )
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


async def chat(stack: Stack) -> tuple[list[RawClient], int]:
    """Two members join, send three broadcasts and a direct; return them (still open) and bytes."""
    url = stack.ws_url(room_id_of(ROOM_NAME))
    context = stack.caddy.ssl_context()
    alice = await RawClient.connect(url, ssl=context)
    bob = await RawClient.connect(url, ssl=context)
    await alice.join()
    await bob.join()
    sent = 0
    for body in BODIES:
        frame = {"type": "broadcast", "body": body}
        await alice.send(frame)
        sent += len(json.dumps(frame))
        assert (await bob.recv_type("message"))["body"] == body
    direct = {"type": "direct", "to": alice.member_id, "body": DIRECT_BODY}
    await bob.send(direct)
    sent += len(json.dumps(direct))
    assert (await alice.recv_type("direct"))["body"] == DIRECT_BODY
    return [alice, bob], sent


def wait_for_flush(stack: Stack, room_id: str, messages: int) -> None:
    """Wait until the workers' statistics flush has written the room's counts."""
    deadline = time.monotonic() + scaled(15)
    query = f"SELECT messages, current_members FROM rooms_room WHERE room_id = '{room_id}'"
    while stack.postgres.psql(query).strip() != f"{messages}|2":
        assert time.monotonic() < deadline, stack.postgres.psql(query)
        time.sleep(0.1)


def cell(page: Page, row: str, field: str) -> str:
    """Return the text of one column of one row of the admin's room list."""
    return page.locator(f"{row} .field-{field}").inner_text().strip()


def assert_no_secrets(text: str, where: str) -> None:
    """Fail if the room name or any body appears in ``text``."""
    for secret in SECRETS:
        assert secret not in text, f"{where} contains {secret!r}"


def open_pinned_page(playwright: Playwright, stack: Stack) -> tuple[Browser, Page, list[str]]:
    """Launch Chromium trusting only the proxy's key; return it, a page and its CSP refusals."""
    pin = leaf_spki_pin(stack)
    browser = launch(playwright.chromium, [f"--ignore-certificate-errors-spki-list={pin}"])
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    refusals: list[str] = []
    page.on("console", lambda msg: refusals.append(msg.text) if "Refused" in msg.text else None)
    page.on("pageerror", lambda error: refusals.append(f"page error: {error}"))
    return browser, page, refusals


@pytest.mark.skipif(not MANIFEST_PATH.exists(), reason="bundles not built (npm run build)")
def test_the_page_loads_in_production_through_the_proxy(stack: Stack) -> None:
    """With DEBUG off, hashed static files and the proxy, the page starts with no CSP refusal."""
    with sync_playwright() as playwright:
        browser, page, refusals = open_pinned_page(playwright, stack)
        response = page.goto(f"{stack.caddy.base_url}/")
        assert response is not None and response.status == 200
        expect(page.locator("#app")).to_have_attribute("data-state", "entrance")
        browser.close()
    assert refusals == []


def test_admin_after_a_chat_shows_counts_and_no_content(stack: Stack) -> None:
    """The operator logs in through the proxy and sees the room's counts and totals, no content."""
    room_id = room_id_of(ROOM_NAME)
    loop = asyncio.new_event_loop()
    clients, sent_bytes = loop.run_until_complete(chat(stack))
    try:
        wait_for_flush(stack, room_id, len(BODIES))
        with sync_playwright() as playwright:
            browser, page, refusals = open_pinned_page(playwright, stack)
            seen: list[str] = []

            page.goto(f"{stack.caddy.base_url}/admin/")
            page.get_by_label("Username").fill(OPERATOR[0])
            page.get_by_label("Password").fill(OPERATOR[1])
            page.get_by_role("button", name="Log in").click()
            page.locator("#rooms-room").get_by_role("link", name="Rooms").click()
            page.wait_for_url(re.compile(r"/admin/rooms/room/$"))
            seen.append(page.content())

            row = f"#result_list tr:has(th.field-room_id:has-text('{room_id}'))"
            assert cell(page, row, "current_members") == "2"
            assert cell(page, row, "peak_members") == "2"
            assert cell(page, row, "messages") == str(len(BODIES))
            assert cell(page, row, "bytes_relayed") == str(sent_bytes)
            totals = {
                name: page.locator(f"[data-total='{name}']").inner_text()
                for name in ("rooms-now", "members-now", "messages-last-hour")
            }
            assert totals == {
                "rooms-now": "1",
                "members-now": "2",
                "messages-last-hour": str(len(BODIES)),
            }

            page.get_by_role("link", name="Active (members now)").click()
            page.wait_for_url(re.compile(r"activity=active"))
            expect(page.locator("#result_list tbody tr")).to_have_count(1)
            seen.append(page.content())
            page.get_by_role("link", name="Idle (nobody now)").click()
            page.wait_for_url(re.compile(r"activity=idle"))
            expect(page.get_by_text("0 rooms")).to_be_visible()
            page.goto(f"{stack.caddy.base_url}/admin/rooms/room/?activity=active")
            page.get_by_role("link", name=room_id).click()
            page.wait_for_url(re.compile(r"/admin/rooms/room/\d+/change/"))
            expect(page.locator(".field-messages .readonly")).to_have_text(str(len(BODIES)))
            seen.append(page.content())
            page.goto(f"{stack.caddy.base_url}/admin/")
            seen.append(page.content())
            browser.close()

        for index, html in enumerate(seen):
            assert_no_secrets(html, f"admin page {index}")
        assert refusals == [], refusals
        assert_no_secrets(stack.postgres.dump(), "the database")
        for worker in stack.workers:
            assert_no_secrets(worker.log_text(), "a worker log")
        assert_no_secrets(stack.caddy.log_text(), "the proxy log")
    finally:
        for client in clients:
            loop.run_until_complete(client.close())
        loop.close()
