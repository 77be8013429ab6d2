"""Python clients against a malicious relay: one test per attack, the outcome in its name.

Every member here is a RoomSession inside sotto.client's asyncio shell, talking to
the real daphne through tests/hostile/relay.py, which tampers with the frames.
"Detected" means the session reported it (Rejected, PeerFailed, Gap,
PeerNotAnswering); "harmless" means every genuine message is read exactly once and
nothing else is. In every test no forged or tampered frame yields a MessageReceived.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from sotto.encoding import b64encode
from sotto.events import (
    Gap,
    Joined,
    KeysRotated,
    MemberJoined,
    MemberLeft,
    MessageReceived,
    PeerFailed,
    PeerNotAnswering,
    PeerVerified,
    Rejected,
)
from sotto.fingerprint import fingerprint
from sotto.roomid import room_id
from sotto.session import RoomSession
from sotto.signing import SigningKey
from tests.hostile.impostor import (
    HIGHEST_ID,
    LOWEST_ID,
    Impostor,
    forged_pake2,
    key_of,
)
from tests.hostile.members import Member, scalar
from tests.hostile.relay import (
    Frame,
    Hold,
    HostileRelay,
    Link,
    SplitView,
    body_kind,
    bump_field,
    drop,
    duplicate,
    flip_byte,
    forge_from,
    rewrite,
    substitute_key,
    tamper_body,
    truncate_field,
    truncate_text,
)
from tests.support.servers import DaphneProcess

PASSWORD = "a shared secret"
WRONG = "a guessed secret"
INVALID_SHARES = json.loads(
    open(os.path.join(os.path.dirname(__file__), "vectors", "spake2_invalid_shares.json")).read()
)["cases"]


class Room:
    """A fresh room behind the relay; members join it in turn."""

    def __init__(self, relay: HostileRelay) -> None:
        """Name a new room."""
        self.relay = relay
        self.name = f"hostile {os.urandom(6).hex()}"
        self.room_id = room_id(self.name)
        self.members: list[Member] = []

    async def join(self, name: str, password: str = PASSWORD) -> Member:
        """Start one member and wait for its welcome."""
        member = Member(name, self.name, password, self.relay.http_url)
        self.members.append(member)
        return await member.start()

    async def verified(self, count: int) -> list[Member]:
        """Join ``count`` members and wait until every pair has verified."""
        members = [await self.join(f"m{i}") for i in range(count)]
        for member in members:
            for other in members:
                if other is not member:
                    await member.wait(verified(other.id))
        return members

    async def close(self) -> None:
        """Stop every member."""
        for member in self.members:
            await member.close()


def verified(member_id: str) -> Callable[[Any], bool]:
    """An event check: this member verified."""
    return lambda e: isinstance(e, PeerVerified) and e.member_id == member_id


def failed(member_id: str, reason: str) -> Callable[[Any], bool]:
    """An event check: the handshake with this member failed for ``reason``."""
    return lambda e: e == PeerFailed(member_id, reason)


def rejected(member_id: str | None, reason: str) -> Callable[[Any], bool]:
    """An event check: a frame of this member was rejected for ``reason``."""
    return lambda e: e == Rejected(member_id, reason)


def messages_to(member: Member, sender: Callable[[], str] | None = None) -> Callable[..., bool]:
    """A predicate: `message` frames on ``member``'s link (from ``sender()`` if given)."""
    return lambda link, f: (
        link.member_id == member.session.member_id
        and f.get("type") == "message"
        and (sender is None or f.get("from") == sender())
    )


def read_texts(member: Member) -> list[str]:
    """Every text the member read from others."""
    return [text for _, text in member.texts()]


@pytest.fixture
async def relay(embedded_server: DaphneProcess) -> AsyncIterator[HostileRelay]:
    """A malicious relay in front of the embedded daphne."""
    relay = await HostileRelay(embedded_server.http_url).start()
    yield relay
    await relay.stop()


@pytest.fixture
async def room(relay: HostileRelay) -> AsyncIterator[Room]:
    """A fresh room behind the relay, its members stopped afterwards."""
    room = Room(relay)
    yield room
    await room.close()


# ----- forged sender ------------------------------------------------------------------------


async def test_forged_from_on_broadcast_is_detected_and_rejected(
    relay: HostileRelay, room: Room
) -> None:
    """A broadcast restamped as another verified member's fails its signature check."""
    a, b, c = await room.verified(3)
    relay.down_rules.append(forge_from(messages_to(c, lambda: b.id), lambda: a.id))
    await b.say("signed by b")
    await a.read("signed by b")
    await c.wait(rejected(a.id, "bad_signature"))
    assert read_texts(c) == []


@pytest.mark.parametrize(
    ("attack", "reason"),
    [("forged_from", "bad_direct"), ("flipped_ct", "bad_direct"), ("truncated_ct", "bad_direct")],
)
async def test_forged_or_tampered_sealed_direct_is_rejected_and_no_key_taken(
    relay: HostileRelay, room: Room, attack: str, reason: str
) -> None:
    """A sender key relabelled or altered on its way is refused; that sender stays unreadable."""
    a, b = await room.verified(2)

    def sealed_b_to_c(link: Link, frame: Frame) -> bool:
        return (
            link.member_id not in (a.id, b.id)
            and frame.get("from") == b.id
            and body_kind(frame) == "sealed"
        )

    if attack == "forged_from":
        relay.down_rules.append(forge_from(sealed_b_to_c, lambda: a.id))
        blamed = a.id
    elif attack == "flipped_ct":
        relay.down_rules.append(tamper_body(sealed_b_to_c, flip_byte("ct", 0)))
        blamed = b.id
    else:
        relay.down_rules.append(tamper_body(sealed_b_to_c, truncate_field("ct")))
        blamed = b.id
    c = await room.join("c")
    await c.wait(rejected(blamed, reason))
    await c.wait(verified(a.id))
    await c.wait(verified(b.id))
    await a.say("from a, readable")
    await c.read("from a, readable")
    seq = await b.say("from b, never readable by c")
    await a.read("from b, never readable by c")
    # c holds it, waiting for a key that will never come; 30 s later it is a gap.
    await relay.wait_for(lambda: c.session.peers[b.id].held_broadcasts or None)
    c.clock.advance(31)
    await c.wait(lambda e: isinstance(e, Gap) and e.first_seq <= seq <= e.last_seq)
    assert read_texts(c) == ["from a, readable"]


async def test_forged_own_echo_is_rejected(relay: HostileRelay, room: Room) -> None:
    """A message stamped with the receiver's own id that it never sent is refused, not shown."""
    a, b = await room.verified(2)
    relay.down_rules.append(forge_from(messages_to(b, lambda: a.id), lambda: b.id))
    await a.say("whose is this")
    await b.wait(rejected(b.id, "replayed"))
    assert not [e for e in b.of(MessageReceived) if e.text == "whose is this"]


# ----- key substitution and injected handshakes ---------------------------------------------


@pytest.mark.parametrize("where", ["welcome", "presence"])
async def test_key_substitution_fails_handshake_and_is_shown(
    relay: HostileRelay, room: Room, where: str
) -> None:
    """A key swapped for the relay's, in a welcome or a presence join, fails both handshakes."""
    a = await room.join("a")
    relay_key = SigningKey(os.urandom(32)).public_key
    if where == "welcome":
        # b learns a's key from its welcome.
        relay.down_rules.append(
            substitute_key(lambda link, f: link.member_id != a.id, lambda: a.id, relay_key)
        )
    else:
        # a learns b's key from the presence join announcing b.
        relay.down_rules.append(
            rewrite(
                lambda link, f: link.member_id == a.id and f.get("type") == "presence",
                lambda f: _swap_joined_keys(f, relay_key),
            )
        )
    b = await room.join("b")
    await a.wait(failed(b.id, "wrong_password"))
    await b.wait(failed(a.id, "wrong_password"))
    await a.say("not for a relay")
    await b.wait(rejected(a.id, "unverified_sender"))
    assert read_texts(b) == [] and not a.of(PeerVerified) and not b.of(PeerVerified)


def _swap_joined_keys(frame: Frame, key: bytes) -> Frame:
    """A presence frame whose every joining member carries ``key``."""
    joins = {mid: {**meta, "key": b64encode(key)} for mid, meta in frame["joins"].items()}
    return {**frame, "joins": joins}


async def test_impostor_with_a_guessed_password_fails_and_is_shown(
    relay: HostileRelay, room: Room
) -> None:
    """A member the relay invents, with a wrong password, fails its handshake and reads nothing."""
    (a,) = await room.verified(1)
    session = RoomSession(room.name, WRONG, w=scalar(room.name, WRONG))
    impostor = Impostor(relay, relay.link_of(a.id), session, HIGHEST_ID)
    await impostor.announce()
    await a.wait(lambda e: e == MemberJoined(HIGHEST_ID, "#c0ffee"))
    await a.wait(failed(HIGHEST_ID, "wrong_password"))
    await a.say("for verified members only")
    echo = next(f for f in relay.link_of(a.id).to_client if f.get("type") == "message")
    await impostor.say("trust me")
    await a.wait(rejected(HIGHEST_ID, "unverified_sender"))
    frames, events = impostor.session.receive(echo)
    assert not [e for e in [*impostor.events, *events] if isinstance(e, MessageReceived)]
    assert not [e for e in impostor.events if isinstance(e, PeerVerified)]
    assert read_texts(a) == []


async def test_impostor_knowing_the_password_is_caught_only_by_fingerprint(
    relay: HostileRelay, room: Room
) -> None:
    """An invented member with the right password verifies, but shows its own key's fingerprint.

    Any password-only system allows this (docs/protocol.md section 1); the fingerprint
    shown for it is the relay's key, matching nobody real, so comparing digits catches it.
    """
    a, b = await room.verified(2)
    session = RoomSession(room.name, PASSWORD, w=scalar(room.name, PASSWORD))
    impostor = Impostor(relay, relay.link_of(a.id), session, HIGHEST_ID)
    await impostor.announce()
    shown = await a.wait(verified(HIGHEST_ID))
    assert isinstance(shown, PeerVerified)
    assert shown.fingerprint == fingerprint(room.room_id, session.public_key)
    real = {b.session.fingerprint(), a.session.fingerprint()}
    assert shown.fingerprint not in real
    assert HIGHEST_ID not in relay.link_of(b.id).welcome["members"]
    assert not [e for e in b.events if getattr(e, "member_id", None) == HIGHEST_ID]


async def test_injected_pake2_with_guessed_password_fails_and_is_shown(
    relay: HostileRelay, room: Room
) -> None:
    """The relay answers a pake1 itself with a guessed password: the sender sees a failure."""
    catch = Hold(lambda link, f: f.get("type") == "direct" and body_kind(f) == "pake1")
    relay.up_rules.append(catch)
    a = await room.join("a")
    b = await room.join("b")
    link, pake1 = await relay.wait_for(lambda: catch.caught[0] if catch.caught else None)
    first = a if link.member_id == a.id else b
    second = b if first is a else a
    victim = relay.link_of(first.id)
    body = forged_pake2(
        pake1["body"],
        scalar(room.name, WRONG),
        room.room_id,
        (first.id, key_of(victim, first.id)),
        (second.id, key_of(victim, second.id)),
    )
    await victim.deliver({"type": "direct", "from": second.id, "body": body})
    await first.wait(failed(second.id, "wrong_password"))
    assert not first.of(PeerVerified)


@pytest.mark.parametrize(
    "case",
    [c for c in INVALID_SHARES if c["role"] == "B" and "K is" not in c["why"]],
    ids=lambda c: c["why"].split(" (")[0].replace(" ", "-"),
)
async def test_injected_invalid_share_fails_and_is_shown(
    relay: HostileRelay, room: Room, case: dict[str, str]
) -> None:
    """A pake1 with an invalid share from a relay-made member ends in invalid_share."""
    (a,) = await room.verified(1)
    link = relay.link_of(a.id)
    meta = {
        "color": "#bad000",
        "key": b64encode(SigningKey(os.urandom(32)).public_key),
        "joined_at": 1,
    }
    await link.deliver({"type": "presence", "joins": {LOWEST_ID: meta}, "leaves": {}})
    body = json.dumps({"k": "pake1", "pA": b64encode(bytes.fromhex(case["share_hex"]))})
    await link.deliver({"type": "direct", "from": LOWEST_ID, "body": body})
    await a.wait(failed(LOWEST_ID, "invalid_share"))
    assert not a.of(PeerVerified)


async def test_replayed_handshake_and_key_frames_are_ignored(
    relay: HostileRelay, room: Room
) -> None:
    """Every pake and sender-key frame replayed after verification changes nothing."""
    a, b = await room.verified(2)
    await b.say("before")
    await a.read("before")
    before = {m.id: len(relay.link_of(m.id).from_client) for m in (a, b)}
    for member in (a, b):
        link = relay.link_of(member.id)
        for frame in [f for f in link.to_client if f.get("type") == "direct"]:
            await link.deliver(frame)
    await a.settle(0.3)
    await a.say("after")
    await b.read("after")
    for member in (a, b):
        assert not member.of(PeerFailed) and len(member.of(PeerVerified)) == 1
        sent = relay.link_of(member.id).from_client[before[member.id] :]
        assert [f["type"] for f in sent] == (["broadcast"] if member is a else [])
    assert read_texts(b) == ["after"] and read_texts(a) == ["before"]


# ----- replay, duplication, reordering, delay, loss -----------------------------------------


async def test_replayed_message_with_fresh_seq_is_rejected(relay: HostileRelay, room: Room) -> None:
    """An old broadcast replayed under a new seq is refused, by the sender's own client too."""
    a, b = await room.verified(2)
    seq = await a.say("only once")
    await b.read("only once")
    for member in (a, b):
        link = relay.link_of(member.id)
        old = next(f for f in link.to_client if f.get("type") == "message" and f["seq"] == seq)
        await link.deliver({**old, "seq": seq + 1})
        await member.wait(rejected(a.id, "replayed"))
    assert read_texts(b) == ["only once"]
    assert [e.text for e in a.of(MessageReceived)] == ["only once"]


async def test_duplicate_delivery_is_harmless(relay: HostileRelay, room: Room) -> None:
    """Every message and sealed direct delivered twice: each text is read once, nothing fails."""
    relay.down_rules.append(
        duplicate(lambda link, f: f.get("type") == "message" or body_kind(f) == "sealed")
    )
    a, b = await room.verified(2)
    for i in range(3):
        await a.say(f"a{i}")
        await b.say(f"b{i}")
    await b.read("a2")
    await a.read("b2")
    await a.settle(0.2)
    assert read_texts(b) == ["a0", "a1", "a2"] and read_texts(a) == ["b0", "b1", "b2"]
    for member in (a, b):
        assert not member.of(PeerFailed) and not member.of(Gap)
        assert {e.reason for e in member.of(Rejected)} == {"replayed"}


async def test_duplicate_handshake_frames_are_harmless(relay: HostileRelay, room: Room) -> None:
    """Every handshake frame delivered twice: both members still verify each other."""
    relay.down_rules.append(duplicate(lambda link, f: (body_kind(f) or "").startswith("pake")))
    a = await room.join("a")
    b = await room.join("b")
    await a.wait(verified(b.id), timeout=2)
    await b.wait(verified(a.id), timeout=2)
    await a.say("after a stuttering handshake")
    await b.read("after a stuttering handshake")
    assert not a.of(PeerFailed) and not b.of(PeerFailed)


async def test_reordered_messages_are_each_read_once(relay: HostileRelay, room: Room) -> None:
    """Five messages released to a member in reverse order are all read, each once."""
    a, b = await room.verified(2)
    catch = Hold(messages_to(b))
    relay.down_rules.append(catch)
    for i in range(5):
        await a.say(f"m{i}")
    await catch.release(lambda ix: ix[::-1])
    for i in range(5):
        await b.read(f"m{i}")
    await b.settle(0.2)
    assert sorted(read_texts(b)) == [f"m{i}" for i in range(5)]
    assert len(read_texts(b)) == 5 and not b.of(Rejected)


async def test_delayed_frames_are_harmless(relay: HostileRelay, room: Room) -> None:
    """With 50 ms added to every frame, handshakes verify and messages arrive in order."""
    relay.down_rules.append(_slow_down(0.05))
    a, b = await room.verified(2)
    for i in range(3):
        a.client.send_text(f"slow {i}")
    await b.read("slow 2", timeout=10)
    assert read_texts(b) == ["slow 0", "slow 1", "slow 2"]
    assert not b.of(Rejected) and not b.of(Gap)


def _slow_down(seconds: float) -> Callable[[Link, Frame], list[Frame] | None]:
    """A rule that gives every link a latency (applied by the link's pump)."""

    def rule(link: Link, frame: Frame) -> None:
        link.latency = seconds
        return None

    return rule


async def test_dropped_message_is_reported_as_gap(relay: HostileRelay, room: Room) -> None:
    """A broadcast the relay loses is reported as a gap once the next one arrives."""
    a, b = await room.verified(2)
    # A fresh room: the three messages get seqs 1, 2 and 3.
    relay.down_rules.append(drop(lambda link, f: messages_to(b)(link, f) and f["seq"] == 2))
    for text in ("first", "second", "third"):
        await a.say(text)
    await b.read("third")
    assert read_texts(b) == ["first", "third"]
    assert b.of(Gap) == [Gap(2, 2, "missing")]


async def test_dropped_handshake_answer_is_shown_as_not_answering(
    relay: HostileRelay, room: Room
) -> None:
    """A lost pake2 is reported as "not answering" after 10 s, never as a wrong password."""
    relay.up_rules.append(drop(lambda link, f: body_kind(f) == "pake2"))
    a = await room.join("a")
    b = await room.join("b")
    first, second = (a, b) if a.id < b.id else (b, a)
    await relay.wait_for(
        lambda: (
            True
            if any(body_kind(f) == "pake2" for ln in relay.links for f in ln.from_client)
            else None
        )
    )
    first.clock.advance(11)
    await first.wait(lambda e: e == PeerNotAnswering(second.id))
    assert not first.of(PeerFailed) and not second.of(PeerFailed)


# ----- tampered ciphertexts -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("mutation", "reason"),
    [
        (flip_byte("ct"), "bad_signature"),
        (flip_byte("ct", 0), "bad_signature"),
        (flip_byte("n"), "bad_signature"),
        (flip_byte("sig"), "bad_signature"),
        (truncate_field("ct"), "bad_signature"),
        (truncate_field("ct", 16), "bad_signature"),
        (bump_field("i"), "bad_signature"),
        (bump_field("e"), "bad_signature"),
        (truncate_text(), "malformed"),
    ],
    ids=[
        "flip-last-ct-byte",
        "flip-first-ct-byte",
        "flip-nonce",
        "flip-signature",
        "truncate-ct-1",
        "truncate-ct-tag",
        "bump-index",
        "bump-epoch",
        "truncate-body",
    ],
)
async def test_tampered_broadcast_is_rejected_and_burns_no_key(
    relay: HostileRelay, room: Room, mutation: Callable[[str], str], reason: str
) -> None:
    """A broadcast with altered bytes is refused; the genuine one, delivered next, still opens."""
    a, b = await room.verified(2)
    relay.down_rules.append(tamper_body(messages_to(b, lambda: a.id), mutation))
    seq = await a.say("genuine")
    await b.wait(rejected(a.id, reason))
    assert read_texts(b) == []
    link = relay.link_of(b.id)
    genuine = next(f for f in link.from_server if f.get("type") == "message" and f["seq"] == seq)
    relay.down_rules.clear()
    await link.deliver({**genuine, "seq": seq + 1})
    await b.read("genuine")
    assert read_texts(b) == ["genuine"]


# ----- split view, hidden leaves, floods ----------------------------------------------------


@pytest.mark.parametrize("renumber", [True, False], ids=["renumbered", "room-seq"])
async def test_split_view_shows_different_rosters_and_nothing_crosses(
    relay: HostileRelay, room: Room, renumber: bool
) -> None:
    """Two members hidden from each other see different member lists and read nothing across.

    With the seqs renumbered per member nothing else shows; with the room's own
    seqs, each hidden side's messages leave a gap in the other's view.
    """
    a, b = await room.verified(2)
    # a on one side, b sees everyone, anyone later (c) on the other side.
    sides: dict[str, int | None] = {a.id: 0, b.id: None}
    split = SplitView(lambda mid: sides.get(mid, 1), renumber)
    relay.down_rules.append(split.down)
    relay.up_rules.append(split.up)
    c = await room.join("c")
    await b.wait(verified(c.id))
    await c.wait(verified(b.id))
    await a.say("a to the room")
    await c.say("c to the room")
    await b.read("a to the room")
    await b.read("c to the room")
    await a.say("a again")
    await c.say("c again")
    await b.read("c again")
    await a.settle(0.3)
    roster = {name: _roster(m) for name, m in (("a", a), ("b", b), ("c", c))}
    assert roster == {"a": {b.id}, "b": {a.id, c.id}, "c": {b.id}}
    assert read_texts(a) == [] and read_texts(c) == []
    assert read_texts(b) == ["a to the room", "c to the room", "a again", "c again"]
    for member in (a, c):
        assert not member.of(Rejected)
        assert bool(member.of(Gap)) is (not renumber)


def _roster(member: Member) -> set[str]:
    """The other members a member believes are in the room."""
    return set(member.session.peers)


async def test_suppressed_leave_keeps_the_leaver_listed_and_keys_unrotated(
    relay: HostileRelay, room: Room
) -> None:
    """A leave the relay hides is not rotated for, but the leaver stays visibly listed.

    Post-leave secrecy (P5) depends on the relay announcing leaves; what the members
    can see is that the leaver is still in their list.
    """
    a, b, c = await room.verified(3)
    relay.down_rules.append(
        drop(lambda link, f: f.get("type") == "presence" and c.id in f.get("leaves", {}))
    )
    await c.close()
    await a.say("after c left")
    await b.read("after c left")
    await a.settle(0.3)
    for member in (a, b):
        assert not member.of(MemberLeft) and not member.of(KeysRotated)
        assert c.id in member.session.peers


async def test_flood_of_directs_from_unannounced_ids_is_bounded(
    relay: HostileRelay, room: Room
) -> None:
    """1000 directs from 100 never-announced ids are held up to 64 senders x 8, the rest refused."""
    a, b = await room.verified(2)
    link = relay.link_of(a.id)
    senders = [b64encode(os.urandom(16)) for _ in range(100)]
    for sender in senders:
        for _ in range(10):
            await link.deliver({"type": "direct", "from": sender, "body": '{"k":"pake1"}'})
    await b.say("still here")
    await a.read("still here")
    refused = [e for e in a.of(Rejected) if e.reason == "too_many_held"]
    assert len(refused) == 36 * 10 + 64 * 2


# ----- drops of the connection --------------------------------------------------------------


@pytest.fixture(params=["embedded", "redis"])
async def any_relay(request: pytest.FixtureRequest) -> AsyncIterator[HostileRelay]:
    """A malicious relay in front of the embedded daphne, or of two workers on one Redis."""
    if request.param == "embedded":
        servers = [request.getfixturevalue("embedded_server")]
    else:
        servers = request.getfixturevalue("redis_servers").servers
    relay = await HostileRelay(*(s.http_url for s in servers)).start()
    yield relay
    await relay.stop()


async def test_cut_connection_resumes_and_duplicated_replay_is_harmless(
    any_relay: HostileRelay,
) -> None:
    """The relay cuts a member's TCP and then duplicates the replay: each text is read once."""
    relay = any_relay
    room = Room(relay)
    try:
        a, b = await room.verified(2)
        await a.say("before the cut")
        await b.read("before the cut")
        old = relay.link_of(b.id)
        # Every frame on b's next connection is delivered twice.
        relay.down_rules.append(
            duplicate(lambda link, f: link is not old and link.member_id == b.id)
        )
        old.cut()
        for i in range(3):
            await a.say(f"while away {i}")
        await b.wait(lambda e: isinstance(e, Joined) and e.resumed, timeout=10)
        for i in range(3):
            await b.read(f"while away {i}")
        await b.say("back")
        await a.read("back")
        await b.settle(0.2)
        assert read_texts(b) == ["before the cut", *(f"while away {i}" for i in range(3))]
        assert relay.link_of(b.id) is not old and b.id == old.member_id
        assert not a.of(MemberLeft) and not b.of(Gap)
    finally:
        await room.close()
