"""Integration tests against real daphne processes: embedded default and two workers on Redis.

Every test runs on both back ends. On Redis, the members of a room alternate
between the two daphne processes, so routing, ordering and presence are checked
across processes.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
import websockets

from presence.sync import sync_diff
from tests.support.wsclient import RawClient, joined_clients, random_room_id

UrlFor = Callable[[str, int], str]


@pytest.fixture(params=["embedded", "redis"])
def url_for(request: pytest.FixtureRequest) -> UrlFor:
    """Return url_for(room_id, member_index): on Redis, members alternate between workers."""
    if request.param == "embedded":
        server = request.getfixturevalue("embedded_server")
        return lambda room_id, index: server.ws_url(room_id)
    servers = request.getfixturevalue("redis_servers").servers
    return lambda room_id, index: servers[index % 2].ws_url(room_id)


async def room_of(url_for: UrlFor, count: int) -> tuple[str, list[RawClient]]:
    """Join ``count`` raw clients to a fresh room, spread over the workers."""
    room_id = random_room_id()
    clients = []
    for index in range(count):
        client = await RawClient.connect(url_for(room_id, index))
        await client.join()
        clients.append(client)
    for index, client in enumerate(clients):
        for _ in range(count - index - 1):
            await client.recv_type("presence")
    return room_id, clients


async def close_all(clients: list[RawClient]) -> None:
    """Close every client."""
    await asyncio.gather(*(client.close() for client in clients))


async def test_concurrent_broadcasts_arrive_in_one_order_everywhere(url_for: UrlFor) -> None:
    """Four members broadcast at once; all see every message once, in seq order, the same order."""
    _, clients = await room_of(url_for, 4)
    per_sender = 25
    await asyncio.gather(
        *(
            client.send({"type": "broadcast", "body": f"{index}:{n}"})
            for n in range(per_sender)
            for index, client in enumerate(clients)
        )
    )
    total = per_sender * len(clients)
    orders = []
    for client in clients:
        frames = [await client.recv_type("message") for _ in range(total)]
        assert [frame["seq"] for frame in frames] == list(range(1, total + 1))
        orders.append([frame["body"] for frame in frames])
        assert await settled(client, clients, 0.2) == []
    assert all(order == orders[0] for order in orders)
    senders = {client.member_id: index for index, client in enumerate(clients)}
    for frame in [f for f in clients[0].received if f["type"] == "message"]:
        assert frame["body"].startswith(f"{senders[frame['from']]}:")
    await close_all(clients)


async def test_direct_crosses_workers_to_its_target_only(url_for: UrlFor) -> None:
    """A direct frame reaches its target on any worker, and nobody else."""
    _, clients = await room_of(url_for, 3)
    a, b, c = clients
    await a.send({"type": "direct", "to": b.member_id, "body": "for b"})
    frame = await b.recv_type("direct")
    assert frame == {"type": "direct", "from": a.member_id, "body": "for b"}
    assert await settled(c, clients) == [] and await settled(a, clients, 0.1) == []
    await close_all(clients)


async def test_presence_welcome_plus_diffs_equals_fresh_welcome(url_for: UrlFor) -> None:
    """An observer's welcome state with every diff applied equals what a newcomer is told."""
    room_id = random_room_id()
    observer = await RawClient.connect(url_for(room_id, 0))
    await observer.join()
    state = observer.welcome["members"]
    others = []
    for index in range(1, 6):
        client = await RawClient.connect(url_for(room_id, index))
        await client.join()
        others.append(client)
    await others[1].close()
    await others[3].close()
    for _ in range(7):
        diff = await observer.recv_type("presence")
        state = sync_diff(state, diff["joins"], diff["leaves"])
    newcomer = await RawClient.connect(url_for(room_id, 1))
    fresh = (await newcomer.join())["members"]
    fresh.pop(newcomer.member_id)
    assert state == fresh and len(fresh) == 4
    await close_all([observer, others[0], others[2], others[4], newcomer])


def repeats_a_known_join(frame: dict[str, Any], known: set[str]) -> bool:
    """Say whether a frame only repeats joins of members already known (idempotent, harmless).

    Across workers a member's join diff can reach a newer member after that member's
    welcome already listed it; presence joins are idempotent, as in Phoenix.
    """
    return (
        frame.get("type") == "presence"
        and not frame.get("leaves")
        and set(frame.get("joins", {})) <= known
    )


async def settled(
    client: RawClient, members: list[RawClient], seconds: float = 0.3
) -> list[dict[str, Any]]:
    """Frames arriving within ``seconds``, less repeated joins of ``members``."""
    known = {member.member_id for member in members}
    return [f for f in await client.quiet(seconds) if not repeats_a_known_join(f, known)]


def _error_cases(member_id: str) -> list[tuple[str, str]]:
    key = "A" * 43
    return [
        ("not json", "bad_frame"),
        ("[]", "bad_frame"),
        ('{"type":"broadcast"}', "bad_frame"),
        ('{"type":"broadcast","body":7}', "bad_frame"),
        ('{"type":"direct","to":"' + member_id + '"}', "bad_frame"),
        ('{"type":"frobnicate"}', "unknown_type"),
        ('{"type":"join","v":1,"key":"' + key + '"}', "already_joined"),
        ('{"type":"direct","to":"' + "Z" * 22 + '","body":"x"}', "no_such_member"),
        (json.dumps({"type": "broadcast", "body": "x" * 70_000}), "frame_too_large"),
    ]


async def test_every_error_is_answered_and_others_receive_nothing(url_for: UrlFor) -> None:
    """Each bad frame gets its code; the socket stays usable; other members see nothing."""
    _, clients = await room_of(url_for, 3)
    offender, *others = clients
    for text, code in _error_cases(others[0].member_id):
        await offender.send(text)
        error = await offender.recv()
        assert error["type"] == "error" and error["code"] == code, text[:40]
        assert error["message"]
    for other in others:
        assert await settled(other, clients) == []
    await offender.send({"type": "ping"})
    assert (await offender.recv())["type"] == "pong"
    await offender.send({"type": "broadcast", "body": "still here"})
    assert (await others[1].recv_type("message"))["body"] == "still here"
    await close_all(clients)


async def test_errors_before_join(url_for: UrlFor) -> None:
    """Before joining: not_joined for routing, bad_frame for a bad join that can be corrected."""
    room_id, clients = await room_of(url_for, 2)
    stranger = await RawClient.connect(url_for(room_id, 0))
    cases = [
        ('{"type":"broadcast","body":"x"}', "not_joined"),
        ('{"type":"direct","to":"' + clients[0].member_id + '","body":"x"}', "not_joined"),
        ('{"type":"join","v":2,"key":"' + "A" * 43 + '"}', "bad_frame"),
        ('{"type":"join","v":1,"key":"short"}', "bad_frame"),
    ]
    for text, code in cases:
        await stranger.send(text)
        assert (await stranger.recv())["code"] == code
    for client in clients:
        assert await settled(client, clients) == []
    welcome = await stranger.join()
    assert len(welcome["members"]) == 3
    await close_all([*clients, stranger])


async def test_binary_frame_is_a_bad_frame(url_for: UrlFor) -> None:
    """A binary frame gets bad_frame and harms nobody."""
    _, clients = await room_of(url_for, 2)
    await clients[0].ws.send(b"\x00\x01")
    assert (await clients[0].recv())["code"] == "bad_frame"
    assert await settled(clients[1], clients) == []
    await close_all(clients)


@pytest.mark.parametrize("room_path", ["short", "a" * 23, "a" * 21 + "%21"])
async def test_malformed_room_id_is_refused_at_handshake(url_for: UrlFor, room_path: str) -> None:
    """The WebSocket handshake fails for a room id that is not 22 base64url characters."""
    url = url_for("a" * 22, 0).replace("a" * 22, room_path)
    with pytest.raises(websockets.InvalidStatus):
        await websockets.connect(url, open_timeout=5)


async def test_foreign_origin_is_refused(url_for: UrlFor) -> None:
    """A browser page from another site cannot open a room socket; this site can."""
    url = url_for(random_room_id(), 0)
    with pytest.raises(websockets.InvalidStatus):
        await websockets.connect(url, origin="http://evil.example", open_timeout=5)
    host = url.split("/")[2]
    ws = await websockets.connect(url, origin=f"http://{host}", open_timeout=5)
    await ws.close()


async def test_room_sequence_continues_for_later_joiners(url_for: UrlFor) -> None:
    """welcome.seq is the room's last seq, and a later joiner gets only later messages."""
    room_id, clients = await room_of(url_for, 1)
    for n in range(3):
        await clients[0].send({"type": "broadcast", "body": str(n)})
        await clients[0].recv_type("message")
    late = await RawClient.connect(url_for(room_id, 1))
    assert (await late.join())["seq"] == 3
    await clients[0].send({"type": "broadcast", "body": "after"})
    frame: dict[str, Any] = await late.recv_type("message")
    assert frame["seq"] == 4 and frame["body"] == "after"
    await close_all([*clients, late])


async def test_joined_clients_helper_works_on_one_url(url_for: UrlFor) -> None:
    """Members that joined through one worker all see one another's joins."""
    clients = await joined_clients(url_for(random_room_id(), 0), 3)
    assert len(clients[-1].welcome["members"]) == 3
    await close_all(clients)
