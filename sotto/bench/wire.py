"""The load generator's frames: broadcast bodies that carry a tag, and a fast reader of messages.

A body is `sender.counter.` followed by pre-made base64url filler up to the
requested size; the relay never reads it. Reading a `message` frame with
`json.loads` costs more than everything else the generator does per delivery,
so `read_message` picks the three fields it needs with compiled patterns and
`None` sends any other frame to the full JSON parser.
"""

from __future__ import annotations

import random
import re
import string

from .. import constants as c

_TYPE_MESSAGE = re.compile(rb'"type": ?"' + c.T_MESSAGE.encode() + rb'"')
_SEQ = re.compile(rb'"seq": ?(\d+)[,}]')
_BODY_TAG = re.compile(rb'"body": ?"(\d+)\.(\d+)\.')


RATE_LIMITED = "rate_limited"  # the server's error code for a dropped frame (protocol.md 4)
B64URL_CHARS = string.ascii_letters + string.digits + "-_"
_BROADCAST_HEAD = '{"type":"' + c.T_BROADCAST + '","body":"'


def broadcast_frame(sender: int, counter: int, filler: str) -> str:
    """Return the text of a `broadcast` frame whose body is the tag padded to len(filler).

    The filler must be base64url characters, which JSON needs no escapes for.
    """
    tag = f"{sender}.{counter}."
    return _BROADCAST_HEAD + tag + filler[len(tag) :] + '"}'


def read_tag(body: object) -> tuple[int, int]:
    """Return (sender, counter) from a body's tag; ValueError if it carries none."""
    if not isinstance(body, str):
        raise ValueError("body is not a string")
    sender, counter, _ = body.split(".", 2)
    return int(sender), int(counter)


def read_message(payload: bytes) -> tuple[int, int, int] | None:
    """Return (sender, counter, seq) of a tagged `message` frame, or None for any other frame."""
    if _TYPE_MESSAGE.search(payload) is None:
        return None
    seq = _SEQ.search(payload)
    tag = _BODY_TAG.search(payload)
    if seq is None or tag is None:
        return None
    return int(tag[1]), int(tag[2]), int(seq[1])


def filler(size: int) -> str:
    """Return `size` random base64url characters: the opaque stand-in for a ciphertext body."""
    return "".join(random.choices(B64URL_CHARS, k=max(size, 0)))


def random_room_id() -> str:
    """Return a fresh well-formed room id (22 base64url characters) for a simulated room."""
    return filler(c.ROOM_ID_LENGTH)
