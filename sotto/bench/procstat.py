"""CPU time and resident memory of other processes, read from Linux's /proc."""

from __future__ import annotations

import os
from dataclasses import dataclass

TICKS_PER_S = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True)
class ProcSample:
    """CPU seconds used so far and resident memory now, summed over some processes."""

    cpu_s: float
    rss_kib: int


def sample(pids: list[int]) -> ProcSample | None:
    """Return the summed CPU time and RSS of `pids`, or None when /proc cannot tell."""
    cpu_ticks, rss_kib = 0, 0
    try:
        for pid in pids:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            cpu_ticks += int(fields[11]) + int(fields[12])  # utime, stime
            with open(f"/proc/{pid}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        rss_kib += int(line.split()[1])
                        break
    except (OSError, IndexError, ValueError):
        return None
    return ProcSample(cpu_s=cpu_ticks / TICKS_PER_S, rss_kib=rss_kib)


def machine_busy() -> tuple[float, float] | None:
    """Return (busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(x) for x in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    total = sum(fields[:8])  # guest time is already inside user time
    return (total - idle) / TICKS_PER_S, total / TICKS_PER_S
