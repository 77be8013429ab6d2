"""Real server processes for tests: redis-server and daphne on loopback ports.

Each helper starts the real binary, waits until it answers, and hands back an
object that can stop it, kill it with SIGKILL, or (Redis) restart it on the same
port. Logs go to files so a failing test can show them.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
TIMEOUT_FACTOR = float(os.environ.get("SOTTO_TEST_TIMEOUT_FACTOR", "1"))


def scaled(seconds: float) -> float:
    """Scale a test timeout by SOTTO_TEST_TIMEOUT_FACTOR."""
    return seconds * TIMEOUT_FACTOR


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float, log: Path) -> None:
    """Wait until something accepts connections on ``port``, or fail with the log."""
    deadline = time.monotonic() + scaled(timeout)
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(
        f"nothing listened on port {port} within {timeout} s:\n{log.read_text()[-4000:]}"
    )


@dataclass
class ManagedProcess:
    """A child process with a log file."""

    proc: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def pid(self) -> int:
        """The process id."""
        return self.proc.pid

    def kill(self) -> None:
        """Kill the process with SIGKILL (no goodbye to anyone)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        """Stop the process with SIGTERM, then SIGKILL if it lingers."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_text(self) -> str:
        """Return everything the process wrote so far."""
        return self.log_path.read_text(errors="replace")


def _tempdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="sotto-test-"))


@dataclass
class RedisProcess(ManagedProcess):
    """A real redis-server without persistence."""

    args: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        """The redis:// URL of this server."""
        return f"redis://127.0.0.1:{self.port}/0"

    def restart(self, down_for: float = 0.0) -> None:
        """Stop the server, wait ``down_for`` seconds, and start it again on the same port."""
        self.stop()
        time.sleep(down_for)
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(self.args, stdout=log, stderr=subprocess.STDOUT)
        wait_for_port(self.port, self.proc, 10, self.log_path)


def start_redis(port: int | None = None) -> RedisProcess:
    """Start redis-server on a loopback port (a free one unless given)."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed (scripts/setup --test installs it)")
    port = port or free_port()
    log_path = _tempdir() / "redis.log"
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    proc = subprocess.Popen(args, stdout=log_path.open("wb"), stderr=subprocess.STDOUT)
    wait_for_port(port, proc, 10, log_path)
    return RedisProcess(proc=proc, port=port, log_path=log_path, args=args)


_migrated: dict[str, str] = {}


def migrated_database_url() -> str:
    """Return a DATABASE_URL of a fresh, migrated SQLite file shared by this test session."""
    if "url" not in _migrated:
        path = _tempdir() / "db.sqlite3"
        url = f"sqlite:///{path}"
        env = {**os.environ, "DATABASE_URL": url}
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=REPO,
            env=env,
            check=True,
        )
        _migrated["url"] = url
    return _migrated["url"]


@dataclass
class DaphneProcess(ManagedProcess):
    """A real Sotto server process (daphne or runserver)."""

    @property
    def http_url(self) -> str:
        """The http:// base URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_base(self) -> str:
        """The ws:// base URL."""
        return f"ws://127.0.0.1:{self.port}"

    def ws_url(self, room_id: str) -> str:
        """The WebSocket URL of a room."""
        return f"{self.ws_base}/ws/rooms/{room_id}/"


def server_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Return the environment for a server process: a migrated database and ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOTTO_", "REDIS_URL"))}
    env.update({"DATABASE_URL": migrated_database_url(), "PYTHONUNBUFFERED": "1"})
    env.setdefault("SOTTO_LOG_LEVEL", "INFO")
    env.update(extra or {})
    return env


def start_daphne(
    env: dict[str, str] | None = None, port: int | None = None, extra_args: tuple[str, ...] = ()
) -> DaphneProcess:
    """Start `daphne chatproject.asgi:application` on a loopback port."""
    port = port or free_port()
    log_path = _tempdir() / "daphne.log"
    args = [
        str(VENV_BIN / "daphne"),
        "-b",
        "127.0.0.1",
        "-p",
        str(port),
        *extra_args,
        "chatproject.asgi:application",
    ]
    proc = subprocess.Popen(
        args, cwd=REPO, env=server_env(env), stdout=log_path.open("wb"), stderr=subprocess.STDOUT
    )
    wait_for_port(port, proc, 30, log_path)
    return DaphneProcess(proc=proc, port=port, log_path=log_path)


def start_runserver(env: dict[str, str] | None = None, port: int | None = None) -> DaphneProcess:
    """Start `manage.py runserver --noreload` (daphne's runserver) on a loopback port."""
    port = port or free_port()
    log_path = _tempdir() / "runserver.log"
    args = [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]
    proc = subprocess.Popen(
        args, cwd=REPO, env=server_env(env), stdout=log_path.open("wb"), stderr=subprocess.STDOUT
    )
    wait_for_port(port, proc, 30, log_path)
    return DaphneProcess(proc=proc, port=port, log_path=log_path)
