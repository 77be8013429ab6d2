"""App config of the relay."""

from django.apps import AppConfig


class RoomsConfig(AppConfig):
    """Rooms: the consumer, the room stores and the admin's Room records."""

    name = "rooms"
    default_auto_field = "django.db.models.BigAutoField"
