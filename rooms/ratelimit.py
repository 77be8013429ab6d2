"""Token buckets for per-connection rate limits, with the clock passed in."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class TokenBucket:
    """Allows ``rate`` events a second on average, ``burst`` at once."""

    rate: float
    burst: float
    tokens: float = field(init=False)
    updated: float = field(init=False, default=0.0)

    def __post_init__(self) -> None:
        self.tokens = self.burst

    def allow(self, now: float) -> bool:
        """Take one token if there is one at time ``now``; say whether it was taken."""
        elapsed = now - self.updated
        if elapsed > 0:
            self.tokens = min(self.burst, self.tokens + elapsed * self.rate)
            self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


@dataclass(slots=True)
class ExcessTracker:
    """Tracks how long a connection has kept exceeding its limit.

    Excess is "continued" while refusals keep coming less than ``pause`` seconds
    apart; a sender at twice its rate has every other frame refused and still counts.
    """

    close_after: float
    pause: float = 1.0
    excess_since: float | None = None
    last_refused: float = 0.0

    def record_refusal(self, now: float) -> bool:
        """Record one refused frame; return True when the connection must be closed."""
        if self.excess_since is None or now - self.last_refused > self.pause:
            self.excess_since = now
        self.last_refused = now
        return now - self.excess_since >= self.close_after
