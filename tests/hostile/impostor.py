"""A member the relay invents: it appears in one victim's presence and speaks for itself.

The impostor is a real RoomSession (so its pake1/pake2 are honest SPAKE2 with the
password the attacker guessed) that lives inside the relay: it is announced to the
victim with an injected presence join, the victim's directs addressed to it are
taken off the wire before they reach the server, and its own frames are injected as
if the server had relayed them. The real server never hears of it. Also here: raw
handshake frames the relay can forge without any session (a pake2 answer with a
guessed password, an invalid share).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from sotto.encoding import b64decode, b64encode, dumps
from sotto.events import Event
from sotto.handshake import Handshake, identity
from sotto.session import RoomSession
from sotto.spake2 import scalar_from_bytes

from .relay import Frame, HostileRelay, Link

# The lowest well-formed member id (22 base64url characters, canonical): an impostor
# with it is "A" towards everyone, so it is the one that sends pake1.
LOWEST_ID = "-" * 21 + "A"
# The highest one: "B" towards everyone, so it answers pake1 with pake2.
HIGHEST_ID = "_" * 21 + "w"
IDENTITY_SHARE = b"\x04" + bytes(64)


class Impostor:
    """A relay-made member shown to one victim only, backed by its own RoomSession."""

    def __init__(self, relay: HostileRelay, victim: Link, session: RoomSession, member_id: str):
        """Prepare an impostor with id ``member_id`` for the victim on ``victim``."""
        self.relay = relay
        self.victim = victim
        self.session = session
        self.member_id = member_id
        self.events: list[Event] = []
        self.meta = {
            "color": "#c0ffee",
            "key": b64encode(session.public_key),
            "joined_at": 1_700_000_000_000,
        }
        self._tasks: set[asyncio.Task[None]] = set()
        relay.up_rules.append(self._intercept)

    async def announce(self) -> None:
        """Show the victim a presence join, and start the impostor's own session."""
        victim_id = self.victim.member_id
        assert victim_id is not None
        victim_meta = self.victim.welcome["members"][victim_id]
        welcome = {
            "type": "welcome",
            "v": 1,
            "you": self.member_id,
            "color": self.meta["color"],
            "members": {self.member_id: self.meta, victim_id: victim_meta},
            "seq": self.victim.last_seq,
            "resume": "impostor",
            "resumed": False,
        }
        await self.victim.deliver(
            {"type": "presence", "joins": {self.member_id: self.meta}, "leaves": {}}
        )
        await self._feed(welcome)

    async def say(self, text: str) -> None:
        """Have the impostor broadcast a text to the victim (with the next seq it expects)."""
        frames, events = self.session.send_text(text)
        self.events.extend(events)
        for frame in frames:
            await self._send(frame)

    async def _feed(self, frame: Frame) -> None:
        frames, events = self.session.receive(frame)
        self.events.extend(events)
        for out in frames:
            await self._send(out)

    async def _send(self, frame: Frame) -> None:
        if frame["type"] == "direct":
            await self.victim.deliver(
                {"type": "direct", "from": self.member_id, "body": frame["body"]}
            )
        elif frame["type"] == "broadcast":
            seq = self.victim.last_seq + 1
            await self.victim.deliver(
                {"type": "message", "from": self.member_id, "seq": seq, "body": frame["body"]}
            )

    def _intercept(self, link: Link, frame: Frame) -> list[Frame] | None:
        """Take the victim's directs to the impostor off the wire and answer them."""
        if link is not self.victim or frame.get("type") != "direct":
            return None
        if frame.get("to") != self.member_id:
            return None
        incoming = {"type": "direct", "from": link.member_id, "body": frame.get("body")}
        # Rules are synchronous; the answer goes out from a task on the relay's loop.
        task = asyncio.get_running_loop().create_task(self._feed(incoming))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return []


def forged_pake2(
    pake1_body: str, w_guess: int, room_id: str, a: tuple[str, bytes], b: tuple[str, bytes]
) -> str:
    """Answer a pake1 as member ``b`` would, but with a guessed password scalar."""
    handshake = Handshake(
        "B",
        w_guess,
        identity(*a),
        identity(*b),
        room_id.encode("ascii"),
        lambda: scalar_from_bytes(bytes(range(40))),
    )
    step = handshake.receive(json.loads(pake1_body), 0.0)
    return step.send[0]


def invalid_share_pake1() -> str:
    """A pake1 whose share is the point at infinity (0x04 || 0^64), which must be refused."""
    return dumps({"k": "pake1", "pA": b64encode(IDENTITY_SHARE)})


def key_of(link: Link, member_id: str) -> bytes:
    """A member's raw public key as the real server announced it on ``link``."""
    for frame in link.from_server:
        for table in ("members", "joins"):
            metas: Any = frame.get(table)
            if isinstance(metas, dict) and member_id in metas:
                return b64decode(metas[member_id]["key"], 32)
    raise KeyError(member_id)
