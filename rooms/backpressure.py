"""How many bytes a connection has not yet handed to the kernel.

Daphne has no backpressure of its own: a member that stops reading makes the
server buffer everything sent to it. Daphne passes each application a ``send``
that is ``partial(server.handle_reply, protocol)``; the protocol's Twisted
transport knows its unsent bytes. When the send is anything else (tests with
WebsocketCommunicator, another server) nothing is known and nothing is shed.
"""

from __future__ import annotations

import functools
from typing import Any


def transport_of(send: Any) -> Any | None:
    """Return the Twisted transport behind daphne's ``send``, or None."""
    if not isinstance(send, functools.partial) or not send.args:
        return None
    transport = getattr(send.args[0], "transport", None)
    if transport is None or not hasattr(transport, "dataBuffer"):
        return None
    return transport


def unsent_bytes(transport: Any) -> int:
    """Return the bytes a Twisted transport still holds for the peer."""
    return len(transport.dataBuffer) - transport.offset + transport._tempDataLen
