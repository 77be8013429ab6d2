"""Room sequence accounting: spot gaps, refuse duplicates, let late frames fill reported gaps."""

from __future__ import annotations

# How many reported-missing seqs we remember, so late frames can still fill them.
MAX_MISSING = 4096


class SeqTracker:
    """The last room seq seen and the recent seqs known to be missing."""

    def __init__(self, last: int = 0) -> None:
        """Start after seq `last` (a welcome's seq)."""
        self.last = last
        self._missing: set[int] = set()

    def reset(self, last: int) -> None:
        """Start over after seq `last` (a fresh membership)."""
        self.last = last
        self._missing.clear()

    def accept(self, seq: int) -> tuple[bool, tuple[int, int] | None]:
        """(False, None) for a duplicate; else (True, the newly missing range or None)."""
        if seq <= self.last:
            if seq in self._missing:
                self._missing.discard(seq)
                return True, None
            return False, None
        gap = None
        if seq > self.last + 1:
            gap = (self.last + 1, seq - 1)
            self._missing.update(range(max(self.last + 1, seq - MAX_MISSING), seq))
            while len(self._missing) > MAX_MISSING:
                self._missing.discard(min(self._missing))
        self.last = seq
        return True, gap
