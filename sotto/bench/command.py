"""`sotto bench`: options, the worker processes, the progress line, and the report of a load run.

`run_load` is the library entry point (bench/run calls it); `add_arguments` and
`run` are what the `sotto` command wires up.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import sys
import time
from collections import Counter
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from .accounting import Tally, latency_summary, percentile, summarize
from .errors import BenchError
from .procstat import ProcSample, machine_busy, sample
from .wire import random_room_id
from .worker import LoadSettings, RoomPlan, WorkerPlan, WorkerResult, worker_main
from .wsclient import ws_base

GENERATOR_BUSY = 0.85  # a worker above this share of a core may be what limits the figures
PACER_LAG_LIMIT_S = 0.005
CONTENDED_CORES = 0.15  # CPU used by other programs during a window, in cores


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the `sotto bench` options to a parser."""
    parser.add_argument(
        "--server",
        action="append",
        metavar="URL",
        help="server base URL, http(s)://host:port or ws(s)://... (repeat it to split each "
        "room's members across servers; default ws://127.0.0.1:8000)",
    )
    parser.add_argument("--rooms", type=int, default=10, help="rooms (default 10)")
    parser.add_argument(
        "--members", type=int, help="members per room (default 10; with --e2e: 2, 10 and 50)"
    )
    parser.add_argument(
        "--rate",
        default="max",
        help="broadcasts per second per room, or 'max' to keep --window broadcasts in "
        "flight per room (default max)",
    )
    parser.add_argument(
        "--window", type=int, default=8, help="broadcasts in flight per room at --rate max"
    )
    parser.add_argument("--size", type=int, default=340, help="body bytes (default 340)")
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds first")
    parser.add_argument(
        "--drain",
        type=float,
        default=5.0,
        help="at most this many seconds to wait for messages still in flight at the end",
    )
    parser.add_argument(
        "--workers", type=int, default=0, help="generator processes (default: one per usable CPU)"
    )
    parser.add_argument(
        "--stall",
        type=int,
        default=0,
        help="members per room that stop reading when measuring starts (a slow-reader run)",
    )
    parser.add_argument(
        "--watch-pid",
        type=int,
        action="append",
        default=[],
        metavar="PID",
        help="a local server process whose CPU and memory to record (repeatable)",
    )
    parser.add_argument("--json", metavar="FILE", help="also write every figure to FILE as JSON")
    parser.add_argument("--quiet", action="store_true", help="no progress line")
    parser.add_argument(
        "--e2e",
        action="store_true",
        help="run the full protocol (handshakes, sender keys) and time join-to-verified",
    )


def settings_from_args(args: argparse.Namespace) -> LoadSettings:
    """Check the options and turn them into LoadSettings."""
    servers = tuple(ws_base(url) for url in (args.server or ["ws://127.0.0.1:8000"]))
    rate: float | None = None
    if str(args.rate).lower() != "max":
        try:
            rate = float(args.rate)
        except ValueError:
            raise BenchError("--rate takes a number of broadcasts per second, or max") from None
        if rate < 0 or not math.isfinite(rate):
            raise BenchError("--rate must be 0 or more")
    members = 10 if args.members is None else args.members
    if args.rooms < 1 or members < 1:
        raise BenchError("--rooms and --members must be at least 1")
    if args.size < 24:
        raise BenchError("--size must be at least 24 bytes (the body carries a tag)")
    if args.duration <= 0 or args.warmup < 0 or args.drain < 0:
        raise BenchError("--duration must be positive, --warmup and --drain not negative")
    if not 0 <= args.stall < members:
        raise BenchError("--stall must leave at least one member reading")
    return LoadSettings(
        servers=servers,
        rooms=args.rooms,
        members=members,
        rate=rate,
        window=max(1, args.window),
        size=args.size,
        duration=args.duration,
        warmup=args.warmup,
        drain=args.drain,
        workers=args.workers,
        stall=args.stall,
        watch_pids=tuple(args.watch_pid),
    )


def plan_workers(settings: LoadSettings) -> list[WorkerPlan]:
    """Split the rooms over worker processes; a room's members always share one worker."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    count = max(1, min(settings.workers or usable or 1, settings.rooms))
    stalled = tuple(range(settings.members - settings.stall, settings.members))
    rooms: list[list[RoomPlan]] = [[] for _ in range(count)]
    for number in range(settings.rooms):
        room_id = random_room_id()
        urls = tuple(
            f"{settings.servers[i % len(settings.servers)]}/ws/rooms/{room_id}/"
            for i in range(settings.members)
        )
        rooms[number % count].append(RoomPlan(room_id, urls, stalled))
    return [WorkerPlan(i, tuple(rooms[i]), settings) for i in range(count)]


class _Workers:
    """The worker processes of one run and their pipes."""

    def __init__(self, plans: list[WorkerPlan]) -> None:
        context = multiprocessing.get_context("spawn")
        self.pipes: list[Connection] = []
        self.processes: list[multiprocessing.process.BaseProcess] = []
        for plan in plans:
            ours, theirs = context.Pipe()
            process = context.Process(target=worker_main, args=(plan, theirs), daemon=True)
            process.start()
            theirs.close()
            self.pipes.append(ours)
            self.processes.append(process)

    def receive(self, timeout: float) -> list[tuple[int, tuple[Any, ...]]]:
        """Return the messages that arrive within `timeout` as (worker index, message)."""
        out: list[tuple[int, tuple[Any, ...]]] = []
        for ready in wait(self.pipes, timeout):
            assert isinstance(ready, Connection)
            index = self.pipes.index(ready)
            try:
                message = ready.recv()
            except (EOFError, OSError):
                raise BenchError(f"generator worker {index} died") from None
            if message[0] == "failed":
                raise BenchError(f"generator worker {index} failed: {message[1]}")
            out.append((index, message))
        return out

    def broadcast(self, message: tuple[Any, ...]) -> None:
        """Send one control message to every worker."""
        for pipe in self.pipes:
            pipe.send(message)

    def stop(self) -> None:
        """End the worker processes (they are ours) and close the pipes."""
        for process in self.processes:
            process.join(timeout=5)
            if process.is_alive():
                process.terminate()
                process.join(timeout=5)
        for pipe in self.pipes:
            pipe.close()


ProgressFn = Callable[[str], None]


def run_load(settings: LoadSettings, progress: ProgressFn | None = None) -> dict[str, Any]:
    """Run one load test against a live server and return every figure as a dict."""
    plans = plan_workers(settings)
    connections = settings.rooms * settings.members
    watched: dict[str, ProcSample | None] = {"before": _watch(settings)}
    machine: dict[str, tuple[float, float] | None] = {}
    workers = _Workers(plans)
    results: dict[int, WorkerResult] = {}
    try:
        ready = 0
        say = progress or (lambda text: None)
        say(f"connecting {connections} members in {len(plans)} worker(s)")
        deadline = time.monotonic() + settings.connect_timeout * (1 + connections / 2000)
        while ready < len(plans):
            if time.monotonic() > deadline:
                raise BenchError("members did not all join in time")
            ready += sum(1 for _, m in workers.receive(0.5) if m[0] == "ready")
        watched["joined"] = _watch(settings)
        t0 = time.monotonic() + 0.1
        workers.broadcast(("go", t0))
        window_start = t0 + settings.warmup
        window_end = window_start + settings.duration
        received: dict[int, int] = {}
        last_total, last_time = 0, time.monotonic()
        rss_max = 0
        while len(results) < len(plans):
            for index, message in workers.receive(0.25):
                if message[0] == "progress":
                    received[index] = message[1]
                elif message[0] == "result":
                    results[index] = message[1]
            now = time.monotonic()
            if "start" not in watched and now >= window_start:
                watched["start"] = _watch(settings)
                machine["start"] = machine_busy()
            if "end" not in watched and now >= window_end:
                watched["end"] = _watch(settings)
                machine["end"] = machine_busy()
            current = _watch(settings)
            if current is not None:
                rss_max = max(rss_max, current.rss_kib)
            if now - last_time >= 1.0:
                total = sum(received.values())
                phase = "warming up" if now < window_start else "measuring"
                phase = "draining" if now >= window_end else phase
                say(
                    f"{now - t0:5.1f} s  {phase:10}  "
                    f"{(total - last_total) / (now - last_time):>10,.0f} frames/s received"
                )
                last_total, last_time = total, now
    finally:
        workers.stop()
    report = _report(settings, plans, results, watched, rss_max)
    report["machine_cpu"] = _machine_share(machine, report)
    return report


def _machine_share(
    machine: dict[str, tuple[float, float] | None], report: dict[str, Any]
) -> dict[str, Any] | None:
    """How busy the whole machine was in the window, and how much of it was not this run."""
    start, end = machine.get("start"), machine.get("end")
    if not start or not end or end[1] <= start[1] or "server_process" not in report:
        return None  # without the server's own share, the rest cannot be told apart
    cores = os.cpu_count() or 1
    busy_cores = (end[0] - start[0]) / (end[1] - start[1]) * cores
    ours = sum(report["generator"]["cpu"]) + report.get("server_process", {}).get("cpu", 0.0)
    others = max(0.0, busy_cores - ours)
    return {
        "busy_cores": busy_cores,
        "other_processes_cores": others,
        # other programs took CPU in the window: the figures are not this machine's best
        "contended": others > CONTENDED_CORES,
    }


def _watch(settings: LoadSettings) -> ProcSample | None:
    return sample(list(settings.watch_pids)) if settings.watch_pids else None


def _report(
    settings: LoadSettings,
    plans: list[WorkerPlan],
    results: dict[int, WorkerResult],
    watched: dict[str, ProcSample | None],
    rss_max: int,
) -> dict[str, Any]:
    tally = Tally()
    errors: Counter[str] = Counter()
    joins: list[float] = []
    lags: list[float] = []
    cpu = []
    for result in results.values():
        tally.merge(result.tally)
        errors.update(result.errors)
        joins.extend(result.join_s)
        lags.extend(result.pacer_lag_s)
        cpu.append(result.cpu_s / result.window_s if result.window_s > 0 else 0.0)
    figures = summarize(tally, settings.duration)
    lags.sort()
    lag_p99 = percentile(lags, 99) if lags else 0.0
    saturated = max(cpu, default=0.0) >= GENERATOR_BUSY
    joins.sort()
    up_frames = sum(r.upload_frames for r in results.values())
    down_frames = sum(r.download_frames for r in results.values())
    report: dict[str, Any] = {
        "servers": list(settings.servers),
        "rooms": settings.rooms,
        "members": settings.members,
        "connections": settings.rooms * settings.members,
        "rate": "max" if settings.rate is None else settings.rate,
        "window": settings.window if settings.rate is None else None,
        "size": settings.size,
        "duration": settings.duration,
        "warmup": settings.warmup,
        "stalled_per_room": settings.stall,
        **figures,
        "errors": dict(errors),
        "error_count": sum(n for code, n in errors.items() if not code.startswith("stalled_")),
        # our close frames the server did not answer in time (it announces each leave)
        "unanswered_closes": sum(r.unanswered_closes for r in results.values()),
        "generator": {
            "workers": len(plans),
            "cpu": [round(share, 3) for share in cpu],
            "saturated": saturated,
            "pacer_lag_p99_ms": lag_p99 * 1000.0,
            # the pacer often missed its schedule: CPU shared with other processes, or
            # long bursts to parse; latencies then include the generator's own delays
            "lagging": lag_p99 > PACER_LAG_LIMIT_S,
        },
        "lower_bound": saturated,
        "join": {
            **latency_summary(joins),
            "all_joined_s": max(r.connect_finished for r in results.values())
            - min(r.connect_started for r in results.values()),
        },
        "wire": {
            "upload_bytes_per_broadcast": (
                sum(r.upload_bytes for r in results.values()) / up_frames if up_frames else None
            ),
            "download_bytes_per_delivery": (
                sum(r.download_bytes for r in results.values()) / down_frames
                if down_frames
                else None
            ),
        },
        "clean": tally.clean(),
    }
    if settings.watch_pids:
        server = report["server_process"] = _server_figures(settings, watched, rss_max)
        if "cpu" in server and figures["deliveries_per_s"]:
            # CPU time per delivery holds up better than throughput on a shared machine
            server["cpu_us_per_delivery"] = server["cpu"] / figures["deliveries_per_s"] * 1e6
    return report


def _server_figures(
    settings: LoadSettings, watched: dict[str, ProcSample | None], rss_max: int
) -> dict[str, Any]:
    before, joined = watched.get("before"), watched.get("joined")
    start, end = watched.get("start"), watched.get("end")
    figures: dict[str, Any] = {"pids": list(settings.watch_pids), "rss_kib_max": rss_max}
    for name, snap in (("before", before), ("joined", joined), ("start", start), ("end", end)):
        figures[f"rss_kib_{name}"] = snap.rss_kib if snap else None
    if start and end:
        figures["cpu"] = (end.cpu_s - start.cpu_s) / settings.duration
    if before and joined:
        connections = settings.rooms * settings.members
        figures["rss_kib_per_connection"] = (joined.rss_kib - before.rss_kib) / connections
    return figures


def json_safe(value: Any) -> Any:
    """Return `value` with every nan or infinite float replaced by None, as JSON allows."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    return value


def format_report(report: dict[str, Any]) -> str:
    """Return the short human-readable table of a run."""
    rate = report["rate"]
    bound = "  (lower bound: the generator was saturated)" if report["lower_bound"] else ""
    lag = report["generator"]["pacer_lag_p99_ms"]
    lines = [
        f"sotto bench: {report['rooms']} rooms x {report['members']} members, "
        f"rate {rate if rate == 'max' else f'{rate:g}/s per room'}, {report['size']}-byte "
        f"bodies, {report['duration']:g} s measured after {report['warmup']:g} s warm-up",
        f"  deliveries/s   {report['deliveries_per_s']:>12,.0f}{bound}",
        f"  broadcasts/s   {report['messages_per_s']:>12,.0f}",
        "  latency, send -> last member of the room: "
        f"p50 {report['p50_ms']:.2f} ms  p90 {report['p90_ms']:.2f} ms  "
        f"p99 {report['p99_ms']:.2f} ms  max {report['max_ms']:.2f} ms",
        f"  lost {report['lost']}  duplicated {report['duplicated']}  "
        f"reordered {report['reordered']}  seq mismatch {report['seq_mismatch']}  "
        + (f"refused by the server {report['refused']}  " if report["refused"] else "")
        + f"errors {report['error_count']}"
        + (f" {report['errors']}" if report["errors"] else ""),
        "  generator CPU "
        + " ".join(f"{share:.0%}" for share in report["generator"]["cpu"])
        + f"  ({report['generator']['workers']} workers)"
        + (f"  pacer late by {lag:.1f} ms at p99" if report["generator"]["lagging"] else ""),
    ]
    machine = report.get("machine_cpu")
    if machine and machine["contended"]:
        lines.append(
            f"  other programs used {machine['other_processes_cores']:.2f} cores meanwhile: "
            "these figures are not the machine's best"
        )
    server = report.get("server_process")
    if server and "cpu" in server:
        per = server.get("cpu_us_per_delivery")
        lines.append(
            f"  server CPU {server['cpu']:.0%}"
            + (f" ({per:.1f} us per delivery)" if per else "")
            + f"  RSS max {server['rss_kib_max']:,} KiB"
        )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Run `sotto bench` as the options say; 0 if clean, 1 on lost/duplicated/reordered, 2 if
    the run could not be done."""
    try:
        if args.e2e:
            from .e2e import run_e2e

            return run_e2e(args)  # imported here: it needs the whole protocol core
        settings = settings_from_args(args)
        report = run_load(settings, None if args.quiet else _progress_printer())
    except BenchError as exc:
        print(f"\nsotto bench: {exc}", file=sys.stderr)
        return 2
    if not args.quiet and sys.stderr.isatty():
        print(file=sys.stderr)
    print(format_report(report))
    if args.json:
        Path(args.json).write_text(json.dumps(json_safe(report), indent=2) + "\n")
    return 0 if report["clean"] else 1


def _progress_printer() -> ProgressFn:
    tty = sys.stderr.isatty()

    def show(text: str) -> None:
        if tty:
            print(f"\r{text:<70}", end="", file=sys.stderr, flush=True)
        else:
            print(text, file=sys.stderr, flush=True)

    return show


def main(argv: list[str] | None = None) -> int:
    """Run `python -m sotto.bench.command` like `sotto bench`."""
    parser = argparse.ArgumentParser(prog="sotto bench", description="Load-test a Sotto relay.")
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
