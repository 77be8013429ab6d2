"""Shared fixtures: real redis-server and daphne processes on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.support.servers import DaphneProcess, RedisProcess, start_daphne, start_redis

# The browser tests' fixtures (`playwright`, `browser`, `new_page`) live with their helpers.
pytest_plugins = ["tests.browser_support"]


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisProcess]:
    """A real redis-server for the whole session."""
    server = start_redis()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def embedded_server() -> Iterator[DaphneProcess]:
    """One daphne process with the embedded default (no Redis)."""
    server = start_daphne()
    yield server
    server.stop()


@dataclass
class RedisCluster:
    """Two daphne processes sharing one Redis."""

    redis: RedisProcess
    servers: list[DaphneProcess]


@pytest.fixture(scope="session")
def redis_servers(redis_server: RedisProcess) -> Iterator[RedisCluster]:
    """Two daphne processes on one real Redis: members of a room can sit on either."""
    env = {"REDIS_URL": redis_server.url}
    servers = [start_daphne(env), start_daphne(env)]
    yield RedisCluster(redis=redis_server, servers=servers)
    for server in servers:
        server.stop()
