"""RoomSession: the sans-I/O state machine of one member in one room (sections 4 to 6).

Theory of operation. The shell hands `receive` every parsed server frame and
calls `tick` now and then; each call returns `Output(frames, events)`: frames to
send to the server and events for the person. Nothing here touches a socket or
sleeps; randomness (`rng(n)`) and time (`clock()`, seconds) are injected.

- `welcome` gives us an id. For every pair, the lower id is A and starts the
  SPAKE2 handshake (handshake.py); newcomers announced by `presence` joins are
  handled the same way. Directs from ids not yet announced wait for the join.
- When a handshake verifies, both sides derive one pair key per direction and
  send each other their sender key (epoch, index, CK) in a sealed direct.
  Sealed directs that arrive before verification wait for it.
- `send_text` seals a broadcast with our chain; the server's echo (same `from`,
  same body string) acknowledges it as `MessageSent`.
- A broadcast is checked in this order: room seq (duplicates refused, gaps
  reported, late fillers of a reported gap accepted), sender verified and its
  key for that epoch present (else held for 30 s), signature, ratchet, tag.
  State changes only once all of them pass.
- A resumed welcome re-sends each unfinished handshake step as it was (restarting
  none) and our sender key to every verified peer.
- The leave of a verified member starts a new epoch of our chain, sent to every
  verified peer; a peer's old-epoch chain is deleted 10 s after its new key arrives.
- At most 5 failed handshakes a minute: past that, new pake1 frames are ignored and
  no handshake is started (`HandshakeRefused`) until the window clears.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from Crypto.Random import get_random_bytes

from . import spake2
from .broadcast import (
    seal_broadcast,
    text_plaintext,
)
from .constants import (
    ED25519_KEY_LENGTH,
    FAILURE_WINDOW,
    HELD_BROADCAST_SECONDS,
    HELD_DIRECT_SENDERS,
    HELD_DIRECTS_PER_SENDER,
    K_PAKE1,
    K_PAKE2,
    K_PAKE3,
    K_PAKE_FAIL,
    K_SEALED,
    K_SENDER_KEY,
    MAX_FAILURES_PER_MINUTE,
    MAX_TEXT_BYTES,
    MEMBER_ID_LENGTH,
    NONCE_LENGTH,
    OLD_EPOCH_KEEP,
    PROTOCOL_VERSION,
    SCALAR_DRAW_LENGTH,
    T_BROADCAST,
    T_DIRECT,
    T_ERROR,
    T_JOIN,
    T_MESSAGE,
    T_PONG,
    T_PRESENCE,
    T_WELCOME,
)
from .encoding import b64decode, b64encode, is_text, json_uint, loads_object
from .errors import EncodingError, ProtocolError, UsageError
from .events import (
    Event,
    Gap,
    HandshakeRefused,
    Joined,
    KeysRotated,
    MemberJoined,
    MemberLeft,
    MessageReceived,
    MessageSent,
    Output,
    PeerFailed,
    PeerNotAnswering,
    PeerVerified,
    Rejected,
    ServerError,
)
from .fingerprint import fingerprint
from .handshake import Handshake, identity
from .inbox import HOLD, READ, read_broadcast
from .pairwise import open_direct, pair_key, seal_direct
from .password import password_scalar
from .peer import HeldBroadcast, Peer
from .ratchet import ReceivingChain, SendingChain
from .roomid import room_id as make_room_id
from .seqtrack import SeqTracker
from .signing import SigningKey, check_public_key

logger = logging.getLogger(__name__)

PAKE_KINDS = frozenset({K_PAKE1, K_PAKE2, K_PAKE3, K_PAKE_FAIL})


def _is_member_id(value: object) -> bool:
    if not isinstance(value, str) or len(value) != MEMBER_ID_LENGTH:
        return False
    try:
        b64decode(value)
    except EncodingError:
        return False
    return True


class RoomSession:
    """One member's view of one room: handshakes, keys, messages; fed frames, returns frames."""

    def __init__(
        self,
        room_name: str,
        password: str,
        *,
        rng: Callable[[int], bytes] | None = None,
        clock: Callable[[], float] | None = None,
        w: int | None = None,
    ) -> None:
        """Derive the room id and password scalar (or take `w` precomputed) and a signing key."""
        self.room_id = make_room_id(room_name)
        self._w = w if w is not None else password_scalar(password, self.room_id)
        self._rng: Callable[[int], bytes] = rng or get_random_bytes
        self._clock: Callable[[], float] = clock or time.time
        self._signer = SigningKey(self._rng(ED25519_KEY_LENGTH))
        self.public_key = self._signer.public_key
        self.member_id: str | None = None
        self.color: str | None = None
        self._seqs = SeqTracker()
        self._resume: str | None = None
        self._peers: dict[str, Peer] = {}
        self._chain = SendingChain(0, self._rng(32))
        self._pending: dict[str, tuple[str, int]] = {}
        self._unannounced: dict[str, list[str]] = {}
        # Members who left, kept briefly so their frames still in flight can be read.
        self._departed: dict[str, tuple[Peer, float]] = {}
        self._failures: deque[float] = deque()
        self._frames: list[dict[str, Any]] = []
        self._events: list[Event] = []

    # ----- public API -------------------------------------------------------------------

    @property
    def epoch(self) -> int:
        """Our current sender-key epoch."""
        return self._chain.epoch

    @property
    def last_seq(self) -> int:
        """The last room seq seen."""
        return self._seqs.last

    @property
    def peers(self) -> dict[str, Peer]:
        """The other members we know, by id (read-only use)."""
        return self._peers

    def verified_peers(self) -> list[str]:
        """Ids of the members that proved the password."""
        return [p.member_id for p in self._peers.values() if p.verified]

    def join_frame(self) -> dict[str, Any]:
        """The `join` frame to send on a new connection (with resume fields after a welcome)."""
        frame: dict[str, Any] = {
            "type": T_JOIN,
            "v": PROTOCOL_VERSION,
            "key": b64encode(self.public_key),
        }
        if self._resume is not None:
            frame["resume"] = self._resume
            frame["last_seq"] = self._seqs.last
        return frame

    def receive(self, frame: object) -> Output:
        """Process one parsed server frame."""
        handlers: dict[str, Callable[[dict[str, Any]], None]] = {
            T_WELCOME: self._on_welcome,
            T_PRESENCE: self._on_presence,
            T_DIRECT: self._on_direct,
            T_MESSAGE: self._on_message,
            T_ERROR: self._on_error,
        }
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            self._emit(Rejected(None, "bad_frame"))
            return self._flush()
        handler = handlers.get(frame["type"])
        if handler is not None:
            handler(frame)
        elif frame["type"] != T_PONG:
            self._emit(Rejected(None, "unknown_frame"))
        return self._flush()

    def send_text(self, text: str) -> Output:
        """Seal one text message as a broadcast frame."""
        if self.member_id is None:
            raise UsageError("not in the room yet")
        if not is_text(text):
            raise UsageError(
                "the message holds a broken character (a lone surrogate) and cannot be sent"
            )
        if len(text.encode("utf-8")) > MAX_TEXT_BYTES:
            raise UsageError(f"a message holds at most {MAX_TEXT_BYTES} bytes")
        # round, not int: a clock a hair below a whole millisecond must not stamp the one before
        ts = round(self._clock() * 1000)
        index, mk = self._chain.next_key()
        body = seal_broadcast(
            self._signer,
            self.room_id,
            self.member_id,
            self._chain.epoch,
            index,
            mk,
            self._rng(NONCE_LENGTH),
            text_plaintext(text, ts),
        )
        self._pending[body] = (text, ts)
        self._frames.append({"type": T_BROADCAST, "body": body})
        return self._flush()

    def tick(self) -> Output:
        """Run the timers: handshake answers, held broadcasts, old epochs, the failure window."""
        now = self._clock()
        for peer in list(self._peers.values()):
            if peer.handshake.timed_out(now):
                peer.not_answering = True
                self._emit(PeerNotAnswering(peer.member_id))
            while (
                peer.held_broadcasts
                and peer.held_broadcasts[0].since + HELD_BROADCAST_SECONDS <= now
            ):
                self._gap(peer.held_broadcasts.popleft().seq, "key_missing")
            for epoch, expiry in list(peer.expiries.items()):
                if now >= expiry:
                    chain = peer.chains.pop(epoch, None)
                    if chain is not None:
                        chain.wipe()
                    del peer.expiries[epoch]
        for mid, (peer, until) in list(self._departed.items()):
            if now >= until:
                del self._departed[mid]
                for held in peer.held_broadcasts:
                    self._gap(held.seq, "sender_left")
                peer.wipe()
        self._over_limit(now)
        return self._flush()

    def fingerprint(self, member_id: str | None = None) -> str:
        """Our fingerprint, or a peer's."""
        if member_id is None or member_id == self.member_id:
            return fingerprint(self.room_id, self.public_key)
        return fingerprint(self.room_id, self._peers[member_id].public_key)

    def wipe(self) -> None:
        """Forget every key and secret this session holds."""
        for peer in [*self._peers.values(), *(p for p, _ in self._departed.values())]:
            peer.wipe()
        self._peers.clear()
        self._departed.clear()
        self._signer.wipe()
        self._chain.wipe()
        self._pending.clear()
        self._unannounced.clear()
        self._w = 0

    # ----- output helpers ---------------------------------------------------------------

    def _flush(self) -> Output:
        out = Output(self._frames, self._events)
        self._frames, self._events = [], []
        return out

    def _emit(self, event: Event) -> None:
        self._events.append(event)

    def _gap(self, seq: int, reason: str) -> None:
        """Report one lost seq, merged with the previous gap event when they are adjacent."""
        last = self._events[-1] if self._events else None
        if isinstance(last, Gap) and last.reason == reason and last.last_seq + 1 == seq:
            self._events[-1] = Gap(last.first_seq, seq, reason)
        else:
            self._emit(Gap(seq, seq, reason))

    def _direct(self, to: str, body: str) -> None:
        self._frames.append({"type": T_DIRECT, "to": to, "body": body})

    # ----- welcome and presence ---------------------------------------------------------

    def _on_welcome(self, frame: dict[str, Any]) -> None:
        you, color, members = frame.get("you"), frame.get("color"), frame.get("members")
        seq, token = json_uint(frame.get("seq")), frame.get("resume")
        if not (
            _is_member_id(you)
            and isinstance(color, str)
            and isinstance(members, dict)
            and seq is not None
            and isinstance(token, str)
        ):
            self._emit(Rejected(None, "bad_frame"))
            return
        assert isinstance(you, str) and isinstance(members, dict)
        resumed = frame.get("resumed") is True and you == self.member_id
        if not resumed:
            self._restart(you, seq)
        self.color, self._resume = color, token
        others = {mid: meta for mid, meta in members.items() if mid != you}
        if resumed:
            self._resume_peers(others)
        else:
            for mid, meta in others.items():
                self._add_peer(mid, meta)
        self._emit(
            Joined(you, color, {p.member_id: p.color for p in self._peers.values()}, resumed)
        )
        for peer in list(self._peers.values()):
            self._release_unannounced(peer)

    def _restart(self, you: str, seq: int) -> None:
        """A fresh membership: forget every peer, start a new epoch, report what we missed."""
        if self.member_id is not None:
            if seq > self._seqs.last:
                self._emit(Gap(self._seqs.last + 1, seq, "resume_failed"))
            for peer in self._peers.values():
                peer.wipe()
            self._peers.clear()
            self._pending.clear()
            self._new_epoch()
        self.member_id = you
        self._seqs.reset(seq)

    def _resume_peers(self, others: dict[str, Any]) -> None:
        """After a resumed welcome: re-send unfinished steps, apply who came and went, re-key."""
        gone: dict[str, Any] = {mid: {} for mid in self._peers if mid not in others}
        came = {mid: meta for mid, meta in others.items() if mid not in self._peers}
        now = self._clock()
        for peer in self._peers.values():
            body = None if peer.member_id in gone else peer.handshake.resend(now)
            if body is not None:
                # The re-sent step is the live handshake: a retry on top of it would have
                # the peer answer two pake1 frames, and the first answer would no longer fit.
                peer.not_answering = peer.refused = False
                self._direct(peer.member_id, body)
        epoch = self._chain.epoch
        self._apply_presence(came, gone)
        # A sender key sent just before the drop may be lost; one a peer holds is ignored.
        if self._chain.epoch == epoch:  # else the rotation has just sent every peer our key
            for peer in self._peers.values():
                if peer.verified:
                    self._send_sender_key(peer)

    def _on_presence(self, frame: dict[str, Any]) -> None:
        joins, leaves = frame.get("joins", {}), frame.get("leaves", {})
        if self.member_id is None or not isinstance(joins, dict) or not isinstance(leaves, dict):
            self._emit(Rejected(None, "bad_frame"))
            return
        self._apply_presence(joins, leaves)

    def _apply_presence(self, joins: dict[str, Any], leaves: dict[str, Any]) -> None:
        retry = [
            p
            for p in self._peers.values()
            if p.handshake.role == "A" and (p.not_answering or p.refused) and not p.verified
        ]
        rotate = False
        for mid in leaves:
            self._unannounced.pop(mid, None)
            peer = self._peers.pop(mid, None)
            if peer is None:
                continue
            self._emit(MemberLeft(mid))
            rotate = rotate or peer.verified
            self._departed[mid] = (peer, self._clock() + OLD_EPOCH_KEEP)
        if rotate:
            self._rotate()
        for mid, meta in joins.items():
            if mid == self.member_id or mid in self._peers:
                continue
            peer = self._add_peer(mid, meta)
            if peer is not None:
                self._emit(MemberJoined(mid, peer.color))
                self._release_unannounced(peer)
        for peer in retry:
            if peer.member_id in self._peers:
                self._start_handshake(peer)

    def _add_peer(self, mid: object, meta: object) -> Peer | None:
        assert self.member_id is not None
        if not _is_member_id(mid) or not isinstance(meta, dict):
            self._emit(Rejected(None, "bad_member"))
            return None
        assert isinstance(mid, str)
        try:
            key = b64decode(meta.get("key"), ED25519_KEY_LENGTH)
            check_public_key(key)
        except EncodingError:
            self._emit(Rejected(mid, "bad_key"))
            return None
        color = meta.get("color")
        me = (self.member_id, self.public_key)
        them = (mid, key)
        role: spake2.Role = "A" if self.member_id < mid else "B"
        first, second = (me, them) if role == "A" else (them, me)
        handshake = Handshake(
            role,
            self._w,
            identity(*first),
            identity(*second),
            self.room_id.encode("ascii"),
            self._draw_scalar,
        )
        peer = Peer(mid, color if isinstance(color, str) else "", key, handshake)
        self._peers[mid] = peer
        if role == "A":
            self._start_handshake(peer)
        return peer

    def _draw_scalar(self) -> int:
        while True:
            scalar = spake2.scalar_from_bytes(self._rng(SCALAR_DRAW_LENGTH))
            if scalar:
                return scalar

    # ----- handshakes -------------------------------------------------------------------

    def _over_limit(self, now: float) -> bool:
        while self._failures and self._failures[0] + FAILURE_WINDOW <= now:
            self._failures.popleft()
        return len(self._failures) >= MAX_FAILURES_PER_MINUTE

    def _start_handshake(self, peer: Peer) -> None:
        now = self._clock()
        if self._over_limit(now):
            peer.refused = True
            self._emit(HandshakeRefused(peer.member_id))
            return
        peer.refused = peer.not_answering = False
        self._direct(peer.member_id, peer.handshake.start(now))

    def _on_pake(self, peer: Peer, body: dict[str, Any]) -> None:
        kind = body.get("k")
        now = self._clock()
        # A repeat of the pake1 being answered starts nothing new, so the limit lets it by.
        fresh = kind == K_PAKE1 and not peer.handshake.repeats(body)
        if fresh and peer.handshake.accepts(K_PAKE1) and self._over_limit(now):
            self._emit(HandshakeRefused(peer.member_id))
            return
        if not isinstance(kind, str) or not peer.handshake.accepts(kind):
            return
        step = peer.handshake.receive(body, now)
        peer.not_answering = False
        for out in step.send:
            self._direct(peer.member_id, out)
        if step.failed is not None:
            self._failures.append(now)
            logger.info("handshake with %s failed: %s", peer.member_id, step.failed)
            self._emit(PeerFailed(peer.member_id, step.failed))
            peer.held_sealed.clear()
            for held in peer.held_broadcasts:
                self._emit(Rejected(peer.member_id, "unverified_sender"))
                self._gap(held.seq, "sender_unverified")
            peer.held_broadcasts.clear()
        elif step.verified:
            self._on_verified(peer)

    def _on_verified(self, peer: Peer) -> None:
        assert self.member_id is not None and peer.handshake.ke is not None
        ke = peer.handshake.ke
        peer.send_key = pair_key(ke, self.room_id, self.member_id, peer.member_id)
        peer.recv_key = pair_key(ke, self.room_id, peer.member_id, self.member_id)
        self._emit(PeerVerified(peer.member_id, self.fingerprint(peer.member_id)))
        self._send_sender_key(peer)
        held, peer.held_sealed = peer.held_sealed, []
        for body in held:
            self._open_sealed(peer, body)

    # ----- directs ----------------------------------------------------------------------

    def _on_direct(self, frame: dict[str, Any]) -> None:
        sender, body = frame.get("from"), frame.get("body")
        if self.member_id is None or not isinstance(sender, str) or not isinstance(body, str):
            self._emit(Rejected(None, "bad_frame"))
            return
        peer = self._peers.get(sender)
        if peer is None:
            self._hold_unannounced(sender, body)
            return
        self._dispatch_direct(peer, body)

    def _hold_unannounced(self, sender: str, body: str) -> None:
        if sender == self.member_id or not _is_member_id(sender):
            self._emit(Rejected(sender, "unknown_sender"))
            return
        queue = self._unannounced.get(sender)
        if queue is None and len(self._unannounced) >= HELD_DIRECT_SENDERS:
            self._emit(Rejected(sender, "too_many_held"))
            return
        queue = self._unannounced.setdefault(sender, [])
        if len(queue) >= HELD_DIRECTS_PER_SENDER:
            self._emit(Rejected(sender, "too_many_held"))
            return
        queue.append(body)

    def _release_unannounced(self, peer: Peer) -> None:
        for body in self._unannounced.pop(peer.member_id, []):
            if peer.member_id in self._peers:
                self._dispatch_direct(peer, body)

    def _dispatch_direct(self, peer: Peer, text: str) -> None:
        try:
            body = loads_object(text)
        except EncodingError:
            self._emit(Rejected(peer.member_id, "malformed"))
            return
        kind = body.get("k")
        if kind in PAKE_KINDS:
            self._on_pake(peer, body)
        elif kind == K_SEALED:
            if peer.verified:
                self._open_sealed(peer, body)
            elif peer.failed:
                self._emit(Rejected(peer.member_id, "unverified_sender"))
            elif len(peer.held_sealed) < HELD_DIRECTS_PER_SENDER:
                peer.held_sealed.append(body)
            else:
                self._emit(Rejected(peer.member_id, "too_many_held"))
        # Unknown kinds are ignored, so later versions can add some.

    def _send_sender_key(self, peer: Peer) -> None:
        assert self.member_id is not None and peer.send_key is not None
        payload = {
            "k": K_SENDER_KEY,
            "epoch": self._chain.epoch,
            "index": self._chain.index,
            "ck": b64encode(self._chain.chain_key),
        }
        nonce = self._rng(NONCE_LENGTH)
        body = seal_direct(
            peer.send_key, nonce, self.room_id, self.member_id, peer.member_id, payload
        )
        self._direct(peer.member_id, body)

    def _open_sealed(self, peer: Peer, body: dict[str, Any]) -> None:
        assert self.member_id is not None and peer.recv_key is not None
        try:
            payload = open_direct(peer.recv_key, body, self.room_id, peer.member_id, self.member_id)
            if payload.get("k") != K_SENDER_KEY:
                return
            epoch, index = json_uint(payload.get("epoch")), json_uint(payload.get("index"))
            ck = b64decode(payload.get("ck"), 32)
            if epoch is None or index is None:
                raise EncodingError("bad sender key")
        except ProtocolError:
            self._emit(Rejected(peer.member_id, "bad_direct"))
            return
        if epoch in peer.chains or epoch < max(peer.chains, default=-1):
            return
        now = self._clock()
        for old in peer.chains:
            peer.expiries.setdefault(old, now + OLD_EPOCH_KEEP)
        peer.chains[epoch] = ReceivingChain(epoch, index, ck)
        self._retry_held(peer)

    # ----- group messages ---------------------------------------------------------------

    def _rotate(self) -> None:
        self._new_epoch()
        for peer in self._peers.values():
            if peer.verified:
                self._send_sender_key(peer)
        self._emit(KeysRotated(self._chain.epoch))

    def _new_epoch(self) -> None:
        old = self._chain
        self._chain = SendingChain(old.epoch + 1, self._rng(32))
        old.wipe()

    def _check_seq(self, sender: str, seq: int) -> bool:
        """Account for a room seq: False for a duplicate, else True (reporting any gap)."""
        fresh, gap = self._seqs.accept(seq)
        if not fresh:
            self._emit(Rejected(sender, "replayed"))
        elif gap is not None:
            self._emit(Gap(gap[0], gap[1], "missing"))
        return fresh

    def _on_message(self, frame: dict[str, Any]) -> None:
        sender, seq, body = frame.get("from"), json_uint(frame.get("seq")), frame.get("body")
        if self.member_id is None or not isinstance(sender, str) or seq is None:
            self._emit(Rejected(None, "bad_frame"))
            return
        if not isinstance(body, str):
            self._emit(Rejected(sender, "malformed"))
            return
        if not self._check_seq(sender, seq):
            return
        if sender == self.member_id:
            own = self._pending.pop(body, None)
            if own is None:
                self._emit(Rejected(sender, "replayed"))
            else:
                self._emit(MessageReceived(sender, own[0], own[1], seq, True))
                self._emit(MessageSent(seq))
            return
        peer = self._peers.get(sender)
        if peer is None and sender in self._departed:
            peer = self._departed[sender][0]
        if peer is None:
            self._emit(Rejected(sender, "unknown_sender"))
            return
        if not self._try_open(peer, seq, body):
            pushed = peer.hold_broadcast(HeldBroadcast(seq, body, self._clock()))
            if pushed is not None:
                self._gap(pushed.seq, "held_overflow")

    def _retry_held(self, peer: Peer) -> None:
        keep = [h for h in peer.held_broadcasts if not self._try_open(peer, h.seq, h.body)]
        peer.held_broadcasts = deque(keep)

    def _try_open(self, peer: Peer, seq: int, body: str) -> bool:
        """Open a broadcast from a peer; False means it must wait (sender or key not ready)."""
        verdict = read_broadcast(peer, body, self.room_id)
        if verdict.action == HOLD:
            return False
        if verdict.action == READ:
            self._emit(MessageReceived(peer.member_id, verdict.text, verdict.ts, seq, False))
        if verdict.reject is not None:
            self._emit(Rejected(peer.member_id, verdict.reject))
        if verdict.gap is not None:
            self._gap(seq, verdict.gap)
        return True

    # ----- errors -----------------------------------------------------------------------

    def _on_error(self, frame: dict[str, Any]) -> None:
        code, message = frame.get("code"), frame.get("message")
        self._emit(ServerError(str(code), str(message) if message is not None else ""))
