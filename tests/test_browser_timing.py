"""Time from clicking Join to ready-to-send, measured inside real Chromium.

"Ready" is the page's own mark: our welcome is in and the password check with every
member already in the room has ended. The page marks `sotto:join` on the click,
`sotto:session` when the password is stretched and the keys made, `sotto:welcome`
when the server's welcome is handled and `sotto:ready`; the numbers come from the
browser's performance timeline, not from the test's clock.

Two ways to press Join are timed. *At once*: the click follows the typing
immediately, so the page stretches the password after the click. *After a pause*:
the person stops typing and the page has prepared the session (it does so after
300 ms of rest, see frontend/js/ui/prepare.js) before the click, as happens when a
person types a password and then reaches for the button.

The test runs a short measurement to prove the harness works (no timing assertion);
`python -m tests.test_browser_timing` runs the full one and writes docs/browser-timing.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, expect, sync_playwright

from tests.browser_support import (
    REPO,
    TIMEOUT_MS,
    join,
    launch,
    unique_room,
)
from tests.support.servers import DaphneProcess, start_daphne

pytestmark = pytest.mark.browser

PASSWORD = "granite willow tempo 31"
PHASES = ("sotto:session", "sotto:welcome", "sotto:ready")
MODES = {False: "at once", True: "after a pause"}


@contextmanager
def contexts(chromium: Browser) -> Iterator[list[BrowserContext]]:
    """A list to open browser contexts into; all are closed afterwards."""
    opened: list[BrowserContext] = []
    try:
        yield opened
    finally:
        for context in opened:
            context.close()


def one_join(
    chromium: Browser, server: DaphneProcess, room_size: int, paused: bool
) -> dict[str, float]:
    """Fill a room with room_size - 1 members, then time one more person's Join (ms)."""
    room = unique_room("timing")
    with contexts(chromium) as opened:
        for _ in range(room_size - 1):
            opened.append(chromium.new_context())
            page = opened[-1].new_page()
            page.set_default_timeout(TIMEOUT_MS)
            join(page, server, room, PASSWORD)
        opened.append(chromium.new_context())
        page = opened[-1].new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(server.http_url + "/")
        # The page has loaded and warmed its crypto code, as while a person types.
        page.wait_for_selector("#app[data-warm='1']", state="attached")
        page.get_by_label("Room", exact=True).fill(room)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        if paused:
            page.wait_for_selector("#app[data-prepared='1']", state="attached")
        page.get_by_role("button", name="Join", exact=True).click()
        expect(page.locator("#app")).to_have_attribute("data-state", "ready")
        verified = page.locator("#members li[data-state=verified]").count()
        assert verified == room_size - 1, f"only {verified} of {room_size - 1} verified"
        marks: dict[str, float] = page.evaluate(
            """(names) => Object.fromEntries(names.map((name) => [
                name,
                performance.measure(name + ':m', 'sotto:join', name).duration,
            ]))""",
            list(PHASES),
        )
    return marks


Results = dict[tuple[int, bool], list[dict[str, float]]]


def measure(chromium: Browser, server: DaphneProcess, sizes: list[int], runs: int) -> Results:
    """Time `runs` joins per room size and way of pressing Join (a warm-up is discarded)."""
    one_join(chromium, server, 1, paused=False)
    results: Results = {}
    for size in sizes:
        for paused in MODES:
            results[size, paused] = [one_join(chromium, server, size, paused) for _ in range(runs)]
    return results


def summarize(samples: list[dict[str, float]], phase: str) -> tuple[float, float, float, float]:
    """Median, 90th percentile, min and max of one phase, in ms."""
    values = sorted(sample[phase] for sample in samples)
    p90 = values[min(len(values) - 1, round(0.9 * (len(values) - 1)))]
    return statistics.median(values), p90, values[0], values[-1]


def report(results: Results, chromium_version: str, load: tuple[float, float]) -> str:
    """The Markdown report of a measurement."""
    lines = [
        "# Join to ready-to-send in Chromium",
        "",
        "Written by `python -m tests.test_browser_timing` (see the module docstring for what",
        "is measured). Real headless Chromium, real daphne (embedded default), loopback; every",
        "person is a separate browser context of one Chromium, all on the same machine as",
        "the server.",
        "",
        f"- when: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        f"- browser: Chromium {chromium_version}, headless",
        f"- machine: {platform.machine()}, {platform.system()} {platform.release()},"
        f" {os.cpu_count()} cores; load average {load[0]:.1f} before, {load[1]:.1f} after",
        "",
        "Times in ms from the click on Join. *session*: password stretched (PBKDF2, 100 000",
        "iterations) and keys made; *welcome*: the server's welcome handled; *ready*: every",
        "member already in the room has proved the password (SPAKE2) and the box is enabled.",
        "",
        "| room size | Join pressed | runs | phase | median | p90 | min | max |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for (size, paused), samples in results.items():
        for phase in PHASES:
            median, p90, low, high = summarize(samples, phase)
            lines.append(
                f"| {size} | {MODES[paused]} | {len(samples)} | {phase.split(':')[1]}"
                f" | {median:.1f} | {p90:.1f} | {low:.1f} | {high:.1f} |"
            )
    lines += [
        "",
        "Where the time goes (medians of each step on its own, in ms):",
        "",
        "| room size | Join pressed | session (PBKDF2, keys) | welcome | password checks |",
        "|---|---|---|---|---|",
    ]
    for (size, paused), samples in results.items():
        steps = [
            statistics.median(s["sotto:session"] for s in samples),
            statistics.median(s["sotto:welcome"] - s["sotto:session"] for s in samples),
            statistics.median(s["sotto:ready"] - s["sotto:welcome"] for s in samples),
        ]
        cells = " | ".join(f"{step:.1f}" for step in steps)
        lines.append(f"| {size} | {MODES[paused]} | {cells} |")
    lines += [
        "",
        "*welcome* runs from the session being ready to the welcome being handled: the",
        "join round trip through the server, plus our first SPAKE2 shares for the members",
        "we open the exchange with. The join frame carries the signing key, which the",
        "session makes after the PBKDF2 step, so the join waits for it. *password checks*",
        "are the rest of one SPAKE2 exchange per member already there.",
        "",
        "Target: under 100 ms for a room of 2 on loopback.",
        "",
    ]
    return "\n".join(lines)


def test_join_timing_harness_measures_a_room_of_two(
    embedded_server: DaphneProcess, browser: Browser
) -> None:
    """The timing harness reaches ready in a room of two and reads ordered phase marks."""
    results = measure(browser, embedded_server, sizes=[2], runs=1)
    for samples in results.values():
        for sample in samples:
            assert 0 <= sample["sotto:session"] <= sample["sotto:ready"]
            assert 0 < sample["sotto:welcome"] <= sample["sotto:ready"]
    # A paused Join found its session already made; one pressed at once had to wait for it.
    assert results[2, True][0]["sotto:session"] < results[2, False][0]["sotto:session"]
    out = REPO / "test-artifacts" / "browser-timing.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()[0]
    out.write_text(report(results, browser.version, (load, load)))


def main() -> int:
    """Measure rooms of 2 and 10 and write the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--sizes", type=int, nargs="+", default=[2, 10])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "browser-timing.md")
    args = parser.parse_args()
    server = start_daphne()
    load_before = os.getloadavg()[0]
    try:
        with sync_playwright() as playwright:
            chromium = launch(playwright.chromium)
            results = measure(chromium, server, args.sizes, args.runs)
            text = report(results, chromium.version, (load_before, os.getloadavg()[0]))
            chromium.close()
    finally:
        server.stop()
    args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
