"""The ceiling: a bare `websockets` relay of Sotto join/broadcast frames; no Django, no limits."""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import re
import time
from typing import Any

from websockets.asyncio.server import ServerConnection, broadcast, serve

ROOM_PATH = re.compile(r"/ws/rooms/([A-Za-z0-9_-]{22})/")
Members = dict[str, tuple[ServerConnection, dict[str, Any]]]
rooms: dict[str, Members] = {}
seqs: dict[str, int] = {}


def send_all(members: Members, frame: dict[str, Any]) -> None:
    """Encode a frame once and write it to every member without waiting."""
    broadcast([conn for conn, _ in members.values()], json.dumps(frame))


async def handler(ws: ServerConnection) -> None:
    """Serve one member: join -> welcome, broadcast -> message to the room, ping -> pong."""
    match = ROOM_PATH.fullmatch(ws.request.path if ws.request else "")
    if match is None:
        return await ws.close(1008)
    room_id, me, members = match.group(1), "", Members()
    try:
        async for text in ws:
            frame = json.loads(text)
            kind = frame.get("type")
            if kind == "broadcast" and me:
                seqs[room_id] = seq = seqs.get(room_id, 0) + 1
                out = {"type": "message", "from": me, "seq": seq, "body": frame["body"]}
                send_all(members, out)
            elif kind == "join" and not me:
                me = base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode()
                members = rooms.setdefault(room_id, {})
                meta = {"color": f"#{os.urandom(3).hex()}", "key": frame["key"]}
                meta["joined_at"] = int(time.time() * 1000)
                send_all(members, {"type": "presence", "joins": {me: meta}, "leaves": {}})
                members[me] = (ws, meta)
                listing = {mid: m for mid, (_, m) in members.items()}
                welcome = {"type": "welcome", "v": 1, "you": me, "color": meta["color"]}
                welcome.update(members=listing, seq=seqs.get(room_id, 0), resume=me, resumed=False)
                await ws.send(json.dumps(welcome))
            elif kind == "direct" and me and frame.get("to") in members:
                out = {"type": "direct", "from": me, "body": frame["body"]}
                await members[frame["to"]][0].send(json.dumps(out))
            elif kind == "ping":
                await ws.send('{"type":"pong"}')
    finally:
        if me:
            _, meta = members.pop(me)
            send_all(members, {"type": "presence", "joins": {}, "leaves": {me: meta}})
            if not members:
                rooms.pop(room_id, None)
                seqs.pop(room_id, None)


async def main() -> None:
    """Listen on --host/--port until killed."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    async with serve(handler, args.host, args.port, compression=None, max_size=None) as server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
