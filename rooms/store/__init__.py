"""Room stores: the shared truth about rooms, behind one interface.

``base.RoomStore`` states the contract; ``memory.MemoryRoomStore`` is the embedded
default (one process), ``redis.RedisRoomStore`` serves several workers on one Redis.
``make_store`` picks one from settings.
"""

from __future__ import annotations

from .base import Admission, RoomStore, StoreUnavailable


def make_store(settings: dict[str, object]) -> RoomStore:
    """Return the store that ``settings`` (the SOTTO dict) asks for."""
    if settings.get("REDIS_URL"):
        from .redis import RedisRoomStore

        return RedisRoomStore(settings)
    from .memory import MemoryRoomStore

    return MemoryRoomStore(settings)


__all__ = ["Admission", "RoomStore", "StoreUnavailable", "make_store"]
