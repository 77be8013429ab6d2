"""A programmable malicious relay: a man-in-the-middle proxy in front of the real daphne.

Why a proxy and not a fake server: the threat is an operator who controls the relay,
so the test relay must be able to do anything to frames: drop, delay, reorder,
duplicate, replay, rewrite and invent them. A proxy gets all of that (every frame
passes through its rules, and it can send its own to either side) while the routing
it tampers with stays the real thing: seq stamping, presence, resume and held directs
come from the real server. A fake server would be a second, simplified copy of
section 4, and an attack that fails against a simplified copy proves little about
the honest parts it leaves out. The proxy also forwards plain HTTP GETs, so a
browser loads the real page through it, and the page's WebSocket (built from the
page's own origin) passes through the same rules.

Rules: every frame the server sends a client ("down") or a client sends the server
("up") runs through that direction's list of rules, in order. A rule is
``rule(link, frame) -> list[frame] | None``: ``None`` passes the frame on unchanged,
``[]`` drops it, several frames duplicate or expand it. The factories below build
the usual attacks; tests can write their own. Frames can also be injected at any
time (``Link.deliver`` to the client, ``Link.forward`` to the server), caught by a
``Hold`` and released in another order, or slowed down (``Link.latency``).

Every frame is recorded before the rules see it (``from_server``, ``from_client``)
and after (``to_client``, ``to_server``), so a relay without rules is also the wire
tap of the secret scan. ``RelayThread`` runs a relay on its own event loop for
synchronous tests (Playwright, subprocesses).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Coroutine, Iterable
from typing import Any, TypeVar

from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.http11 import Request, Response

from sotto.encoding import b64decode, b64encode, dumps

Frame = dict[str, Any]
Rule = Callable[["Link", Frame], "list[Frame] | None"]
Predicate = Callable[["Link", Frame], bool]
T = TypeVar("T")

# Headers that belong to one hop, never forwarded by the HTTP pass-through.
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "upgrade", "te", "trailer", "content-length"}
)


def _sendable(code: int) -> bool:
    """True for a close code an endpoint may put in a close frame (not 1005/1006/1015)."""
    return code in (1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013) or (
        3000 <= code < 5000
    )


class Link:
    """One client's connection through the relay: both sockets, the taps, the injectors."""

    def __init__(
        self,
        relay: HostileRelay,
        index: int,
        path: str,
        client: ServerConnection,
        server: ClientConnection,
    ) -> None:
        """Wrap an accepted client socket and its upstream socket to the real server."""
        self.relay = relay
        self.index = index
        self.path = path
        self.client = client
        self.server = server
        self.member_id: str | None = None
        self.last_seq = 0
        self.latency = 0.0
        self.from_server: list[Frame] = []
        self.to_client: list[Frame] = []
        self.from_client: list[Frame] = []
        self.to_server: list[Frame] = []
        self.raw_down: list[str] = []
        self.raw_up: list[str] = []

    @property
    def room_id(self) -> str:
        """The room id in the WebSocket path."""
        return self.path.rstrip("/").rsplit("/", 1)[-1]

    @property
    def welcome(self) -> Frame:
        """The first welcome the real server sent on this link."""
        return next(f for f in self.from_server if f.get("type") == "welcome")

    async def deliver(self, frame: Frame) -> None:
        """Give the client a frame now, as if the server had sent it."""
        self.to_client.append(frame)
        if frame.get("type") == "message" and isinstance(frame.get("seq"), int):
            self.last_seq = max(self.last_seq, frame["seq"])
        with contextlib.suppress(ConnectionClosed):
            await self.client.send(json.dumps(frame, ensure_ascii=False))

    async def forward(self, frame: Frame) -> None:
        """Give the server a frame now, as if the client had sent it."""
        self.to_server.append(frame)
        with contextlib.suppress(ConnectionClosed):
            await self.server.send(json.dumps(frame, ensure_ascii=False))

    def cut(self) -> None:
        """Drop both TCP connections without a close frame (a network blip, not a leave)."""
        for ws in (self.client, self.server):
            ws.transport.abort()

    async def _pump_down(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for raw in self.server:
                text = raw if isinstance(raw, str) else raw.decode("utf-8", "replace")
                self.raw_down.append(text)
                frame = json.loads(text)
                self.from_server.append(frame)
                if frame.get("type") == "welcome" and isinstance(frame.get("you"), str):
                    self.member_id = frame["you"]
                    if isinstance(frame.get("seq"), int):
                        self.last_seq = max(self.last_seq, frame["seq"])
                for out in self.relay.apply(self.relay.down_rules, self, frame):
                    if self.latency:
                        await asyncio.sleep(self.latency)
                    await self.deliver(out)

    async def _pump_up(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for raw in self.client:
                text = raw if isinstance(raw, str) else raw.decode("utf-8", "replace")
                self.raw_up.append(text)
                try:
                    frame = json.loads(text)
                except ValueError:
                    frame = None
                if not isinstance(frame, dict):
                    # Not ours to judge: pass junk through untouched, as a relay would.
                    with contextlib.suppress(ConnectionClosed):
                        await self.server.send(text)
                    continue
                self.from_client.append(frame)
                for out in self.relay.apply(self.relay.up_rules, self, frame):
                    await self.forward(out)


class HostileRelay:
    """The malicious relay: a proxy to an upstream Sotto server with programmable rules."""

    def __init__(self, upstream_http: str, *more: str) -> None:
        """Prepare a relay in front of ``upstream_http`` (e.g. ``http://127.0.0.1:8000``).

        With several upstreams (workers of one Redis), WebSocket connections go to
        them in turn; plain HTTP always goes to the first.
        """
        self.upstream_http = upstream_http.rstrip("/")
        self.upstreams_ws = [
            "ws" + u.rstrip("/").removeprefix("http") for u in (upstream_http, *more)
        ]
        self.down_rules: list[Rule] = []
        self.up_rules: list[Rule] = []
        self.links: list[Link] = []
        self.port = 0
        self._server: Server | None = None

    @property
    def http_url(self) -> str:
        """The base URL clients use instead of the real server's."""
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> HostileRelay:
        """Listen on a free loopback port."""
        self._server = await serve(
            self._handle,
            "127.0.0.1",
            0,
            process_request=self._process_request,
            compression=None,
            max_size=None,
            server_header=None,
        )
        self.port = next(iter(self._server.sockets)).getsockname()[1]
        return self

    async def stop(self) -> None:
        """Stop listening and drop every link."""
        for link in self.links:
            link.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def apply(self, rules: Iterable[Rule], link: Link, frame: Frame) -> list[Frame]:
        """Run one frame through a list of rules; return what comes out, in order."""
        frames = [frame]
        for rule in rules:
            out: list[Frame] = []
            for item in frames:
                result = rule(link, item)
                out.extend([item] if result is None else result)
            frames = out
        return frames

    def link_of(self, member_id: str) -> Link:
        """The newest link of a member."""
        return next(link for link in reversed(self.links) if link.member_id == member_id)

    async def wait_for(self, check: Callable[[], T | None], timeout: float = 5.0) -> T:
        """Wait until ``check()`` returns something other than None (polled on each frame)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            value = check()
            if value is not None:
                return value
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError("the relay never saw what the test waited for")
            await asyncio.sleep(min(0.02, remaining))

    async def _process_request(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return None
        return await asyncio.to_thread(self._fetch, request)

    def _fetch(self, request: Request) -> Response:
        """Forward one plain HTTP GET upstream (the page and its static files)."""
        upstream = urllib.request.Request(self.upstream_http + request.path, method="GET")
        for name, value in request.headers.raw_items():
            if name.lower() not in HOP_BY_HOP:
                upstream.add_header(name, value)
        opener = urllib.request.build_opener(_NoRedirect())
        try:
            with opener.open(upstream, timeout=30) as reply:
                status, reason, headers, body = (
                    reply.status,
                    reply.reason,
                    reply.headers,
                    reply.read(),
                )
        except urllib.error.HTTPError as error:
            status, reason, headers, body = error.code, error.reason, error.headers, error.read()
        out = Headers()
        for name, value in headers.items():
            if name.lower() not in HOP_BY_HOP:
                out[name] = value
        out["Content-Length"] = str(len(body))
        out["Connection"] = "close"
        return Response(status, str(reason), out, body)

    async def _handle(self, client: ServerConnection) -> None:
        path = client.request.path if client.request is not None else "/"
        try:
            upstream = self.upstreams_ws[len(self.links) % len(self.upstreams_ws)]
            server = await connect(
                upstream + path,
                origin=None,
                compression=None,
                max_size=None,
                open_timeout=10,
                user_agent_header="sotto-test-relay",
            )
        except (OSError, InvalidHandshake, TimeoutError):
            await client.close(1011, "upstream refused")
            return
        link = Link(self, len(self.links), path, client, server)
        self.links.append(link)
        down = asyncio.create_task(link._pump_down())
        up = asyncio.create_task(link._pump_up())
        done, pending = await asyncio.wait({down, up}, return_when=asyncio.FIRST_COMPLETED)
        # Mirror how one side ended on the other: a close frame stays a close frame
        # (a leave), an abrupt end stays abrupt (a drop).
        ended, other = (server, client) if down in done else (client, server)
        rcvd = ended.protocol.close_rcvd
        if rcvd is not None and _sendable(rcvd.code):
            with contextlib.suppress(ConnectionClosed, OSError):
                await other.close(rcvd.code, rcvd.reason)
        elif rcvd is not None:
            with contextlib.suppress(ConnectionClosed, OSError):
                await other.close()
        else:
            other.transport.abort()
        for task in pending:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Hand redirects back to the browser instead of following them in the relay."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        """Never follow."""
        return None


class RelayThread:
    """A HostileRelay on its own event loop in a background thread, for synchronous tests."""

    def __init__(self, upstream_http: str, *more: str) -> None:
        """Prepare (nothing runs until the context is entered)."""
        self.relay = HostileRelay(upstream_http, *more)
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> RelayThread:
        """Start the loop and the relay."""
        self._thread.start()
        self.run(self.relay.start())
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop the relay and the loop."""
        self.run(self.relay.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        """Run a coroutine on the relay's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    @property
    def http_url(self) -> str:
        """The relay's base URL."""
        return self.relay.http_url


# ----- predicates ---------------------------------------------------------------------------


def body_kind(frame: Frame) -> str | None:
    """The `k` of a direct body (pake1, sealed, ...), or None."""
    if frame.get("type") != "direct" or not isinstance(frame.get("body"), str):
        return None
    try:
        body = json.loads(frame["body"])
    except ValueError:
        return None
    kind = body.get("k") if isinstance(body, dict) else None
    return kind if isinstance(kind, str) else None


def on_link(member_id: Callable[[], str | None]) -> Predicate:
    """Frames on the link of the member whose id ``member_id()`` names (looked up lazily)."""
    return lambda link, frame: link.member_id is not None and link.member_id == member_id()


# ----- attack factories ---------------------------------------------------------------------


def drop(when: Predicate) -> Rule:
    """Lose the frames ``when`` selects."""
    return lambda link, frame: [] if when(link, frame) else None


def duplicate(when: Predicate, times: int = 2) -> Rule:
    """Deliver the frames ``when`` selects ``times`` times."""
    return lambda link, frame: [frame] * times if when(link, frame) else None


def rewrite(when: Predicate, change: Callable[[Frame], Frame]) -> Rule:
    """Replace the frames ``when`` selects by ``change(frame)``."""
    return lambda link, frame: [change(dict(frame))] if when(link, frame) else None


def forge_from(when: Predicate, sender: Callable[[], str]) -> Rule:
    """Restamp `from` on the frames ``when`` selects, to ``sender()``."""
    return rewrite(when, lambda frame: {**frame, "from": sender()})


def substitute_key(when: Predicate, member_id: Callable[[], str | None], key: bytes) -> Rule:
    """Swap a member's public key for ``key`` in welcome and presence frames ``when`` selects."""

    def change(frame: Frame) -> Frame:
        target = member_id()
        for table in ("members", "joins"):
            metas = frame.get(table)
            if isinstance(metas, dict) and target in metas:
                frame[table] = {**metas, target: {**metas[target], "key": b64encode(key)}}
        return frame

    def selected(link: Link, frame: Frame) -> bool:
        return frame.get("type") in ("welcome", "presence") and when(link, frame)

    return rewrite(selected, change)


def flip_byte(field: str, offset: int = -1) -> Callable[[str], str]:
    """A body mutation: flip one bit of a byte of a b64 field (default: the last byte)."""

    def mutate(body: str) -> str:
        obj = json.loads(body)
        raw = bytearray(b64decode(obj[field]))
        raw[offset] ^= 0x01
        obj[field] = b64encode(bytes(raw))
        return dumps(obj)

    return mutate


def truncate_field(field: str, nbytes: int = 1) -> Callable[[str], str]:
    """A body mutation: cut the last ``nbytes`` bytes off a b64 field."""

    def mutate(body: str) -> str:
        obj = json.loads(body)
        obj[field] = b64encode(b64decode(obj[field])[:-nbytes])
        return dumps(obj)

    return mutate


def truncate_text(nchars: int = 7) -> Callable[[str], str]:
    """A body mutation: cut the body string itself (no longer JSON)."""
    return lambda body: body[:-nchars]


def bump_field(field: str) -> Callable[[str], str]:
    """A body mutation: add one to an integer field (the epoch or index of a broadcast)."""

    def mutate(body: str) -> str:
        obj = json.loads(body)
        obj[field] += 1
        return dumps(obj)

    return mutate


def tamper_body(when: Predicate, mutate: Callable[[str], str]) -> Rule:
    """Apply a body mutation to the frames ``when`` selects."""
    return rewrite(when, lambda frame: {**frame, "body": mutate(frame["body"])})


class Hold:
    """A rule that catches the frames ``when`` selects, to be released later in any order."""

    def __init__(self, when: Predicate) -> None:
        """Catch what ``when`` selects."""
        self.when = when
        self.caught: list[tuple[Link, Frame]] = []

    def __call__(self, link: Link, frame: Frame) -> list[Frame] | None:
        """The rule itself."""
        if self.when(link, frame):
            self.caught.append((link, frame))
            return []
        return None

    async def release(self, order: Callable[[list[int]], list[int]] = lambda ix: ix) -> None:
        """Deliver what was caught, in ``order(indices)``, and stop catching."""
        self.when = lambda link, frame: False
        caught, self.caught = self.caught, []
        for index in order(list(range(len(caught)))):
            link, frame = caught[index]
            await link.deliver(frame)


class SplitView:
    """Show two groups of members two different rooms: each side never sees the other.

    Welcome and presence frames lose the other group's members; directs and
    messages across the split are dropped. With ``renumber`` every link gets its
    own gap-free seq numbering, so the dropped messages leave no gap either.
    """

    def __init__(self, group_of: Callable[[str], int | None], renumber: bool) -> None:
        """``group_of(member_id)`` names a member's side (None: sees everyone)."""
        self.group_of = group_of
        self.renumber = renumber
        self._next: dict[int, int] = {}

    def _hidden(self, viewer: str | None, other: object) -> bool:
        if viewer is None or not isinstance(other, str):
            return False
        mine, theirs = self.group_of(viewer), self.group_of(other)
        return mine is not None and theirs is not None and mine != theirs

    def down(self, link: Link, frame: Frame) -> list[Frame] | None:
        """The rule for frames to clients."""
        kind, viewer = frame.get("type"), link.member_id
        if kind == "welcome":
            members = {k: v for k, v in frame["members"].items() if not self._hidden(viewer, k)}
            self._next[link.index] = frame["seq"]
            return [{**frame, "members": members}]
        if kind == "presence":
            joins = {k: v for k, v in frame["joins"].items() if not self._hidden(viewer, k)}
            leaves = {k: v for k, v in frame["leaves"].items() if not self._hidden(viewer, k)}
            return [{**frame, "joins": joins, "leaves": leaves}] if joins or leaves else []
        if kind in ("direct", "message") and self._hidden(viewer, frame.get("from")):
            return []
        if kind == "message" and self.renumber:
            self._next[link.index] = self._next.get(link.index, link.last_seq) + 1
            return [{**frame, "seq": self._next[link.index]}]
        return None

    def up(self, link: Link, frame: Frame) -> list[Frame] | None:
        """The rule for frames from clients: directs across the split are lost."""
        if frame.get("type") == "direct" and self._hidden(link.member_id, frame.get("to")):
            return []
        return None
