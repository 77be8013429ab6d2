"""A lean asyncio WebSocket client for load generation: text frames in and out, little else.

The `websockets` client spends tens of microseconds on each received frame; a
generator that must take in 100 000 frames a second on one core cannot afford
that. This protocol parses the server's frames (unmasked, often many per read)
straight out of `data_received` and hands each text payload to a callback with
the read's arrival time. It answers pings, honours a close, and masks what it
sends as RFC 6455 requires of a client. It sends no Origin header and offers no
extensions; wss:// goes through the event loop's TLS.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import random
import ssl
import time
from collections.abc import Callable
from typing import cast
from urllib.parse import urlsplit

from websockets.utils import apply_mask

from .errors import BenchError

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
MAX_HANDSHAKE_BYTES = 64 * 1024

TextHandler = Callable[["BenchSocket", bytes, float], None]


def split_ws_url(url: str) -> tuple[str, int, str, bool]:
    """Return (host, port, path, TLS or not) of a ws:// or wss:// URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise BenchError(f"not a ws:// or wss:// URL: {url!r}")
    secure = parts.scheme == "wss"
    return parts.hostname, parts.port or (443 if secure else 80), parts.path or "/", secure


def ws_base(url: str) -> str:
    """Return a server base URL as ws(s)://host:port, from http(s):// or ws(s)://."""
    url = url.rstrip("/")
    for web, socket in (("http://", "ws://"), ("https://", "wss://")):
        if url.startswith(web):
            url = socket + url[len(web) :]
    if not url.startswith(("ws://", "wss://")):
        raise BenchError(f"the server must be an http(s):// or ws(s):// URL, not {url!r}")
    return url


class BenchSocket(asyncio.Protocol):
    """One client WebSocket connection whose received text frames go to a callback."""

    def __init__(self, url: str, on_text: TextHandler) -> None:
        self.host, self.port, self.path, self.secure = split_ws_url(url)
        self.on_text = on_text
        loop = asyncio.get_running_loop()
        self.opened: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[int] = loop.create_future()
        self.transport: asyncio.Transport | None = None
        self.bytes_in = 0
        self.bytes_out = 0
        self._key = base64.b64encode(os.urandom(16))
        self._upgraded = False
        self._buffer = b""
        self._fragments: list[bytes] | None = None
        self._close_sent = False
        self._rand = random.Random(os.urandom(8))

    async def connect(self, timeout: float) -> None:
        """Open the connection (TLS for wss) and finish the opening handshake within `timeout`."""
        loop = asyncio.get_running_loop()
        # the default context honours SSL_CERT_FILE (a private CA such as Caddy's)
        tls = ssl.create_default_context() if self.secure else None
        opening = loop.create_connection(lambda: self, self.host, self.port, ssl=tls)
        await asyncio.wait_for(opening, timeout)
        await asyncio.wait_for(asyncio.shield(self.opened), timeout)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Send the opening handshake."""
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is no subclass
        transport = self.transport
        request = (
            f"GET {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {self._key.decode()}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
        self.bytes_out += len(request)
        transport.write(request)

    def data_received(self, data: bytes) -> None:
        """Parse every complete frame in what arrived and dispatch it."""
        now = time.monotonic()
        self.bytes_in += len(data)
        buf = self._buffer + data if self._buffer else data
        if not self._upgraded:
            buf = self._handshake(buf)
            if not self._upgraded:
                return
        pos, size = 0, len(buf)
        while size - pos >= 2:
            first, length = buf[pos], buf[pos + 1]
            if length < 126:
                start = pos + 2
            elif length == 126:
                start = pos + 4
                if start > size:
                    break
                length = (buf[pos + 2] << 8) | buf[pos + 3]
            else:
                start = pos + 10
                if start > size:
                    break
                length = int.from_bytes(buf[pos + 2 : pos + 10], "big")
            end = start + length
            if end > size:
                break
            pos = end
            if first == 0x81:  # the hot path: a whole text frame
                self.on_text(self, buf[start:end], now)
            else:
                self._other_frame(first, buf[start:end], now)
        self._buffer = buf[pos:] if pos < size else b""

    def _handshake(self, buf: bytes) -> bytes:
        head_end = buf.find(b"\r\n\r\n")
        if head_end < 0:
            if len(buf) > MAX_HANDSHAKE_BYTES:
                self._fail(BenchError("handshake response too long"))
            self._buffer = buf
            return b""
        head = buf[:head_end].decode("latin-1").split("\r\n")
        status = head[0].split(" ", 2)
        headers = dict(
            (name.strip().lower(), value.strip())
            for name, _, value in (line.partition(":") for line in head[1:])
        )
        accept = base64.b64encode(hashlib.sha1(self._key + GUID).digest()).decode()
        if len(status) < 2 or status[1] != "101":
            self._fail(BenchError(f"handshake refused: {head[0]}"))
        elif headers.get("sec-websocket-accept") != accept:
            self._fail(BenchError("handshake answer has a wrong Sec-WebSocket-Accept"))
        else:
            self._upgraded = True
            self.opened.set_result(None)
        self._buffer = b""
        return buf[head_end + 4 :]

    def _other_frame(self, first: int, payload: bytes, now: float) -> None:
        opcode, fin = first & 0x0F, first & 0x80
        if opcode in (OP_TEXT, OP_BINARY, OP_CONT):
            if opcode != OP_CONT:
                self._fragments = []
            if self._fragments is None:
                return
            self._fragments.append(payload)
            if fin:
                whole, self._fragments = b"".join(self._fragments), None
                self.on_text(self, whole, now)
        elif opcode == OP_PING:
            self._send_frame(OP_PONG, payload)
        elif opcode == OP_CLOSE:
            code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
            if not self._close_sent:
                self._send_frame(OP_CLOSE, payload[:2])
                self._close_sent = True
            if not self.closed.done():
                self.closed.set_result(code)
            if self.transport is not None:
                self.transport.close()

    def _send_frame(self, opcode: int, payload: bytes) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        size = len(payload)
        if size < 126:
            header = bytes((0x80 | opcode, 0x80 | size))
        elif size < 65536:
            header = bytes((0x80 | opcode, 0xFE)) + size.to_bytes(2, "big")
        else:
            header = bytes((0x80 | opcode, 0xFF)) + size.to_bytes(8, "big")
        mask = self._rand.getrandbits(32).to_bytes(4, "big")
        frame = header + mask + apply_mask(payload, mask)
        self.bytes_out += len(frame)
        transport.write(frame)

    def send_text(self, text: str) -> int:
        """Send one text frame and return its size on the wire in bytes."""
        before = self.bytes_out
        self._send_frame(OP_TEXT, text.encode())
        return self.bytes_out - before

    def pause_reading(self) -> None:
        """Stop reading from the socket, as a member that stopped reading would."""
        if self.transport is not None and not self.transport.is_closing():
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        """Read from the socket again after `pause_reading`."""
        if self.transport is not None and not self.transport.is_closing():
            self.transport.resume_reading()

    async def close(self, timeout: float = 2.0) -> None:
        """Send a close frame (1000), wait a little for the answer, and drop the connection."""
        if not self._close_sent and self._upgraded:
            self._send_frame(OP_CLOSE, (1000).to_bytes(2, "big"))
            self._close_sent = True
        try:
            await asyncio.wait_for(asyncio.shield(self.closed), timeout)
        except TimeoutError:
            pass
        if self.transport is not None:
            self.transport.close()

    def _fail(self, error: Exception) -> None:
        if not self.opened.done():
            self.opened.set_exception(error)
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        """Settle the futures: a connection that ends without a close frame is a 1006."""
        self._fail(BenchError("connection closed during the handshake"))
        if not self.closed.done():
            self.closed.set_result(1006)
