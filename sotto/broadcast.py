"""The group message body: padded JSON plaintext, AES-GCM under a message key, Ed25519 signature."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import aead
from .constants import ED25519_SIG_LENGTH, LABEL_MSG, NONCE_LENGTH, P_TEXT, SEP
from .encoding import b64decode, b64encode, dumps, json_uint, loads_object, u32
from .errors import EncodingError
from .padding import pad, unpad
from .signing import SigningKey, verify


def message_aad(room_id: str, sender: str, epoch: int, index: int) -> bytes:
    """aad = "sotto/1 msg" || 0 || room_id || 0 || sender || 0 || u32(epoch) || u32(index)."""
    ids = SEP + room_id.encode("ascii") + SEP + sender.encode("ascii") + SEP
    return LABEL_MSG + ids + u32(epoch) + u32(index)


def text_plaintext(text: str, ts: int) -> bytes:
    """The UTF-8 JSON plaintext of a text message, before padding."""
    return dumps({"t": P_TEXT, "body": text, "ts": ts}).encode("utf-8")


def seal_broadcast(
    signer: SigningKey,
    room_id: str,
    sender: str,
    epoch: int,
    index: int,
    mk: bytes,
    nonce: bytes,
    plaintext: bytes,
) -> str:
    """The broadcast body string for an unpadded plaintext."""
    aad = message_aad(room_id, sender, epoch, index)
    ct = aead.seal(mk, nonce, pad(plaintext), aad)
    sig = signer.sign(aad + nonce + ct)
    return dumps(
        {"e": epoch, "i": index, "n": b64encode(nonce), "ct": b64encode(ct), "sig": b64encode(sig)}
    )


@dataclass(frozen=True)
class Envelope:
    """A parsed broadcast body whose fields are well formed (nothing verified yet)."""

    epoch: int
    index: int
    nonce: bytes
    ct: bytes
    sig: bytes


def parse_broadcast(body: object) -> Envelope:
    """Parse and check the shape of a broadcast body string."""
    obj = loads_object(body)
    epoch, index = json_uint(obj.get("e")), json_uint(obj.get("i"))
    if epoch is None or index is None:
        raise EncodingError("bad epoch or index")
    return Envelope(
        epoch=epoch,
        index=index,
        nonce=b64decode(obj.get("n"), NONCE_LENGTH),
        ct=b64decode(obj.get("ct")),
        sig=b64decode(obj.get("sig"), ED25519_SIG_LENGTH),
    )


def verify_broadcast(env: Envelope, public_key: bytes, room_id: str, sender: str) -> None:
    """Check the sender's signature over aad || nonce || ct (before any decryption)."""
    aad = message_aad(room_id, sender, env.epoch, env.index)
    verify(public_key, aad + env.nonce + env.ct, env.sig)


def decrypt_broadcast(env: Envelope, mk: bytes, room_id: str, sender: str) -> bytes:
    """The padded plaintext of a verified envelope; raises if the tag does not verify."""
    aad = message_aad(room_id, sender, env.epoch, env.index)
    return aead.open_(mk, env.nonce, env.ct, aad)


def parse_plaintext(padded: bytes) -> dict[str, Any]:
    """Unpad and parse a decrypted plaintext: a JSON object of Unicode text, else EncodingError."""
    try:
        text = unpad(padded).decode("utf-8")
    except UnicodeDecodeError:
        raise EncodingError("plaintext is not UTF-8") from None
    return loads_object(text)


def open_broadcast(env: Envelope, mk: bytes, room_id: str, sender: str) -> dict[str, Any]:
    """Decrypt, unpad and parse the plaintext object of a verified envelope."""
    return parse_plaintext(decrypt_broadcast(env, mk, room_id, sender))
