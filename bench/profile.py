"""Profile a relay under load with py-spy: where the server's time goes, in one table.

    .venv/bin/python -m bench.profile --config embedded --members 50 --rooms 4 [--rate 100]

Starts the configuration pinned like bench/run, drives it with `sotto bench`, and
samples the relay process(es) with py-spy while measuring. Writes the raw
collapsed stacks to bench/results/tmp/profiles/ (flamegraph.pl or speedscope draw
them) and prints the functions with the most samples, own and with callees.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from bench.servers import REPO, Launcher, raise_fd_limit, split_cores
from sotto.bench.command import format_report, run_load
from sotto.bench.worker import LoadSettings

OUT = REPO / "bench" / "results" / "tmp" / "profiles"


def summarize(raw: Path, top: int) -> str:
    """Return the top functions of a py-spy raw (collapsed) file, by own and total samples."""
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        samples += n
        frames = stack.split(";")
        own[frames[-1]] += n
        for frame in set(frames):
            total[frame] += n
    if not samples:
        return "no samples"
    lines = [f"{samples} samples", "own time:"]
    lines += [f"  {n / samples:6.1%}  {f}" for f, n in own.most_common(top)]
    lines.append("including callees:")
    lines += [f"  {n / samples:6.1%}  {f}" for f, n in total.most_common(top * 2)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run one profiled load and print where the relay's time went."""
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--config", default="embedded")
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument("--rooms", type=int, default=4)
    parser.add_argument("--rate", default="max", help="broadcasts/s per room, or max")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    server_cores, generator_cores = split_cores()
    os.sched_setaffinity(0, generator_cores)
    raise_fd_limit()
    OUT.mkdir(parents=True, exist_ok=True)
    launcher = Launcher(server_cores)
    relay = launcher.start(args.config)
    stamp = f"{args.config}-{args.members}x{args.rooms}-{args.rate}-{int(time.time())}"
    records: list[subprocess.Popen[bytes]] = []
    try:

        def record() -> None:
            time.sleep(2.0)  # connections, joins and warm-up first
            for pid in relay.relay_pids:
                command = [spy, "record", "-p", str(pid), "-d", str(int(args.seconds))]
                command += ["-r", "200", "-f", "raw", "-o", str(OUT / f"{stamp}-{pid}.txt")]
                records.append(
                    subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                )

        sampler = threading.Thread(target=record)
        sampler.start()
        rate = None if args.rate == "max" else float(args.rate)
        report = run_load(
            LoadSettings(
                servers=tuple(relay.urls),
                rooms=args.rooms,
                members=args.members,
                rate=rate,
                duration=args.seconds + 1.0,
                warmup=1.0,
                watch_pids=tuple(relay.pids),
            )
        )
        sampler.join()
        for proc in records:
            proc.wait(timeout=60)
        print(format_report(report))
        for pid in relay.relay_pids:
            raw = OUT / f"{stamp}-{pid}.txt"
            print(f"\n== {relay.name} process {pid}: {raw.relative_to(REPO)}")
            print(summarize(raw, args.top) if raw.exists() else "py-spy wrote nothing")
    finally:
        relay.stop()
        launcher.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
