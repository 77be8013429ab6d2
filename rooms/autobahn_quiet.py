"""Stop autobahn from formatting debug text for every frame it sends.

``WebSocketProtocol.sendData`` builds the arguments of a ``log.debug`` call with
``hltype``/``hlval`` before the logger discards them; when ``click`` is importable
those colour the text, about 7.7 us per frame sent (a fifth of the relay's CPU in
rooms of 50, see docs/performance.md). They only feed debug log lines, so while
autobahn's debug logging is off we bind them to functions that return nothing.
"""

from __future__ import annotations

import logging
from typing import Any


def _no_highlight(*args: Any, **kwargs: Any) -> str:
    return ""


def quiet_autobahn_debug_formatting() -> None:
    """Replace autobahn's per-frame debug highlighting unless its debug logging is on."""
    if logging.getLogger("autobahn").isEnabledFor(logging.DEBUG):
        return
    try:
        from autobahn.websocket import protocol
    except ImportError:
        return
    protocol.hltype = _no_highlight  # type: ignore[attr-defined]
    protocol.hlval = _no_highlight  # type: ignore[attr-defined]
