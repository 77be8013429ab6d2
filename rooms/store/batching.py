"""Gather requests made close together into one call to a shared store.

A ``Batcher`` wraps a function that handles a list of requests in one round trip
(one Redis script call, say). Requests submitted in the same event-loop turn go out
together; while a call is in flight the next requests wait and leave together when it
returns. Under load a call carries many requests, so the round trip's fixed cost (the
client library's command path, two system calls, the server's dispatch) is paid once
per batch instead of once per request; alone, a request pays one loop turn extra.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Request = TypeVar("Request")
Result = TypeVar("Result")


class Batcher(Generic[Request, Result]):
    """Run submitted requests in batches of at most ``limit``, one batch in flight at a time.

    ``run`` gets the requests in submission order and returns one result per request, in
    the same order. If it raises, every request of that batch gets an exception of the
    same type and arguments.
    """

    def __init__(
        self, run: Callable[[list[Request]], Awaitable[Sequence[Result]]], limit: int = 256
    ) -> None:
        self._run = run
        self._limit = limit
        self._pending: list[tuple[Request, asyncio.Future[Result]]] = []
        self._worker: asyncio.Task[None] | None = None

    async def submit(self, request: Request) -> Result:
        """Queue ``request`` for the next batch and return its result."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Result] = loop.create_future()
        self._pending.append((request, future))
        if self._worker is None:
            self._worker = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        batch: list[tuple[Request, asyncio.Future[Result]]] = []
        try:
            while self._pending:
                batch = self._pending[: self._limit]
                del self._pending[: self._limit]
                try:
                    results = await self._run([request for request, _ in batch])
                    if len(results) != len(batch):
                        raise RuntimeError(f"{len(results)} results for {len(batch)} requests")
                except Exception as exc:
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(type(exc)(*exc.args))
                    continue
                for (_, future), result in zip(batch, results, strict=True):
                    if not future.done():
                        future.set_result(result)
        except asyncio.CancelledError:
            for _, future in batch + self._pending:
                future.cancel()
            self._pending.clear()
            raise
        finally:
            self._worker = None
