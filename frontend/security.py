"""Security headers for every response: the CSP with this site's WebSocket origin,
and a Permissions-Policy that turns off browser features the page never uses.

The static part of the CSP lives in ``settings.CONTENT_SECURITY_POLICY`` (django-csp);
this module only adds what depends on the request: ``connect-src`` for
``ws://host`` or ``wss://host``, matching how the page itself was loaded.
"""

from __future__ import annotations

from collections.abc import Callable

from csp.middleware import CSPMiddleware, PolicyParts
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase

# Features the page never uses; an empty allowlist turns each off for every frame.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "encrypted-media",
        "fullscreen",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "picture-in-picture",
        "publickey-credentials-get",
        "screen-wake-lock",
        "usb",
        "xr-spatial-tracking",
    )
)


def websocket_origin(request: HttpRequest) -> str | None:
    """Return ``ws://host`` or ``wss://host`` for this request, or None for a bad Host."""
    try:
        host = request.get_host()
    except DisallowedHost:
        return None
    scheme = "wss" if request.is_secure() else "ws"
    return f"{scheme}://{host}"


class SottoCSPMiddleware(CSPMiddleware):
    """django-csp's middleware, plus this site's own ws/wss origin in ``connect-src``."""

    def get_policy_parts(
        self,
        request: HttpRequest,
        response: HttpResponseBase,
        report_only: bool = False,
    ) -> PolicyParts:
        """Add the request's WebSocket origin to whatever update the view asked for."""
        parts = super().get_policy_parts(request, response, report_only)
        origin = websocket_origin(request)
        if origin is not None:
            update = dict(parts.update or {})
            update["connect-src"] = [*update.get("connect-src", []), origin]
            parts.update = update
        return parts


class PermissionsPolicyMiddleware:
    """Set a Permissions-Policy header on every response that has none."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        """Wrap the next handler."""
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        """Call the view, then add the header."""
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response
