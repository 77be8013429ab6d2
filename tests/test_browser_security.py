"""Security of the page: headers on every response, SRI on the bundles, no CSP
violation on the page or in the admin, and plain words when the browser cannot work."""

from __future__ import annotations

import base64
import hashlib
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from django.utils.functional import empty
from playwright.sync_api import ConsoleMessage, Page, Playwright, expect

from tests.browser_support import (
    PAGE_ERRORS,
    REPO,
    TIMEOUT_MS,
    NewPage,
    join,
    launch,
    unique_room,
)
from tests.support.servers import DaphneProcess, server_env, start_daphne

pytestmark = pytest.mark.browser


def fetch(url: str) -> tuple[dict[str, str], bytes]:
    """GET a URL; return its headers (lower-case names) and body."""
    with urllib.request.urlopen(url, timeout=10) as response:
        return {k.lower(): v for k, v in response.headers.items()}, response.read()


def csp_directives(header: str) -> dict[str, list[str]]:
    """Split a CSP header into directive -> sources."""
    out: dict[str, list[str]] = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def watch_csp(page: Page) -> list[str]:
    """Collect every CSP violation the page reports on the console."""
    violations: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Trusted Type" in message.text:
            violations.append(message.text)

    page.on("console", on_console)
    return violations


@pytest.mark.parametrize("path", ["/", "/admin/login/", "/static/frontend/favicon.svg"])
def test_security_headers_on_every_response(embedded_server: DaphneProcess, path: str) -> None:
    """The page, the admin and a static file all carry the CSP and the other headers."""
    headers, _ = fetch(embedded_server.http_url + path)
    csp = csp_directives(headers["content-security-policy"])
    assert csp["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in headers["content-security-policy"]
    assert "'unsafe-eval'" not in headers["content-security-policy"]
    assert csp["connect-src"] == ["'self'", f"ws://127.0.0.1:{embedded_server.port}"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    # The page sends no referrer at all. The rest of the site (the admin) uses
    # same-origin, because with no-referrer browsers post `Origin: null` and Django's
    # CSRF check refuses the admin login; either way nothing leaves the site.
    expected = {"no-referrer"} if path == "/" else {"no-referrer", "same-origin"}
    assert headers["referrer-policy"] in expected
    assert headers["x-content-type-options"] == "nosniff"
    assert "camera=()" in headers["permissions-policy"]
    assert "microphone=()" in headers["permissions-policy"]


def test_page_enforces_trusted_types(embedded_server: DaphneProcess) -> None:
    """The page itself forbids HTML-string sinks such as innerHTML via Trusted Types."""
    headers, _ = fetch(embedded_server.http_url + "/")
    csp = csp_directives(headers["content-security-policy"])
    assert csp["require-trusted-types-for"] == ["'script'"]


def test_bundles_carry_matching_integrity(embedded_server: DaphneProcess) -> None:
    """Each bundle tag has an SRI hash equal to the SHA-384 of the bytes the server sends."""
    _, html = fetch(embedded_server.http_url + "/")
    tags = re.findall(rb'(?:src|href)="([^"]+/dist/[^"]+)" integrity="(sha384-[^"]+)"', html)
    assert {url.rsplit(b".", 1)[1] for url, _ in tags} == {b"js", b"css"}
    for url, integrity in tags:
        _, body = fetch(embedded_server.http_url + url.decode())
        digest = base64.b64encode(hashlib.sha384(body).digest()).decode()
        assert integrity.decode() == f"sha384-{digest}"
    assert b"<script>" not in html and b" style=" not in html and b"<style" not in html


def test_page_runs_without_csp_violations(
    embedded_server: DaphneProcess, new_page: NewPage
) -> None:
    """Joining a room and chatting alone reports no CSP or Trusted Types violation."""
    page = new_page()
    violations = watch_csp(page)
    join(page, embedded_server, unique_room("csp"), "correct horse battery staple")
    page.get_by_role("button", name=re.compile("^Fingerprint")).first.click()
    expect(page.locator(".fingerprint").first).to_have_text(re.compile(r"^(\d{5} ){4}\d{5}$"))
    assert violations == []
    assert PAGE_ERRORS[page] == []


def test_admin_works_under_the_csp(embedded_server: DaphneProcess, new_page: NewPage) -> None:
    """A superuser logs in and opens a change form in the admin with no CSP violation."""
    script = (
        "from django.contrib.auth import get_user_model;"
        "U = get_user_model();"
        "U.objects.filter(username='csp-admin').delete();"
        "U.objects.create_superuser('csp-admin', 'a@example.invalid', 'csp-admin-pass-42')"
    )
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script], cwd=REPO, env=server_env(), check=True
    )
    page = new_page()
    violations = watch_csp(page)
    page.goto(embedded_server.http_url + "/admin/login/")
    page.get_by_label("Username").fill("csp-admin")
    page.get_by_label("Password").fill("csp-admin-pass-42")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    page.goto(embedded_server.http_url + "/admin/auth/user/")
    page.get_by_role("link", name="csp-admin").click()
    expect(page.get_by_label("Username")).to_have_value("csp-admin")
    # The admin's own scripts ran: SelectFilter turned the groups box into a filter widget.
    expect(page.locator("#id_groups_filter")).to_be_attached()
    assert violations == []


def test_insecure_context_is_explained(playwright: Playwright) -> None:
    """Over plain http on a non-local name the page says plainly that it cannot work."""
    host = "sotto-insecure.test"
    server = start_daphne({"DJANGO_ALLOWED_HOSTS": f"{host},127.0.0.1"})
    chromium = launch(playwright.chromium, [f"--host-resolver-rules=MAP {host} 127.0.0.1"])
    try:
        page = chromium.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(f"http://{host}:{server.port}/")
        assert page.evaluate("window.isSecureContext") is False
        alert = page.locator("#problem")
        expect(alert).to_be_visible()
        expect(alert).to_have_attribute("role", "alert")
        expect(alert).to_contain_text("not on a secure connection")
        expect(alert).to_contain_text("https://")
        expect(page.get_by_role("button", name="Join")).to_be_disabled()
    finally:
        chromium.close()
        server.stop()


def test_bundles_survive_collectstatic_unchanged(settings: object, tmp_path: Path) -> None:
    """Production's hashed static storage copies the bundles byte for byte, so SRI holds."""
    from django.contrib.staticfiles.storage import staticfiles_storage
    from django.core.management import call_command

    from frontend import bundles

    settings.STATIC_ROOT = tmp_path  # type: ignore[attr-defined]
    settings.STORAGES = {  # type: ignore[attr-defined]
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    staticfiles_storage._wrapped = empty  # type: ignore[attr-defined]  # rebuild with the override
    try:
        call_command("collectstatic", "--noinput", "-v", "0")
        for name in ("app.js", "style.css"):
            built = bundles.bundle(name)
            hashed = staticfiles_storage.stored_name(built.static_path)
            assert hashed != built.static_path  # really the hashed copy
            body = (tmp_path / hashed).read_bytes()
            digest = base64.b64encode(hashlib.sha384(body).digest()).decode()
            assert built.integrity == f"sha384-{digest}", name
    finally:
        staticfiles_storage._wrapped = empty  # type: ignore[attr-defined]
