"""RoomSession state machines wired together through a tiny in-memory relay (no sockets)."""

from __future__ import annotations

import json
import math
import random
from collections import deque
from collections.abc import Callable
from typing import Any

import pytest

from sotto import aead
from sotto.broadcast import open_broadcast, parse_broadcast, seal_broadcast
from sotto.encoding import b64decode, b64encode, dumps
from sotto.errors import ProtocolError, UsageError
from sotto.events import (
    Event,
    Gap,
    HandshakeRefused,
    KeysRotated,
    MessageReceived,
    MessageSent,
    PeerFailed,
    PeerNotAnswering,
    PeerVerified,
    Rejected,
)
from sotto.pairwise import direct_aad
from sotto.password import password_scalar
from sotto.roomid import room_id
from sotto.session import RoomSession
from tests.vectors.generate import SeededRandom

ROOM = "The Blue Room"
PASSWORD = "correct horse"
ROOM_ID = room_id(ROOM)
# PBKDF2 once per password for the whole module; one test below derives it for real.
W_GOOD = password_scalar(PASSWORD, ROOM_ID)
W_BAD = password_scalar("battery staple", ROOM_ID)


class Clock:
    """A hand-driven clock in seconds."""

    def __init__(self) -> None:
        """Start at a fixed unix time."""
        self.now = 1_760_000_000.0

    def __call__(self) -> float:
        """The current time."""
        return self.now


class Relay:
    """The server's routing rules (section 4) in memory, with hooks to drop or alter frames."""

    def __init__(self, clock: Clock, seed: str = "relay") -> None:
        """An empty room."""
        self.clock = clock
        self.rng = SeededRandom(seed)
        self.sessions: dict[str, RoomSession] = {}
        self.meta: dict[str, dict[str, Any]] = {}
        self.queues: dict[str, deque[dict[str, Any]]] = {}
        self.events: dict[str, list[Event]] = {}
        self.seq = 0
        self.sent: list[dict[str, Any]] = []
        # drop(to, frame) -> True loses a frame on its way to `to` (a lossy network).
        self.drop: Callable[[str, dict[str, Any]], bool] = lambda to, frame: False

    def join(self, session: RoomSession) -> str:
        """Admit a session: welcome to it, presence join to the others."""
        frame = session.join_frame()
        mid = b64encode(self.rng(16))
        meta = {
            "color": "#%06x" % (len(self.meta) * 0x151515),
            "key": frame["key"],
            "joined_at": int(self.clock() * 1000),
        }
        for other in self.sessions:
            self.queues[other].append({"type": "presence", "joins": {mid: meta}, "leaves": {}})
        self.sessions[mid], self.meta[mid] = session, meta
        self.queues[mid] = deque()
        self.events[mid] = []
        members = {m: dict(v) for m, v in self.meta.items()}
        self.queues[mid].append(
            {
                "type": "welcome",
                "v": 1,
                "you": mid,
                "color": meta["color"],
                "members": members,
                "seq": self.seq,
                "resume": b64encode(self.rng(16)),
                "resumed": False,
            }
        )
        return mid

    def leave(self, mid: str) -> None:
        """Remove a member and announce its leave."""
        meta = self.meta.pop(mid)
        del self.sessions[mid], self.queues[mid]
        for other in self.sessions:
            self.queues[other].append({"type": "presence", "joins": {}, "leaves": {mid: meta}})

    def submit(self, mid: str, frames: list[dict[str, Any]]) -> None:
        """Route the frames a member sent."""
        for frame in frames:
            self.sent.append({"from": mid, **frame})
            if frame["type"] == "direct" and frame["to"] in self.queues:
                out = {"type": "direct", "from": mid, "body": frame["body"]}
                if not self.drop(frame["to"], out):
                    self.queues[frame["to"]].append(out)
            elif frame["type"] == "broadcast":
                self.broadcast(mid, frame["body"])

    def broadcast(self, sender: str, body: str) -> None:
        """Stamp the next seq and send a message frame to every member."""
        self.seq += 1
        for queue in self.queues.values():
            queue.append({"type": "message", "from": sender, "seq": self.seq, "body": body})

    def feed(self, mid: str, frame: Any) -> None:
        """Hand one frame to a member and route what it answers."""
        frames, events = self.sessions[mid].receive(frame)
        self.events[mid].extend(events)
        self.submit(mid, frames)

    def run(self, skip: set[str] | None = None) -> None:
        """Deliver queued frames round-robin until every queue is empty (skip: hold those)."""
        busy = True
        while busy:
            busy = False
            for mid in list(self.queues):
                queue = self.queues.get(mid)
                if queue and mid not in (skip or set()):
                    self.feed(mid, queue.popleft())
                    busy = True

    def say(self, mid: str, text: str) -> str:
        """Have a member send a text; returns the broadcast body."""
        frames, events = self.sessions[mid].send_text(text)
        self.events[mid].extend(events)
        self.submit(mid, frames)
        return str(frames[0]["body"])

    def tick(self) -> None:
        """Run every session's timers."""
        for mid, session in list(self.sessions.items()):
            frames, events = session.tick()
            self.events[mid].extend(events)
            self.submit(mid, frames)

    def of(self, mid: str, kind: type) -> list[Any]:
        """The events of one type a member has seen."""
        return [e for e in self.events[mid] if isinstance(e, kind)]

    def texts(self, mid: str) -> list[tuple[str, str]]:
        """(sender, text) of every message a member read from others."""
        return [(e.sender, e.text) for e in self.of(mid, MessageReceived) if not e.own]


def make_session(name: str, clock: Clock, w: int = W_GOOD) -> RoomSession:
    """A session with a seeded rng and the shared password scalar."""
    return RoomSession(ROOM, "unused", rng=SeededRandom(name), clock=clock, w=w)


def room_of(n: int, bad: int = 0, seed: str = "relay") -> tuple[Relay, list[str]]:
    """A relay with n members (the last `bad` of them with a wrong password), all settled."""
    clock = Clock()
    relay = Relay(clock, seed)
    ids = []
    for i in range(n):
        w = W_BAD if i >= n - bad else W_GOOD
        ids.append(relay.join(make_session(f"{seed}-member-{i}", clock, w)))
        relay.run()
    return relay, ids


def test_room_of_two_with_real_password_derivation() -> None:
    """Two members derive w themselves, verify each other and exchange a message."""
    clock = Clock()
    relay = Relay(clock)
    a = relay.join(RoomSession(ROOM, PASSWORD, rng=SeededRandom("a"), clock=clock))
    relay.run()
    b = relay.join(RoomSession(ROOM, PASSWORD, rng=SeededRandom("b"), clock=clock))
    relay.run()
    assert [e.member_id for e in relay.of(a, PeerVerified)] == [b]
    assert [e.member_id for e in relay.of(b, PeerVerified)] == [a]
    fp_a = relay.sessions[a].fingerprint()
    assert relay.of(b, PeerVerified)[0].fingerprint == fp_a
    relay.say(a, "the secret is 42")
    relay.run()
    assert relay.texts(b) == [(a, "the secret is 42")]
    assert relay.of(a, MessageSent) == [MessageSent(1)]
    assert [e.own for e in relay.of(a, MessageReceived)] == [True]


@pytest.mark.parametrize("n", [3, 10])
def test_room_of_n_everyone_reads_everyone(n: int) -> None:
    """In rooms of 3 and 10 every pair verifies and every message is read once by all others."""
    relay, ids = room_of(n, seed=f"room{n}")
    for mid in ids:
        assert sorted(e.member_id for e in relay.of(mid, PeerVerified)) == sorted(set(ids) - {mid})
        assert not relay.of(mid, PeerFailed)
    for i, mid in enumerate(ids):
        relay.say(mid, f"hello from {i}")
    relay.run()
    for mid in ids:
        expected = sorted((o, f"hello from {i}") for i, o in enumerate(ids) if o != mid)
        assert sorted(relay.texts(mid)) == expected
        assert len(relay.of(mid, MessageSent)) == 1
        assert not relay.of(mid, Rejected) and not relay.of(mid, Gap)
        seqs = [e.seq for e in relay.of(mid, MessageReceived)]
        assert seqs == sorted(seqs)


def test_wrong_password_fails_only_its_own_handshakes() -> None:
    """A member with a wrong password fails with everyone; the others verify and chat on."""
    relay, ids = room_of(4, bad=1, seed="wrongpw")
    good, bad = ids[:3], ids[3]
    for mid in good:
        assert sorted(e.member_id for e in relay.of(mid, PeerVerified)) == sorted(set(good) - {mid})
        assert relay.of(mid, PeerFailed) == [PeerFailed(bad, "wrong_password")]
    assert not relay.of(bad, PeerVerified)
    assert sorted(e.member_id for e in relay.of(bad, PeerFailed)) == sorted(good)
    relay.say(good[0], "only for the good ones")
    relay.say(bad, "let me in")
    relay.run()
    for mid in good[1:]:
        assert relay.texts(mid) == [(good[0], "only for the good ones")]
        assert Rejected(bad, "unverified_sender") in relay.of(mid, Rejected)
    assert relay.texts(bad) == []


def test_leave_rotates_and_the_leaver_cannot_read_later_messages() -> None:
    """When a verified member leaves, the rest rotate and its old keys open nothing new."""
    relay, ids = room_of(3, seed="leave")
    a, b, c = ids
    leaver = relay.sessions[c]
    relay.say(a, "before")
    relay.run()
    assert (a, "before") in relay.texts(c)
    relay.leave(c)
    relay.run()
    for mid in (a, b):
        assert relay.of(mid, KeysRotated) == [KeysRotated(1)]
        assert relay.sessions[mid].epoch == 1
    body = relay.say(a, "after the leave")
    relay.run()
    assert relay.texts(b)[-1] == (a, "after the leave")
    # The leaver still holds a's epoch-0 chain; no key from it opens the new message.
    env = parse_broadcast(body)
    assert env.epoch == 1
    old_chain = leaver.peers[a].chains[0]
    for index in range(old_chain.next_index, old_chain.next_index + 50):
        with pytest.raises(ProtocolError):
            open_broadcast(env, old_chain.message_key(index), ROOM_ID, a)
    # Fed the frame directly, it cannot read it either.
    frames, events = leaver.receive({"type": "message", "from": a, "seq": relay.seq, "body": body})
    assert not [e for e in events if isinstance(e, MessageReceived)]


def test_several_leaves_in_one_diff_bump_once_and_unverified_leave_none() -> None:
    """Two verified leaves in one presence diff cause one bump; an unverified leave causes none."""
    relay, ids = room_of(5, bad=1, seed="leaves")
    a, b, c, d, bad = ids
    frames, events = relay.sessions[a].receive(
        {"type": "presence", "joins": {}, "leaves": {bad: relay.meta[bad]}}
    )
    assert not [e for e in events if isinstance(e, KeysRotated)]
    frames, events = relay.sessions[a].receive(
        {"type": "presence", "joins": {}, "leaves": {c: relay.meta[c], d: relay.meta[d]}}
    )
    assert [e for e in events if isinstance(e, KeysRotated)] == [KeysRotated(1)]
    assert sorted(f["to"] for f in frames) == [b]


def test_out_of_order_and_duplicate_delivery() -> None:
    """Shuffled and duplicated message frames are each read once; gaps are reported, then filled."""
    relay, (a, b) = room_of(2, seed="ooo")
    relay.run()
    for i in range(6):
        relay.say(a, f"m{i}")
    frames = [f for f in relay.queues[b] if f["type"] == "message"]
    relay.queues[b].clear()
    rnd = random.Random(7)
    shuffled = frames + frames[:3]
    rnd.shuffle(shuffled)
    for frame in shuffled:
        relay.feed(b, frame)
    assert sorted(t for _, t in relay.texts(b)) == [f"m{i}" for i in range(6)]
    assert len(relay.of(b, Rejected)) == 3
    assert all(e.reason == "replayed" for e in relay.of(b, Rejected))
    assert relay.of(b, Gap)


def test_forged_sender_id_is_rejected() -> None:
    """A member resending another's body as its own, or a relay restamping `from`, is refused."""
    relay, (a, b, m) = room_of(3, seed="forge")
    body = relay.say(a, "from a")
    relay.run()
    relay.broadcast(m, body)
    relay.run()
    assert Rejected(m, "bad_signature") in relay.of(b, Rejected)
    frames, _ = relay.sessions[m].send_text("really from m")
    relay.broadcast(a, frames[0]["body"])
    relay.run()
    assert Rejected(a, "bad_signature") in relay.of(b, Rejected)
    assert relay.texts(b) == [(a, "from a")]


def test_replayed_message_is_rejected() -> None:
    """An old body re-broadcast with a fresh seq, or the same frame again, is refused."""
    relay, (a, b) = room_of(2, seed="replay")
    body = relay.say(a, "once")
    relay.run()
    relay.broadcast(a, body)
    relay.run()
    assert relay.texts(b) == [(a, "once")]
    assert Rejected(a, "replayed") in relay.of(b, Rejected)
    relay.feed(b, {"type": "message", "from": a, "seq": 1, "body": body})
    assert relay.of(b, Rejected).count(Rejected(a, "replayed")) == 2
    assert Rejected(a, "replayed") in relay.of(a, Rejected)


def _flip(body: str, field: str) -> str:
    obj = json.loads(body)
    raw = bytearray(b64decode(obj[field]))
    raw[len(raw) // 2] ^= 1
    obj[field] = b64encode(bytes(raw))
    return dumps(obj)


def test_tampered_ciphertext_is_rejected() -> None:
    """A broadcast or sealed direct with a flipped bit is refused and the real one still opens."""
    relay, (a, b) = room_of(2, seed="tamper")
    body = relay.say(a, "untouched")
    frame = relay.queues[b].popleft()
    relay.feed(b, {**frame, "body": _flip(frame["body"], "ct")})
    assert relay.of(b, Rejected) == [Rejected(a, "bad_signature")]
    # The genuine body, relayed again under a fresh seq, still opens: no key was burned.
    relay.broadcast(a, body)
    relay.run()
    assert relay.texts(b) == [(a, "untouched")]
    relay.sessions[a].receive({"type": "presence", "joins": {}, "leaves": {}})
    sealed = next(f for f in relay.sent if f["from"] == a and '"sealed"' in f.get("body", ""))
    relay.feed(b, {"type": "direct", "from": a, "body": _flip(sealed["body"], "ct")})
    assert Rejected(a, "bad_direct") in relay.of(b, Rejected)


def test_more_than_five_failed_handshakes_a_minute_are_refused() -> None:
    """After 5 failures in a minute new handshakes are refused; after the minute they run again."""
    clock = Clock()
    relay = Relay(clock, "ratelimit")
    victim = relay.join(make_session("victim", clock))
    relay.run()
    attackers = []
    for i in range(7):
        attackers.append(relay.join(make_session(f"attacker-{i}", clock, W_BAD)))
        relay.run()
        clock.now += 1
    assert len(relay.of(victim, PeerFailed)) == 5
    refused = relay.of(victim, HandshakeRefused)
    assert {e.member_id for e in refused} == set(attackers[5:])
    clock.now += 61
    relay.tick()
    friend = relay.join(make_session("friend", clock))
    relay.run()
    assert [e.member_id for e in relay.of(victim, PeerVerified)] == [friend]


def test_not_answering_then_retry_on_presence_change() -> None:
    """A peer that never answers is reported after 10 s and retried on the next presence change."""
    clock = Clock()
    relay = Relay(clock, "silent")
    ids = [relay.join(make_session(f"s{i}", clock)) for i in range(2)]
    low, high = sorted(ids)
    relay.drop = lambda to, frame: to == high
    relay.run()
    relay.drop = lambda to, frame: False
    clock.now += 10
    relay.tick()
    assert relay.of(low, PeerNotAnswering) == [PeerNotAnswering(high)]
    relay.join(make_session("s2", clock))
    relay.run()
    assert high in [e.member_id for e in relay.of(low, PeerVerified)]


def test_held_broadcast_expires_as_a_gap() -> None:
    """A broadcast whose sender key never arrives is held, then reported as a gap after 30 s."""
    relay, (a, b) = room_of(2, seed="held")
    c = relay.join(make_session("held-c", relay.clock))
    # Lose every sealed direct to c, so c never gets a sender key.
    relay.drop = lambda to, frame: to == c and '"sealed"' in frame["body"]
    relay.run()
    relay.say(a, "you will not read this")
    relay.run()
    held = relay.sessions[c].peers[a]
    assert held.verified and not held.chains
    relay.clock.now += 31
    relay.tick()
    assert relay.of(c, Gap) == [Gap(relay.seq, relay.seq, "key_missing")]


def test_directs_from_unannounced_members_wait_for_their_join() -> None:
    """A pake1 that overtakes its sender's presence join is held and answered after the join."""
    clock = Clock()
    relay = Relay(clock, "early")
    first = relay.join(make_session("early-0", clock))
    relay.run()
    second = relay.join(make_session("early-1", clock))
    presence = relay.queues[first].popleft()
    relay.run(skip={first})
    for frame in list(relay.queues[first]):
        relay.feed(first, frame)
    relay.queues[first].clear()
    relay.feed(first, presence)
    relay.run()
    assert [e.member_id for e in relay.of(first, PeerVerified)] == [second]


def test_bad_frames_give_events_not_exceptions() -> None:
    """Non-objects, unknown types and ill-typed fields are reported, never raised."""
    session = make_session("bad", Clock())
    for frame in ([], "x", {"type": 3}, {"type": "welcome"}, {"type": "nope"}, {"type": "message"}):
        frames, events = session.receive(frame)
        assert frames == [] and events and isinstance(events[0], Rejected)
    with pytest.raises(UsageError):
        session.send_text("before welcome")


def test_join_frame_carries_resume_after_welcome() -> None:
    """After a welcome, the join frame asks to resume from the last seq seen."""
    relay, (a, b) = room_of(2, seed="resume")
    relay.say(a, "x")
    relay.run()
    frame = relay.sessions[b].join_frame()
    assert frame["resume"] and frame["last_seq"] == 1 and frame["v"] == 1


def test_text_size_limit() -> None:
    """A text over 16 384 UTF-8 bytes is refused locally; one at the limit is sealed."""
    relay, (a, b) = room_of(2, seed="size")
    relay.say(a, "é" * 8192)
    with pytest.raises(UsageError):
        relay.sessions[a].send_text("é" * 8192 + "x")
    relay.run()
    assert relay.texts(b) == [(a, "é" * 8192)]


def _seal_as(session: RoomSession, plaintext: bytes, nonce: bytes) -> str:
    """A broadcast body sealed with a member's own chain around any plaintext bytes."""
    assert session.member_id is not None
    index, mk = session._chain.next_key()
    return seal_broadcast(
        session._signer, ROOM_ID, session.member_id, session.epoch, index, mk, nonce, plaintext
    )


def test_plaintext_that_is_not_unicode_text_is_refused_and_uses_up_its_key() -> None:
    """A verified peer's authentic plaintext holding a lone surrogate, anywhere, is malformed."""
    relay, (a, b) = room_of(2, seed="surrogate")
    plaintexts = [
        b'{"t":"text","body":"\\ud800","ts":1}',
        b'{"t":"text","body":"fine","ts":1,"x":{"\\udc00":0}}',
        b'{"t":"typing","v":["\\udbff"]}',
        b"\xff not UTF-8",
        b"not JSON",
    ]
    bodies = [_seal_as(relay.sessions[a], p, bytes([n]) * 12) for n, p in enumerate(plaintexts)]
    for body in bodies:
        relay.broadcast(a, body)
    relay.run()
    assert relay.texts(b) == []
    assert relay.of(b, Rejected) == [Rejected(a, "malformed")] * len(plaintexts)
    # Authentic frames: their keys are spent, so a copy is a replay, and the chain goes on.
    relay.broadcast(a, bodies[0])
    relay.say(a, "after them")
    relay.run()
    assert relay.of(b, Rejected)[-1] == Rejected(a, "replayed")
    assert relay.texts(b) == [(a, "after them")]


def test_send_text_refuses_a_lone_surrogate() -> None:
    """Local text that is not Unicode text is a UsageError a person can read; nothing is sent."""
    relay, (a, b) = room_of(2, seed="surrogate-send")
    for text in ["\ud800", "x\udfffy", "\ud83d\ude00"]:
        with pytest.raises(UsageError, match="lone surrogate"):
            relay.sessions[a].send_text(text)
    relay.say(a, "\U0001f600 ok")
    relay.run()
    assert relay.texts(b) == [(a, "\U0001f600 ok")]


def test_direct_bodies_that_are_not_unicode_text_are_refused() -> None:
    """A direct body or a sealed direct's plaintext holding a lone surrogate is refused."""
    relay, (a, b) = room_of(2, seed="surrogate-direct")
    for body in ['{"k":"pake1","pA":"\\ud800"}', '{"k":"later","x":"\ud800"}']:
        relay.feed(b, {"type": "direct", "from": a, "body": body})
    assert relay.of(b, Rejected) == [Rejected(a, "malformed")] * 2
    key = relay.sessions[a].peers[b].send_key
    assert key is not None
    payload = {"k": "sender_key", "epoch": 9, "index": 0, "ck": b64encode(bytes(32)), "x": "\udfff"}
    nonce = bytes(12)
    ct = aead.seal(key, nonce, json.dumps(payload).encode("ascii"), direct_aad(ROOM_ID, a, b))
    sealed = dumps({"k": "sealed", "n": b64encode(nonce), "ct": b64encode(ct)})
    relay.feed(b, {"type": "direct", "from": a, "body": sealed})
    assert relay.of(b, Rejected)[-1] == Rejected(a, "bad_direct")
    assert 9 not in relay.sessions[b].peers[a].chains


def test_message_overtaken_by_the_senders_leave_is_still_read() -> None:
    """A broadcast that arrives just after its sender's leave is read (kept 10 s, then wiped)."""
    relay, (a, b) = room_of(2, seed="overtaken")
    body = relay.say(a, "last words")
    relay.queues[b].clear()
    relay.feed(b, {"type": "presence", "joins": {}, "leaves": {a: relay.meta[a]}})
    relay.feed(b, {"type": "message", "from": a, "seq": relay.seq, "body": body})
    assert relay.texts(b) == [(a, "last words")]
    relay.clock.now += 11
    relay.tick()
    relay.broadcast(a, body)
    relay.run()
    assert relay.of(b, Rejected)[-1] == Rejected(a, "unknown_sender")


def test_message_sent_before_verification_is_a_gap_not_a_forgery() -> None:
    """A message sealed before the receiver got the key is reported as a gap, never as text."""
    clock = Clock()
    relay = Relay(clock, "early-msg")
    a = relay.join(make_session("early-msg-a", clock))
    relay.run()
    b = relay.join(make_session("early-msg-b", clock))
    relay.run(skip={b})
    relay.say(a, "too early")
    relay.run()
    assert relay.texts(b) == []
    assert Gap(1, 1, "before_key") in relay.of(b, Gap)
    relay.say(a, "in time")
    relay.run()
    assert relay.texts(b) == [(a, "in time")]


def _welcome(relay: Relay, mid: str, *, resumed: bool, you: str | None = None) -> dict[str, Any]:
    """A welcome as the relay would send it now, for `mid` (or a new id `you`)."""
    members = {m: dict(v) for m, v in relay.meta.items()}
    if you is not None:
        # A fresh membership: the old one has ended and the new id takes its place.
        members[you] = members.pop(mid)
    return {
        "type": "welcome",
        "v": 1,
        "you": you or mid,
        "color": relay.meta[mid]["color"],
        "members": members,
        "seq": relay.seq,
        "resume": "token",
        "resumed": resumed,
    }


def test_resumed_welcome_keeps_state_and_applies_who_left() -> None:
    """A resumed welcome keeps keys; a member gone meanwhile is a leave; in-flight steps resend."""
    relay, (a, b, c) = room_of(3, seed="resumed")
    session = relay.sessions[a]
    relay.leave(c)
    relay.queues[a].clear()
    frames, events = session.receive(_welcome(relay, a, resumed=True))
    kinds = [type(e).__name__ for e in events]
    assert kinds == ["MemberLeft", "KeysRotated", "Joined"]
    assert events[-1].resumed is True
    assert [f["to"] for f in frames] == [b]
    relay.submit(a, frames)
    relay.say(a, "still here")
    relay.run()
    assert relay.texts(b)[-1] == (a, "still here")


def test_resume_resends_an_unfinished_handshake_step() -> None:
    """A handshake step lost with the connection is sent again after a resumed welcome."""
    clock = Clock()
    relay = Relay(clock, "resend")
    ids = [relay.join(make_session(f"resend-{i}", clock)) for i in range(2)]
    low, high = sorted(ids)
    relay.drop = lambda to, frame: to == high
    relay.run()
    relay.drop = lambda to, frame: False
    frames, _ = relay.sessions[low].receive(_welcome(relay, low, resumed=True))
    assert [json.loads(f["body"])["k"] for f in frames] == ["pake1"]
    relay.submit(low, frames)
    relay.run()
    assert [e.member_id for e in relay.of(low, PeerVerified)] == [high]


def test_fresh_welcome_after_a_failed_resume_starts_over() -> None:
    """A fresh welcome with a new id reports the gap, starts a new epoch and redoes handshakes."""
    relay, (a, b) = room_of(2, seed="fresh")
    session = relay.sessions[a]
    relay.say(b, "while away")
    relay.queues[a].clear()
    new_id = b64encode(b"\x01" * 16)
    frames, events = session.receive(_welcome(relay, a, resumed=False, you=new_id))
    assert Gap(1, 1, "resume_failed") in events
    assert session.member_id == new_id and session.epoch == 1
    assert not session.verified_peers()
    assert set(session.peers) == {b}
    expected = ["pake1"] if new_id < b else []
    assert [json.loads(f["body"])["k"] for f in frames] == expected


PAKE2 = '"pake2"'


def _pair_losing(
    seed: str, lose: Callable[[str, dict[str, Any]], bool] = lambda to, frame: True
) -> tuple[Relay, str, str, list[dict[str, Any]]]:
    """Two members joined while the directs `lose` picks are lost: (relay, A, B, lost frames)."""
    clock = Clock()
    relay = Relay(clock, seed)
    ids = [relay.join(make_session(f"{seed}-{i}", clock)) for i in range(2)]
    lost: list[dict[str, Any]] = []

    def drop(to: str, frame: dict[str, Any]) -> bool:
        if lose(to, frame):
            lost.append(frame)
            return True
        return False

    relay.drop = drop
    relay.run()
    relay.drop = lambda to, frame: False
    low, high = sorted(ids)
    return relay, low, high, lost


def test_resume_while_not_answering_resends_the_pending_pake1_only() -> None:
    """A resumed A re-sends its pending pake1 and starts no second one, so both sides verify."""
    relay, low, high, _ = _pair_losing("stalled")
    relay.clock.now += 11
    relay.tick()
    assert relay.of(low, PeerNotAnswering) == [PeerNotAnswering(high)]
    pending = relay.sessions[low].peers[high].handshake.last_body
    frames, _ = relay.sessions[low].receive(_welcome(relay, low, resumed=True))
    assert [(f["to"], f["body"]) for f in frames] == [(high, pending)]
    relay.submit(low, frames)
    relay.run()
    for me, them in ((low, high), (high, low)):
        assert [e.member_id for e in relay.of(me, PeerVerified)] == [them]
        assert not relay.of(me, PeerFailed)


def test_resent_step_gets_a_fresh_deadline() -> None:
    """A step re-sent after a resume is reported as not answering again 10 s later, then retried."""
    relay, low, high, _ = _pair_losing("stalled-again")
    relay.clock.now += 11
    relay.tick()
    frames, _ = relay.sessions[low].receive(_welcome(relay, low, resumed=True))
    relay.clock.now += 10
    relay.tick()
    assert relay.of(low, PeerNotAnswering) == [PeerNotAnswering(high)] * 2
    relay.join(make_session("stalled-again-2", relay.clock))
    relay.run()
    assert high in [e.member_id for e in relay.of(low, PeerVerified)]


def test_repeated_pake1_is_answered_with_the_same_pake2() -> None:
    """B answers a pake1 it already answered with the same pake2, so the first answer still fits."""
    relay, low, high, held = _pair_losing("repeat-pake1", lambda to, f: PAKE2 in f["body"])
    assert [json.loads(f["body"])["k"] for f in held] == ["pake2"]
    # A's connection blips; the server delivers B's held pake2 after A's resumed welcome.
    frames, _ = relay.sessions[low].receive(_welcome(relay, low, resumed=True))
    assert [json.loads(f["body"])["k"] for f in frames] == ["pake1"]
    relay.submit(low, frames)
    relay.feed(low, held[0])
    relay.run()
    answers = [f["body"] for f in relay.sent if f["from"] == high and PAKE2 in f["body"]]
    assert len(answers) == 2 and answers[0] == answers[1]
    for me, them in ((low, high), (high, low)):
        assert [e.member_id for e in relay.of(me, PeerVerified)] == [them]
        assert not relay.of(me, PeerFailed)


def test_repeated_pake1_is_answered_even_past_the_failure_limit() -> None:
    """A repeat of the pake1 being answered is no new handshake, so the failure limit lets it by."""
    relay, low, high, _ = _pair_losing("repeat-limit", lambda to, f: PAKE2 in f["body"])
    for i in range(5):
        relay.join(make_session(f"repeat-limit-bad-{i}", relay.clock, W_BAD))
        relay.run()
    assert len(relay.of(high, PeerFailed)) == 5
    pake1 = relay.sessions[low].peers[high].handshake.last_body
    frames, events = relay.sessions[high].receive({"type": "direct", "from": low, "body": pake1})
    assert events == []
    assert [json.loads(f["body"])["k"] for f in frames] == ["pake2"]


def test_resume_resends_the_sender_key_lost_in_flight() -> None:
    """A sender key lost just before a drop is sent again after the resumed welcome."""
    clock = Clock()
    relay = Relay(clock, "lost-key")
    a = relay.join(make_session("lost-key-a", clock))
    relay.run()
    b = relay.join(make_session("lost-key-b", clock))
    relay.drop = lambda to, frame: to == b and '"sealed"' in frame["body"]
    relay.run()
    relay.drop = lambda to, frame: False
    assert relay.sessions[b].peers[a].verified and not relay.sessions[b].peers[a].chains
    frames, _ = relay.sessions[a].receive(_welcome(relay, a, resumed=True))
    assert [(f["to"], json.loads(f["body"])["k"]) for f in frames] == [(b, "sealed")]
    relay.submit(a, frames)
    relay.run()
    relay.say(a, "after the blip")
    relay.run()
    assert relay.texts(b) == [(a, "after the blip")]
    # The same re-send to a peer that already holds the key changes nothing there.
    before = len(relay.events[a])
    frames, _ = relay.sessions[b].receive(_welcome(relay, b, resumed=True))
    relay.submit(b, frames)
    relay.run()
    assert relay.events[a][before:] == []
    relay.say(b, "still fine")
    relay.run()
    assert relay.texts(a) == [(b, "still fine")]


def test_text_timestamp_is_rounded_to_the_millisecond() -> None:
    """A clock a hair below a whole millisecond stamps that millisecond, not the one before."""
    relay, (a, b) = room_of(2, seed="ts")
    relay.clock.now = math.nextafter(1_760_000_000.123, 0)
    relay.say(a, "when?")
    relay.run()
    assert [e.ts for e in relay.of(b, MessageReceived)] == [1_760_000_000_123]


def test_deeply_nested_direct_bodies_are_malformed_not_a_crash() -> None:
    """Any member, without the password, sends nesting past the limit: refused as malformed."""
    relay, (a, b) = room_of(2, seed="deep-direct")
    bodies = [
        "[" * 2000,
        '{"k":"x","d":' + "[" * 2000 + "]" * 2000 + "}",
        '{"k":"pake1","pA":' + '{"a":' * 5000 + "{}" + "}" * 5001,
        '{"k":"x","d":' + "[" * 8 + "]" * 8 + "}",
    ]
    for body in bodies:
        relay.feed(b, {"type": "direct", "from": a, "body": body})
    assert relay.of(b, Rejected) == [Rejected(a, "malformed")] * len(bodies)
    relay.feed(b, {"type": "direct", "from": a, "body": '{"k":"x","d":' + "[]" * 1 + "}"})
    relay.feed(b, {"type": "direct", "from": a, "body": '{"k":"x","d":' + "[" * 7 + "]" * 7 + "}"})
    assert len(relay.of(b, Rejected)) == len(bodies)
    relay.say(a, "still talking")
    relay.run()
    assert relay.texts(b) == [(a, "still talking")]


def test_plaintext_numbers_are_read_as_javascript_reads_them() -> None:
    """A ts of 1.0 is the integer 1; a fraction, NaN, Infinity or an unsafe integer is malformed."""
    relay, (a, b) = room_of(2, seed="plain-numbers")
    good = [b'{"t":"text","body":"one","ts":1.0}', b'{"t":"text","body":"e","ts":1e3}']
    bad = [
        b'{"t":"text","body":"x","ts":1.5}',
        b'{"t":"text","body":"x","ts":NaN}',
        b'{"t":"text","body":"x","ts":Infinity}',
        b'{"t":"text","body":"x","ts":9007199254740992}',
        b'{"t":"text","body":"x","ts":-9007199254740992}',
        b'{"t":"text","body":"x","ts":' + b"9" * 400 + b"}",
        b'{"t":"text","body":"x","ts":1,"deep":' + b"[" * 8 + b"]" * 8 + b"}",
        b'{"t":"text","body":"x","ts":1,"deep":' + b"[" * 3000 + b"]" * 3000 + b"}",
    ]
    for n, plaintext in enumerate(good + bad):
        relay.broadcast(a, _seal_as(relay.sessions[a], plaintext, bytes([n]) * 12))
    relay.run()
    read = [(e.text, e.ts) for e in relay.of(b, MessageReceived)]
    assert read == [("one", 1), ("e", 1000)]
    assert all(type(ts) is int for _, ts in read)
    assert relay.of(b, Rejected) == [Rejected(a, "malformed")] * len(bad)


def test_integral_floats_in_broadcast_and_sender_key_fields_are_integers() -> None:
    """e and i written 5.0 still verify; a sender key's epoch 0.0 is the held epoch 0."""
    relay, (a, b) = room_of(2, seed="float-fields")
    body = json.loads(_seal_as(relay.sessions[a], b'{"t":"text","body":"f","ts":2}', bytes(12)))
    text = dumps(body).replace(f'"e":{body["e"]},', f'"e":{body["e"]}.0,')
    text = text.replace(f'"i":{body["i"]},', f'"i":{body["i"]}.0,')
    assert ".0," in text
    relay.broadcast(a, text)
    relay.run()
    assert relay.texts(b) == [(a, "f")]
    key = relay.sessions[a].peers[b].send_key
    assert key is not None
    ck = b64encode(bytes(32))
    payloads = [
        '{"k":"sender_key","epoch":0.0,"index":0.0,"ck":"' + ck + '"}',
        '{"k":"sender_key","epoch":1.5,"index":0,"ck":"' + ck + '"}',
        '{"k":"sender_key","epoch":4294967296,"index":0,"ck":"' + ck + '"}',
        '{"k":"sender_key","epoch":NaN,"index":0,"ck":"' + ck + '"}',
    ]
    for n, payload in enumerate(payloads):
        nonce = bytes([n]) * 12
        ct = aead.seal(key, nonce, payload.encode("ascii"), direct_aad(ROOM_ID, a, b))
        sealed = dumps({"k": "sealed", "n": b64encode(nonce), "ct": b64encode(ct)})
        relay.feed(b, {"type": "direct", "from": a, "body": sealed})
    assert relay.of(b, Rejected) == [Rejected(a, "bad_direct")] * 3
    assert list(relay.sessions[b].peers[a].chains) == [0]
