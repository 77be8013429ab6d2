"""Site-wide traffic per minute: how many broadcasts and bytes, across every room."""

from __future__ import annotations

from django.db import models


class TrafficMinute(models.Model):
    """Broadcasts and bytes relayed during one UTC minute, summed over all rooms.

    The admin's "messages in the last hour" is the sum of the last 60 rows. No room
    id is stored here, so these rows say nothing about any one room.
    """

    minute = models.DateTimeField(unique=True, help_text="Start of the minute (UTC).")
    messages = models.PositiveBigIntegerField(default=0, help_text="Broadcasts relayed.")
    bytes_relayed = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["-minute"]
        verbose_name = "traffic minute"

    def __str__(self) -> str:
        return self.minute.isoformat()
