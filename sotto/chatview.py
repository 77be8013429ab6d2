"""How `sotto chat` shows events: one line each, sender colour and short fingerprint, no escapes."""

from __future__ import annotations

import re
import time

from .events import (
    Event,
    Gap,
    HandshakeRefused,
    Joined,
    KeysRotated,
    MemberJoined,
    MemberLeft,
    MessageReceived,
    PeerFailed,
    PeerNotAnswering,
    PeerVerified,
    Rejected,
    ServerError,
)
from .session import RoomSession

# C0 and C1 controls (except tab and newline), which could drive the terminal, and
# surrogates, which no output encoding can write (the core refuses them in texts, but a
# server's error message or a bad `from` id is shown too).
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_COLOR = re.compile("#([0-9a-fA-F]{6})")


def safe(text: str) -> str:
    """Text with controls and surrogates replaced, so a peer cannot drive or break our output."""
    return _UNSAFE.sub("\ufffd", text)


def short_id(member_id: str) -> str:
    """The first six characters of a member id, enough to tell people apart."""
    return safe(member_id[:6])


def short_fingerprint(session: RoomSession, member_id: str | None) -> str:
    """The first two groups of a fingerprint."""
    try:
        return " ".join(session.fingerprint(member_id).split()[:2])
    except KeyError:
        return "?"


def paint(text: str, color: str | None, enabled: bool) -> str:
    """Text in a #rrggbb 24-bit terminal colour when enabled and the colour is well formed."""
    match = _COLOR.fullmatch(color or "")
    if not enabled or match is None:
        return text
    r, g, b = (int(match.group(1)[i : i + 2], 16) for i in (0, 2, 4))
    return f"\x1b[38;2;{r};{g};{b}m{text}\x1b[0m"


def _who(session: RoomSession, member_id: str, colors: bool) -> str:
    peer = session.peers.get(member_id)
    color = peer.color if peer else session.color if member_id == session.member_id else None
    return paint(short_id(member_id), color, colors)


def render(session: RoomSession, event: Event, *, colors: bool = False) -> str | None:
    """The line to print for an event, or None for events a person need not see."""
    if isinstance(event, MessageReceived):
        stamp = time.strftime("%H:%M", time.localtime(event.ts / 1000))
        who = "you" if event.own else _who(session, event.sender, colors)
        fp = short_fingerprint(session, None if event.own else event.sender)
        return f"[{stamp}] {who} ({fp}): {safe(event.text)}"
    if isinstance(event, Joined):
        others = len(event.members)
        return (
            f"* you joined as {short_id(event.member_id)}; {others} other(s) here; "
            f"your fingerprint: {session.fingerprint()}"
        )
    if isinstance(event, MemberJoined):
        return f"* {_who(session, event.member_id, colors)} joined (checking the password)"
    if isinstance(event, MemberLeft):
        return f"* {short_id(event.member_id)} left"
    if isinstance(event, PeerVerified):
        who = _who(session, event.member_id, colors)
        return f"* {who} proved the password; fingerprint {event.fingerprint}"
    if isinstance(event, PeerFailed):
        why = "a different password" if event.reason == "wrong_password" else "a broken handshake"
        return f"! {short_id(event.member_id)} failed the password check ({why})"
    if isinstance(event, PeerNotAnswering):
        return f"! {short_id(event.member_id)} is not answering"
    if isinstance(event, HandshakeRefused):
        return f"! too many failed password checks: ignoring {short_id(event.member_id)} for now"
    if isinstance(event, Gap):
        span = (
            f"{event.first_seq}"
            if event.first_seq == event.last_seq
            else (f"{event.first_seq}-{event.last_seq}")
        )
        return f"! message(s) {span} could not be read ({event.reason})"
    if isinstance(event, Rejected):
        who = short_id(event.member_id) if event.member_id else "the server"
        return f"! dropped a frame from {who} ({event.reason})"
    if isinstance(event, KeysRotated):
        return "* someone left: new keys in use"
    if isinstance(event, ServerError):
        return f"! server: {safe(event.message)}"
    return None
