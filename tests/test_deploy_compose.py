"""docker-compose.yml, the Dockerfile and the Caddyfile, checked without a Docker engine.

The compose file is validated against the Compose Specification's JSON schema (the
copy check-jsonschema vendors and maintains); the rest are the promises the schema
cannot express: health checks everywhere, only the proxy exposed, migrations
before workers, the proxy's upstreams being the workers, and a Caddyfile that
Debian's caddy accepts with the environment compose gives it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.support.servers import REPO, migrated_database_url, scaled

COMPOSE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"


def load_compose() -> dict[str, Any]:
    """Parse docker-compose.yml (anchors and merge keys resolved, as compose does)."""
    return dict(YAML(typ="safe").load(COMPOSE.read_text()))


def validate(path: Path) -> subprocess.CompletedProcess[str]:
    """Run check-jsonschema with its vendored Compose Specification schema on ``path``."""
    return subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def worker_names(compose: dict[str, Any]) -> list[str]:
    """Return the services that run the image's default command: the daphne workers."""
    return sorted(
        name
        for name, service in compose["services"].items()
        if "build" in service and "command" not in service
    )


def test_compose_file_matches_the_compose_specification() -> None:
    """check-jsonschema accepts docker-compose.yml against the Compose Specification schema."""
    result = validate(COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_rejects_a_misspelt_key(tmp_path: Path) -> None:
    """The same validator fails a copy with one misspelt service key, so it really checks."""
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(COMPOSE.read_text().replace("    healthcheck:\n", "    healthchek:\n", 1))
    result = validate(broken)
    assert result.returncode != 0
    assert "healthchek" in result.stdout


def test_every_service_has_a_health_check() -> None:
    """Each service, the one-shot ones included, declares a health check command."""
    for name, service in load_compose()["services"].items():
        check = service.get("healthcheck", {})
        assert check.get("test") and not check.get("disable"), name


def test_only_the_proxy_is_reachable_from_outside() -> None:
    """Only caddy publishes ports; everything else sits on the internal network alone."""
    compose = load_compose()
    assert compose["networks"]["backend"]["internal"] is True
    for name, service in compose["services"].items():
        if name == "caddy":
            assert set(service["networks"]) == {"frontend", "backend"}
            continue
        assert "ports" not in service, name
        assert service["networks"] == ["backend"], name


def test_workers_start_after_migrations_and_sit_behind_the_proxy() -> None:
    """Two or more workers wait for migrate; caddy's upstreams are exactly those workers."""
    compose = load_compose()
    services = compose["services"]
    workers = worker_names(compose)
    assert len(workers) >= 2
    for name in workers:
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["redis"]["condition"] == "service_healthy"
        assert depends["postgres"]["condition"] == "service_healthy"
    assert services["migrate"]["command"][-2:] == ["migrate", "--noinput"]
    upstreams = services["caddy"]["environment"]["SOTTO_UPSTREAMS"].split()
    assert sorted(upstreams) == [f"{name}:8000" for name in workers]
    assert set(services["caddy"]["depends_on"]) == set(workers)


def test_app_containers_get_the_production_environment() -> None:
    """Every container of the image runs with DEBUG off, required secrets, Postgres and Redis."""
    compose = load_compose()
    for name, service in compose["services"].items():
        if "build" not in service:
            continue
        env = service["environment"]
        assert env["DJANGO_DEBUG"] == "0", name
        assert ":?" in env["DJANGO_SECRET_KEY"], name
        assert env["DATABASE_URL"].startswith("postgres://"), name
        assert env["REDIS_URL"].startswith("redis://redis:"), name
        assert service.get("read_only") is True and service.get("init") is True, name


def interpolate(word: str) -> str:
    """Resolve compose's ``${NAME:-default}`` in ``word`` to its default, as with an empty .env."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", word)


def test_janitor_loop_and_its_health_check_work_as_compose_runs_them(tmp_path: Path) -> None:
    """The janitor's own command stamps a heartbeat that its own health check accepts."""
    janitor = load_compose()["services"]["janitor"]
    beat = str(tmp_path / "beat")

    def argv(words: list[str]) -> list[str]:
        resolved = [interpolate(w).replace("/tmp/janitor-heartbeat", beat) for w in words]
        assert resolved[:2] == ["python", "manage.py"]
        return [sys.executable, *resolved[1:]]

    check = argv(janitor["healthcheck"]["test"][1:])
    env = {**os.environ, "DATABASE_URL": migrated_database_url()}
    assert subprocess.run(check, cwd=REPO, env=env, capture_output=True).returncode == 1
    loop = subprocess.Popen(
        argv(janitor["command"]),
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + scaled(30)
        while not Path(beat).exists():
            assert loop.poll() is None, loop.stderr.read() if loop.stderr else ""
            assert time.monotonic() < deadline, "the janitor wrote no heartbeat"
            time.sleep(0.05)
        result = subprocess.run(check, cwd=REPO, env=env, capture_output=True)
        assert result.returncode == 0, result.stderr
        assert loop.poll() is None, "the janitor must keep running between passes"
    finally:
        loop.kill()
        loop.wait()


@pytest.mark.skipif(shutil.which("caddy") is None, reason="caddy is not installed")
def test_caddy_accepts_the_caddyfile_with_the_compose_environment(tmp_path: Path) -> None:
    """Debian's caddy adapts deploy/Caddyfile as compose runs it: TLS site, both workers."""
    caddy = load_compose()["services"]["caddy"]
    mount = next(v for v in caddy["volumes"] if v.endswith(":/etc/caddy/Caddyfile:ro"))
    caddyfile = REPO / mount.split(":")[0]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "SOTTO_TLS": "auto"}
    env.update({key: value for key, value in caddy["environment"].items() if "${" not in value})
    env["SOTTO_DOMAIN"] = "sotto.example.org"
    result = subprocess.run(
        ["caddy", "adapt", "--config", str(caddyfile), "--adapter", "caddyfile"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    config = json.loads(result.stdout)
    server = config["apps"]["http"]["servers"]["srv0"]
    assert server["listen"] == ["0.0.0.0:443"]
    route = server["routes"][0]
    assert route["match"] == [{"host": ["sotto.example.org"]}]
    proxy = next(
        h for h in route["handle"][0]["routes"][0]["handle"] if h["handler"] == "reverse_proxy"
    )
    assert [u["dial"] for u in proxy["upstreams"]] == ["app1:8000", "app2:8000"]
    assert proxy["health_checks"]["active"]["uri"] == "/healthz"
    # A public name gets no internal issuer: Caddy's ACME default applies.
    assert "tls" not in config["apps"]
    assert config["apps"]["pki"]["certificate_authorities"]["local"]["install_trust"] is False


def dockerfile_stages() -> list[list[str]]:
    """Split the Dockerfile into stages, each a list of instruction lines."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    stages: list[list[str]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            stages.append([])
        if stages:
            stages[-1].append(line)
    return stages


def test_dockerfile_builds_bundles_in_node_and_runs_python_as_non_root() -> None:
    """Node 20 runs npm ci and the build; python:3.11-slim collects static and drops root."""
    node, python = dockerfile_stages()
    assert node[0].startswith("FROM node:20")
    assert any("npm ci" in line for line in node)
    assert any("npm run build" in line for line in node)
    assert python[0].startswith("FROM python:3.11-slim")
    assert any("collectstatic" in line for line in python)
    assert any(line.startswith("COPY --from=bundles") for line in python)
    users = [line.split()[1] for line in python if line.startswith("USER ")]
    assert users and users[-1] not in {"root", "0"}
    cmd = next(line for line in python if line.startswith("CMD "))
    assert "daphne" in cmd and "--proxy-headers" in cmd


def test_dockerfile_copies_only_paths_that_exist() -> None:
    """Every COPY source from the build context exists in the repository."""
    for stage in dockerfile_stages():
        for line in stage:
            if not line.startswith("COPY ") or "--from=" in line:
                continue
            *sources, _ = line.split()[1:]
            for source in sources:
                assert (REPO / source).exists(), line


def test_dockerfile_copies_every_project_package() -> None:
    """The runtime stage copies each package pyproject.toml ships, so no app is left out."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    packages = {
        name.rstrip("*") for name in project["tool"]["setuptools"]["packages"]["find"]["include"]
    }
    _, python = dockerfile_stages()
    copied = {
        line.split()[1].rstrip("/")
        for line in python
        if line.startswith("COPY ") and "--from=" not in line
    }
    assert packages <= copied, packages - copied
