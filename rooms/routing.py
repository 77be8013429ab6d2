"""WebSocket routes: /ws/rooms/<room_id>/ with a well-formed room id, else refused."""

from __future__ import annotations

from django.urls import re_path

from .consumer import RefuseConsumer, RoomConsumer
from .protocol import ROOM_ID_PATTERN

websocket_urlpatterns = [
    re_path(rf"^ws/rooms/(?P<room_id>{ROOM_ID_PATTERN})/$", RoomConsumer.as_asgi()),
    re_path(r"^ws/", RefuseConsumer.as_asgi()),
]
