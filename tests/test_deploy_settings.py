"""Production settings come from the environment alone, and `/healthz` tells the truth."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import pytest
from django.test import Client, override_settings

from tests.support.servers import REPO, RedisProcess, free_port

PRODUCTION_ENV = {
    "DJANGO_DEBUG": "0",
    "DJANGO_ALLOWED_HOSTS": "sotto.example.org",
    "DATABASE_URL": "postgres://sotto:password@postgres:5432/sotto",
    "REDIS_URL": "redis://redis:6379/0",
}


def check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run `manage.py check --deploy --fail-level WARNING` with only ``env`` configured."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SOTTO_"))}
    base = {k: v for k, v in base.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_the_production_environment() -> None:
    """DEBUG off, a strong key, hosts, DATABASE_URL and REDIS_URL: no deploy warning at all."""
    env = {**PRODUCTION_ENV, "DJANGO_SECRET_KEY": secrets.token_urlsafe(50)}
    result = check_deploy(env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_fails_with_debug_on() -> None:
    """The same check fails when DEBUG is left on, so a clean result means something."""
    env = {**PRODUCTION_ENV, "DJANGO_DEBUG": "1", "DJANGO_SECRET_KEY": secrets.token_urlsafe(50)}
    result = check_deploy(env)
    assert result.returncode != 0
    assert "security.W018" in result.stderr


def test_production_refuses_to_start_without_a_secret_key() -> None:
    """With DEBUG off and no DJANGO_SECRET_KEY the settings refuse to load."""
    result = check_deploy(PRODUCTION_ENV)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


@pytest.mark.django_db
def test_healthz_answers_200_with_the_database_and_no_redis(client: Client) -> None:
    """Embedded default (no REDIS_URL): only the database is checked, and it answers."""
    with override_settings(REDIS_URL=""):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok"}}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
@pytest.mark.redis
def test_healthz_answers_200_when_redis_answers(client: Client, redis_server: RedisProcess) -> None:
    """With REDIS_URL set to a live redis-server both checks pass."""
    with override_settings(REDIS_URL=redis_server.url):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "redis": "ok"}


@pytest.mark.django_db
def test_healthz_answers_503_when_redis_does_not(client: Client) -> None:
    """A REDIS_URL nobody listens on makes the probe 503, without error text in the body."""
    url = f"redis://:hunter2@127.0.0.1:{free_port()}/0"
    with override_settings(REDIS_URL=url):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "down", "checks": {"database": "ok", "redis": "down"}}
    assert b"hunter2" not in response.content and b"127.0.0.1" not in response.content


@pytest.mark.django_db
def test_healthz_only_answers_get(client: Client) -> None:
    """POST to the probe is refused."""
    assert client.post("/healthz").status_code == 405
