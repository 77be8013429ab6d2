"""The vector files (tests/vectors/*.json) are reproduced value by value from their inputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sotto import spake2
from sotto.broadcast import (
    message_aad,
    open_broadcast,
    parse_broadcast,
    seal_broadcast,
    verify_broadcast,
)
from sotto.encoding import b64decode, b64encode, dumps, loads_object
from sotto.errors import EncodingError, ProtocolError, UsageError
from sotto.fingerprint import fingerprint, fingerprint_bytes
from sotto.padding import pad
from sotto.pairwise import direct_aad, open_direct, pair_key, seal_direct
from sotto.password import password_scalar, salt, stretch
from sotto.ratchet import ReceivingChain, message_key, next_chain_key
from sotto.roomid import norm, room_id
from sotto.signing import SigningKey
from tests.vectors import generate

VECTORS = Path(__file__).parent / "vectors"


def load(name: str) -> dict[str, Any]:
    """One vector file as an object."""
    data: dict[str, Any] = json.loads((VECTORS / name).read_text("utf-8"))
    return data


def test_generator_rewrites_identical_files(tmp_path: Path) -> None:
    """Running the generator again gives byte-identical files (the formats are stable)."""
    generate.main(tmp_path)
    for name in generate.GENERATORS:
        assert (tmp_path / name).read_bytes() == (VECTORS / name).read_bytes(), name


def test_every_file_is_described() -> None:
    """Each generated file documents its fields in a top-level description."""
    for name in generate.GENERATORS:
        assert len(load(name)["description"]) > 80, name


def test_b64_vectors() -> None:
    """Valid texts decode to their bytes and back; invalid ones are refused."""
    data = load("b64.json")
    for case in data["valid"]:
        assert b64decode(case["text"]).hex() == case["bytes_hex"]
        assert b64encode(bytes.fromhex(case["bytes_hex"])) == case["text"]
    for text in data["invalid"]:
        with pytest.raises(EncodingError):
            b64decode(text)


def test_room_id_vectors() -> None:
    """Every name normalises and hashes to the recorded room id; blank names are refused."""
    data = load("room_id.json")
    for case in data["cases"]:
        assert norm(case["name"]) == case["norm"]
        assert room_id(case["name"]) == case["room_id"]
    for name in data["empty"]:
        with pytest.raises(UsageError):
            room_id(name)


def test_password_vectors() -> None:
    """Salt, PBKDF2 output and w match for every password."""
    for case in load("password.json")["cases"]:
        assert salt(case["room_id"]).hex() == case["salt_hex"]
        assert stretch(case["password"], case["room_id"]).hex() == case["pbkdf2_hex"]
        w = password_scalar(case["password"], case["room_id"])
        assert w.to_bytes(32, "big").hex() == case["w_hex"]


def test_invalid_share_vectors() -> None:
    """Every listed share is refused by the receiving role."""
    data = load("spake2_invalid_shares.json")
    w, secret = int(data["w_hex"], 16), int(data["secret_hex"], 16)
    for case in data["cases"]:
        own = spake2.start(case["role"], w, secret)
        share = bytes.fromhex(case["share_hex"])
        p_a, p_b = (own, share) if case["role"] == "A" else (share, own)
        with pytest.raises(spake2.InvalidShare):
            spake2.finish(case["role"], w, secret, b"a", b"b", p_a, p_b, b"")


def test_spake2_session_vector() -> None:
    """A two-member handshake reproduces shares, keys, bodies and pair keys from its inputs."""
    v = load("spake2_session.json")
    rid = room_id(v["room_name"])
    assert rid == v["room_id"]
    w = password_scalar(v["password"], rid)
    assert w.to_bytes(32, "big").hex() == v["w_hex"]
    assert v["member_a"] < v["member_b"]
    key_a = SigningKey(bytes.fromhex(v["seed_a_hex"])).public_key
    key_b = SigningKey(bytes.fromhex(v["seed_b_hex"])).public_key
    assert (b64encode(key_a), b64encode(key_b)) == (v["key_a"], v["key_b"])
    id_a = generate.identity(v["member_a"], key_a)
    id_b = generate.identity(v["member_b"], key_b)
    assert (id_a.hex(), id_b.hex()) == (v["id_a_hex"], v["id_b_hex"])
    x = spake2.scalar_from_bytes(bytes.fromhex(v["x_draw_hex"]))
    y = spake2.scalar_from_bytes(bytes.fromhex(v["y_draw_hex"]))
    assert (x.to_bytes(32, "big").hex(), y.to_bytes(32, "big").hex()) == (v["x_hex"], v["y_hex"])
    p_a, p_b = spake2.start("A", w, x), spake2.start("B", w, y)
    assert (p_a.hex(), p_b.hex()) == (v["pA_hex"], v["pB_hex"])
    keys = spake2.finish("B", w, y, id_a, id_b, p_a, p_b, rid.encode())
    got = {
        "K_hex": keys.k_point,
        "TT_hex": keys.transcript,
        "Ke_hex": keys.ke,
        "Ka_hex": keys.ka,
        "KcA_hex": keys.kc_a,
        "KcB_hex": keys.kc_b,
        "cA_hex": keys.c_a,
        "cB_hex": keys.c_b,
    }
    for field, value in got.items():
        assert value.hex() == v[field], field
    assert loads_object(v["pake1"]) == {"k": "pake1", "pA": b64encode(p_a)}
    assert dumps({"k": "pake1", "pA": b64encode(p_a)}) == v["pake1"]
    assert dumps({"k": "pake2", "pB": b64encode(p_b), "cB": b64encode(keys.c_b)}) == v["pake2"]
    assert dumps({"k": "pake3", "cA": b64encode(keys.c_a)}) == v["pake3"]
    a, b = v["member_a"], v["member_b"]
    assert pair_key(keys.ke, rid, a, b).hex() == v["pair_a_to_b_hex"]
    assert pair_key(keys.ke, rid, b, a).hex() == v["pair_b_to_a_hex"]


def test_pairwise_vectors() -> None:
    """Pair keys match in both directions."""
    for case in load("pairwise.json")["cases"]:
        key = pair_key(bytes.fromhex(case["ke_hex"]), case["room_id"], case["from"], case["to"])
        assert key.hex() == case["key_hex"]


def test_sealed_direct_vector() -> None:
    """The sealed direct is reproduced exactly, opens, and its tampered forms are refused."""
    v = load("sealed_direct.json")
    key, nonce = bytes.fromhex(v["key_hex"]), bytes.fromhex(v["nonce_hex"])
    payload = loads_object(v["plaintext"])
    assert dumps(payload) == v["plaintext"]
    assert direct_aad(v["room_id"], v["from"], v["to"]).hex() == v["aad_hex"]
    assert seal_direct(key, nonce, v["room_id"], v["from"], v["to"], payload) == v["body"]
    assert open_direct(key, loads_object(v["body"]), v["room_id"], v["from"], v["to"]) == payload
    with pytest.raises(ProtocolError):
        open_direct(key, loads_object(v["body"]), v["room_id"], v["to"], v["from"])
    for body in v["tampered_bodies"]:
        with pytest.raises(ProtocolError):
            open_direct(key, loads_object(body), v["room_id"], v["from"], v["to"])


def test_ratchet_vector() -> None:
    """The chain steps match and the out-of-order delivery holds exactly the listed keys."""
    v = load("ratchet.json")
    ck = bytes.fromhex(v["ck0_hex"])
    for step in v["steps"]:
        assert ck.hex() == step["ck_hex"]
        assert message_key(ck).hex() == step["mk_hex"]
        ck = next_chain_key(ck)
    chain = ReceivingChain(0, 0, bytes.fromhex(v["ck0_hex"]))
    for entry in v["delivery"]:
        assert chain.message_key(entry["index"]).hex() == entry["mk_hex"]
        chain.consume(entry["index"])
        assert chain.skipped_indices() == entry["skipped_after"]
    for entry in v["delivery"]:
        with pytest.raises(ProtocolError):
            chain.message_key(entry["index"])


def test_fingerprint_vectors() -> None:
    """Fingerprint bytes and their display match."""
    for case in load("fingerprint.json")["cases"]:
        key = b64decode(case["key"], 32)
        assert fingerprint_bytes(case["room_id"], key).hex() == case["fp_hex"]
        assert fingerprint(case["room_id"], key) == case["display"]


def test_broadcast_vector() -> None:
    """Every broadcast body is rebuilt byte for byte and opened in the listed order, once."""
    v = load("broadcast.json")
    signer = SigningKey(bytes.fromhex(v["seed_hex"]))
    assert b64encode(signer.public_key) == v["key"]
    rid, sender, epoch = v["room_id"], v["sender"], v["epoch"]
    ck = bytes.fromhex(v["ck0_hex"])
    for m in v["messages"]:
        assert ck.hex() == m["ck_hex"] and message_key(ck).hex() == m["mk_hex"]
        plaintext = dumps({"t": "text", "body": m["text"], "ts": m["ts"]}).encode()
        assert plaintext.decode() == m["plaintext"]
        assert pad(plaintext).hex() == m["padded_hex"]
        assert message_aad(rid, sender, epoch, m["index"]).hex() == m["aad_hex"]
        body = seal_broadcast(
            signer,
            rid,
            sender,
            epoch,
            m["index"],
            message_key(ck),
            bytes.fromhex(m["nonce_hex"]),
            plaintext,
        )
        assert body == m["body"]
        ck = next_chain_key(ck)
    chain = ReceivingChain(epoch, 0, bytes.fromhex(v["ck0_hex"]))
    for index in v["delivery_order"]:
        m = v["messages"][index]
        env = parse_broadcast(m["body"])
        verify_broadcast(env, signer.public_key, rid, sender)
        plain = open_broadcast(env, chain.message_key(env.index), rid, sender)
        chain.consume(env.index)
        assert plain == {"t": "text", "body": m["text"], "ts": m["ts"]}
    for index in v["delivery_order"]:
        with pytest.raises(ProtocolError):
            chain.message_key(parse_broadcast(v["messages"][index]["body"]).index)


def test_broadcast_tampered_vectors() -> None:
    """Each tampered body fails parsing, the signature or decryption."""
    v = load("broadcast.json")
    public = b64decode(v["key"], 32)
    chain = ReceivingChain(v["epoch"], 0, bytes.fromhex(v["ck0_hex"]))
    for case in v["tampered"]:
        with pytest.raises(ProtocolError):
            env = parse_broadcast(case["body"])
            verify_broadcast(env, public, v["room_id"], v["sender"])
            open_broadcast(env, chain.message_key(env.index), v["room_id"], v["sender"])
