"""The relays under test, started on loopback and pinned to the server's cores.

Each configuration is a set of real processes: the bare `websockets` baseline,
or daphne serving Sotto (embedded default, or on redis-server with one or two
workers). Server processes run under `taskset` on the server cores; the
benchmark pins itself (and so its generator workers) to the others.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.servers import free_port, wait_for_port

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
RAISED_LIMITS = {
    "SOTTO_BROADCAST_RATE": "1000000",
    "SOTTO_BROADCAST_BURST": "1000000",
    "SOTTO_DIRECT_RATE": "1000000",
    "SOTTO_DIRECT_BURST": "1000000",
}


def split_cores() -> tuple[set[int], set[int]]:
    """Return (server cores, generator cores); both are all cores when there is only one."""
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2 or shutil.which("taskset") is None:
        return set(cores), set(cores)
    half = len(cores) // 2
    return set(cores[:half]), set(cores[half:])


def raise_fd_limit() -> None:
    """Let this process open as many files (sockets) as the hard limit allows."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


@dataclass
class Relay:
    """A running configuration: its processes, their WebSocket base URLs, and its logs."""

    name: str
    urls: list[str]
    relay_processes: list[subprocess.Popen[bytes]]
    helper_processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)

    @property
    def pids(self) -> list[int]:
        """The process ids whose CPU and memory count as the server's."""
        return [p.pid for p in self.relay_processes + self.helper_processes]

    @property
    def relay_pids(self) -> list[int]:
        """The relay processes only (memory per connection is theirs)."""
        return [p.pid for p in self.relay_processes]

    def stop(self) -> None:
        """Stop every process of this configuration (SIGTERM, then SIGKILL)."""
        for proc in self.relay_processes + self.helper_processes:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.relay_processes + self.helper_processes:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


class Launcher:
    """Starts configurations with a shared temporary directory and database."""

    def __init__(self, server_cores: set[int]) -> None:
        self.server_cores = server_cores
        self.tmp = Path(tempfile.mkdtemp(prefix="sotto-bench-"))
        self.database_url = f"sqlite:///{self.tmp / 'bench.sqlite3'}"
        self._migrated = False

    def _pin(self) -> list[str]:
        if shutil.which("taskset") is None:
            return []
        return ["taskset", "-c", ",".join(str(c) for c in sorted(self.server_cores))]

    def _spawn(
        self, name: str, args: list[str], env: dict[str, str] | None = None
    ) -> tuple[subprocess.Popen[bytes], Path]:
        log = self.tmp / f"{name}-{time.monotonic_ns()}.log"
        proc = subprocess.Popen(
            self._pin() + args,
            cwd=REPO,
            env=env,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            preexec_fn=raise_fd_limit,
        )
        return proc, log

    def baseline(self) -> Relay:
        """Start the bare `websockets` baseline server."""
        port = free_port()
        args = [sys.executable, str(REPO / "bench" / "baseline_server.py"), "--port", str(port)]
        proc, log = self._spawn("baseline", args)
        wait_for_port(port, proc, 60, log)
        return Relay("baseline", [f"ws://127.0.0.1:{port}"], [proc], logs=[log])

    def _sotto_env(self, extra: dict[str, str]) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SOTTO_", "REDIS_URL"))}
        env.update({"DATABASE_URL": self.database_url, "PYTHONUNBUFFERED": "1"})
        env.update(extra)
        if not self._migrated:
            subprocess.run(
                [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
                cwd=REPO,
                env=env,
                check=True,
            )
            self._migrated = True
        return env

    def sotto(
        self, name: str, *, workers: int = 1, redis: bool = False, limits: bool = True
    ) -> Relay:
        """Start Sotto on daphne: embedded default, or `workers` processes on one redis-server."""
        extra = dict(RAISED_LIMITS) if limits else {}
        helpers, logs = [], []
        if redis:
            binary = shutil.which("redis-server")
            if binary is None:
                raise RuntimeError(
                    "redis-server is not installed (scripts/setup --test installs it)"
                )
            redis_port = free_port()
            args = [binary, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", ""]
            proc, log = self._spawn("redis", args + ["--appendonly", "no", "--maxclients", "20000"])
            wait_for_port(redis_port, proc, 60, log)
            helpers.append(proc)
            logs.append(log)
            extra["REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/0"
        env = self._sotto_env(extra)
        procs, urls = [], []
        for number in range(workers):
            port = free_port()
            # as scripts/run starts it: a listen backlog of 1024, not Twisted's 50
            endpoint = f"tcp:port={port}:interface=127.0.0.1:backlog=1024"
            args = [str(VENV_BIN / "daphne"), "-e", endpoint]
            proc, log = self._spawn(
                f"{name}-{number}", args + ["chatproject.asgi:application"], env
            )
            procs.append(proc)
            logs.append(log)
            urls.append(f"ws://127.0.0.1:{port}")
        relay = Relay(name, urls, procs, helpers, logs)
        try:
            for proc, url, log in zip(procs, urls, logs[len(helpers) :], strict=True):
                wait_for_port(int(url.rsplit(":", 1)[1]), proc, 60, log)
        except RuntimeError:
            relay.stop()
            raise
        return relay

    def start(self, config: str) -> Relay:
        """Start a configuration by its name in the matrix."""
        if config == "baseline":
            return self.baseline()
        if config == "embedded":
            return self.sotto(config)
        if config == "embedded-default-limits":
            return self.sotto(config, limits=False)
        if config == "redis-1":
            return self.sotto(config, redis=True)
        if config == "redis-2":
            return self.sotto(config, workers=2, redis=True)
        raise ValueError(f"unknown configuration {config!r}")

    def cleanup(self) -> None:
        """Remove the temporary directory (logs and database)."""
        shutil.rmtree(self.tmp, ignore_errors=True)
