"""App config of presence."""

from django.apps import AppConfig


class PresenceConfig(AppConfig):
    """Presence tracking for rooms."""

    name = "presence"
