"""Fuzzing the relay: its frame parser, and its consumer with a second member watching.

(a) rooms.frames.parse_client_frame gets 10 500 texts, 2 100 Hypothesis examples of
5 (any JSON, frame-shaped JSON with hostile fields and lone surrogates, mangled JSON,
any text): it returns a typed frame that really is valid, or raises FrameError with
a code of rooms.protocol.ErrorCode, nothing else.
(b) The consumer, through Channels' WebsocketCommunicator, gets 1 260 random
sequences of 8 to 16 frames, over 10 000 frames in all (text or bytes, any order,
join anywhere), from one connection while a joined member watches. A model of
section 4 predicts every frame each side must get; the test requires exactly
those: each bad frame answered with its code, the watcher getting only what a
well-behaved member would cause.
(c) Against a real daphne, a lone surrogate escape in each string field: the
communicator never encodes text, so only a real socket shows what it does.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import os
from dataclasses import dataclass, field
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import override_settings
from hypothesis import example, given
from hypothesis import strategies as st

from chatproject.asgi import application
from rooms.frames import Broadcast, Direct, FrameError, Join, Ping, parse_client_frame
from rooms.hub import reset_hub
from rooms.protocol import ErrorCode
from tests.hostile.strategies import (
    NASTY_TEXTS,
    any_client_frames,
    client_frames,
    frame_texts,
    fuzz_settings,
    json_values,
    mangled,
)
from tests.support.servers import DaphneProcess
from tests.support.wsclient import RawClient

ERROR_CODES = {v for k, v in vars(ErrorCode).items() if not k.startswith("_")}
# Hypothesis draws five texts per example: half the cost per text of one per example.
PARSER_EXAMPLES = 2_100
PARSER_BATCH = 5
CONSUMER_SEQUENCES = 1_260
KNOWN_TYPES = {"join", "ping", "direct", "broadcast"}


def expected_code(text: str) -> str | None:
    """What section 4 says about a text before field checks: a code, or None (known type)."""
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError):
        return ErrorCode.BAD_FRAME
    if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
        return ErrorCode.BAD_FRAME
    return None if obj["type"] in KNOWN_TYPES else ErrorCode.UNKNOWN_TYPE


def check_parsed(text: str) -> None:
    """One parser case: a valid typed frame or a FrameError with a code from the table."""
    oracle = expected_code(text)
    try:
        frame = parse_client_frame(text)
    except FrameError as exc:
        assert exc.code in ERROR_CODES
        assert exc.code == (oracle or ErrorCode.BAD_FRAME)
        return
    assert oracle is None
    obj = json.loads(text)
    expected_class = {"join": Join, "ping": Ping, "direct": Direct, "broadcast": Broadcast}
    assert type(frame) is expected_class[obj["type"]]
    if isinstance(frame, Join):
        assert type(obj["v"]) is int and obj["v"] == 1
        raw = base64.urlsafe_b64decode(frame.key + "=" * (-len(frame.key) % 4))
        assert len(raw) == 32 and base64.urlsafe_b64encode(raw).rstrip(b"=").decode() == frame.key
        if frame.resume is not None:
            assert type(frame.last_seq) is int and frame.last_seq >= 0
    elif isinstance(frame, Direct):
        assert isinstance(frame.to, str) and isinstance(frame.body, str)
    elif isinstance(frame, Broadcast):
        assert isinstance(frame.body, str)
    # Whatever the relay accepts it can encode for recipients (no lone surrogates).
    for item in dataclasses.fields(frame):
        value = getattr(frame, item.name)
        if isinstance(value, str):
            value.encode("utf-8")


def test_frame_parser_returns_a_typed_frame_or_a_table_code() -> None:
    """10 500 texts: never an exception other than FrameError, never a code outside the table."""
    cases: list[int] = []

    @fuzz_settings(PARSER_EXAMPLES)
    @given(st.lists(frame_texts, min_size=PARSER_BATCH, max_size=PARSER_BATCH))
    def run(texts: list[str]) -> None:
        for text in texts:
            cases.append(1)
            check_parsed(text)

    for text in NASTY_TEXTS:
        check_parsed(text)
    run()
    assert len(cases) >= 10_000


# ----- (b) the consumer -----------------------------------------------------------------------

WATCHER = "<watcher>"
SELF = "<self>"

consumer_frames = st.one_of(
    any_client_frames.map(json.dumps),
    st.fixed_dictionaries(
        {
            "type": st.just("direct"),
            "to": st.sampled_from([WATCHER, SELF, "A" * 22]),
            "body": st.text(max_size=30),
        }
    ).map(json.dumps),
    st.just("JOIN"),
    st.just("PING"),
    st.text(max_size=30).map(lambda b: json.dumps({"type": "broadcast", "body": b})),
    json_values.map(json.dumps),
    mangled(client_frames.map(json.dumps)),
    st.binary(max_size=40),
)


@dataclass
class Model:
    """What section 4 says the fuzzing connection and the watcher must each receive."""

    watcher_id: str
    room_seq: int = 0
    own_id: str | None = None
    to_fuzzer: list[dict[str, Any]] = field(default_factory=list)
    to_watcher: list[dict[str, Any]] = field(default_factory=list)

    def error(self, code: str) -> None:
        """The fuzzer gets an error with this code."""
        self.to_fuzzer.append({"type": "error", "code": code})


async def send(fuzzer: Any, model: Model, item: str | bytes, key: str) -> None:
    """Send one fuzz item (placeholders resolved) and record what the model expects."""
    if not item:
        return  # The communicator cannot send an empty frame (daphne tests cover it).
    if isinstance(item, bytes):
        await fuzzer.send_to(bytes_data=item)
        model.error(ErrorCode.BAD_FRAME)
        return
    if item == "JOIN":
        item = json.dumps({"type": "join", "v": 1, "key": key})
    elif item == "PING":
        item = json.dumps({"type": "ping"})
    item = item.replace(WATCHER, model.watcher_id).replace(SELF, model.own_id or "")
    await fuzzer.send_to(text_data=item)
    if len(item.encode("utf-8", "surrogatepass")) > settings.SOTTO["MAX_FRAME_BYTES"]:
        model.error(ErrorCode.FRAME_TOO_LARGE)
        return
    try:
        frame = parse_client_frame(item)
    except FrameError as exc:
        model.error(exc.code)
        return
    if isinstance(frame, Ping):
        model.to_fuzzer.append({"type": "pong"})
    elif isinstance(frame, Join):
        if model.own_id is not None:
            model.error(ErrorCode.ALREADY_JOINED)
        else:
            model.own_id = "?"
            model.to_fuzzer.append({"type": "welcome"})
            model.to_watcher.append({"type": "presence", "joins": "<fuzzer>", "leaves": {}})
    elif model.own_id is None:
        model.error(ErrorCode.NOT_JOINED)
    elif isinstance(frame, Broadcast):
        model.room_seq += 1
        message = {
            "type": "message",
            "from": model.own_id,
            "seq": model.room_seq,
            "body": frame.body,
        }
        model.to_fuzzer.append(message)
        model.to_watcher.append(message)
    elif isinstance(frame, Direct):
        direct = {"type": "direct", "from": model.own_id, "body": frame.body}
        if frame.to == model.watcher_id:
            model.to_watcher.append(direct)
        elif frame.to == model.own_id:
            model.to_fuzzer.append(direct)
        else:
            model.error(ErrorCode.NO_SUCH_MEMBER)


def matches(got: dict[str, Any], want: dict[str, Any], own_id: str | None) -> bool:
    """True if a received frame is what the model predicted (ids filled in as learned)."""
    if want["type"] == "error":
        return got.get("type") == "error" and got.get("code") == want["code"]
    if want["type"] == "welcome":
        return got.get("type") == "welcome"
    if want["type"] == "presence":
        return got.get("type") == "presence" and set(got["joins"]) == {own_id}
    return got == {**want, **({"from": own_id} if "from" in want else {})}


async def run_sequence(items: list[str | bytes]) -> None:
    """One fuzz case: a fresh room, a watcher, a fuzzing connection, then the checks."""
    # Not tests.support's random_room_id: Hypothesis seeds `random` the same for every case.
    room = f"/ws/rooms/{base64.urlsafe_b64encode(os.urandom(16)).rstrip(b'=').decode()}/"
    watcher = WebsocketCommunicator(application, room)
    assert (await watcher.connect())[0]
    await watcher.send_json_to({"type": "join", "v": 1, "key": _key()})
    welcome = await watcher.receive_json_from()
    model = Model(watcher_id=welcome["you"])
    fuzzer = WebsocketCommunicator(application, room)
    assert (await fuzzer.connect())[0]
    for item in items:
        await send(fuzzer, model, item, _key())
        if model.own_id == "?":
            # Read up to our welcome now: later frames may address our own id.
            while model.own_id == "?":
                got = await fuzzer.receive_json_from()
                want = model.to_fuzzer.pop(0)
                assert matches(got, want, None), (got, want)
                if want["type"] == "welcome":
                    model.own_id = got["you"]
    own_id = model.own_id
    for want in model.to_fuzzer:
        got = await fuzzer.receive_json_from()
        assert matches(got, want, own_id), (got, want)
    await fuzzer.send_json_to({"type": "ping"})
    assert await fuzzer.receive_json_from() == {"type": "pong"}
    # The watcher's own ping is answered after everything the fuzzer caused for it.
    await watcher.send_json_to({"type": "ping"})
    for want in [*model.to_watcher, {"type": "pong"}]:
        got = await watcher.receive_json_from()
        assert matches(got, want, own_id), (got, want)
    await fuzzer.disconnect()
    if own_id is not None:
        leave = await watcher.receive_json_from()
        assert leave["type"] == "presence" and set(leave["leaves"]) == {own_id}
    await watcher.disconnect()


def _key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()


@override_settings(SOTTO={**settings.SOTTO, "STATS_FLUSH_SECONDS": 3600.0})
def test_consumer_answers_every_bad_frame_and_the_watcher_sees_only_valid_effects() -> None:
    """1 260 random frame sequences: exact answers to the fuzzer, nothing stray to the watcher."""
    loop = asyncio.new_event_loop()
    sequences: list[int] = []
    frames: list[int] = []

    @fuzz_settings(CONSUMER_SEQUENCES)
    @given(st.lists(consumer_frames, min_size=8, max_size=16))
    @example(["JOIN", "JOIN", json.dumps({"type": "direct", "to": SELF, "body": "me"})])
    @example([json.dumps({"type": "broadcast", "body": "early"}), "JOIN", b"\x00\xff"])
    @example([*NASTY_TEXTS, "JOIN", *NASTY_TEXTS])
    def run(items: list[str | bytes]) -> None:
        sequences.append(1)
        frames.append(len(items))
        loop.run_until_complete(run_sequence(items))

    try:
        run()
    finally:
        loop.run_until_complete(reset_hub())
        loop.close()
    assert len(sequences) >= CONSUMER_SEQUENCES and sum(frames) >= 10_000


# ----- what the communicator cannot show: text a real socket must encode --------------------

SURROGATE_CASES = {
    "broadcast-body": '{"type":"broadcast","body":"x\\ud800y"}',
    "direct-body": '{"type":"direct","to":"<watcher>","body":"\\udfff"}',
    "join-resume": '{"type":"join","v":1,"key":"<key>","resume":"\\ud800","last_seq":0}',
    "direct-to": '{"type":"direct","to":"\\ud800","body":"x"}',
    "type": '{"type":"\\ud800"}',
    "join-key": '{"type":"join","v":1,"key":"\\ud800"}',
    "stray-field": '{"type":"ping","x":"\\ud800"}',
}


@pytest.mark.parametrize("case", list(SURROGATE_CASES))
async def test_lone_surrogate_escapes_harm_nobody(
    embedded_server: DaphneProcess, case: str
) -> None:
    """A string with a lone surrogate escape in any field leaves every socket working."""
    room_id = base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode()
    watcher = await RawClient.connect(embedded_server.ws_url(room_id))
    await watcher.join()
    sender = await RawClient.connect(embedded_server.ws_url(room_id))
    if case != "join-resume":
        await sender.join()
        await watcher.recv_type("presence")
    text = SURROGATE_CASES[case].replace("<watcher>", watcher.member_id).replace("<key>", _key())
    await sender.send(text)
    for client in (sender, watcher):
        await client.send({"type": "ping"})
        await client.recv_type("pong", timeout=1.5)
    answers = [f for f in sender.received if f.get("type") == "error"]
    assert all(f["code"] in ERROR_CODES for f in answers)
    await sender.close()
    await watcher.close()
