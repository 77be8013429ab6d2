"""The `sotto` command: chat, send and receive in a room; one-line errors, exit codes by cause."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import sys
import warnings
from collections.abc import Sequence
from typing import Any

from websockets.exceptions import WebSocketException

from .chat import Chat
from .chatview import safe
from .client import Client, Closed, describe_connect_error
from .constants import MAX_TEXT_BYTES, REASON_WRONG_PASSWORD
from .errors import RefusedByServer, SottoError, TimedOut, UsageError, WrongPasswordError
from .events import Event, MessageReceived, MessageSent, PeerFailed, PeerVerified, ServerError
from .peer import Peer
from .session import RoomSession

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_WRONG_PASSWORD = 3
EXIT_TIMEOUT = 4
EXIT_REFUSED = 5

DEFAULT_SERVER = "http://127.0.0.1:8000"
DEFAULT_TIMEOUT = 120.0
ECHO_TIMEOUT = 30.0
# After the first peer verifies, how long `send` waits for the others present to verify too.
SETTLE_SECONDS = 2.0

EPILOG = f"""\
The password comes from the environment variable SOTTO_PASSWORD or, if that is
unset, from a prompt that does not echo; it is never an argument. The server is
--server URL, else SOTTO_SERVER, else {DEFAULT_SERVER}.

exit codes:
  0  done
  1  other failure (server unreachable, connection lost, ...)
  2  usage error
  3  wrong password (a peer's password confirmation failed)
  4  timed out, or no peer proved the password in time
  5  refused by the server (room full, rate limited, ...)
"""


class _Parser(argparse.ArgumentParser):
    """argparse that exits with our usage code (2) and a one-line error."""

    def error(self, message: str) -> Any:
        """Print the usage line and the error, then exit 2."""
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"sotto: error: {message}\n")


def _room_command(sub: Any, name: str, help_text: str) -> argparse.ArgumentParser:
    """A subcommand that works in a room: ROOM, --server, and the shared epilog."""
    parser: argparse.ArgumentParser = sub.add_parser(
        name, help=help_text, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("room", metavar="ROOM", help="the room name (only its hash is sent)")
    parser.add_argument(
        "--server", default=argparse.SUPPRESS, metavar="URL", help="server base URL"
    )
    return parser


def _add_timeout(parser: argparse.ArgumentParser, help_text: str) -> None:
    parser.add_argument(
        "--timeout", type=_positive, default=DEFAULT_TIMEOUT, metavar="SECONDS", help=help_text
    )


def _positive(value: str) -> float:
    number = float(value)
    if number <= 0:
        raise argparse.ArgumentTypeError("must be above 0")
    return number


def build_parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    """The argument parser (the bench subcommand's options load only when it is asked for)."""
    parser = _Parser(
        prog="sotto",
        description="Talk privately in a Sotto room from the terminal.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--server", default=None, metavar="URL", help="server base URL")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    _room_command(sub, "chat", "chat interactively (lines from stdin)")
    send = _room_command(sub, "send", "send one message read from stdin, then exit")
    _add_timeout(send, "how long to wait for a peer that proves the password (default 120)")
    receive = _room_command(sub, "receive", "print messages from verified peers, then exit")
    receive.add_argument(
        "--count",
        type=int,
        default=1,
        metavar="N",
        help="how many messages to wait for (default 1)",
    )
    _add_timeout(receive, "how long to wait in all (default 120)")
    bench = sub.add_parser("bench", help="run the load benchmark (see docs/performance.md)")
    if "bench" in argv:
        try:
            from .bench import command as bench_command
        except ImportError:
            bench.set_defaults(bench_missing=True)
        else:
            bench_command.add_arguments(bench)
    return parser


def read_password() -> str:
    """The room password from SOTTO_PASSWORD or a no-echo prompt."""
    password: str | None = os.environ.get("SOTTO_PASSWORD")
    if password is None:
        with warnings.catch_warnings():
            warnings.simplefilter("error", getpass.GetPassWarning)
            try:
                password = getpass.getpass("Room password: ")
            except (getpass.GetPassWarning, EOFError, OSError):
                raise UsageError(
                    "no password: set SOTTO_PASSWORD or run in a terminal to be asked"
                ) from None
    if not password:
        raise UsageError("the password is empty")
    return str(password)


def read_message() -> str:
    """One message from stdin: UTF-8, not empty, at most the size limit."""
    data = sys.stdin.buffer.read(MAX_TEXT_BYTES + 1)
    if len(data) > MAX_TEXT_BYTES:
        raise UsageError(f"the message is longer than {MAX_TEXT_BYTES} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError("the message is not UTF-8 text") from None
    if not text:
        raise UsageError("nothing to send: stdin was empty")
    return text


class Waiter:
    """Pulls events from a client with a deadline, turning endings into exceptions."""

    def __init__(self, client: Client, timeout: float) -> None:
        """Start the clock for `timeout` seconds."""
        self.client = client
        self.loop = asyncio.get_running_loop()
        self.deadline = self.loop.time() + timeout
        self.last_error: str | None = None
        self.verified: set[str] = set()

    async def next(self, what: str) -> Event:
        """The next session event; raises TimedOut, RefusedByServer or SottoError on an ending."""
        remaining = self.deadline - self.loop.time()
        try:
            event = await asyncio.wait_for(self.client.events.get(), max(remaining, 0))
        except TimeoutError:
            raise TimedOut(f"timed out waiting for {what}") from None
        if isinstance(event, Closed):
            if event.refused:
                raise RefusedByServer(self._refusal(event))
            raise SottoError("the connection to the server was lost")
        if isinstance(event, ServerError):
            self.last_error = event.message
        elif isinstance(event, PeerVerified):
            self.verified.add(event.member_id)
        elif isinstance(event, PeerFailed) and event.reason == REASON_WRONG_PASSWORD:
            if not self.verified:
                raise WrongPasswordError(
                    "wrong password: the other side proved a different password"
                )
        return event

    def _refusal(self, closed: Closed) -> str:
        detail = self.last_error or closed.reason or f"close code {closed.code}"
        return f"the server refused: {safe(detail)}"


async def _connect(args: argparse.Namespace, password: str) -> Client:
    session = RoomSession(args.room, password)
    client = Client(session, args.server)
    try:
        await client.start()
    except (OSError, WebSocketException, TimeoutError) as exc:
        session.wipe()
        message, refused = describe_connect_error(exc)
        raise (RefusedByServer if refused else SottoError)(message) from None
    return client


async def cmd_send(args: argparse.Namespace, password: str) -> int:
    """Send one message from stdin once a peer is verified, and wait for its echo."""
    text = read_message()
    client = await _connect(args, password)
    try:
        waiter = Waiter(client, args.timeout)
        while not waiter.verified:
            try:
                await waiter.next("a peer that knows the password")
            except TimedOut:
                raise TimedOut(f"no peer proved the password within {args.timeout:g} s") from None
        await _settle(waiter)
        client.send_text(text)
        waiter.deadline = max(waiter.deadline, waiter.loop.time() + ECHO_TIMEOUT)
        while not isinstance(await waiter.next("the server to confirm the message"), MessageSent):
            pass
        return EXIT_OK
    finally:
        await client.close()


async def _settle(waiter: Waiter) -> None:
    """Give handshakes still running with other present members a moment to finish too."""
    deadline = waiter.deadline
    waiter.deadline = min(deadline, waiter.loop.time() + SETTLE_SECONDS)
    try:
        while any(_unsettled(p) for p in waiter.client.session.peers.values()):
            await waiter.next("the other handshakes")
    except TimedOut:
        pass
    waiter.deadline = deadline


def _unsettled(peer: Peer) -> bool:
    """True while a handshake with this peer may still verify."""
    return not (peer.verified or peer.failed or peer.not_answering or peer.refused)


def _write_text(text: str) -> None:
    out = safe(text) if sys.stdout.isatty() else text
    sys.stdout.write(out if out.endswith("\n") else out + "\n")
    sys.stdout.flush()


async def cmd_receive(args: argparse.Namespace, password: str) -> int:
    """Print the next --count messages from verified peers."""
    if args.count < 1:
        raise UsageError("--count must be at least 1")
    client = await _connect(args, password)
    try:
        waiter = Waiter(client, args.timeout)
        received = 0
        while received < args.count:
            event = await waiter.next("a message")
            if isinstance(event, MessageReceived) and not event.own:
                _write_text(event.text)
                received += 1
        return EXIT_OK
    finally:
        await client.close()


async def cmd_chat(args: argparse.Namespace, password: str) -> int:
    """Chat interactively until stdin ends."""
    client = await _connect(args, password)
    try:
        return await Chat(client, colors=sys.stdout.isatty()).run()
    finally:
        await client.close()


COMMANDS = {"send": cmd_send, "receive": cmd_receive, "chat": cmd_chat}
EXIT_FOR = {
    UsageError: EXIT_USAGE,
    WrongPasswordError: EXIT_WRONG_PASSWORD,
    TimedOut: EXIT_TIMEOUT,
    RefusedByServer: EXIT_REFUSED,
}


def _run_bench(args: argparse.Namespace) -> int:
    if getattr(args, "bench_missing", False):
        raise SottoError("the bench command is not installed")
    from .bench import command as bench_command

    return int(bench_command.run(args))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `sotto` console script; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(argv).parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="sotto: %(message)s")
    try:
        if args.command == "bench":
            return _run_bench(args)
        args.server = (
            getattr(args, "server", None) or os.environ.get("SOTTO_SERVER") or (DEFAULT_SERVER)
        )
        password = read_password()
        return asyncio.run(COMMANDS[args.command](args, password))
    except SottoError as exc:
        print(f"sotto: {exc}", file=sys.stderr)
        return next((code for kind, code in EXIT_FOR.items() if isinstance(exc, kind)), 1)
    except KeyboardInterrupt:
        print("sotto: interrupted", file=sys.stderr)
        return EXIT_FAILURE
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback
        print(f"sotto: unexpected error ({type(exc).__name__})", file=sys.stderr)
        return EXIT_FAILURE
