"""Unit tests of the pure primitives: base64url, room ids, padding, ratchet, signatures."""

from __future__ import annotations

import random

import pytest

from sotto import aead, padding
from sotto.constants import MAX_JSON_DEPTH
from sotto.encoding import b64decode, b64encode, dumps, is_text, json_int, json_uint, loads_object
from sotto.errors import AuthenticationError, EncodingError, RatchetError, UsageError
from sotto.ratchet import ReceivingChain, SendingChain
from sotto.roomid import norm, room_id
from sotto.signing import SigningKey, verify


def test_b64_round_trip_and_strictness() -> None:
    """Encoding round-trips every length, and the decoder refuses lax forms."""
    for n in range(10):
        data = bytes(range(n))
        assert b64decode(b64encode(data)) == data
    for bad in ("AA==", "+w", "/w", "A", "AB", " AA", 5, None):
        with pytest.raises(EncodingError):
            b64decode(bad)
    with pytest.raises(EncodingError):
        b64decode("AAAA", length=2)


def test_room_id_shape_and_empty_names() -> None:
    """A room id is 22 base64url characters and a blank name is refused."""
    rid = room_id("Kitchen")
    assert len(rid) == 22 and len(b64decode(rid)) == 16
    assert norm("  A\u00a0\tB ") == "a b"
    with pytest.raises(UsageError):
        room_id(" \t\u3000")


def test_padding_bounds() -> None:
    """Padding always adds the marker, reaches a multiple of 64, and unpad refuses bad pads."""
    for n in (0, 1, 62, 63, 64, 65, 127, 128):
        padded = padding.pad(b"x" * n)
        assert len(padded) % 64 == 0 and len(padded) > n
        assert padding.unpad(padded) == b"x" * n
    for bad in (b"", b"\x00" * 64, b"x" * 64, b"\x80" * 63):
        with pytest.raises(EncodingError):
            padding.unpad(bad)


def test_aead_refuses_tampering() -> None:
    """AES-GCM output opens with the same key, nonce and aad, and nothing else."""
    key, nonce = bytes(32), bytes(12)
    sealed = aead.seal(key, nonce, b"secret", b"aad")
    assert aead.open_(key, nonce, sealed, b"aad") == b"secret"
    with pytest.raises(AuthenticationError):
        aead.open_(key, nonce, sealed, b"aae")
    with pytest.raises(AuthenticationError):
        aead.open_(key, nonce, sealed[:-1] + bytes([sealed[-1] ^ 1]), b"aad")


def test_signature_verifies_and_refuses() -> None:
    """An Ed25519 signature verifies for its message and key only."""
    signer, other = SigningKey(bytes(32)), SigningKey(b"\x01" * 32)
    sig = signer.sign(b"hello")
    verify(signer.public_key, b"hello", sig)
    with pytest.raises(AuthenticationError):
        verify(signer.public_key, b"hellp", sig)
    with pytest.raises(AuthenticationError):
        verify(other.public_key, b"hello", sig)
    with pytest.raises(EncodingError):
        verify(b"\x00" * 31, b"hello", sig)


def test_ratchet_out_of_order_and_replay() -> None:
    """A receiving chain opens any order once each and refuses a second use."""
    sender = SendingChain(0, b"k" * 32)
    keys = [sender.next_key() for _ in range(5)]
    receiver = ReceivingChain(0, 0, b"k" * 32)
    for index in (4, 0, 2, 1, 3):
        assert receiver.message_key(index) == keys[index][1]
        receiver.consume(index)
    assert receiver.skipped_count == 0
    with pytest.raises(RatchetError):
        receiver.message_key(2)


def test_ratchet_skip_bounds() -> None:
    """More than 2000 skipped steps at once is refused; held skipped keys stay bounded."""
    receiver = ReceivingChain(0, 0, b"k" * 32)
    with pytest.raises(RatchetError):
        receiver.message_key(2001)
    receiver.consume(2000)
    assert receiver.skipped_count == 2000
    receiver.consume(2100)
    assert receiver.skipped_count == 2000
    with pytest.raises(RatchetError):
        receiver.message_key(50)
    receiver.message_key(2050)


def test_compact_json_matches_javascript_stringify() -> None:
    """Bodies are compact, keep non-ASCII as is and escape control characters like JS."""
    assert dumps({"a": "é\n\u2028\x01", "b": 1}) == '{"a":"é\\n\u2028\\u0001","b":1}'
    with pytest.raises(EncodingError):
        loads_object("[1]")


def test_is_text_refuses_exactly_the_strings_holding_a_surrogate() -> None:
    """A Python string is Unicode text unless it holds a surrogate code point (always lone)."""
    alphabet = ["a", "é", "😀", "\x00", "\ud800", "\udbff", "\udc00", "\udfff"]
    rng = random.Random(7)
    for _ in range(2000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(6)))
        assert is_text(text) == (not any(0xD800 <= ord(c) <= 0xDFFF for c in text)), repr(text)


@pytest.mark.parametrize(
    "text",
    [
        '{"a":"\\ud800"}',
        '{"a":"x\\udc00y"}',
        '{"\\udbff":1}',
        '{"a":[1,{"b":["\\udfff"]}]}',
        '{"a":"\\ude00\\ud83d"}',
        '{"a":"\ud800"}',
    ],
    ids=["escape", "low escape", "key", "nested", "pair reversed", "raw surrogate"],
)
def test_loads_object_refuses_a_string_that_is_not_unicode_text(text: str) -> None:
    """JSON can write a lone surrogate but it is not text: anywhere in a body, it is refused."""
    with pytest.raises(EncodingError):
        loads_object(text)


def test_loads_object_reads_escaped_pairs_and_finds_deep_lone_surrogates() -> None:
    """An escaped surrogate pair is one character; a lone one deep inside nesting is found."""
    assert loads_object('{"a":"\\ud83d\\ude00"}') == {"a": "😀"}
    deep = '{"a":' + "[" * 900 + '"\\ud800"' + "]" * 900 + "}"
    with pytest.raises(EncodingError):
        loads_object(deep)


def _nested(depth: int, shape: str) -> str:
    """A JSON object nested `depth` containers deep: objects in objects, or arrays in one."""
    if shape == "objects":
        return '{"a":' * (depth - 1) + "{}" + "}" * (depth - 1)
    return "{}" if depth == 1 else '{"a":' + "[" * (depth - 1) + "]" * (depth - 1) + "}"


@pytest.mark.parametrize("shape", ["objects", "arrays"])
def test_loads_object_refuses_nesting_deeper_than_the_limit(shape: str) -> None:
    """Depths 1..5000: at most MAX_JSON_DEPTH parses, deeper is an EncodingError, never a crash."""
    assert MAX_JSON_DEPTH == 8
    for depth in range(1, 5001):
        text = _nested(depth, shape)
        if depth <= MAX_JSON_DEPTH:
            assert isinstance(loads_object(text), dict)
        else:
            with pytest.raises(EncodingError):
                loads_object(text)


@pytest.mark.parametrize("text", ["[" * 2000, '{"a":' * 2000, '{"a":' + "[" * 100_000])
def test_loads_object_refuses_unclosed_deep_nesting(text: str) -> None:
    """Unbalanced deep nesting (which overflows the JSON parser's recursion) is malformed."""
    with pytest.raises(EncodingError):
        loads_object(text)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "[NaN]"])
def test_loads_object_refuses_the_literals_javascript_refuses(literal: str) -> None:
    """NaN and Infinity are not JSON: JSON.parse refuses them, so Python does too."""
    with pytest.raises(EncodingError):
        loads_object('{"ts":' + literal + "}")


def test_loads_object_reads_numbers_as_javascript_does() -> None:
    """Huge literals parse (as JS reads them, to a double or infinity) instead of failing."""
    big = "9" * 5000
    assert loads_object('{"x":' + big + "}")["x"] == float("inf")
    assert loads_object('{"x":1e400}')["x"] == float("inf")
    assert loads_object('{"x":12345}')["x"] == 12345


def test_json_int_accepts_integral_numbers_within_bounds() -> None:
    """An integral float is the integer JS sees; fractions, NaN, infinities and bools are not."""
    assert json_uint(0) == 0 and json_uint(1.0) == 1 and json_uint(-0.0) == 0
    assert json_uint(0xFFFFFFFF) == 0xFFFFFFFF and json_uint(4294967295.0) == 0xFFFFFFFF
    for bad in [-1, -1.0, 0x100000000, 4294967296.0, 1.5, float("nan"), float("inf"), True, "1"]:
        assert json_uint(bad) is None, bad
    safe = 2**53 - 1
    assert json_int(-safe, -safe, safe) == -safe and json_int(9007199254740991.0, -safe, safe)
    for bad in [2**53, float(2**53), -(2**53), 1e300, float("-inf")]:
        assert json_int(bad, -safe, safe) is None, bad
    assert isinstance(json_uint(3.0), int)
