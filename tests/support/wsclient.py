"""A raw wire-protocol client for server tests: JSON frames over `websockets`.

It knows nothing of encryption; bodies are opaque strings, exactly what the relay
sees. It records every frame it receives so tests can assert on all of them.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import random
import string
from typing import Any

import websockets

from .servers import scaled


def random_room_id() -> str:
    """Return a fresh well-formed room id (22 base64url characters)."""
    return "".join(random.choices(string.ascii_letters + string.digits + "-_", k=22))


def random_key() -> str:
    """Return a random 32-byte public key in unpadded base64url."""
    return base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()


class RawClient:
    """One WebSocket connection speaking the relay protocol without any crypto."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.received: list[dict[str, Any]] = []
        self.welcome: dict[str, Any] = {}
        self.key = random_key()

    @classmethod
    async def connect(cls, url: str, **kwargs: Any) -> RawClient:
        """Open a connection to ``url`` (no Origin header unless given)."""
        ws = await websockets.connect(url, open_timeout=scaled(10), **kwargs)
        return cls(ws)

    @property
    def member_id(self) -> str:
        """This client's member id from its welcome."""
        return str(self.welcome["you"])

    async def send(self, frame: dict[str, Any] | str) -> None:
        """Send a frame (a dict is JSON-encoded, a string is sent as is)."""
        await self.ws.send(frame if isinstance(frame, str) else json.dumps(frame))

    async def recv(self, timeout: float = 5.0) -> dict[str, Any]:
        """Receive the next frame."""
        return await self._recv_within(scaled(timeout))

    async def _recv_within(self, seconds: float) -> dict[str, Any]:
        raw = await asyncio.wait_for(self.ws.recv(), seconds)
        frame = json.loads(raw)
        self.received.append(frame)
        return frame

    async def recv_type(self, frame_type: str, timeout: float = 5.0) -> dict[str, Any]:
        """Receive frames until one of ``frame_type`` arrives, and return it."""
        deadline = asyncio.get_running_loop().time() + scaled(timeout)
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError(f"no {frame_type} frame")
            frame = await self._recv_within(remaining)
            if frame.get("type") == frame_type:
                return frame

    async def join(self, **extra: Any) -> dict[str, Any]:
        """Send `join` and return the `welcome`."""
        await self.send({"type": "join", "v": 1, "key": self.key, **extra})
        self.welcome = await self.recv_type("welcome")
        return self.welcome

    async def quiet(self, seconds: float = 0.3) -> list[dict[str, Any]]:
        """Return every frame that arrives within ``seconds`` (expecting few or none)."""
        frames = []
        try:
            while True:
                frames.append(await self.recv(seconds))
        except TimeoutError:
            return frames

    async def close(self) -> None:
        """Close the connection with a close frame."""
        await self.ws.close()


async def joined_clients(url: str, count: int) -> list[RawClient]:
    """Connect ``count`` clients to ``url``, join them in turn, and drain presence noise."""
    clients = []
    for _ in range(count):
        client = await RawClient.connect(url)
        await client.join()
        clients.append(client)
    # Each earlier member sees one presence join per later member.
    for index, client in enumerate(clients):
        for _ in range(count - index - 1):
            await client.recv_type("presence")
    return clients
