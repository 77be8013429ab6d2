"""Pure bookkeeping of a load run: what each room sent, what each member got, and the figures.

Theory of operation: every broadcast body starts with a tag `sender.counter.`,
where `sender` is the member's index in its room and `counter` counts that
member's broadcasts from 0. The relay keeps one sender's broadcasts in order, so
for each (receiver, sender) pair the next counter is known: a higher one opens a
gap (remembered as missing), a lower one is either a late arrival that fills a
gap or a duplicate. Separately, the room `seq` a member sees must rise; a frame
whose seq is not above the highest one that member saw counts as reordered. A
message is complete when every counted member has it; its latency is then
"send -> receipt by the last member". Whatever is still incomplete when the run
ends is lost, one count per missing delivery; a broadcast the server refused
(rate limit) is owed to nobody and counted apart. Members can be left out of the
counting (a stalled reader in a slow-member run).

Times are seconds from any one clock; only differences matter.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Return the nearest-rank q-th percentile (0 < q <= 100) of sorted values, nan if empty."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q / 100.0 * len(sorted_values)))
    return float(sorted_values[min(rank, len(sorted_values)) - 1])


def latency_summary(latencies_s: Iterable[float]) -> dict[str, float]:
    """Return p50, p90, p99 and max in milliseconds of latencies given in seconds."""
    ordered = sorted(latencies_s)
    return {
        "p50_ms": percentile(ordered, 50) * 1000.0,
        "p90_ms": percentile(ordered, 90) * 1000.0,
        "p99_ms": percentile(ordered, 99) * 1000.0,
        "max_ms": (ordered[-1] if ordered else math.nan) * 1000.0,
    }


@dataclass
class Tally:
    """Counts for one room or, merged, for a whole run."""

    sent: int = 0
    sent_in_window: int = 0
    deliveries_in_window: int = 0
    delivered: int = 0
    expected: int = 0
    lost: int = 0
    duplicated: int = 0
    reordered: int = 0
    seq_mismatch: int = 0
    foreign: int = 0
    refused: int = 0
    latencies: array[float] = field(default_factory=lambda: array("d"))

    def merge(self, other: Tally) -> None:
        """Add another tally's counts and latency samples to this one."""
        for name in (
            "sent",
            "sent_in_window",
            "deliveries_in_window",
            "delivered",
            "expected",
            "lost",
            "duplicated",
            "reordered",
            "seq_mismatch",
            "foreign",
            "refused",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.latencies.extend(other.latencies)

    def clean(self) -> bool:
        """Return whether nothing was lost, duplicated, reordered, inconsistent or foreign."""
        return not (
            self.lost or self.duplicated or self.reordered or self.seq_mismatch or self.foreign
        )


class RoomLedger:
    """The send and receipt record of one room of `members` members."""

    def __init__(
        self,
        members: int,
        window: tuple[float, float],
        skip: Iterable[int] = (),
    ) -> None:
        self.members = members
        self.window_start, self.window_end = window
        skipped = set(skip)
        self.counted = [i not in skipped for i in range(members)]
        self.receivers = sum(self.counted)
        self.tally = Tally()
        self._sent_by = [0] * members
        self._next = [[0] * members for _ in range(members)]
        self._last_seq = [0] * members
        self._missing: list[set[tuple[int, int]]] = [set() for _ in range(members)]
        # key -> [send time, receipts still due, seq seen first (-1 before any)]
        self._inflight: dict[int, list[float]] = {}
        self.closed = False

    @property
    def inflight(self) -> int:
        """Return how many sent messages some counted member has not received yet."""
        return len(self._inflight)

    def record_send(self, sender: int, now: float) -> int:
        """Record a broadcast by member `sender` at `now` and return its counter for the tag."""
        counter = self._sent_by[sender]
        self._sent_by[sender] = counter + 1
        self.tally.sent += 1
        if self.window_start <= now < self.window_end:
            self.tally.sent_in_window += 1
        if self.receivers:
            self._inflight[(sender << 32) | counter] = [now, float(self.receivers), -1.0]
            self.tally.expected += self.receivers
        return counter

    def record_refused(self, sender: int, counter: int) -> None:
        """Record that the server refused (sender, counter): nobody is owed that message."""
        record = self._inflight.pop((sender << 32) | counter, None)
        if record is not None and not self.closed:
            self.tally.refused += 1
            self.tally.expected -= int(record[1])

    def record_receipt(self, member: int, sender: int, counter: int, seq: int, now: float) -> None:
        """Record that `member` received (sender, counter) with room `seq` at `now`."""
        if not self.counted[member] or self.closed:
            return
        tally = self.tally
        if not 0 <= sender < self.members or not 0 <= counter < self._sent_by[sender]:
            tally.foreign += 1
            return
        due = self._next[member]
        expected = due[sender]
        if counter >= expected:
            if counter > expected:
                self._missing[member].update((sender, k) for k in range(expected, counter))
            due[sender] = counter + 1
        else:
            missing = self._missing[member]
            if (sender, counter) not in missing:
                tally.duplicated += 1
                return
            missing.discard((sender, counter))
        if seq <= self._last_seq[member]:
            tally.reordered += 1
        else:
            self._last_seq[member] = seq
        tally.delivered += 1
        if self.window_start <= now < self.window_end:
            tally.deliveries_in_window += 1
        key = (sender << 32) | counter
        record = self._inflight.get(key)
        if record is None:  # every counted member already had it: not this room's message
            tally.foreign += 1
            return
        if record[2] < 0:
            record[2] = seq
        elif record[2] != seq:
            tally.seq_mismatch += 1
        record[1] -= 1
        if record[1] <= 0:
            del self._inflight[key]
            if self.window_start <= record[0] < self.window_end:
                tally.latencies.append(now - record[0])

    def close(self) -> Tally:
        """Count every delivery still due as lost and return the room's tally; ignore later ones."""
        self.closed = True
        self.tally.lost += int(sum(record[1] for record in self._inflight.values()))
        self._inflight.clear()
        return self.tally


def summarize(tally: Tally, duration: float) -> dict[str, float | int]:
    """Return the headline figures of a tally measured over `duration` seconds."""
    figures: dict[str, float | int] = {
        "deliveries_per_s": tally.deliveries_in_window / duration if duration > 0 else 0.0,
        "messages_per_s": tally.sent_in_window / duration if duration > 0 else 0.0,
        **latency_summary(tally.latencies),
        "latency_samples": len(tally.latencies),
        "sent": tally.sent,
        "delivered": tally.delivered,
        "expected": tally.expected,
        "lost": tally.lost,
        "duplicated": tally.duplicated,
        "reordered": tally.reordered,
        "seq_mismatch": tally.seq_mismatch,
        "foreign": tally.foreign,
        "refused": tally.refused,
    }
    return figures
