"""A tiny run of `sotto bench` against the bare baseline server: the generator works end to end."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sotto.bench.command import run_load
from sotto.bench.worker import LoadSettings
from tests.support.servers import free_port, wait_for_port

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def baseline_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The bench/baseline_server.py relay on a free loopback port."""
    port = free_port()
    log = tmp_path_factory.mktemp("baseline") / "baseline.log"
    proc = subprocess.Popen(
        [sys.executable, str(REPO / "bench" / "baseline_server.py"), "--port", str(port)],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port, proc, 10, log)
        yield f"ws://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_bench_counts_every_delivery_against_the_baseline(baseline_url: str) -> None:
    """Two rooms of three, closed loop: every broadcast reaches all three members exactly once."""
    settings = LoadSettings(
        servers=(baseline_url,), rooms=2, members=3, duration=0.5, warmup=0.2, drain=2.0
    )
    report = run_load(settings)
    assert report["sent"] > 0
    assert report["delivered"] == report["expected"] == 3 * report["sent"]
    assert (report["lost"], report["duplicated"], report["reordered"]) == (0, 0, 0)
    assert report["error_count"] == 0
    assert report["deliveries_per_s"] > 0
    assert report["p50_ms"] <= report["p99_ms"] <= report["max_ms"]
    assert report["clean"]


def test_bench_paced_run_sends_at_the_asked_rate(baseline_url: str) -> None:
    """An open-loop run at 50 broadcasts/s per room keeps to its schedule, never ahead of it."""
    settings = LoadSettings(
        servers=(baseline_url,), rooms=2, members=2, rate=50.0, duration=0.6, warmup=0.2
    )
    report = run_load(settings)
    scheduled = 2 * 50 * (0.2 + 0.6)  # rooms x rate x (warm-up + window)
    assert 0.75 * scheduled <= report["sent"] <= scheduled + 2  # + each room's phase offset
    assert report["clean"]
