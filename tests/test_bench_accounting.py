"""The load generator's own bookkeeping, on synthetic sends and receipts (no sockets)."""

from __future__ import annotations

import math

import pytest

from sotto.bench.accounting import RoomLedger, Tally, latency_summary, percentile, summarize
from sotto.bench.wire import broadcast_frame, read_message, read_tag

WHOLE_RUN = (0.0, 100.0)


def deliver_all(
    ledger: RoomLedger, sender: int, counter: int, seq: int, times: list[float]
) -> None:
    """Deliver one message to members 0..n-1 at the given times."""
    for member, when in enumerate(times):
        ledger.record_receipt(member, sender, counter, seq, when)


def test_percentile_is_nearest_rank() -> None:
    """Percentiles of 1..100 are the values themselves; of nothing they are nan."""
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 90) == 90.0
    assert percentile(values, 99) == 99.0
    assert percentile(values, 100) == 100.0
    assert percentile([7.0], 99) == 7.0
    assert math.isnan(percentile([], 50))


def test_latency_summary_in_milliseconds() -> None:
    """Latencies given in seconds come back as p50/p90/p99/max in milliseconds, in any order."""
    summary = latency_summary(
        [0.010, 0.001, 0.002, 0.003, 0.004, 0.005, 0.006, 0.007, 0.008, 0.009]
    )
    assert summary == pytest.approx({"p50_ms": 5.0, "p90_ms": 9.0, "p99_ms": 10.0, "max_ms": 10.0})


def test_latency_is_send_to_last_member() -> None:
    """A message's latency runs from its send to its receipt by the slowest member."""
    ledger = RoomLedger(3, WHOLE_RUN)
    counter = ledger.record_send(1, 10.0)
    ledger.record_receipt(1, 1, counter, 1, 10.001)
    ledger.record_receipt(0, 1, counter, 1, 10.002)
    assert ledger.inflight == 1
    ledger.record_receipt(2, 1, counter, 1, 10.005)
    assert ledger.inflight == 0
    tally = ledger.close()
    assert list(tally.latencies) == pytest.approx([0.005])
    assert (tally.delivered, tally.expected, tally.lost) == (3, 3, 0)
    assert tally.clean()


def test_missing_receipts_are_lost_per_delivery() -> None:
    """A message one member never got counts one lost delivery; the others none."""
    ledger = RoomLedger(3, WHOLE_RUN)
    first = ledger.record_send(0, 1.0)
    second = ledger.record_send(0, 1.1)
    deliver_all(ledger, 0, first, 1, [1.01, 1.01, 1.01])
    ledger.record_receipt(0, 0, second, 2, 1.11)
    ledger.record_receipt(1, 0, second, 2, 1.11)
    tally = ledger.close()
    assert tally.lost == 1
    assert len(tally.latencies) == 1
    assert not tally.clean()


def test_duplicates_are_counted_and_not_delivered_twice() -> None:
    """A member that gets the same message twice counts one duplicate, not an extra delivery."""
    ledger = RoomLedger(2, WHOLE_RUN)
    counter = ledger.record_send(0, 1.0)
    deliver_all(ledger, 0, counter, 1, [1.01, 1.02])
    ledger.record_receipt(1, 0, counter, 1, 1.03)
    tally = ledger.close()
    assert (tally.duplicated, tally.delivered, tally.lost, tally.reordered) == (1, 2, 0, 0)


def test_late_arrival_fills_gap_and_counts_as_reordered() -> None:
    """A message that arrives after a later one is a reorder, not a duplicate nor a loss."""
    ledger = RoomLedger(2, WHOLE_RUN)
    a = ledger.record_send(0, 1.0)
    b = ledger.record_send(0, 1.0)
    deliver_all(ledger, 0, a, 1, [1.01, 1.01])
    ledger.record_receipt(0, 0, b, 2, 1.02)
    ledger.record_receipt(1, 0, b, 2, 1.02)
    c = ledger.record_send(1, 1.1)
    ledger.record_receipt(0, 1, c, 3, 1.11)
    d = ledger.record_send(1, 1.1)
    ledger.record_receipt(1, 1, d, 4, 1.12)
    ledger.record_receipt(0, 1, d, 4, 1.12)
    ledger.record_receipt(1, 1, c, 3, 1.13)  # member 1 gets c after d
    tally = ledger.close()
    assert (tally.reordered, tally.duplicated, tally.lost) == (1, 0, 0)
    assert tally.delivered == tally.expected == 8


def test_seq_that_goes_backwards_is_reordered() -> None:
    """Messages from two senders delivered against their room seq order count as reordered."""
    ledger = RoomLedger(2, WHOLE_RUN)
    a = ledger.record_send(0, 1.0)
    b = ledger.record_send(1, 1.0)
    ledger.record_receipt(0, 1, b, 2, 1.01)
    ledger.record_receipt(0, 0, a, 1, 1.02)
    ledger.record_receipt(1, 0, a, 1, 1.01)
    ledger.record_receipt(1, 1, b, 2, 1.02)
    assert ledger.close().reordered == 1


def test_members_disagreeing_on_seq_is_a_mismatch() -> None:
    """The same message stamped with two different seqs for two members is caught."""
    ledger = RoomLedger(2, WHOLE_RUN)
    counter = ledger.record_send(0, 1.0)
    ledger.record_receipt(0, 0, counter, 5, 1.01)
    ledger.record_receipt(1, 0, counter, 6, 1.01)
    tally = ledger.close()
    assert tally.seq_mismatch == 1
    assert not tally.clean()


def test_foreign_messages_are_not_counted_as_ours() -> None:
    """A tag this run never sent is foreign, whatever its numbers."""
    ledger = RoomLedger(2, WHOLE_RUN)
    ledger.record_receipt(0, 0, 0, 1, 1.0)
    ledger.record_receipt(0, 9, 0, 1, 1.0)
    tally = ledger.close()
    assert (tally.foreign, tally.delivered, tally.duplicated) == (2, 0, 0)


def test_window_limits_throughput_and_latency_samples() -> None:
    """Deliveries count only inside the window; latency only for messages sent inside it."""
    ledger = RoomLedger(2, (10.0, 20.0))
    warm = ledger.record_send(0, 9.99)
    deliver_all(ledger, 0, warm, 1, [10.01, 10.02])
    late = ledger.record_send(1, 19.99)
    deliver_all(ledger, 1, late, 2, [19.995, 20.01])
    tally = ledger.close()
    assert tally.deliveries_in_window == 3
    assert tally.sent_in_window == 1
    assert list(tally.latencies) == pytest.approx([0.02])
    figures = summarize(tally, 10.0)
    assert figures["deliveries_per_s"] == pytest.approx(0.3)
    assert figures["messages_per_s"] == pytest.approx(0.1)


def test_stalled_member_is_left_out() -> None:
    """A member left out of the counting neither delays completion nor counts as lost."""
    ledger = RoomLedger(3, WHOLE_RUN, skip=[2])
    counter = ledger.record_send(0, 1.0)
    deliver_all(ledger, 0, counter, 1, [1.01, 1.02])
    ledger.record_receipt(2, 0, counter, 1, 9.0)
    tally = ledger.close()
    assert (tally.lost, tally.delivered, tally.expected) == (0, 2, 2)
    assert list(tally.latencies) == pytest.approx([0.02])


def test_receipts_after_close_are_ignored() -> None:
    """A message that arrives after the books are closed stays lost and breaks nothing."""
    ledger = RoomLedger(2, WHOLE_RUN)
    counter = ledger.record_send(0, 1.0)
    ledger.record_receipt(0, 0, counter, 1, 1.01)
    tally = ledger.close()
    ledger.record_receipt(1, 0, counter, 1, 9.0)
    assert (tally.lost, tally.delivered, tally.foreign) == (1, 1, 0)


def test_refused_broadcast_is_owed_to_nobody() -> None:
    """A broadcast the server refused is counted as refused, not lost, and later ones still flow."""
    ledger = RoomLedger(2, WHOLE_RUN)
    refused = ledger.record_send(0, 1.0)
    kept = ledger.record_send(0, 1.1)
    ledger.record_refused(0, refused)
    deliver_all(ledger, 0, kept, 1, [1.11, 1.12])
    tally = ledger.close()
    assert (tally.refused, tally.lost, tally.reordered, tally.duplicated) == (1, 0, 0, 0)
    assert tally.delivered == tally.expected == 2
    assert tally.clean()


def test_tallies_merge() -> None:
    """Merging adds every count and concatenates the latency samples."""
    one, two = RoomLedger(2, WHOLE_RUN), RoomLedger(2, WHOLE_RUN)
    deliver_all(one, 0, one.record_send(0, 1.0), 1, [1.001, 1.002])
    deliver_all(two, 1, two.record_send(1, 1.0), 1, [1.003, 1.004])
    total = Tally()
    total.merge(one.close())
    total.merge(two.close())
    assert (total.sent, total.delivered) == (2, 4)
    assert sorted(total.latencies) == pytest.approx([0.002, 0.004])


def test_wire_tag_round_trip() -> None:
    """A broadcast body keeps its size and its tag reads back from the relayed message frame."""
    frame = broadcast_frame(3, 41, "x" * 64)
    body = frame.split('"body":"')[1][:-2]
    assert len(body) == 64
    assert read_tag(body) == (3, 41)
    relayed = f'{{"type": "message", "from": "abc", "seq": 7, "body": "{body}"}}'.encode()
    assert read_message(relayed) == (3, 41, 7)
    assert read_message(b'{"type":"welcome","seq":0}') is None
    with pytest.raises(ValueError):
        read_tag("no tag here")
