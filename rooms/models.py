"""The operator's record of a room: an opaque id and counts, never content."""

from __future__ import annotations

from django.db import models


class Room(models.Model):
    """One room as the admin sees it: its hashed id, activity and counters."""

    room_id = models.CharField(max_length=22, unique=True, help_text="Hash of the room name.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    last_active = models.DateTimeField(db_index=True)
    current_members = models.PositiveIntegerField(default=0)
    peak_members = models.PositiveIntegerField(default=0)
    messages = models.PositiveBigIntegerField(default=0, help_text="Broadcasts relayed.")
    bytes_relayed = models.PositiveBigIntegerField(
        default=0, help_text="Bytes of broadcast and direct frames received from members."
    )

    class Meta:
        ordering = ["-last_active"]

    def __str__(self) -> str:
        return self.room_id
