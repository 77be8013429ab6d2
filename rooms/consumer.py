"""The WebSocket consumer: one per connection, a thin shell around the hub and store.

A `join` runs join -> lookup -> sync_room -> handle_response (the shape of the
Phoenix design Sotto descends from): validate, find this process's local room,
atomically create-or-admit in the store, then answer `welcome` or `room_full`.
After that the consumer routes `direct` and `broadcast` frames through the hub.

The hot path never touches the database, so ``dispatch`` skips Channels' per-message
``aclose_old_connections`` thread hop (measured at 55-100 us of event-loop time per
frame). Statistics reach the database from the hub's own flush task.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from . import protocol
from .backpressure import transport_of, unsent_bytes
from .frames import Broadcast, Direct, FrameError, Join, Ping, parse_client_frame
from .hub import Hub, get_hub
from .local import LocalRoom
from .protocol import CloseCode, ErrorCode, error_frame
from .ratelimit import ExcessTracker, TokenBucket
from .store import Admission, StoreUnavailable
from .store.base import ResumeOutcome, Resumption
from .tokens import new_member_id, new_resume_token, token_hash
from .turn_flush import flush_at_end_of_turn

logger = logging.getLogger(__name__)


# A connection that ends with this code got no close frame from the client (reset,
# EOF, heartbeat timeout): a drop, held for the grace period, not a leave.
ABNORMAL_CLOSURE = 1006


class RefuseConsumer(AsyncWebsocketConsumer):
    """Refuses the WebSocket handshake (a malformed room id or an unknown path)."""

    channel_layer_alias = "__none__"

    async def connect(self) -> None:
        """Refuse before accepting."""
        await self.close()


class RoomConsumer(AsyncWebsocketConsumer):
    """One member's connection to one room."""

    # No per-connection channel: fan-out goes through the hub, not the layer.
    channel_layer_alias = "__none__"

    async def connect(self) -> None:
        """Accept the socket; membership starts with a valid `join`."""
        self.room_id: str = self.scope["url_route"]["kwargs"]["room_id"]
        limits: dict[str, Any] = settings.SOTTO
        self.hub: Hub = await get_hub()
        self.member_id = ""
        self.min_seq = 0
        self.generation = 0
        self.resume_token = ""
        # True once the server closed for a protocol reason or a replacement: the
        # membership was already settled, and the disconnect changes nothing.
        self.settled = False
        self.room: LocalRoom | None = None
        self.closed = False
        self.broadcast_bucket = TokenBucket(limits["BROADCAST_RATE"], limits["BROADCAST_BURST"])
        self.direct_bucket = TokenBucket(limits["DIRECT_RATE"], limits["DIRECT_BURST"])
        self.excess = ExcessTracker(limits["RATE_CLOSE_AFTER"])
        self.max_frame = int(limits["MAX_FRAME_BYTES"])
        self.max_unsent = int(limits["SEND_QUEUE_BYTES"])
        self.transport = transport_of(self.base_send)
        if self.transport is not None:
            flush_at_end_of_turn(self.transport)
        await self.accept()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Run the connection: one source of events, handled one at a time.

        Channels' own loop races the client and the per-consumer layer channel with
        ``asyncio.wait`` and a task per event; this consumer has no layer channel, so a
        plain loop does the same work without a task and a wait per frame.
        """
        self.scope = scope
        self.channel_layer = None
        self.base_send = send
        try:
            while True:
                await self.dispatch(await receive())
        except StopConsumer:
            pass

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Call the handler without Channels' database clean-up hop (see module doc)."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def write(self, text: str) -> bool:
        """Write one frame to this member; return False once the connection is gone."""
        if self.closed:
            return False
        try:
            await self.base_send({"type": "websocket.send", "text": text})
        except Exception:  # daphne raises Disconnected, others their own types
            self.closed = True
            return False
        if self.transport is not None and unsent_bytes(self.transport) > self.max_unsent:
            await self.shed_slow_reader()
            return False
        return True

    async def shed_slow_reader(self) -> None:
        """Cut a member that stopped reading, before its queue grows without bound.

        This is a close for the server's own reason, so it is a drop: the place is
        held for the grace period and the member can resume once it reads again. The
        TCP connection is cut outright: a close frame would only queue behind what
        the member is not reading (and autobahn refuses to send 1013 anyway).
        """
        self.closed = True
        logger.info("room %s: member %s stopped reading; cut", self.room_id, self.member_id)
        self.transport.abortConnection()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Parse one frame and act on it; bad input gets an error, never a crash."""
        if self.closed:
            return
        if text_data is None:
            await self.write(error_frame(ErrorCode.BAD_FRAME, "Frames are JSON text."))
            return
        if len(text_data) > self.max_frame or (
            len(text_data) * 4 > self.max_frame and len(text_data.encode()) > self.max_frame
        ):
            await self.write(error_frame(ErrorCode.FRAME_TOO_LARGE))
            return
        try:
            frame = parse_client_frame(text_data)
        except FrameError as exc:
            await self.write(error_frame(exc.code, exc.detail))
            return
        try:
            if isinstance(frame, Broadcast):
                await self.on_broadcast(frame, len(text_data))
            elif isinstance(frame, Direct):
                await self.on_direct(frame, len(text_data))
            elif isinstance(frame, Join):
                await self.join(frame)
            elif isinstance(frame, Ping):
                await self.write(protocol.PONG_FRAME)
        except StoreUnavailable:
            logger.warning(
                "room %s: store unavailable during %s", self.room_id, type(frame).__name__
            )
            await self.write(error_frame(ErrorCode.UNAVAILABLE))

    # --- join -> lookup -> sync_room -> handle_response ---------------------------------

    async def join(self, frame: Join) -> None:
        """Validate a join and run it through lookup, sync_room and handle_response."""
        if self.member_id:
            await self.write(error_frame(ErrorCode.ALREADY_JOINED))
            return
        if frame.resume is not None and await self.resume(frame):
            return
        member_id = new_member_id()
        room = await self.lookup(member_id)
        try:
            admission = await self.sync_room(member_id, frame)
        except BaseException:
            await self.hub.exit(self.room_id, member_id)
            raise
        await self.handle_response(room, member_id, admission)

    async def lookup(self, member_id: str) -> LocalRoom:
        """Find (or open) this process's local room and hold a pending place in it."""
        return await self.hub.enter(self.room_id, member_id)

    async def sync_room(self, member_id: str, frame: Join) -> Admission:
        """Atomically create the room or admit the member to it, enforcing capacity."""
        joined_at = int(time.time() * 1000)
        self.resume_token = new_resume_token()
        return await self.hub.store.sync_room(
            self.room_id,
            member_id,
            frame.key,
            joined_at,
            self.hub.process_id,
            token_hash(self.resume_token),
        )

    async def handle_response(self, room: LocalRoom, member_id: str, admission: Admission) -> None:
        """Answer `welcome` and announce the join, or refuse a full room."""
        if not admission.admitted:
            await self.hub.exit(self.room_id, member_id)
            logger.info("room %s: refused a join, room full", self.room_id)
            await self.write(error_frame(ErrorCode.ROOM_FULL))
            await self.close(code=CloseCode.ROOM_FULL)
            return
        assert admission.members is not None
        self.member_id = member_id
        self.min_seq = admission.seq
        self.generation = 1
        self.room = room
        await self.write(self.welcome_frame(admission.color, admission.members, admission.seq))
        await self.hub.admitted(room, self, admission.members, admission.seq)
        logger.info(
            "room %s: member %s joined (%d now)", self.room_id, member_id, len(admission.members)
        )
        await self.hub.publish_presence(self.room_id, {member_id: admission.members[member_id]}, {})

    def welcome_frame(
        self, color: str, members: dict[str, Any], seq: int, resumed: bool = False
    ) -> str:
        """Encode this member's `welcome`."""
        return json.dumps(
            {
                "type": protocol.WELCOME,
                "v": protocol.PROTOCOL_VERSION,
                "you": self.member_id,
                "color": color,
                "members": members,
                "seq": seq,
                "resume": self.resume_token,
                "resumed": resumed,
            }
        )

    # --- resume after a blip (docs/protocol.md section 4.1) ------------------------------

    async def resume(self, frame: Join) -> bool:
        """Try to resume a membership; return False to fall back to a fresh join."""
        assert frame.resume is not None and frame.last_seq is not None
        pending_id = "~" + new_member_id()
        room = await self.hub.enter(self.room_id, pending_id)
        try:
            result = await self.hub.store.resume(
                self.room_id,
                token_hash(frame.resume),
                frame.key,
                frame.last_seq,
                self.hub.process_id,
            )
        except BaseException:
            await self.hub.exit(self.room_id, pending_id)
            raise
        if result.outcome != ResumeOutcome.RESUMED:
            await self.hub.exit(self.room_id, pending_id)
            if result.outcome == ResumeOutcome.STALE:
                logger.info("room %s: member %s could not resume", self.room_id, result.member_id)
                await self.hub.evict(self.room_id, result.member_id, result.ended_meta)
            return False
        await self.resumed(room, pending_id, frame.resume, result)
        return True

    async def resumed(
        self, room: LocalRoom, pending_id: str, token: str, result: Resumption
    ) -> None:
        """Write the resumed welcome, held directs and missed messages, then go live."""
        assert result.members is not None
        self.member_id = result.member_id
        self.generation = result.generation
        self.resume_token = token
        self.min_seq = result.seq
        self.room = room
        await self.hub.take_over(room, pending_id, self, result.generation)
        await self.write(self.welcome_frame(result.color, result.members, result.seq, True))
        for text in (*result.held_directs, *result.replay):
            await self.write(text)
        await self.hub.admitted(room, self, result.members, result.seq)
        logger.info(
            "room %s: member %s resumed (%d replayed)",
            self.room_id,
            self.member_id,
            len(result.replay),
        )

    async def replaced(self) -> None:
        """Close as replaced by a resumed connection; the membership goes on there."""
        self.settled = True
        self.member_id = ""
        await self.close(code=CloseCode.REPLACED)
        self.closed = True

    # --- routing --------------------------------------------------------------------------

    async def _within_limit(self, bucket: TokenBucket) -> bool:
        now = time.monotonic()
        if bucket.allow(now):
            return True
        if self.excess.record_refusal(now):
            logger.info(
                "room %s: member %s closed for continued excess", self.room_id, self.member_id
            )
            await self.end_membership(CloseCode.RATE_LIMITED)
            self.settled = True
            await self.close(code=CloseCode.RATE_LIMITED)
            self.closed = True
        else:
            await self.write(error_frame(ErrorCode.RATE_LIMITED))
        return False

    async def on_broadcast(self, frame: Broadcast, nbytes: int) -> None:
        """Stamp the next room seq and fan the message out to every member."""
        if not self.member_id:
            await self.write(error_frame(ErrorCode.NOT_JOINED))
            return
        if not await self._within_limit(self.broadcast_bucket):
            return
        prefix = f'{{"type":"message","from":"{self.member_id}","seq":'
        suffix = ',"body":' + json.dumps(frame.body, ensure_ascii=False) + "}"
        seq = await self.hub.store.stamp(self.room_id, prefix, suffix)
        await self.hub.publish_message(self.room_id, seq, f"{prefix}{seq}{suffix}")
        self.hub.stats.count(self.room_id, 1, nbytes)

    async def on_direct(self, frame: Direct, nbytes: int) -> None:
        """Forward a direct frame to one member of the room."""
        if not self.member_id:
            await self.write(error_frame(ErrorCode.NOT_JOINED))
            return
        if not await self._within_limit(self.direct_bucket):
            return
        text = json.dumps(
            {"type": protocol.DIRECT, "from": self.member_id, "body": frame.body},
            ensure_ascii=False,
        )
        if not await self.hub.route_direct(self.room_id, frame.to, text):
            await self.write(error_frame(ErrorCode.NO_SUCH_MEMBER))
            return
        self.hub.stats.count(self.room_id, 0, nbytes)

    # --- leaving --------------------------------------------------------------------------

    async def websocket_disconnect(self, message: dict[str, Any]) -> None:
        """End the connection without Channels' database clean-up hop (nothing here uses it)."""
        await self.disconnect(message.get("code", ABNORMAL_CLOSURE))
        raise StopConsumer()

    async def disconnect(self, code: int) -> None:
        """The socket is gone: a close frame is a leave, anything else a drop."""
        self.closed = True
        if self.settled or not self.member_id:
            return
        if code == ABNORMAL_CLOSURE:
            member_id, self.member_id = self.member_id, ""
            logger.info("room %s: member %s dropped; holding its place", self.room_id, member_id)
            await self.hub.dropped(self.room_id, member_id, self.generation)
            return
        await self.end_membership(code)

    async def end_membership(self, code: int) -> None:
        """Leave the room at once and tell the others (idempotent)."""
        if not self.member_id:
            return
        member_id, self.member_id = self.member_id, ""
        await self.hub.exit(self.room_id, member_id)
        try:
            meta = await self.hub.store.leave(self.room_id, member_id, self.generation)
        except StoreUnavailable:
            logger.warning(
                "room %s: store unavailable at leave; announcing it anyway", self.room_id
            )
            meta = self.room.presence.get(member_id) if self.room else None
        logger.info("room %s: member %s left (close %s)", self.room_id, member_id, code)
        if meta is not None:
            await self.hub.publish_presence(self.room_id, {}, {member_id: meta})
