"""The load generator's one exception type.

BenchError      the run cannot go on: a bad option, a server that refuses
                connections or joins, a worker that died. Its text is what
                the operator reads.
"""

from __future__ import annotations


class BenchError(Exception):
    """The benchmark could not run as asked; the message says why."""
