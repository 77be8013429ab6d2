"""Refuse WebSocket connections that browsers open from a foreign page.

A browser always sends an ``Origin`` header; it must name this site (the same host
and port as the request's ``Host``, and a host in ``ALLOWED_HOSTS``). Clients that
send no ``Origin`` at all, such as the ``sotto`` command, are not browsers and
cannot be abused by a foreign page, so they are let through.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value).decode("latin1")
    return None


def origin_allowed(scope: dict[str, Any]) -> bool:
    """Say whether the connection's Origin (if any) is this site."""
    origin = _header(scope, b"origin")
    if origin is None:
        return True
    parts = urlsplit(origin)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return False
    host_header = _header(scope, b"host") or ""
    if parts.netloc.lower() != host_header.lower():
        return False
    domain, _ = split_domain_port(parts.netloc)
    return validate_host(domain, settings.ALLOWED_HOSTS)


class NoOriginOrSameOriginValidator:
    """ASGI middleware: pass same-origin and origin-less WebSockets, deny the rest."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if origin_allowed(scope):
            return await self.application(scope, receive, send)
        return await WebsocketDenier()(scope, receive, send)
