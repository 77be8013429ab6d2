"""The Python core reproduces every vector the JS core wrote (tests/vectors/js-generated.json)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from sotto import spake2
from sotto.broadcast import message_aad, seal_broadcast, text_plaintext
from sotto.encoding import b64encode, dumps
from sotto.handshake import identity
from sotto.pairwise import direct_aad, pair_key, seal_direct
from sotto.password import password_scalar
from sotto.ratchet import message_key, next_chain_key
from sotto.roomid import norm, room_id
from sotto.session import RoomSession
from sotto.signing import SigningKey
from tests.vectors.generate import SeededRandom

VECTORS = json.loads(
    (Path(__file__).parent / "vectors" / "js-generated.json").read_text(encoding="utf-8")
)


@pytest.mark.parametrize("case", VECTORS["room_ids"], ids=lambda c: repr(c["name"]))
def test_room_ids(case: dict[str, str]) -> None:
    """Each room name normalises and hashes to the id the JS core computed."""
    assert norm(case["name"]) == case["norm"]
    assert room_id(case["name"]) == case["room_id"]


def test_sealed_direct() -> None:
    """The sealed direct the JS core wrote is sealed to the same body string."""
    v = VECTORS["sealed_direct"]
    payload = json.loads(v["plaintext"])
    assert dumps(payload) == v["plaintext"]
    assert direct_aad(v["room_id"], v["from"], v["to"]).hex() == v["aad_hex"]
    body = seal_direct(
        bytes.fromhex(v["key_hex"]),
        bytes.fromhex(v["nonce_hex"]),
        v["room_id"],
        v["from"],
        v["to"],
        payload,
    )
    assert body == v["body"]


def test_broadcast() -> None:
    """The broadcast body the JS core wrote at a later chain index is reproduced exactly."""
    v = VECTORS["broadcast"]
    signer = SigningKey(bytes.fromhex(v["seed_hex"]))
    assert b64encode(signer.public_key) == v["key"]
    ck = bytes.fromhex(v["ck0_hex"])
    for _ in range(v["index"]):
        ck = next_chain_key(ck)
    mk = message_key(ck)
    assert mk.hex() == v["mk_hex"]
    plaintext = text_plaintext(v["text"], v["ts"])
    assert plaintext.decode("utf-8") == v["plaintext"]
    assert message_aad(v["room_id"], v["sender"], v["epoch"], v["index"]).hex() == v["aad_hex"]
    body = seal_broadcast(
        signer,
        v["room_id"],
        v["sender"],
        v["epoch"],
        v["index"],
        mk,
        bytes.fromhex(v["nonce_hex"]),
        plaintext,
    )
    assert body == v["body"]


def test_spake2_run() -> None:
    """The JS handshake between two members gives the same shares, bodies and pair keys."""
    v = VECTORS["spake2"]
    rid = room_id(v["room_name"])
    assert rid == v["room_id"]
    w = password_scalar(v["password"], rid)
    assert w.to_bytes(32, "big").hex() == v["w_hex"]
    keys = [SigningKey(bytes.fromhex(v[f"seed_{s}_hex"])).public_key for s in ("a", "b")]
    assert [b64encode(k) for k in keys] == [v["key_a"], v["key_b"]]
    x = spake2.scalar_from_bytes(bytes.fromhex(v["x_draw_hex"]))
    y = spake2.scalar_from_bytes(bytes.fromhex(v["y_draw_hex"]))
    assert x.to_bytes(32, "big").hex() == v["x_hex"]
    id_a = identity(v["member_a"], keys[0])
    id_b = identity(v["member_b"], keys[1])
    p_a, p_b = spake2.start("A", w, x), spake2.start("B", w, y)
    ka = spake2.finish("A", w, x, id_a, id_b, p_a, p_b, rid.encode("ascii"))
    kb = spake2.finish("B", w, y, id_a, id_b, p_a, p_b, rid.encode("ascii"))
    assert ka == kb
    assert dumps({"k": "pake1", "pA": b64encode(p_a)}) == v["pake1"]
    assert dumps({"k": "pake2", "pB": b64encode(p_b), "cB": b64encode(ka.c_b)}) == v["pake2"]
    assert dumps({"k": "pake3", "cA": b64encode(ka.c_a)}) == v["pake3"]
    assert ka.ke.hex() == v["Ke_hex"]
    assert pair_key(ka.ke, rid, v["member_a"], v["member_b"]).hex() == v["pair_a_to_b_hex"]
    assert pair_key(ka.ke, rid, v["member_b"], v["member_a"]).hex() == v["pair_b_to_a_hex"]


def _event_json(event: Any) -> dict[str, Any]:
    """An event as the JS generator wrote it: kind plus its fields."""
    return {"kind": event.kind, **dataclasses.asdict(event)}


def test_session_transcript() -> None:
    """Python RoomSessions fed the JS sessions' inputs return identical frames and events."""
    v = VECTORS["session"]
    now_ms = [0]
    sessions = {
        m["name"]: RoomSession(
            v["room_name"],
            m["password"],
            rng=SeededRandom(m["rng_label"]),
            clock=lambda: now_ms[0] / 1000,
        )
        for m in v["members"]
    }
    for number, step in enumerate(v["steps"]):
        now_ms[0] = step["now_ms"]
        session = sessions[step["member"]]
        if step["call"] == "receive":
            out = session.receive(step["arg"])
        elif step["call"] == "send_text":
            out = session.send_text(step["arg"])
        else:
            out = session.tick()
        where = f"step {number} ({step['member']} {step['call']})"
        assert out.frames == step["frames"], where
        assert [_event_json(e) for e in out.events] == step["events"], where
