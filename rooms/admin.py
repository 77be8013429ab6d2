"""The operator's view of rooms: ids and counts only."""

from __future__ import annotations

from django.contrib import admin

from ops.admin_filters import RoomActivityFilter

from .models import Room


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    """Rooms with their activity; nothing in a room is readable here or anywhere."""

    list_display = (
        "room_id",
        "current_members",
        "peak_members",
        "messages",
        "bytes_relayed",
        "created_at",
        "last_active",
    )
    # Totals above the list: ops/templates/admin/rooms/room/change_list.html.
    list_filter = (RoomActivityFilter,)
    search_fields = ("room_id",)
    readonly_fields = list_display
    ordering = ("-last_active",)

    def has_add_permission(self, request: object) -> bool:
        """Rooms come from use, never from the admin."""
        return False
