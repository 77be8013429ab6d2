"""Consumer tests with Channels' WebsocketCommunicator (no network, embedded store)."""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import override_settings

from chatproject.asgi import application
from rooms.hub import reset_hub
from tests.support.wsclient import random_room_id


def key() -> str:
    """A random public key in base64url."""
    return base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()


@pytest.fixture(autouse=True)
async def fresh_hub() -> AsyncIterator[None]:
    """Give each test its own hub and stop its tasks afterwards."""
    yield
    await reset_hub()


async def connect(room_id: str, headers: list[tuple[bytes, bytes]] | None = None) -> Any:
    """Open a communicator to a room and return it."""
    communicator = WebsocketCommunicator(application, f"/ws/rooms/{room_id}/", headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def joined(room_id: str) -> tuple[Any, dict[str, Any]]:
    """Connect and join; return the communicator and its welcome."""
    communicator = await connect(room_id)
    await communicator.send_json_to({"type": "join", "v": 1, "key": key()})
    welcome = await communicator.receive_json_from()
    assert welcome["type"] == "welcome"
    return communicator, welcome


async def test_first_member_creates_room_and_gets_welcome() -> None:
    """The first join creates the room: welcome lists only the joiner, seq 0, a token."""
    communicator, welcome = await joined(random_room_id())
    assert welcome["v"] == 1 and welcome["seq"] == 0 and welcome["resumed"] is False
    assert len(welcome["you"]) == 22 and len(welcome["resume"]) >= 22
    assert set(welcome["members"]) == {welcome["you"]}
    assert welcome["members"][welcome["you"]]["color"] == welcome["color"]
    await communicator.disconnect()


async def test_broadcast_reaches_everyone_with_seq_and_echo() -> None:
    """A broadcast is stamped seq 1, 2, ... and reaches every member, the sender included."""
    room = random_room_id()
    a, _ = await joined(room)
    b, welcome_b = await joined(room)
    assert (await a.receive_json_from())["joins"].keys() == {welcome_b["you"]}
    for body in ("one", "two"):
        await b.send_json_to({"type": "broadcast", "body": body})
    for member in (a, b):
        frames = [await member.receive_json_from() for _ in range(2)]
        assert [(f["seq"], f["body"], f["from"]) for f in frames] == [
            (1, "one", welcome_b["you"]),
            (2, "two", welcome_b["you"]),
        ]
    await a.disconnect()
    assert (await b.receive_json_from())["type"] == "presence"
    await b.disconnect()


async def test_colours_are_distinct_within_a_room() -> None:
    """Members of one room get different colours."""
    room = random_room_id()
    members = [await joined(room) for _ in range(5)]
    colours = {welcome["color"] for _, welcome in members}
    assert len(colours) == 5
    for communicator, _ in members:
        await communicator.disconnect()


async def test_direct_reaches_only_its_target() -> None:
    """A direct frame goes to its addressee alone, stamped with the sender's id."""
    room = random_room_id()
    a, welcome_a = await joined(room)
    b, welcome_b = await joined(room)
    c, _ = await joined(room)
    await a.receive_json_from(), await a.receive_json_from(), await b.receive_json_from()
    await c.send_json_to({"type": "direct", "to": welcome_b["you"], "body": "psst"})
    frame = await b.receive_json_from()
    assert frame["type"] == "direct" and frame["body"] == "psst"
    assert frame["from"] != welcome_a["you"]
    assert await a.receive_nothing(0.2)
    for communicator in (a, b, c):
        await communicator.disconnect()


@override_settings(SOTTO={**settings.SOTTO, "ROOM_CAPACITY": 2})
async def test_full_room_refuses_with_room_full_and_4003() -> None:
    """A join beyond capacity gets room_full and close 4003; members see nothing."""
    room = random_room_id()
    a, _ = await joined(room)
    b, _ = await joined(room)
    await a.receive_json_from()
    third = await connect(room)
    await third.send_json_to({"type": "join", "v": 1, "key": key()})
    error = await third.receive_json_from()
    assert error["type"] == "error" and error["code"] == "room_full"
    assert (await third.receive_output())["code"] == 4003
    assert await a.receive_nothing(0.2) and await b.receive_nothing(0.2)
    await a.disconnect()
    await b.disconnect()


@override_settings(
    SOTTO={**settings.SOTTO, "BROADCAST_RATE": 1.0, "BROADCAST_BURST": 2.0, "RATE_CLOSE_AFTER": 0.3}
)
async def test_flooding_is_rate_limited_then_closed_4029() -> None:
    """Over the limit a frame is dropped with rate_limited; continued excess closes 4029."""
    room = random_room_id()
    flooder, _ = await joined(room)
    other, _ = await joined(room)
    await flooder.receive_json_from()
    for _ in range(3):
        await flooder.send_json_to({"type": "broadcast", "body": "x"})
    codes = [(await flooder.receive_json_from()).get("code") for _ in range(3)]
    assert codes.count("rate_limited") == 1
    assert [(await other.receive_json_from())["seq"] for _ in range(2)] == [1, 2]
    import asyncio

    closed = None
    for _ in range(40):
        await flooder.send_json_to({"type": "broadcast", "body": "x"})
        await asyncio.sleep(0.02)
        output = await flooder.receive_output(1)
        if output["type"] == "websocket.close":
            closed = output
            break
    assert closed is not None and closed["code"] == 4029
    leave = await other.receive_json_from()
    assert leave["type"] == "presence" and leave["leaves"]
    await other.disconnect()


async def test_foreign_origin_is_refused_and_same_origin_allowed() -> None:
    """A browser from another site is refused; the site itself and no-Origin clients pass."""
    room = random_room_id()
    foreign = WebsocketCommunicator(
        application,
        f"/ws/rooms/{room}/",
        headers=[(b"origin", b"http://evil.example"), (b"host", b"127.0.0.1:8000")],
    )
    connected, _ = await foreign.connect()
    assert not connected
    site = [(b"origin", b"http://127.0.0.1:8000"), (b"host", b"127.0.0.1:8000")]
    same = await connect(room, headers=site)
    await same.disconnect()


@pytest.mark.parametrize("path", ["/ws/rooms/short/", "/ws/rooms/" + "a" * 21 + "!/", "/ws/other/"])
async def test_malformed_room_id_handshake_is_refused(path: str) -> None:
    """A room id that is not 22 base64url characters never gets a socket."""
    communicator = WebsocketCommunicator(application, path)
    connected, _ = await communicator.connect()
    assert not connected
