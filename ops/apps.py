"""App config of the operator's tools."""

from __future__ import annotations

from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Ops: per-minute traffic counters, admin totals, the idle-record janitor."""

    name = "ops"
    verbose_name = "Operations"
    default_auto_field = "django.db.models.BigAutoField"
