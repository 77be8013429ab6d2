"""The compose topology without Docker, for the deploy tests: every part a real process.

PostgreSQL 15 (as the ``postgres`` user when we are root), redis-server, a one-shot
migration, N daphne workers started exactly as the image's command starts them,
and Debian's Caddy running ``deploy/Caddyfile``, all on loopback. The environment
is the one docker-compose.yml gives the containers, with loopback addresses.
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.servers import (
    REPO,
    DaphneProcess,
    ManagedProcess,
    RedisProcess,
    free_port,
    scaled,
    start_daphne,
    start_redis,
    wait_for_port,
)

PG_BIN = Path(os.environ.get("SOTTO_PG_BIN", "/usr/lib/postgresql/15/bin"))
CADDYFILE = REPO / "deploy" / "Caddyfile"
DOMAIN = "localhost"


def _as_postgres(args: list[str]) -> list[str]:
    """Prefix ``args`` so they run as the postgres user (PostgreSQL refuses root)."""
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@dataclass
class PostgresServer:
    """A throw-away PostgreSQL cluster listening on 127.0.0.1 and a private socket."""

    root: Path
    port: int
    password: str

    @property
    def data_dir(self) -> Path:
        """The cluster's data directory."""
        return self.root / "data"

    @property
    def url(self) -> str:
        """The DATABASE_URL of the application role, over TCP with a password."""
        return f"postgres://sotto:{self.password}@127.0.0.1:{self.port}/sotto"

    def psql(self, sql: str) -> str:
        """Run ``sql`` as the superuser over the private socket and return the output."""
        args = [str(PG_BIN / "psql"), "-h", str(self.root), "-p", str(self.port)]
        args += ["-U", "postgres", "-d", "sotto", "-v", "ON_ERROR_STOP=1", "-Atc", sql]
        return subprocess.run(_as_postgres(args), check=True, capture_output=True, text=True).stdout

    def dump(self) -> str:
        """Return a plain-text pg_dump of the application database (schema and rows)."""
        args = [str(PG_BIN / "pg_dump"), "-h", str(self.root), "-p", str(self.port)]
        args += ["-U", "postgres", "sotto"]
        return subprocess.run(_as_postgres(args), check=True, capture_output=True, text=True).stdout

    def stop(self) -> None:
        """Stop the cluster immediately and delete its files."""
        pg_ctl = [str(PG_BIN / "pg_ctl"), "-D", str(self.data_dir), "-m", "immediate", "stop"]
        subprocess.run(_as_postgres(pg_ctl), capture_output=True, check=False)
        shutil.rmtree(self.root, ignore_errors=True)


def start_postgres() -> PostgresServer:
    """Create a cluster, start it on a free port, and add role and database ``sotto``."""
    if not (PG_BIN / "postgres").exists():
        raise RuntimeError(f"PostgreSQL not found in {PG_BIN} (scripts/setup --test installs it)")
    root = Path(tempfile.mkdtemp(prefix="sotto-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    server = PostgresServer(root=root, port=free_port(), password=secrets.token_hex(16))
    initdb = [str(PG_BIN / "initdb"), "-D", str(server.data_dir), "-U", "postgres", "-E", "UTF8"]
    initdb += ["--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync", "--no-instructions"]
    subprocess.run(_as_postgres(initdb), check=True, capture_output=True)
    options = f"-p {server.port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    pg_ctl = [str(PG_BIN / "pg_ctl"), "-D", str(server.data_dir), "-l", str(root / "pg.log")]
    pg_ctl += ["-o", options, "-w", "-t", str(int(scaled(30))), "start"]
    try:
        subprocess.run(_as_postgres(pg_ctl), check=True, capture_output=True)
        create = [str(PG_BIN / "psql"), "-h", str(root), "-p", str(server.port), "-U", "postgres"]
        create += ["-v", "ON_ERROR_STOP=1", "-qc"]
        role = f"CREATE ROLE sotto LOGIN PASSWORD '{server.password}'"
        subprocess.run(_as_postgres([*create, role]), check=True, capture_output=True)
        database = "CREATE DATABASE sotto OWNER sotto"
        subprocess.run(_as_postgres([*create, database]), check=True, capture_output=True)
    except BaseException:
        server.stop()
        raise
    return server


@dataclass
class CaddyProcess(ManagedProcess):
    """Debian's caddy binary running deploy/Caddyfile with the internal CA."""

    http_port: int = 0
    admin_port: int = 0
    home: Path = field(default_factory=Path)

    @property
    def https_port(self) -> int:
        """The TLS port."""
        return self.port

    @property
    def base_url(self) -> str:
        """The https:// address of the site."""
        return f"https://{DOMAIN}:{self.port}"

    @property
    def ws_base(self) -> str:
        """The wss:// address of the site."""
        return f"wss://{DOMAIN}:{self.port}"

    @property
    def root_ca(self) -> Path:
        """The internal CA's root certificate, which clients must trust."""
        return self.home / "data" / "caddy" / "pki" / "authorities" / "local" / "root.crt"

    def ssl_context(self) -> ssl.SSLContext:
        """A client TLS context that trusts only Caddy's internal root and checks the name."""
        return ssl.create_default_context(cafile=str(self.root_ca))


def caddy_env(
    upstreams: list[str], http_port: int, https_port: int, admin_port: int, home: Path
) -> dict[str, str]:
    """The environment docker-compose.yml gives caddy, with loopback ports and a private home."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "SOTTO_DOMAIN": DOMAIN,
        "SOTTO_TLS": "auto",
        "SOTTO_UPSTREAMS": " ".join(upstreams),
        "SOTTO_HTTP_PORT": str(http_port),
        "SOTTO_HTTPS_PORT": str(https_port),
        "SOTTO_BIND": "127.0.0.1",
        "SOTTO_CADDY_ADMIN": f"127.0.0.1:{admin_port}",
        "SOTTO_HEALTH_INTERVAL": "1s",
    }


def start_caddy(upstreams: list[str]) -> CaddyProcess:
    """Start caddy in front of ``upstreams`` and wait until its certificate is served."""
    binary = shutil.which("caddy")
    if binary is None:
        raise RuntimeError("caddy is not installed (scripts/setup --test installs it)")
    home = Path(tempfile.mkdtemp(prefix="sotto-caddy-"))
    http_port, https_port, admin_port = free_port(), free_port(), free_port()
    log_path = home / "caddy.log"
    proc = subprocess.Popen(
        [binary, "run", "--config", str(CADDYFILE), "--adapter", "caddyfile"],
        env=caddy_env(upstreams, http_port, https_port, admin_port, home),
        cwd=home,
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
    )
    caddy = CaddyProcess(
        proc=proc,
        port=https_port,
        log_path=log_path,
        http_port=http_port,
        admin_port=admin_port,
        home=home,
    )
    wait_for_port(https_port, proc, 15, log_path)
    _wait_for_certificate(caddy)
    return caddy


def _wait_for_certificate(caddy: CaddyProcess) -> None:
    """Wait until a TLS handshake with the internal certificate succeeds."""
    deadline = time.monotonic() + scaled(15)
    while True:
        try:
            if caddy.root_ca.exists():
                context = caddy.ssl_context()
                urllib.request.urlopen(f"{caddy.base_url}/healthz", context=context, timeout=2)
                return
        except (OSError, ssl.SSLError):
            pass
        if time.monotonic() > deadline or caddy.proc.poll() is not None:
            caddy.stop()
            raise RuntimeError(f"caddy never served its certificate:\n{caddy.log_text()[-4000:]}")
        time.sleep(0.1)


def app_env(postgres: PostgresServer, redis: RedisProcess, static_root: Path) -> dict[str, str]:
    """The environment docker-compose.yml gives the app containers, pointed at loopback."""
    return {
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": DOMAIN,
        "DATABASE_URL": postgres.url,
        "REDIS_URL": redis.url,
        "DJANGO_STATIC_ROOT": str(static_root),
        # Quick counters so the admin test does not wait for the default 5 s flush.
        "SOTTO_STATS_FLUSH_SECONDS": "0.2",
    }


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``manage.py`` with ``env`` on top of this process's environment."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=scaled(120),
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {args[0]} failed:\n{result.stderr[-4000:]}")
    return result


def image_daphne_args() -> tuple[str, ...]:
    """Return the daphne flags of the Dockerfile's CMD, minus the bind address and port."""
    cmd = next(
        line for line in (REPO / "Dockerfile").read_text().splitlines() if line.startswith("CMD ")
    )
    words = shlex.split(json.loads(cmd[4:])[-1])
    flags = words[words.index("daphne") + 1 : -1]
    for option in ("--bind", "--port"):
        index = flags.index(option)
        del flags[index : index + 2]
    return tuple(flags)


@dataclass
class Stack:
    """The whole deployment: database, Redis, workers and proxy."""

    postgres: PostgresServer
    redis: RedisProcess
    workers: list[DaphneProcess]
    caddy: CaddyProcess
    env: dict[str, str]
    static_root: Path

    def ws_url(self, room_id: str) -> str:
        """The wss:// URL of a room, through the proxy."""
        return f"{self.caddy.ws_base}/ws/rooms/{room_id}/"

    def stop(self) -> None:
        """Stop every part, proxy first, and delete the files they left."""
        self.caddy.stop()
        for worker in self.workers:
            worker.stop()
        self.redis.stop()
        self.postgres.stop()
        shutil.rmtree(self.static_root, ignore_errors=True)
        shutil.rmtree(self.caddy.home, ignore_errors=True)


def start_stack(workers: int = 2) -> Stack:
    """Start the compose topology on loopback: what `docker compose up` would run."""
    started: list[object] = []
    try:
        postgres = start_postgres()
        started.append(postgres)
        redis = start_redis()
        started.append(redis)
        static_root = Path(tempfile.mkdtemp(prefix="sotto-static-"))
        env = app_env(postgres, redis, static_root)
        # The image's build step and the compose `migrate` service.
        manage(env, "collectstatic", "--noinput", "-v", "0")
        manage(env, "migrate", "--noinput", "-v", "0")
        daphnes = []
        for _ in range(workers):
            daphnes.append(start_daphne(env, extra_args=image_daphne_args()))
            started.append(daphnes[-1])
        caddy = start_caddy([f"127.0.0.1:{worker.port}" for worker in daphnes])
    except BaseException:
        for part in reversed(started):
            part.stop()  # type: ignore[attr-defined]
        raise
    return Stack(postgres, redis, daphnes, caddy, env, static_root)
