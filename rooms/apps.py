"""App config of the relay."""

from django.apps import AppConfig


class RoomsConfig(AppConfig):
    """Rooms: the consumer, the room stores and the admin's Room records."""

    name = "rooms"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Trim per-frame work in the WebSocket library (see rooms/autobahn_quiet.py)."""
        from .autobahn_quiet import quiet_autobahn_debug_formatting

        quiet_autobahn_debug_formatting()
