"""The Redis room store: rooms shared by several server processes.

Keys (room ids are already hashes; ``{room}`` is a cluster hash tag):
  sotto:{room}:m      hash  member id -> presence meta JSON
  sotto:{room}:seq    string, the room's last seq
  sotto:{room}:buf    sorted set scored by seq, members "<ms> <message frame>"
  sotto:proc:<id>     set of "<room> <member>" owned by one server process
  sotto:procs         sorted set of process ids scored by last heartbeat (ms)
Changes that touch several keys run as one Lua script. Empty rooms expire after
``EMPTY_ROOM_TTL`` seconds; the members of a process whose heartbeat stops are
removed by whichever process reaps first.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from presence.colors import PALETTE

from .base import Admission, Meta, Reaped, RoomStore, StoreUnavailable

logger = logging.getLogger(__name__)

_NOW_MS = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

_SYNC_ROOM = """
-- KEYS: members, seq, buf, proc set. ARGV: member, key, joined_at, capacity,
-- palette (comma separated), room id.
local n = redis.call('HLEN', KEYS[1])
if n >= tonumber(ARGV[4]) then return {0} end
local used = {}
for _, meta in ipairs(redis.call('HVALS', KEYS[1])) do
  used[cjson.decode(meta)['color']] = true
end
local color = nil
local first = nil
for c in string.gmatch(ARGV[5], '[^,]+') do
  if first == nil then first = c end
  if not used[c] then color = c; break end
end
if color == nil then color = first end
local meta = '{"color":"' .. color .. '","key":"' .. ARGV[2] .. '","joined_at":' .. ARGV[3] .. '}'
redis.call('HSET', KEYS[1], ARGV[1], meta)
redis.call('PERSIST', KEYS[1]); redis.call('PERSIST', KEYS[2]); redis.call('PERSIST', KEYS[3])
redis.call('SADD', KEYS[4], ARGV[6] .. ' ' .. ARGV[1])
local seq = redis.call('GET', KEYS[2]) or '0'
return {1, color, seq, redis.call('HGETALL', KEYS[1])}
"""

_LEAVE = """
-- KEYS: members, seq, buf, proc set. ARGV: member, room id, empty ttl.
local meta = redis.call('HGET', KEYS[1], ARGV[1])
if not meta then return false end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('SREM', KEYS[4], ARGV[2] .. ' ' .. ARGV[1])
if redis.call('HLEN', KEYS[1]) == 0 then
  redis.call('EXPIRE', KEYS[2], ARGV[3]); redis.call('EXPIRE', KEYS[3], ARGV[3])
end
return meta
"""

_STAMP = (
    _NOW_MS
    + """
-- KEYS: seq, buf. ARGV: frame prefix, frame suffix, buffer max.
local seq = redis.call('INCR', KEYS[1])
redis.call('ZADD', KEYS[2], seq, now .. ' ' .. ARGV[1] .. seq .. ARGV[2])
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -(tonumber(ARGV[3]) + 1))
return seq
"""
)

_REAP = (
    _NOW_MS
    + """
-- ARGV: ttl ms, empty ttl s. Returns a flat list room, member, meta, ...
local cutoff = now - tonumber(ARGV[1])
local dead = redis.call('ZRANGEBYSCORE', 'sotto:procs', '-inf', cutoff, 'LIMIT', 0, 16)
local out = {}
for _, proc in ipairs(dead) do
  redis.call('ZREM', 'sotto:procs', proc)
  local set = 'sotto:proc:' .. proc
  for _, entry in ipairs(redis.call('SMEMBERS', set)) do
    local room, member = string.match(entry, '^(%S+) (%S+)$')
    local mkey = 'sotto:{' .. room .. '}:m'
    local meta = redis.call('HGET', mkey, member)
    if meta then
      redis.call('HDEL', mkey, member)
      table.insert(out, room); table.insert(out, member); table.insert(out, meta)
      if redis.call('HLEN', mkey) == 0 then
        redis.call('EXPIRE', 'sotto:{' .. room .. '}:seq', ARGV[2])
        redis.call('EXPIRE', 'sotto:{' .. room .. '}:buf', ARGV[2])
      end
    end
  end
  redis.call('DEL', set)
end
return out
"""
)

_HEARTBEAT = (
    _NOW_MS
    + """
-- KEYS: procs, proc set. ARGV: process id, ttl s.
redis.call('ZADD', KEYS[1], now, ARGV[1])
return 1
"""
)


def _room_keys(room_id: str) -> tuple[str, str, str]:
    base = f"sotto:{{{room_id}}}"
    return f"{base}:m", f"{base}:seq", f"{base}:buf"


class RedisRoomStore(RoomStore):
    """Rooms in Redis, changed atomically by Lua scripts."""

    def __init__(self, settings: dict[str, Any]) -> None:
        super().__init__(settings)
        self._redis = aioredis.Redis.from_url(
            str(settings["REDIS_URL"]),
            max_connections=int(settings.get("REDIS_MAX_CONNECTIONS", 1000)),
            decode_responses=True,
            health_check_interval=10,
            socket_connect_timeout=2,
            socket_timeout=5,
            retry_on_timeout=True,
        )
        self._capacity = int(settings["ROOM_CAPACITY"])
        self._replay_max = int(settings["REPLAY_MAX"])
        self._replay_ms = int(float(settings["REPLAY_SECONDS"]) * 1000)
        self._empty_ttl = int(settings["EMPTY_ROOM_TTL"])
        self._presence_ttl_ms = int(float(settings["PRESENCE_TTL"]) * 1000)
        self._palette = ",".join(PALETTE)
        self._sync_room = self._redis.register_script(_SYNC_ROOM)
        self._leave = self._redis.register_script(_LEAVE)
        self._stamp = self._redis.register_script(_STAMP)
        self._reap = self._redis.register_script(_REAP)
        self._heartbeat = self._redis.register_script(_HEARTBEAT)

    async def sync_room(
        self, room_id: str, member_id: str, key: str, joined_at: int, process_id: str
    ) -> Admission:
        """Create the room or admit the member, enforcing capacity, in one script."""
        keys = [*_room_keys(room_id), f"sotto:proc:{process_id}"]
        args = [member_id, key, joined_at, self._capacity, self._palette, room_id]
        try:
            result = await self._sync_room(keys=keys, args=args)
        except RedisError as exc:
            raise StoreUnavailable(type(exc).__name__) from None
        if int(result[0]) == 0:
            return Admission(admitted=False)
        flat = result[3]
        members = {flat[i]: json.loads(flat[i + 1]) for i in range(0, len(flat), 2)}
        return Admission(admitted=True, color=result[1], members=members, seq=int(result[2]))

    async def leave(self, room_id: str, member_id: str, process_id: str) -> Meta | None:
        """Remove a member; an emptied room's counter and buffer start to expire."""
        keys = [*_room_keys(room_id), f"sotto:proc:{process_id}"]
        try:
            meta = await self._leave(keys=keys, args=[member_id, room_id, self._empty_ttl])
        except RedisError as exc:
            raise StoreUnavailable(type(exc).__name__) from None
        return json.loads(meta) if meta else None

    async def stamp(self, room_id: str, prefix: str, suffix: str) -> int:
        """Take the next seq and buffer the frame, in one script."""
        _, seq_key, buf_key = _room_keys(room_id)
        try:
            seq = await self._stamp(
                keys=[seq_key, buf_key], args=[prefix, suffix, self._replay_max]
            )
        except RedisError as exc:
            raise StoreUnavailable(type(exc).__name__) from None
        return int(seq)

    async def replay(self, room_id: str, after_seq: int, upto_seq: int) -> list[str] | None:
        """Return buffered frames with seq in (after_seq, upto_seq] if all are still held."""
        if upto_seq <= after_seq:
            return []
        _, _, buf_key = _room_keys(room_id)
        try:
            entries = await self._redis.zrangebyscore(buf_key, after_seq + 1, upto_seq)
            now_s, now_us = await self._redis.time()
        except RedisError as exc:
            raise StoreUnavailable(type(exc).__name__) from None
        cutoff = int(now_s) * 1000 + int(now_us) // 1000 - self._replay_ms
        frames = []
        for entry in entries:
            stamped_ms, frame = entry.split(" ", 1)
            if int(stamped_ms) < cutoff:
                return None
            frames.append(frame)
        return frames if len(frames) == upto_seq - after_seq else None

    async def members(self, room_id: str) -> dict[str, Meta]:
        """Return the room's presence state."""
        members_key, _, _ = _room_keys(room_id)
        try:
            raw = await self._redis.hgetall(members_key)
        except RedisError as exc:
            raise StoreUnavailable(type(exc).__name__) from None
        return {member_id: json.loads(meta) for member_id, meta in raw.items()}

    async def room_seq(self, room_id: str) -> int:
        """Return the room's last seq."""
        _, seq_key, _ = _room_keys(room_id)
        try:
            value = await self._redis.get(seq_key)
        except RedisError as exc:
            raise StoreUnavailable(type(exc).__name__) from None
        return int(value) if value else 0

    async def heartbeat(self, process_id: str) -> None:
        """Refresh this process's heartbeat."""
        try:
            await self._heartbeat(
                keys=["sotto:procs", f"sotto:proc:{process_id}"], args=[process_id]
            )
        except RedisError as exc:
            raise StoreUnavailable(type(exc).__name__) from None

    async def reap(self) -> list[Reaped]:
        """Remove members of processes silent for longer than ``PRESENCE_TTL``."""
        try:
            flat = await self._reap(keys=[], args=[self._presence_ttl_ms, self._empty_ttl])
        except RedisError as exc:
            raise StoreUnavailable(type(exc).__name__) from None
        return [
            Reaped(room_id=flat[i], member_id=flat[i + 1], meta=json.loads(flat[i + 2]))
            for i in range(0, len(flat), 3)
        ]

    async def ping(self) -> bool:
        """Say whether Redis answers."""
        try:
            return bool(await self._redis.ping())
        except RedisError:
            return False

    async def close(self) -> None:
        """Close the connection pool."""
        await self._redis.aclose()
