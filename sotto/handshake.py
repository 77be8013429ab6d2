"""The per-peer SPAKE2 handshake (section 5) as a small state machine.

Theory of operation: the member whose id sorts lower is A. A sends `pake1` and
waits for `pake2`; B answers a `pake1` with `pake2` (carrying its confirmation
cB) and waits for `pake3`. A checks cB: if it verifies A is done and sends
`pake3` (cA), else `pake_fail`; B checks cA likewise. An invalid share or a
malformed field fails as `invalid_share` and is answered with `pake_fail` too.
A handshake is fed parsed direct bodies and returns the bodies to send plus its
outcome; it never sees the network, the clock or the failure limit (the session
owns those). Waiting states carry a deadline; passing it marks the peer "not
answering" once, but a late answer to the step still outstanding is still
accepted. B answers a repeat of the pake1 it already answered (same pA, sent
again after A resumed) with the same pake2, so both sides keep one set of keys.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import spake2
from .constants import (
    HANDSHAKE_TIMEOUT,
    K_PAKE1,
    K_PAKE2,
    K_PAKE3,
    K_PAKE_FAIL,
    LABEL_IDENTITY,
    POINT_LENGTH,
    REASON_INVALID_SHARE,
    REASON_WRONG_PASSWORD,
    SEP,
)
from .encoding import b64decode, b64encode, dumps
from .errors import EncodingError, InvalidShare, UsageError

CONFIRMATION_LENGTH = 32


class State(enum.Enum):
    """Where a handshake stands."""

    IDLE = "idle"
    WAIT_PAKE2 = "wait_pake2"
    WAIT_PAKE3 = "wait_pake3"
    VERIFIED = "verified"
    FAILED = "failed"


# Which body kinds each state acts on, per role; anything else is ignored.
ACCEPTS: dict[tuple[spake2.Role, State], frozenset[str]] = {
    ("A", State.WAIT_PAKE2): frozenset({K_PAKE2, K_PAKE_FAIL}),
    ("B", State.IDLE): frozenset({K_PAKE1}),
    ("B", State.WAIT_PAKE3): frozenset({K_PAKE1, K_PAKE3, K_PAKE_FAIL}),
    ("B", State.FAILED): frozenset({K_PAKE1}),
}


def identity(member_id: str, public_key: bytes) -> bytes:
    """idX = "sotto/1" || 0x00 || member id || 0x00 || raw Ed25519 public key."""
    return LABEL_IDENTITY + SEP + member_id.encode("ascii") + SEP + public_key


@dataclass
class Step:
    """The result of feeding one body: bodies to send, and whether it verified or failed."""

    send: list[str] = field(default_factory=list)
    verified: bool = False
    failed: str | None = None


class Handshake:
    """One SPAKE2 run with one peer, from our side."""

    def __init__(
        self,
        role: spake2.Role,
        w: int,
        id_a: bytes,
        id_b: bytes,
        aad: bytes,
        draw_scalar: Callable[[], int],
    ) -> None:
        """Prepare a handshake in `role` with identities, AAD and a scalar source."""
        self.role = role
        self.state = State.IDLE
        self.deadline: float | None = None
        self.ke: bytes | None = None
        self.last_body: str | None = None
        self._w = w
        self._ids = (id_a, id_b)
        self._aad = aad
        self._draw = draw_scalar
        self._secret = 0
        self._share = b""
        self._keys: spake2.Keys | None = None
        # (B) the pA text of the pake1 we answered, to recognise it when A sends it again
        self._answered: str | None = None

    def accepts(self, kind: str) -> bool:
        """True if a body of this kind is acted on in the current state."""
        return kind in ACCEPTS.get((self.role, self.state), frozenset())

    def repeats(self, body: dict[str, Any]) -> bool:
        """(B) True for the pake1 already answered while we wait for pake3."""
        return (
            self.state == State.WAIT_PAKE3
            and body.get("k") == K_PAKE1
            and self._answered is not None
            and body.get("pA") == self._answered
        )

    def resend(self, now: float) -> str | None:
        """The outstanding step to send again after a resume, with a fresh deadline; else None."""
        if not self.in_progress or not self.last_body:
            return None
        self.deadline = now + HANDSHAKE_TIMEOUT
        return self.last_body

    def start(self, now: float) -> str:
        """(A) begin or restart: draw x, return the pake1 body."""
        if self.role != "A":
            raise UsageError("only A sends pake1")
        self._secret = self._draw()
        self._share = spake2.start("A", self._w, self._secret)
        self._keys = None
        self.state = State.WAIT_PAKE2
        self.deadline = now + HANDSHAKE_TIMEOUT
        self.last_body = dumps({"k": K_PAKE1, "pA": b64encode(self._share)})
        return self.last_body

    def receive(self, body: dict[str, Any], now: float) -> Step:
        """Act on a parsed pake body; the caller has checked `accepts(body["k"])`."""
        kind = body.get("k")
        if kind == K_PAKE_FAIL:
            return self._fail(REASON_WRONG_PASSWORD, send_fail=False)
        try:
            if kind == K_PAKE1:
                return self._on_pake1(body, now)
            if kind == K_PAKE2:
                return self._on_pake2(body)
            if kind == K_PAKE3:
                return self._on_pake3(body)
        except (InvalidShare, EncodingError):
            return self._fail(REASON_INVALID_SHARE, send_fail=True)
        return Step()

    def _on_pake1(self, body: dict[str, Any], now: float) -> Step:
        if self.repeats(body):
            # A sent it again (it resumed): a fresh answer would leave A's first answer stale.
            assert self.last_body is not None
            self.deadline = now + HANDSHAKE_TIMEOUT
            return Step(send=[self.last_body])
        p_a = b64decode(body.get("pA"), POINT_LENGTH)
        self._secret = self._draw()
        self._share = spake2.start("B", self._w, self._secret)
        keys = spake2.finish("B", self._w, self._secret, *self._ids, p_a, self._share, self._aad)
        self._keys = keys
        self.state = State.WAIT_PAKE3
        self.deadline = now + HANDSHAKE_TIMEOUT
        self.last_body = dumps(
            {"k": K_PAKE2, "pB": b64encode(self._share), "cB": b64encode(keys.c_b)}
        )
        self._answered = body["pA"]
        return Step(send=[self.last_body])

    def _on_pake2(self, body: dict[str, Any]) -> Step:
        p_b = b64decode(body.get("pB"), POINT_LENGTH)
        c_b = b64decode(body.get("cB"), CONFIRMATION_LENGTH)
        keys = spake2.finish("A", self._w, self._secret, *self._ids, self._share, p_b, self._aad)
        if not keys.check_peer_confirmation("A", c_b):
            return self._fail(REASON_WRONG_PASSWORD, send_fail=True)
        self.last_body = dumps({"k": K_PAKE3, "cA": b64encode(keys.c_a)})
        self._succeed(keys)
        return Step(send=[self.last_body], verified=True)

    def _on_pake3(self, body: dict[str, Any]) -> Step:
        c_a = b64decode(body.get("cA"), CONFIRMATION_LENGTH)
        keys = self._keys
        if keys is None or not keys.check_peer_confirmation("B", c_a):
            return self._fail(REASON_WRONG_PASSWORD, send_fail=True)
        self._succeed(keys)
        return Step(verified=True)

    def _succeed(self, keys: spake2.Keys) -> None:
        self.ke = keys.ke
        self._forget()
        self.state = State.VERIFIED

    def _fail(self, reason: str, *, send_fail: bool) -> Step:
        self._forget()
        self.state = State.FAILED
        self.last_body = None
        return Step(send=[dumps({"k": K_PAKE_FAIL})] if send_fail else [], failed=reason)

    def _forget(self) -> None:
        self._secret = 0
        self._share = b""
        self._keys = None
        self._answered = None
        self.deadline = None

    def timed_out(self, now: float) -> bool:
        """True once when the outstanding step's deadline has passed."""
        if self.deadline is not None and now >= self.deadline:
            self.deadline = None
            return True
        return False

    @property
    def in_progress(self) -> bool:
        """True while a step is outstanding."""
        return self.state in (State.WAIT_PAKE2, State.WAIT_PAKE3)

    def wipe(self) -> None:
        """Forget every secret of this handshake."""
        self._forget()
        self.ke = None
        self._w = 0
