"""Pure presence state and diffs, after Phoenix.Presence's syncState/syncDiff.

A presence state maps member ids to their meta ``{color, key, joined_at}``. The
server sends the full state in `welcome` and diffs ``{joins, leaves}`` after; a
client that applies every diff to its welcome state holds the same state as a
fresh member would get. ``sync_diff`` is idempotent, so a join that is both in a
snapshot and in a later diff does no harm.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Meta = dict[str, Any]
State = dict[str, Meta]


def sync_diff(
    state: Mapping[str, Meta], joins: Mapping[str, Meta], leaves: Mapping[str, Meta]
) -> State:
    """Return ``state`` with ``joins`` added and ``leaves`` removed (a new dict)."""
    result = dict(state)
    result.update(joins)
    for member_id in leaves:
        result.pop(member_id, None)
    return result


def sync_state(
    state: Mapping[str, Meta], new_state: Mapping[str, Meta]
) -> tuple[State, State, State]:
    """Compare ``state`` with a fresh ``new_state``; return (new state, joins, leaves)."""
    joins = {mid: meta for mid, meta in new_state.items() if state.get(mid) != meta}
    leaves = {mid: meta for mid, meta in state.items() if mid not in new_state}
    return dict(new_state), joins, leaves
