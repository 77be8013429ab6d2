"""The process-level relay: one Hub per event loop owns every local room.

Fan-out follows Phoenix's "fastlane": a broadcast is stamped and encoded once and
written to each member on this process directly. Other processes get it the way
Phoenix.PubSub's Redis adapter does it: every process subscribes its own channel to
one channel-layer group, the bus, and drops what is for rooms it has no member of.
What this process sends them queues up while a publish is in flight and leaves as ONE
layer message, in order, whatever rooms it is for: under load one Redis round trip
carries many broadcasts. Nothing goes through a per-member or per-room channel. With
the embedded default (no Redis) there are no other processes and the channel layer is
not touched at all.

The hub also runs the background work of a process: presence heartbeats and the
reaper (Redis only), filling or skipping seq gaps, and flushing room statistics.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from typing import Any

from channels.layers import get_channel_layer
from django.conf import settings

from presence.sync import Meta, State

from . import protocol
from .local import LocalRoom, Member, Replaceable
from .stats import RoomStats
from .store import RoomStore, StoreUnavailable, make_store
from .store.base import RestoredMember
from .tokens import token_hash

logger = logging.getLogger(__name__)

GAP_WAIT_SECONDS = 0.5
LAYER_MESSAGE = "sotto.message"
LAYER_PRESENCE = "sotto.presence"
LAYER_DIRECT = "sotto.direct"
LAYER_CONTROL = "sotto.control"
LAYER_BATCH = "sotto.batch"
BUS_GROUP = "sotto.bus"
# Control events between processes (never sent to clients).
DROPPED = "dropped"  # a member's connection dropped; its place is held for the grace period
RESUMED = "resumed"  # a member resumed at a new generation; older connections are replaced
EVICTED = "evicted"  # a membership ended by a failed resume; any old connection is replaced


def presence_frame(joins: State, leaves: dict[str, Meta]) -> str:
    """Encode a `presence` diff frame."""
    return json.dumps({"type": protocol.PRESENCE, "joins": joins, "leaves": leaves})


class Hub:
    """Local rooms, fan-out and background tasks of one server process."""

    def __init__(self, sotto_settings: dict[str, Any]) -> None:
        self.settings = sotto_settings
        self.process_id = secrets.token_urlsafe(12)
        self.store: RoomStore = make_store(sotto_settings)
        self.multi_process = bool(sotto_settings.get("REDIS_URL"))
        self.rooms: dict[str, LocalRoom] = {}
        self.stats = RoomStats(self)
        self.layer: Any = get_channel_layer() if self.multi_process else None
        self.channel_name = ""
        self._channel_ready = asyncio.Event()
        self._outbox: list[tuple[str, dict[str, Any]]] = []
        self._outbox_ready = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._started = False

    async def start(self) -> None:
        """Start the background tasks (idempotent)."""
        if self._started:
            return
        self._started = True
        if self.multi_process:
            self._spawn(self._listen(), "listen")
            self._spawn(self._publish_outbox(), "publish")
            self._spawn(self._heartbeat(), "heartbeat")
        self._spawn(self.stats.run(), "stats")

    def _spawn(self, coro: Any, name: str) -> None:
        task = asyncio.get_running_loop().create_task(coro, name=f"sotto-hub-{name}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        """Cancel background tasks and close the store."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        await self.store.close()

    # --- membership -------------------------------------------------------------

    async def enter(self, room_id: str, member_id: str) -> LocalRoom:
        """Register a joining member as pending (once this process hears the bus)."""
        if self.multi_process:
            await self._wait_for_channel()
        room = self.rooms.get(room_id)
        if room is None:
            room = self.rooms[room_id] = LocalRoom(room_id)
        room.add_pending(member_id)
        return room

    async def exit(self, room_id: str, member_id: str) -> None:
        """Forget a local member, and the room once it has no local member left."""
        room = self.rooms.get(room_id)
        if room is None:
            return
        room.remove(member_id)
        if len(room) == 0:
            del self.rooms[room_id]

    async def admitted(self, room: LocalRoom, member: Member, members: State, seq: int) -> None:
        """Make a member live after its welcome was written."""
        room.start_at(seq)
        await room.admit(member, members)
        self.stats.touch(room.room_id)

    # --- fan-out ----------------------------------------------------------------

    async def publish_message(self, room_id: str, seq: int, text: str) -> None:
        """Deliver a stamped message here and send it once to the other processes."""
        room = self.rooms.get(room_id)
        if room is not None:
            await room.accept_message(seq, text)
            self._watch_gap(room)
        if self.multi_process:
            await self._send_to_processes(
                room_id, {"type": LAYER_MESSAGE, "seq": seq, "text": text}
            )

    async def publish_presence(self, room_id: str, joins: State, leaves: dict[str, Meta]) -> None:
        """Send a presence diff to every member of the room, here and elsewhere."""
        text = presence_frame(joins, leaves)
        room = self.rooms.get(room_id)
        if room is not None:
            await room.deliver_presence(text, joins, leaves)
        if self.multi_process:
            await self._send_to_processes(
                room_id,
                {
                    "type": LAYER_PRESENCE,
                    "joins": joins,
                    "leaves": leaves,
                    "text": text,
                },
            )
        self.stats.touch(room_id)

    async def route_direct(self, room_id: str, to: str, text: str) -> bool:
        """Deliver a direct frame to member ``to``; return False if it is not in the room."""
        room = self.rooms.get(room_id)
        if room is None:
            return False
        if await room.deliver_direct(to, text):
            return True
        if to in room.dropped:
            await self.store.hold_direct(room_id, to, text)
            return True
        if not self.multi_process or to not in room.presence:
            return False
        await self._send_to_processes(room_id, {"type": LAYER_DIRECT, "to": to, "text": text})
        return True

    async def _send_to_processes(self, room_id: str, item: dict[str, Any]) -> None:
        """Queue an item of a room for the other processes; the publisher sends it soon."""
        self._outbox.append((room_id, item))
        self._outbox_ready.set()

    async def _publish_outbox(self) -> None:
        """Send what queued up to the bus, one layer message per publish."""
        while True:
            await self._outbox_ready.wait()
            self._outbox_ready.clear()
            items, self._outbox = self._outbox, []
            message = {"type": LAYER_BATCH, "origin": self.process_id, "items": items}
            try:
                await self.layer.group_send(BUS_GROUP, message)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the layer's errors are not one type
                logger.warning(
                    "channel layer send of %d items failed (%s)", len(items), type(exc).__name__
                )

    async def _wait_for_channel(self, timeout: float = 2.0) -> None:
        """Wait briefly for this process's channel; raise StoreUnavailable without one."""
        if self.channel_name:
            return
        try:
            await asyncio.wait_for(self._channel_ready.wait(), timeout)
        except TimeoutError:
            raise StoreUnavailable("channel layer not connected") from None

    async def _open_channel(self) -> None:
        """Open this process's channel and put it on the bus, retrying until the layer answers."""
        channel_name = ""
        while not self.channel_name:
            try:
                channel_name = channel_name or await self.layer.new_channel()
                await self.layer.group_add(BUS_GROUP, channel_name)
                self.channel_name = channel_name
                self._channel_ready.set()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the layer's errors are not one type
                logger.warning("channel layer unavailable (%s); retrying", type(exc).__name__)
                await asyncio.sleep(1.0)

    async def _listen(self) -> None:
        """Deliver what other processes send to this process's channel."""
        await self._open_channel()
        while True:
            try:
                message = await self.layer.receive(self.channel_name)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("channel layer receive failed (%s); retrying", type(exc).__name__)
                await asyncio.sleep(0.5)
                continue
            if message.get("origin") == self.process_id:
                continue
            try:
                await self._handle_layer_message(message)
            except Exception:
                logger.exception("failed to handle a %s layer message", message.get("type"))

    async def _handle_layer_message(self, message: dict[str, Any]) -> None:
        if message.get("type") != LAYER_BATCH:
            return
        for room_id, item in message["items"]:
            room = self.rooms.get(room_id)
            if room is not None:
                await self._handle_layer_item(room, item)

    async def _handle_layer_item(self, room: LocalRoom, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == LAYER_MESSAGE:
            await room.accept_message(int(message["seq"]), message["text"])
            self._watch_gap(room)
        elif kind == LAYER_PRESENCE:
            await room.deliver_presence(message["text"], message["joins"], message["leaves"])
        elif kind == LAYER_DIRECT:
            delivered = await room.deliver_direct(message["to"], message["text"])
            if not delivered and message["to"] in room.dropped:
                await self.store.hold_direct(room.room_id, message["to"], message["text"])
        elif kind == LAYER_CONTROL:
            await self._apply_control(room, message["event"], message["member"], message["gen"])

    async def _apply_control(self, room: LocalRoom, event: str, member_id: str, gen: int) -> None:
        if event == DROPPED:
            room.dropped.add(member_id)
            return
        room.dropped.discard(member_id)
        member = room.members.get(member_id)
        if member is not None and (event == EVICTED or member.generation < gen):
            del room.members[member_id]
            await member.replaced()

    async def _publish_control(self, room_id: str, event: str, member_id: str, gen: int) -> None:
        room = self.rooms.get(room_id)
        if room is not None:
            await self._apply_control(room, event, member_id, gen)
        if self.multi_process:
            message = {"type": LAYER_CONTROL, "event": event}
            await self._send_to_processes(room_id, {**message, "member": member_id, "gen": gen})

    # --- drops and resumes (docs/protocol.md section 4.1) ---------------------------

    async def dropped(self, room_id: str, member_id: str, generation: int) -> None:
        """Hold a dropped member's place for the grace period, then end it."""
        await self.exit(room_id, member_id)
        await self._publish_control(room_id, DROPPED, member_id, generation)
        grace = float(self.settings["RESUME_GRACE"])
        asyncio.get_running_loop().call_later(
            grace, lambda: self._spawn(self._end_grace(room_id, member_id, generation), "grace")
        )

    async def _end_grace(self, room_id: str, member_id: str, generation: int) -> None:
        try:
            meta = await self.store.leave(room_id, member_id, generation)
        except StoreUnavailable:
            logger.warning("room %s: store unavailable at grace end; reaper will act", room_id)
            return
        if meta is not None:
            logger.info("room %s: member %s left after its grace period", room_id, member_id)
            await self.publish_presence(room_id, {}, {member_id: meta})

    async def take_over(
        self, room: LocalRoom, pending_id: str, member: Replaceable, generation: int
    ) -> None:
        """Move a resumed membership to ``member``, replacing any older connection."""
        room.rename_pending(pending_id, member.member_id)
        await self._publish_control(room.room_id, RESUMED, member.member_id, generation)

    async def evict(self, room_id: str, member_id: str, meta: Meta | None) -> None:
        """Announce a membership that a failed resume ended, closing any old connection."""
        await self._publish_control(room_id, EVICTED, member_id, 0)
        if meta is not None:
            await self.publish_presence(room_id, {}, {member_id: meta})

    # --- gaps ---------------------------------------------------------------------

    def _watch_gap(self, room: LocalRoom) -> None:
        if room.missing() is not None and room.gap_timer is None:
            room.gap_timer = asyncio.get_running_loop().call_later(
                GAP_WAIT_SECONDS, lambda: self._spawn(self._fill_gap(room), "gap")
            )

    async def _fill_gap(self, room: LocalRoom) -> None:
        """Refill a gap from the replay buffer, or skip it if the buffer lost it too."""
        room.gap_timer = None
        gap = room.missing()
        if gap is None:
            return
        first, last = gap
        try:
            frames = await self.store.replay(room.room_id, first - 1, last)
        except StoreUnavailable:
            frames = None
        if frames:
            for offset, text in enumerate(frames):
                await room.accept_message(first + offset, text)
        else:
            room.skip_to(last + 1)
            await room.drain()
        self._watch_gap(room)

    # --- liveness -------------------------------------------------------------------

    async def _heartbeat(self) -> None:
        """Say this process is alive, and reap the members of processes that are not.

        If the store has lost this process (Redis restarted without persistence, or
        this process was frozen past the TTL and reaped), put its live members back.
        """
        interval = float(self.settings["PRESENCE_HEARTBEAT"])
        while True:
            try:
                if not await self.store.heartbeat(self.process_id):
                    await self._restore_local_members()
                for reaped in await self.store.reap():
                    logger.info("room %s: reaped member of a silent process", reaped.room_id)
                    await self.publish_presence(reaped.room_id, {}, {reaped.member_id: reaped.meta})
            except StoreUnavailable as exc:
                logger.warning("presence heartbeat failed: room store unavailable (%s)", exc)
            await asyncio.sleep(interval)

    async def _restore_local_members(self) -> None:
        restored = 0
        for room in list(self.rooms.values()):
            floor = room.next_seq - 1 if room.next_seq is not None else 0
            for member_id, member in list(room.members.items()):
                meta = room.presence.get(member_id)
                if meta is None:
                    continue
                entry = RestoredMember(
                    member_id, meta, member.generation, token_hash(member.resume_token), floor
                )
                await self.store.restore(room.room_id, entry, self.process_id)
                restored += 1
        if restored:
            logger.warning("room store had lost this process; restored %d members", restored)


_hubs: dict[asyncio.AbstractEventLoop, Hub] = {}


async def get_hub() -> Hub:
    """Return this event loop's hub, creating and starting it on first use."""
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None:
        for old_loop in [old for old in _hubs if old.is_closed()]:
            del _hubs[old_loop]
        hub = _hubs[loop] = Hub(settings.SOTTO)
        await hub.start()
    return hub


async def reset_hub() -> None:
    """Stop and forget this loop's hub (tests use it to start from a clean slate)."""
    hub = _hubs.pop(asyncio.get_running_loop(), None)
    if hub is not None:
        await hub.stop()
