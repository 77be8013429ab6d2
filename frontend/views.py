"""Views of the page."""

from __future__ import annotations

from csp.decorators import csp_update
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from . import bundles

# Only our own page enforces Trusted Types: it never assigns HTML strings to the DOM,
# so any such sink (innerHTML and friends) throws instead of running. The admin's
# bundled jQuery does use innerHTML, so this is not site-wide.
TRUSTED_TYPES = {"require-trusted-types-for": ["'script'"], "trusted-types": ["'none'"]}


@csp_update(TRUSTED_TYPES)
def index(request: HttpRequest) -> HttpResponse:
    """Serve the single page: entrance and room view."""
    response = render(request, "frontend/index.html", {"bundle_missing": not bundles.available()})
    # The page posts no forms to Django, so it can drop the referrer entirely (the
    # site-wide setting is same-origin for the admin's CSRF check).
    response["Referrer-Policy"] = "no-referrer"
    return response
