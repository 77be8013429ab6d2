"""What a session knows about one other member: key, handshake, pair keys, chains, held frames."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from .constants import HELD_BROADCASTS_PER_SENDER
from .handshake import Handshake, State
from .ratchet import ReceivingChain


@dataclass
class HeldBroadcast:
    """A broadcast waiting for its sender's verification or key."""

    seq: int
    body: str
    since: float


@dataclass
class Peer:
    """One other member of the room, from our point of view."""

    member_id: str
    color: str
    public_key: bytes
    handshake: Handshake
    send_key: bytes | None = None
    recv_key: bytes | None = None
    not_answering: bool = False
    refused: bool = False
    chains: dict[int, ReceivingChain] = field(default_factory=dict)
    # epoch -> time after which that (old) epoch's chain is deleted
    expiries: dict[int, float] = field(default_factory=dict)
    held_sealed: list[dict[str, object]] = field(default_factory=list)
    held_broadcasts: deque[HeldBroadcast] = field(default_factory=deque)

    @property
    def verified(self) -> bool:
        """True once the handshake completed (the peer proved the password)."""
        return self.handshake.state == State.VERIFIED

    @property
    def failed(self) -> bool:
        """True if the last handshake with this peer failed."""
        return self.handshake.state == State.FAILED

    def hold_broadcast(self, held: HeldBroadcast) -> HeldBroadcast | None:
        """Hold a broadcast; returns the oldest one pushed out when the queue is full."""
        self.held_broadcasts.append(held)
        if len(self.held_broadcasts) > HELD_BROADCASTS_PER_SENDER:
            return self.held_broadcasts.popleft()
        return None

    def wipe(self) -> None:
        """Forget every key held for this peer."""
        self.handshake.wipe()
        self.send_key = self.recv_key = None
        for chain in self.chains.values():
            chain.wipe()
        self.chains.clear()
        self.expiries.clear()
        self.held_sealed.clear()
        self.held_broadcasts.clear()
