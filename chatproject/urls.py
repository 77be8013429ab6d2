"""URL routes: the page, the admin and the health check."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from chatproject.health import healthz

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("", include("frontend.urls")),
]
