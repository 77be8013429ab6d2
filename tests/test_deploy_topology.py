"""The compose topology without Docker: PostgreSQL, Redis, two daphne workers, Caddy over TLS.

Everything runs on loopback as real processes (tests/deploy_stack.py), configured
the way docker-compose.yml configures the containers. Clients speak the wire
protocol over wss through the proxy, trusting only Caddy's internal root.
"""

from __future__ import annotations

import asyncio
import http.server
import json
import os
import secrets
import shutil
import ssl
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import websockets

from sotto.roomid import room_id as room_id_of
from tests.deploy_stack import DOMAIN, Stack, start_caddy, start_stack
from tests.support.servers import REPO, scaled, start_daphne
from tests.support.wsclient import RawClient

pytestmark = [pytest.mark.redis, pytest.mark.slow]


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    """The whole deployment, started once for this module."""
    deployment = start_stack(workers=2)
    yield deployment
    deployment.stop()


def fetch(
    url: str, context: ssl.SSLContext | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """GET ``url`` without following redirects; return status, headers and body."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    handlers: list[Any] = [NoRedirect()]
    if context is not None:
        handlers.append(urllib.request.HTTPSHandler(context=context))
    opener = urllib.request.build_opener(*handlers)
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def upstream_requests(stack: Stack) -> dict[str, int]:
    """Ask Caddy's admin API how many requests each worker is serving right now."""
    url = f"http://127.0.0.1:{stack.caddy.admin_port}/reverse_proxy/upstreams"
    _, _, body = fetch(url)
    return {entry["address"]: entry["num_requests"] for entry in json.loads(body)}


async def test_two_clients_chat_over_wss_across_both_workers(stack: Stack) -> None:
    """Two members on different workers exchange a broadcast and a direct through TLS."""
    url = stack.ws_url(room_id_of("deploy topology chat"))
    context = stack.caddy.ssl_context()
    alice = await RawClient.connect(url, ssl=context)
    bob = await RawClient.connect(url, ssl=context)
    try:
        await alice.join()
        await bob.join()
        joins = (await alice.recv_type("presence"))["joins"]
        assert list(joins) == [bob.member_id]

        # least_conn put each open socket on its own worker: the chat crosses Redis.
        busy = upstream_requests(stack)
        assert sorted(busy.values()) == [1, 1], busy

        await alice.send({"type": "broadcast", "body": "opaque-ciphertext-1"})
        for member in (alice, bob):
            frame = await member.recv_type("message")
            assert frame["from"] == alice.member_id
            assert frame["body"] == "opaque-ciphertext-1"
        await bob.send({"type": "direct", "to": alice.member_id, "body": "opaque-direct"})
        direct = await alice.recv_type("direct")
        assert direct == {"type": "direct", "from": bob.member_id, "body": "opaque-direct"}
    finally:
        await alice.close()
        await bob.close()


async def test_wss_refuses_a_client_that_does_not_trust_the_internal_ca(stack: Stack) -> None:
    """Without Caddy's root certificate the handshake fails: the proxy really serves TLS."""
    with pytest.raises(ssl.SSLCertVerificationError):
        await websockets.connect(
            stack.ws_url(room_id_of("untrusted")), ssl=ssl.create_default_context()
        )


async def test_browser_origin_passes_through_the_proxy_and_foreign_origin_is_refused(
    stack: Stack,
) -> None:
    """The proxy keeps Host intact: the site's own Origin is accepted, another refused."""
    url = stack.ws_url(room_id_of("origin check"))
    context = stack.caddy.ssl_context()
    own = await RawClient.connect(url, ssl=context, origin=stack.caddy.base_url)
    await own.join()
    await own.close()
    with pytest.raises(websockets.InvalidStatus):
        await websockets.connect(url, ssl=context, origin="https://evil.example")


def test_plain_http_is_redirected_to_https(stack: Stack) -> None:
    """The proxy answers http with a permanent redirect to the https site, path kept."""
    status, headers, _ = fetch(
        f"http://127.0.0.1:{stack.caddy.http_port}/admin/?x=1", headers={"Host": DOMAIN}
    )
    assert status == 308
    assert headers["Location"].startswith(f"https://{DOMAIN}")
    assert headers["Location"].endswith("/admin/?x=1")


def test_https_pages_carry_hsts_and_static_files_are_served(stack: Stack) -> None:
    """Through the proxy: /healthz is 200, pages send HSTS, whitenoise serves static files."""
    context = stack.caddy.ssl_context()
    status, headers, body = fetch(f"{stack.caddy.base_url}/healthz", context)
    assert status == 200
    assert json.loads(body) == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}
    status, headers, _ = fetch(f"{stack.caddy.base_url}/admin/login/", context)
    assert status == 200
    assert "max-age=31536000" in headers["Strict-Transport-Security"]
    assert "Server" not in headers
    status, headers, body = fetch(f"{stack.caddy.base_url}/static/ops/totals.css", context)
    assert status == 200 and b"#sotto-totals" in body
    assert "max-age" in headers.get("Cache-Control", "")


def test_workers_refuse_plain_http_except_healthz(stack: Stack) -> None:
    """A worker reached without the proxy's https header redirects, except /healthz."""
    worker = stack.workers[0]
    status, headers, _ = fetch(f"{worker.http_url}/admin/login/", headers={"Host": DOMAIN})
    assert status == 301 and headers["Location"].startswith("https://")
    status, _, _ = fetch(f"{worker.http_url}/healthz", headers={"Host": DOMAIN})
    assert status == 200


def test_container_health_checks_pass(stack: Stack) -> None:
    """The compose health checks succeed: the app's script and the proxy's admin URL."""
    env = {**os.environ, **stack.env, "PORT": str(stack.workers[1].port)}
    result = subprocess.run(
        [sys.executable, "deploy/healthcheck.py"], cwd=REPO, env=env, capture_output=True
    )
    assert result.returncode == 0, result.stderr
    status, _, _ = fetch(f"http://127.0.0.1:{stack.caddy.admin_port}/config/")
    assert status == 200
    # The proxy's own probes reached every worker with an allowed Host.
    for worker in stack.workers:
        assert "Invalid HTTP_HOST" not in worker.log_text()


def test_healthz_is_503_and_the_health_check_fails_when_the_database_is_down(
    stack: Stack,
) -> None:
    """A worker whose database does not answer reports 503 and fails its health check."""
    env = {**stack.env, "DATABASE_URL": "postgres://sotto:x@127.0.0.1:9/sotto"}
    worker = start_daphne(env)
    try:
        status, _, body = fetch(f"{worker.http_url}/healthz", headers={"Host": DOMAIN})
        assert status == 503
        assert json.loads(body)["checks"] == {"database": "down", "redis": "ok"}
        result = subprocess.run(
            [sys.executable, "deploy/healthcheck.py"],
            cwd=REPO,
            env={**os.environ, **env, "PORT": str(worker.port)},
            capture_output=True,
        )
        assert result.returncode == 1
    finally:
        worker.stop()


class _EchoHeaders(http.server.BaseHTTPRequestHandler):
    """Answer every GET with the request's headers as JSON."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        body = json.dumps(dict(self.headers.items())).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        """Stay quiet."""


def test_proxy_replaces_forwarded_headers_sent_by_a_client() -> None:
    """Spoofed X-Forwarded-* from a client never reach the app; the proxy sets its own."""
    echo = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _EchoHeaders)
    thread = threading.Thread(target=echo.serve_forever, daemon=True)
    thread.start()
    caddy = start_caddy([f"127.0.0.1:{echo.server_address[1]}"])
    try:
        spoofed = {
            "X-Forwarded-For": "203.0.113.9",
            "X-Forwarded-Proto": "http",
            "X-Forwarded-Host": "evil.example",
        }
        status, _, body = fetch(f"{caddy.base_url}/anything", caddy.ssl_context(), spoofed)
        seen = json.loads(body)
        assert status == 200
        assert seen["X-Forwarded-For"] == "127.0.0.1"
        assert seen["X-Forwarded-Proto"] == "https"
        assert seen["X-Forwarded-Host"] == f"{DOMAIN}:{caddy.https_port}"
        assert seen["Host"] == f"{DOMAIN}:{caddy.https_port}"
    finally:
        caddy.stop()
        shutil.rmtree(caddy.home, ignore_errors=True)
        echo.shutdown()


async def run_sotto(args: list[str], env: dict[str, str], stdin: str = "") -> tuple[int, str, str]:
    """Run the `sotto` command with ``env`` and return its exit code, stdout and stderr."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sotto",
        *args,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(stdin.encode()), scaled(60))
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_sotto_command_exchanges_a_secret_through_the_proxy(stack: Stack) -> None:
    """`sotto send` and `sotto receive` over https, trusting the internal CA via SSL_CERT_FILE."""
    token = secrets.token_hex(6)
    room, secret = f"deploy cli {token}", f"the secret is {token}"
    env = {k: v for k, v in os.environ.items() if k != "SOTTO_SERVER"}
    env.update({"SOTTO_PASSWORD": f"pw-{token}", "SSL_CERT_FILE": str(stack.caddy.root_ca)})
    server = ["--server", stack.caddy.base_url, "--timeout", str(scaled(30))]
    receiver = asyncio.create_task(run_sotto(["receive", room, *server], env))
    await asyncio.sleep(0.3)
    sent = await run_sotto(["send", room, *server], env, secret)
    received = await receiver
    assert sent == (0, "", "")
    assert received == (0, secret + "\n", "")
    for worker in stack.workers:
        for needle in (room, secret, env["SOTTO_PASSWORD"]):
            assert needle not in worker.log_text()
