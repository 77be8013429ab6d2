"""Reading one broadcast from a peer: every check in order, ending in a single verdict."""

from __future__ import annotations

from dataclasses import dataclass

from .broadcast import decrypt_broadcast, parse_broadcast, parse_plaintext, verify_broadcast
from .constants import MAX_SAFE_INTEGER, P_TEXT
from .encoding import json_int
from .errors import EncodingError, ProtocolError, RatchetError
from .peer import Peer

# Verdict actions.
READ = "read"  # a text to show
HOLD = "hold"  # wait for the sender's verification or key
DROP = "drop"  # unreadable: report `reject` as Rejected and/or `gap` as a Gap
SKIP = "skip"  # opened fine, but of a kind this version ignores


@dataclass(frozen=True)
class Verdict:
    """What to do with a broadcast: the action, what to report, and the text if read."""

    action: str
    reject: str | None = None
    gap: str | None = None
    text: str = ""
    ts: int = 0


def _rejected(reason: str) -> Verdict:
    """Forged, replayed, tampered or malformed."""
    return Verdict(DROP, reject=reason)


def _gap(reason: str) -> Verdict:
    """Genuine as far as we can tell, but not readable by us."""
    return Verdict(DROP, gap=reason)


def read_broadcast(peer: Peer, body: str, room_id: str) -> Verdict:
    """Check and open a broadcast body from peer; chain state changes only on success."""
    try:
        env = parse_broadcast(body)
    except EncodingError:
        return _rejected("malformed")
    if peer.failed:
        return Verdict(DROP, reject="unverified_sender", gap="sender_unverified")
    if not peer.verified:
        return Verdict(HOLD)
    try:
        verify_broadcast(env, peer.public_key, room_id, peer.member_id)
    except ProtocolError:
        return _rejected("bad_signature")
    chain = peer.chains.get(env.epoch)
    if chain is None:
        newer = env.epoch > max(peer.chains, default=-1)
        return Verdict(HOLD) if newer else _gap("old_epoch")
    if env.index < chain.first_index:
        # Sealed before the key we were given: sent between our join and our handshake.
        return _gap("before_key")
    try:
        mk = chain.message_key(env.index)
    except RatchetError:
        return _rejected("replayed" if env.index < chain.next_index else "too_far_ahead")
    try:
        padded = decrypt_broadcast(env, mk, room_id, peer.member_id)
    except ProtocolError:
        return _rejected("bad_ciphertext")
    # Signed and authentic: the key is used up, whatever the plaintext turns out to hold.
    chain.consume(env.index)
    try:
        plain = parse_plaintext(padded)
    except EncodingError:
        # Bad padding, not UTF-8, not a JSON object, or a string that is not Unicode text.
        return _rejected("malformed")
    if plain.get("t") != P_TEXT:
        return Verdict(SKIP)
    # ts as section 2.1 bounds it: an integer JavaScript holds exactly (1.0 included).
    text, ts = plain.get("body"), json_int(plain.get("ts"), -MAX_SAFE_INTEGER, MAX_SAFE_INTEGER)
    if not isinstance(text, str) or ts is None:
        return _rejected("malformed")
    return Verdict(READ, text=text, ts=ts)
