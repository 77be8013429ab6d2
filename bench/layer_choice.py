"""Measure channels-redis's two layers for the hub's cross-process traffic.

The hub sends one channel-layer message per broadcast to the room's group, in
which each server process has one channel. This script reproduces exactly that:
two layer instances (two "processes") on a real Redis, each with a process channel
in one group; one publishes N broadcasts of 400 bytes as fast as it can while the
other receives. It reports messages per second and messages lost, for
``RedisPubSubChannelLayer`` and ``RedisChannelLayer``.

    .venv/bin/python bench/layer_choice.py --redis redis://127.0.0.1:6379/0

Results go to bench/results/layer-choice.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path
from typing import Any

from channels_redis.core import RedisChannelLayer
from channels_redis.pubsub import RedisPubSubChannelLayer

LAYERS: dict[str, Any] = {
    "RedisPubSubChannelLayer": RedisPubSubChannelLayer,
    "RedisChannelLayer": RedisChannelLayer,
}


async def measure(layer_class: Any, url: str, count: int, size: int) -> dict[str, Any]:
    """Publish ``count`` group messages from one layer and receive them on another."""
    hosts = [{"address": url, "max_connections": 1000}]
    sender, receiver = layer_class(hosts=hosts), layer_class(hosts=hosts)
    group = f"room.bench{int(time.time() * 1000)}"
    sender_channel = await sender.new_channel()
    receiver_channel = await receiver.new_channel()
    await sender.group_add(group, sender_channel)
    await receiver.group_add(group, receiver_channel)
    await asyncio.sleep(0.2)
    body = "x" * size
    received: set[int] = set()

    async def receive_all() -> None:
        while len(received) < count:
            message = await receiver.receive(receiver_channel)
            received.add(message["seq"])

    receiving = asyncio.create_task(receive_all())
    started = time.perf_counter()
    for seq in range(count):
        await sender.group_send(group, {"type": "sotto.message", "seq": seq, "text": body})
    try:
        await asyncio.wait_for(receiving, 10)
    except TimeoutError:
        pass
    elapsed = time.perf_counter() - started
    for layer, channel in ((sender, sender_channel), (receiver, receiver_channel)):
        await layer.group_discard(group, channel)
        await layer.flush() if hasattr(layer, "flush") else None
    return {
        "sent": count,
        "received": len(received),
        "lost": count - len(received),
        "messages_per_s": round(len(received) / elapsed),
    }


async def main() -> None:
    """Run both layers and write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--count", type=int, default=20000)
    parser.add_argument("--size", type=int, default=400)
    parser.add_argument("--out", default="bench/results/layer-choice.json")
    args = parser.parse_args()
    results = {}
    for name, layer_class in LAYERS.items():
        results[name] = await measure(layer_class, args.redis, args.count, args.size)
        print(name, results[name])
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
