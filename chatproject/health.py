"""The `/healthz` probe: answers 200 when the database and Redis (if configured) both answer.

Container health checks and the proxy's active health checks call it over plain
http from inside the network, so settings exempt it from the https redirect. The
answer names each dependency and says "ok" or "down"; it never carries error text,
which could include addresses or credentials from a URL.
"""

from __future__ import annotations

import logging

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)

PROBE_TIMEOUT_SECONDS = 2.0


def database_answers() -> bool:
    """Return whether the default database answers a trivial query."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            row = cursor.fetchone()
        return row is not None and row[0] == 1
    except Exception as exc:  # any failure means "down"; the type is enough for the log
        logger.warning("healthz: database check failed: %s", type(exc).__name__)
        return False
    finally:
        # A broken connection must not be reused by the next probe.
        connection.close_if_unusable_or_obsolete()


def redis_answers(url: str) -> bool:
    """Return whether the Redis server at ``url`` answers PING within the probe timeout."""
    client = redis.Redis.from_url(
        url,
        socket_connect_timeout=PROBE_TIMEOUT_SECONDS,
        socket_timeout=PROBE_TIMEOUT_SECONDS,
    )
    try:
        return bool(client.ping())
    except Exception as exc:
        logger.warning("healthz: redis check failed: %s", type(exc).__name__)
        return False
    finally:
        client.close()


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Report the database and Redis: 200 when every configured one answers, 503 otherwise."""
    checks = {"database": "ok" if database_answers() else "down"}
    redis_url = getattr(settings, "REDIS_URL", "")
    if redis_url:
        checks["redis"] = "ok" if redis_answers(redis_url) else "down"
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "down", "checks": checks},
        status=200 if healthy else 503,
    )
