"""What a benchmark ran on: the machine, the versions of every part, the git commit."""

from __future__ import annotations

import datetime
import os
import platform
import shutil
import subprocess
from importlib import metadata
from typing import Any

from bench.servers import REPO

PACKAGES = [
    "Django",
    "channels",
    "channels-redis",
    "daphne",
    "Twisted",
    "autobahn",
    "redis",
    "websockets",
    "uvloop",
    "matplotlib",
]


def _first_line(path: str, prefix: str) -> str | None:
    try:
        with open(path) as handle:
            for line in handle:
                if line.startswith(prefix):
                    return line.split(":", 1)[1].strip()
    except OSError:
        return None
    return None


def _run(args: list[str]) -> str | None:
    if shutil.which(args[0]) is None:
        return None
    done = subprocess.run(args, cwd=REPO, capture_output=True, text=True, check=False)
    return done.stdout.strip() if done.returncode == 0 else None


def describe(mode: str, server_cores: set[int], generator_cores: set[int]) -> dict[str, Any]:
    """Return the machine, versions and commit of this run."""
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    redis = _run(["redis-server", "--version"])
    versions["redis-server"] = redis.split("v=")[1].split()[0] if redis and "v=" in redis else None
    status = _run(["git", "status", "--porcelain", "--untracked-files=no"])
    load = os.getloadavg()
    return {
        "mode": mode,
        "started": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpu": _first_line("/proc/cpuinfo", "model name"),
            "cores": os.cpu_count(),
            "memory": _first_line("/proc/meminfo", "MemTotal"),
            "platform": platform.platform(),
            "load_average_at_start": [round(x, 2) for x in load],
        },
        "pinning": {
            "server_cores": sorted(server_cores),
            "generator_cores": sorted(generator_cores),
            "separate": server_cores.isdisjoint(generator_cores),
        },
        "versions": versions,
        "git": {
            "commit": _run(["git", "rev-parse", "HEAD"]),
            "tracked_files_modified": bool(status),
        },
    }
