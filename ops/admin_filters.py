"""The room list's activity filter: active now, idle now, idle a day, due to expire."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from .expiry import idle_cutoff


class RoomActivityFilter(admin.SimpleListFilter):
    """Filter rooms by whether anyone is in them and how long they have been quiet."""

    title = "activity"
    parameter_name = "activity"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        """Name the choices."""
        return [
            ("active", "Active (members now)"),
            ("idle", "Idle (nobody now)"),
            ("idle-day", "Idle over a day"),
            ("expiring", "Due to expire"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        """Narrow the room list to the chosen activity."""
        choice = self.value()
        if choice == "active":
            return queryset.filter(current_members__gt=0)
        if choice == "idle":
            return queryset.filter(current_members=0)
        if choice == "idle-day":
            day_ago = timezone.now() - timedelta(days=1)
            return queryset.filter(current_members=0, last_active__lt=day_ago)
        if choice == "expiring":
            return queryset.filter(last_active__lt=idle_cutoff())
        return queryset
