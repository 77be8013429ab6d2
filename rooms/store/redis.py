"""The Redis room store: rooms shared by several server processes.

Keys (room ids are already hashes; ``{room}`` is a cluster hash tag):
  sotto:{room}:m      hash  member id -> presence meta JSON
  sotto:{room}:seq    string, the room's last seq
  sotto:{room}:buf    sorted set scored by seq, members "<ms> <message frame>"
  sotto:{room}:x      hash  member id -> "<generation> <token hash> <key> <process id>"
  sotto:{room}:t      hash  resume token hash -> member id
  sotto:{room}:h:<id> list of direct frames held for a dropped member
  sotto:proc:<id>     set of "<room> <member>" owned by one server process
  sotto:procs         sorted set of process ids scored by last heartbeat (ms)
Changes that touch several keys run as one Lua script; the broadcasts stamped in one
event-loop turn, or while the previous stamp call was in flight, share one call. Empty
rooms expire after ``EMPTY_ROOM_TTL`` seconds; the members of a process whose heartbeat
stops are removed by whichever process reaps first.
"""

from __future__ import annotations

import json
import logging
from typing import Any, NamedTuple

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from presence.colors import PALETTE

from .base import (
    Admission,
    Meta,
    Reaped,
    RestoredMember,
    ResumeOutcome,
    Resumption,
    RoomStore,
    StoreUnavailable,
)
from .batching import Batcher

logger = logging.getLogger(__name__)

_NOW_MS = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

_REMOVE_MEMBER = """
-- Removes member `member` of room `room` with all its records; returns its meta or false.
local function remove_member(room, member, empty_ttl)
  local base = 'sotto:{' .. room .. '}'
  local meta = redis.call('HGET', base .. ':m', member)
  if not meta then return false end
  redis.call('HDEL', base .. ':m', member)
  local rec = redis.call('HGET', base .. ':x', member)
  if rec then
    local gen, tok, key, proc = string.match(rec, '^(%S+) (%S+) (%S+) (%S+)$')
    redis.call('HDEL', base .. ':t', tok)
    redis.call('SREM', 'sotto:proc:' .. proc, room .. ' ' .. member)
    redis.call('HDEL', base .. ':x', member)
  end
  redis.call('DEL', base .. ':h:' .. member)
  if redis.call('HLEN', base .. ':m') == 0 then
    redis.call('EXPIRE', base .. ':seq', empty_ttl)
    redis.call('EXPIRE', base .. ':buf', empty_ttl)
  end
  return meta
end
"""

_SYNC_ROOM = """
-- ARGV: room, member, key, joined_at, capacity, palette (comma separated), process, token hash.
local base = 'sotto:{' .. ARGV[1] .. '}'
if redis.call('HLEN', base .. ':m') >= tonumber(ARGV[5]) then return {0} end
local used = {}
for _, meta in ipairs(redis.call('HVALS', base .. ':m')) do
  used[cjson.decode(meta)['color']] = true
end
local color = nil
local first = nil
for c in string.gmatch(ARGV[6], '[^,]+') do
  if first == nil then first = c end
  if not used[c] then color = c; break end
end
if color == nil then color = first end
local meta = '{"color":"' .. color .. '","key":"' .. ARGV[3] .. '","joined_at":' .. ARGV[4] .. '}'
redis.call('HSET', base .. ':m', ARGV[2], meta)
redis.call('HSET', base .. ':x', ARGV[2], '1 ' .. ARGV[8] .. ' ' .. ARGV[3] .. ' ' .. ARGV[7])
redis.call('HSET', base .. ':t', ARGV[8], ARGV[2])
redis.call('PERSIST', base .. ':seq'); redis.call('PERSIST', base .. ':buf')
redis.call('SADD', 'sotto:proc:' .. ARGV[7], ARGV[1] .. ' ' .. ARGV[2])
local seq = redis.call('GET', base .. ':seq') or '0'
return {1, color, seq, redis.call('HGETALL', base .. ':m')}
"""

_LEAVE = (
    _REMOVE_MEMBER
    + """
-- ARGV: room, member, empty ttl, generation ('' for any).
if ARGV[4] ~= '' then
  local rec = redis.call('HGET', 'sotto:{' .. ARGV[1] .. '}:x', ARGV[2])
  if not rec or string.match(rec, '^(%S+)') ~= ARGV[4] then return false end
end
return remove_member(ARGV[1], ARGV[2], ARGV[3])
"""
)

_RESUME = (
    _NOW_MS
    + _REMOVE_MEMBER
    + """
-- ARGV: room, token hash, key, last seq, process, replay ms, empty ttl.
local base = 'sotto:{' .. ARGV[1] .. '}'
local member = redis.call('HGET', base .. ':t', ARGV[2])
if not member then return {'unknown'} end
local rec = redis.call('HGET', base .. ':x', member)
local gen, tok, key, proc = string.match(rec, '^(%S+) (%S+) (%S+) (%S+)$')
if key ~= ARGV[3] then return {'unknown'} end
local seq = tonumber(redis.call('GET', base .. ':seq') or '0')
local last = tonumber(ARGV[4])
local entries = {}
local covered = last <= seq
if covered and last < seq then
  entries = redis.call('ZRANGEBYSCORE', base .. ':buf', last + 1, seq)
  covered = #entries == seq - last
  if covered then
    local stamped = tonumber(string.match(entries[1], '^(%d+) '))
    covered = stamped >= now - tonumber(ARGV[6])
  end
end
if not covered then
  return {'stale', member, remove_member(ARGV[1], member, ARGV[7])}
end
gen = tonumber(gen) + 1
redis.call('HSET', base .. ':x', member, gen .. ' ' .. tok .. ' ' .. key .. ' ' .. ARGV[5])
redis.call('SREM', 'sotto:proc:' .. proc, ARGV[1] .. ' ' .. member)
redis.call('SADD', 'sotto:proc:' .. ARGV[5], ARGV[1] .. ' ' .. member)
local held = redis.call('LRANGE', base .. ':h:' .. member, 0, -1)
redis.call('DEL', base .. ':h:' .. member)
return {'resumed', member, gen, seq, redis.call('HGETALL', base .. ':m'), held, entries}
"""
)

_HOLD_DIRECT = """
-- ARGV: room, member, frame, max, ttl s.
local base = 'sotto:{' .. ARGV[1] .. '}'
if not redis.call('HEXISTS', base .. ':x', ARGV[2]) then return 0 end
local key = base .. ':h:' .. ARGV[2]
if redis.call('LLEN', key) >= tonumber(ARGV[4]) then return 0 end
redis.call('RPUSH', key, ARGV[3])
redis.call('EXPIRE', key, ARGV[5])
return 1
"""

_STAMP = (
    _NOW_MS
    + """
-- KEYS: seq and buf of each frame in turn. ARGV: buffer max, then prefix and suffix of
-- each frame. Returns the seqs in the same order.
local seqs = {}
local buffers = {}
for i = 1, #KEYS / 2 do
  local seq = redis.call('INCR', KEYS[2 * i - 1])
  redis.call('ZADD', KEYS[2 * i], seq, now .. ' ' .. ARGV[2 * i] .. seq .. ARGV[2 * i + 1])
  buffers[KEYS[2 * i]] = true
  seqs[i] = seq
end
local keep = -(tonumber(ARGV[1]) + 1)
for buf in pairs(buffers) do
  redis.call('ZREMRANGEBYRANK', buf, 0, keep)
end
return seqs
"""
)

_REAP = (
    _NOW_MS
    + _REMOVE_MEMBER
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
    local meta = remove_member(room, member, ARGV[2])
    if meta then
      table.insert(out, room); table.insert(out, member); table.insert(out, meta)
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
-- ARGV: process id. Returns 1 if Redis already knew the process, 0 if it had lost it.
return 1 - redis.call('ZADD', 'sotto:procs', now, ARGV[1])
"""
)

_RESTORE = (
    _NOW_MS
    + """
-- Puts back a live member after Redis lost it (a restart without persistence).
-- ARGV: room, member, meta, generation, token hash, key, process, seq floor.
local base = 'sotto:{' .. ARGV[1] .. '}'
redis.call('HSETNX', base .. ':m', ARGV[2], ARGV[3])
local rec = ARGV[4] .. ' ' .. ARGV[5] .. ' ' .. ARGV[6] .. ' ' .. ARGV[7]
redis.call('HSET', base .. ':x', ARGV[2], rec)
redis.call('HSET', base .. ':t', ARGV[5], ARGV[2])
redis.call('SADD', 'sotto:proc:' .. ARGV[7], ARGV[1] .. ' ' .. ARGV[2])
redis.call('PERSIST', base .. ':seq'); redis.call('PERSIST', base .. ':buf')
local seq = tonumber(redis.call('GET', base .. ':seq') or '0')
if seq < tonumber(ARGV[8]) then redis.call('SET', base .. ':seq', ARGV[8]) end
return 1
"""
)


class _Stamp(NamedTuple):
    room_id: str
    prefix: str
    suffix: str


def _members(flat: list[str]) -> dict[str, Meta]:
    return {flat[i]: json.loads(flat[i + 1]) for i in range(0, len(flat), 2)}


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
        self._held_max = int(settings["HELD_DIRECT_MAX"])
        self._held_ttl = int(float(settings["RESUME_GRACE"])) + 60
        self._sync_room = self._redis.register_script(_SYNC_ROOM)
        self._leave = self._redis.register_script(_LEAVE)
        self._resume = self._redis.register_script(_RESUME)
        self._hold_direct = self._redis.register_script(_HOLD_DIRECT)
        self._stamp = self._redis.register_script(_STAMP)
        self._stamps: Batcher[_Stamp, int] = Batcher(self._stamp_batch)
        self._reap = self._redis.register_script(_REAP)
        self._heartbeat = self._redis.register_script(_HEARTBEAT)
        self._restore = self._redis.register_script(_RESTORE)

    async def _run(self, script: Any, keys: list[str], args: list[Any]) -> Any:
        try:
            return await script(keys=keys, args=args)
        except RedisError as exc:
            raise StoreUnavailable(type(exc).__name__) from None

    async def sync_room(
        self,
        room_id: str,
        member_id: str,
        key: str,
        joined_at: int,
        process_id: str,
        token_hash: str,
    ) -> Admission:
        """Create the room or admit the member, enforcing capacity, in one script."""
        args = [room_id, member_id, key, joined_at, self._capacity, self._palette]
        result = await self._run(self._sync_room, [], [*args, process_id, token_hash])
        if int(result[0]) == 0:
            return Admission(admitted=False)
        return Admission(
            admitted=True, color=result[1], members=_members(result[3]), seq=int(result[2])
        )

    async def leave(
        self, room_id: str, member_id: str, generation: int | None = None
    ) -> Meta | None:
        """Remove a member unless a newer connection resumed it, in one script."""
        gen = "" if generation is None else str(generation)
        meta = await self._run(self._leave, [], [room_id, member_id, self._empty_ttl, gen])
        return json.loads(meta) if meta else None

    async def resume(
        self, room_id: str, token_hash: str, key: str, last_seq: int, process_id: str
    ) -> Resumption:
        """Resume by token if the buffer still covers the gap, in one script."""
        args = [room_id, token_hash, key, last_seq, process_id, self._replay_ms, self._empty_ttl]
        result = await self._run(self._resume, [], args)
        outcome = result[0]
        if outcome == ResumeOutcome.UNKNOWN:
            return Resumption(outcome=outcome)
        if outcome == ResumeOutcome.STALE:
            meta = json.loads(result[2]) if result[2] else None
            return Resumption(outcome=outcome, member_id=result[1], ended_meta=meta)
        member_id, members = result[1], _members(result[4])
        return Resumption(
            outcome=outcome,
            member_id=member_id,
            generation=int(result[2]),
            color=members[member_id]["color"],
            members=members,
            seq=int(result[3]),
            held_directs=list(result[5]),
            replay=[entry.split(" ", 1)[1] for entry in result[6]],
        )

    async def hold_direct(self, room_id: str, member_id: str, text: str) -> None:
        """Keep a direct frame for a dropped member, up to the limit."""
        args = [room_id, member_id, text, self._held_max, self._held_ttl]
        await self._run(self._hold_direct, [], args)

    async def stamp(self, room_id: str, prefix: str, suffix: str) -> int:
        """Take the next seq and buffer the frame; stamps close together share one script call."""
        return await self._stamps.submit(_Stamp(room_id, prefix, suffix))

    async def _stamp_batch(self, stamps: list[_Stamp]) -> list[int]:
        keys: list[str] = []
        args: list[Any] = [self._replay_max]
        for stamp in stamps:
            _, seq_key, buf_key = _room_keys(stamp.room_id)
            keys += (seq_key, buf_key)
            args += (stamp.prefix, stamp.suffix)
        return [int(seq) for seq in await self._run(self._stamp, keys, args)]

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

    async def heartbeat(self, process_id: str) -> bool:
        """Refresh this process's heartbeat; return False if Redis had lost it."""
        return bool(await self._run(self._heartbeat, [], [process_id]))

    async def restore(self, room_id: str, member: RestoredMember, process_id: str) -> None:
        """Put a live member back after Redis lost it, and keep the room seq from going back."""
        meta = json.dumps(member.meta, separators=(",", ":"))
        args = [room_id, member.member_id, meta, member.generation, member.token_hash]
        await self._run(
            self._restore, [], [*args, member.meta["key"], process_id, member.seq_floor]
        )

    async def reap(self) -> list[Reaped]:
        """Remove members of processes silent for longer than ``PRESENCE_TTL``."""
        flat = await self._run(self._reap, [], [self._presence_ttl_ms, self._empty_ttl])
        return [
            Reaped(room_id=flat[i], member_id=flat[i + 1], meta=json.loads(flat[i + 2]))
            for i in range(0, len(flat), 3)
        ]

    async def close(self) -> None:
        """Close the connection pool."""
        await self._redis.aclose()
