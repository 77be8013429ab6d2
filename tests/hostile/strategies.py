"""Hypothesis strategies shared by the fuzz tests: any JSON, frame-shaped JSON, any text.

Frame-shaped values take each field from a mix of well-formed and hostile values,
so the fuzzers reach the deep branches (a join with a good key but a bad
`last_seq`, a broadcast with a non-string body) as well as the shallow ones.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st


# Deterministic in CI: the same cases on every run, no example database on disk.
def fuzz_settings(max_examples: int) -> settings:
    """Hypothesis settings for a fuzz target of ``max_examples`` cases."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )


def b64url(raw: bytes) -> str:
    """Unpadded base64url."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
)
json_values: st.SearchStrategy[Any] = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=5,
)

# JSON that every encoder accepts (no NaN or infinities), for payloads we seal.
finite_json_values: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=5,
)

# Base64url-ish text: canonical encodings of any length, and the near misses a strict
# decoder must refuse (padding, the standard alphabet, non-canonical tails, junk).
good_key = st.binary(min_size=32, max_size=32).map(b64url)
b64_texts = st.one_of(
    st.binary(max_size=80).map(b64url),
    good_key,
    st.binary(min_size=32, max_size=32).map(lambda r: base64.urlsafe_b64encode(r).decode()),
    st.binary(min_size=32, max_size=32).map(lambda r: base64.b64encode(r).decode()),
    good_key.map(lambda k: k[:-1] + "B"),
    good_key.map(lambda k: k + "A"),
    st.text(
        alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/= .",
        max_size=50,
    ),
)
member_ids = st.one_of(
    st.binary(min_size=16, max_size=16).map(b64url),
    st.text(
        alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
        min_size=21,
        max_size=23,
    ),
    st.text(max_size=24),
)
anything = json_scalars | json_values


def fields(**known: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Objects with any subset of the named fields (well-formed or not), plus a stray one."""
    return st.tuples(
        st.fixed_dictionaries({}, optional={k: v | json_scalars for k, v in known.items()}),
        st.dictionaries(st.text(max_size=6), json_scalars, max_size=1),
    ).map(lambda pair: {**pair[1], **pair[0]})


# Strings a JSON text can carry but UTF-8 cannot: lone surrogates, mixed with ordinary ones.
_plain = st.text(alphabet=st.sampled_from(["a", "\u00e9", "\x00", "\u2028"]), max_size=3)
surrogate_texts = st.tuples(
    _plain, st.sampled_from(["\ud800", "\udbff", "\udc00", "\udfff"]), _plain
).map("".join)
client_types = st.sampled_from(["join", "ping", "direct", "broadcast"])


def frame_objects(texts: st.SearchStrategy[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Client-frame-shaped objects whose free-text fields come from ``texts``."""
    return st.tuples(
        client_types | st.sampled_from(["welcome", "message", "JOIN", "", "join "]) | json_values,
        fields(
            v=st.sampled_from([1, 1.0, True, "1", 0, 2, -1, 2**64]),
            key=b64_texts,
            resume=texts,
            last_seq=st.integers(min_value=-3, max_value=2**70),
            to=member_ids | texts,
            body=texts,
        ),
    ).map(lambda pair: {**pair[1], "type": pair[0]})


# Frames as a real client could send them (valid UTF-8), and with lone surrogates too.
client_frames = frame_objects(st.text(max_size=200))
any_client_frames = frame_objects(st.text(max_size=200) | surrogate_texts)


def mangled(texts: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Texts cut short, spliced or padded: JSON that no longer parses, or parses oddly."""
    return st.tuples(texts, st.integers(min_value=0, max_value=400), st.text(max_size=8)).map(
        lambda t: t[0][: t[1]] + t[2]
    )


frame_texts = st.one_of(
    any_client_frames.map(json.dumps),
    client_frames.map(lambda f: json.dumps(f, ensure_ascii=False)),
    json_values.map(json.dumps),
    mangled(any_client_frames.map(json.dumps)),
    st.text(max_size=200),
)

# Texts that once broke JSON parsers: deep nesting, huge numbers, lone surrogates.
NASTY_TEXTS = [
    "[" * 100_000,
    '{"type":"join","v":1' + "," * 3 + "}",
    '{"type":"join","v":' + "9" * 5000 + "}",
    '{"type":"broadcast","body":"\\ud800"}',
    '{"type":"direct","to":"\\udfff","body":"x"}',
    '{"type":"ping","type":"broadcast","body":"dup keys"}',
    '{"type":"join","v":1,"key":"' + "A" * 43 + '","resume":"t","last_seq":1e400}',
    "NaN",
    '{"type":null}',
    "\x00",
    "",
]
