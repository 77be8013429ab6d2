"""Template tag for the admin: the site totals shown above the room list."""

from __future__ import annotations

from django import template

from ops.traffic import SiteTotals, site_totals

register = template.Library()


@register.simple_tag
def sotto_site_totals() -> SiteTotals:
    """Return rooms now, members now and messages in the last hour."""
    return site_totals()
