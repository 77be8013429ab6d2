"""`{% bundle_tag "app.js" %}`: a script or stylesheet tag with Subresource Integrity."""

from __future__ import annotations

from django import template
from django.templatetags.static import static
from django.utils.html import format_html

from frontend import bundles

register = template.Library()


@register.simple_tag
def bundle_tag(name: str) -> str:
    """Render the tag that loads bundle ``name``, or nothing when the build is missing."""
    try:
        built = bundles.bundle(name)
    except bundles.BundleMissing:
        return ""
    url = static(built.static_path)
    if name.endswith(".css"):
        return format_html(
            '<link rel="stylesheet" href="{}" integrity="{}" crossorigin="anonymous">',
            url,
            built.integrity,
        )
    return format_html(
        '<script type="module" src="{}" integrity="{}" crossorigin="anonymous"></script>',
        url,
        built.integrity,
    )
