"""docs/performance.md and its charts, written from a bench/run results document.

The page is generated; the hand-written analysis (profiles, what was changed)
lives in bench/notes.md and is copied in verbatim.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from bench.servers import REPO

DOCS = REPO / "docs"
PAGE = DOCS / "performance.md"
NOTES = REPO / "bench" / "notes.md"
CHART_DELIVERIES = DOCS / "performance-deliveries.png"
CHART_LATENCY = DOCS / "performance-latency.png"
CONFIG_LABELS = {
    "baseline": "bare websockets (baseline)",
    "embedded": "Sotto, embedded (1 daphne)",
    "redis-1": "Sotto, Redis, 1 worker",
    "redis-2": "Sotto, Redis, 2 workers",
}


def _num(value: Any, digits: int = 0, suffix: str = "") -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return f"{value:,.{digits}f}{suffix}"


def _pct(value: Any) -> str:
    return "-" if value is None else f"{value:.0%}"


def _met(value: Any) -> str:
    return {True: "met", False: "**missed**", None: "not judged"}[value]


def _hatch_contended(bars: Any, records: list[dict[str, Any]]) -> None:
    for bar, record in zip(bars, records, strict=True):
        if record.get("contended"):
            bar.set_hatch("//")


def charts(results: dict[str, Any]) -> list[Path]:
    """Draw deliveries/s by configuration and room size, and latency percentiles at half load."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cells = results.get("matrix", [])
    configs = [c for c in CONFIG_LABELS if any(x["config"] == c for x in cells)]
    sizes = sorted({x["members"] for x in cells})
    if not configs or not sizes:
        return []
    lookup = {(x["config"], x["members"]): x for x in cells}
    width = 0.8 / len(configs)
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for i, config in enumerate(configs):
        values = [lookup.get((config, m), {}).get("deliveries_per_s", 0) for m in sizes]
        xs = [j + i * width for j in range(len(sizes))]
        bars = ax.bar(xs, values, width, label=CONFIG_LABELS[config])
        _hatch_contended(bars, [lookup.get((config, m), {}) for m in sizes])
    ax.set_xticks([j + width * (len(configs) - 1) / 2 for j in range(len(sizes))])
    ax.set_xticklabels([f"rooms of {m}" for m in sizes])
    ax.set_ylabel("deliveries/s at saturation")
    ax.set_title("Relay throughput (higher is better; hatched: other programs used CPU)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(CHART_DELIVERIES, dpi=110)
    plt.close(fig)

    fig, axes = plt.subplots(1, len(sizes), figsize=(10, 4), sharey=True, squeeze=False)
    for ax, members in zip(axes[0], sizes, strict=True):
        for i, config in enumerate(configs):
            record = lookup.get((config, members), {})
            values = [record.get(k) or 0 for k in ("p50_ms", "p90_ms", "p99_ms")]
            xs = [j + i * width for j in range(3)]
            bars = ax.bar(xs, values, width, label=CONFIG_LABELS[config])
            _hatch_contended(bars, [record] * 3)
        ax.set_xticks([j + width * (len(configs) - 1) / 2 for j in range(3)])
        ax.set_xticklabels(["p50", "p90", "p99"])
        ax.set_yscale("log")
        ax.set_title(f"rooms of {members}")
    axes[0][0].set_ylabel("ms, send -> last member (half load)")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(configs), fontsize=8)
    fig.suptitle("Latency at half of each configuration's saturation (lower is better)")
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    fig.savefig(CHART_LATENCY, dpi=110)
    plt.close(fig)
    return [CHART_DELIVERIES, CHART_LATENCY]


def _header(results: dict[str, Any]) -> list[str]:
    meta = results["meta"]
    machine, versions, git = meta["machine"], meta["versions"], meta["git"]
    pin = meta["pinning"]
    pinning = (
        f"server processes on core(s) {pin['server_cores']}, load generator on "
        f"{pin['generator_cores']}"
        if pin["separate"]
        else "no pinning (one core)"
    )
    parts = ", ".join(f"{k} {v}" for k, v in versions.items() if v)
    return [
        f"Run: `bench/run{' --quick' if meta['mode'] == 'quick' else ''}` ({meta['mode']} "
        f"matrix) on {meta['started']}, {meta.get('elapsed_s', 0):.0f} s, commit "
        f"`{(git['commit'] or '?')[:12]}`"
        + (" (with uncommitted changes in the tree)" if git["tracked_files_modified"] else "")
        + ".",
        f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory']}, "
        f"{machine['platform']}; load average at start {machine['load_average_at_start']}; "
        f"{pinning}.",
        f"Versions: {parts}.",
        "",
    ]


def _value(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {_value(v)}" for k, v in value.items())
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def _targets(results: dict[str, Any]) -> list[str]:
    lines = ["## Targets", "", "| where | target | value | result |", "|---|---|---|---|"]
    for t in results.get("targets", []):
        note = f" ({t['note']})" if t.get("note") else ""
        lines.append(
            f"| {t['where']} | {t['target']} | {_value(t['value'])}{note} | {_met(t['met'])} |"
        )
    return lines + [""]


def _matrix(results: dict[str, Any]) -> list[str]:
    lines = [
        "## Relay throughput and latency",
        "",
        "Saturation: broadcasts kept in flight per room are raised until deliveries/s stops "
        "rising. Latency: a paced run at half of that rate, from the send to the receipt by "
        "the last member of the room. ≥ marks a figure taken while the load generator was "
        "itself saturated (a lower bound for the server); † a cell during which other "
        "programs on the machine used CPU too (its figures are not the machine's best).",
        "",
        f"![deliveries/s by configuration and room size]({CHART_DELIVERIES.name})",
        "",
        "| configuration | rooms x members | deliveries/s | share of baseline | server CPU "
        "| server CPU per delivery | p50 ms | p90 ms | p99 ms | max ms | server CPU at half "
        "| lost / dup / reordered |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in results.get("matrix", []):
        bound = "≥ " if c["lower_bound"] else ""
        label = CONFIG_LABELS.get(c["config"], c["config"]) + (" †" if c.get("contended") else "")
        lines.append(
            f"| {label} | {c['rooms']} x {c['members']} "
            f"| {bound}{_num(c['deliveries_per_s'])} | {_pct(c.get('share_of_baseline'))} "
            f"| {_pct(c['server_cpu_at_saturation'])} "
            f"| {_num(c.get('server_cpu_us_per_delivery'), 1, ' µs')} | {_num(c['p50_ms'], 2)} "
            f"| {_num(c['p90_ms'], 2)} | {_num(c['p99_ms'], 2)} | {_num(c['max_ms'], 2)} "
            f"| {_pct(c['server_cpu_at_half'])} "
            f"| {c['lost']} / {c['duplicated']} / {c['reordered']} |"
        )
    lines += ["", f"![latency percentiles at half load]({CHART_LATENCY.name})", ""]
    return lines


def _capacity(results: dict[str, Any]) -> list[str]:
    rows = results.get("capacity", [])
    if not rows:
        return []
    lines = [
        "## Capacity: idle joined connections on one worker",
        "",
        "| configuration | connections | resident memory per connection | all joined in "
        "| join p99 | CPU while idle |",
        "|---|---|---|---|---|---|",
    ]
    for c in rows:
        lines.append(
            f"| {CONFIG_LABELS.get(c['config'], c['config'])} | {c['connections']:,} "
            f"| {_num(c['rss_kib_per_connection'], 1, ' KiB')} "
            f"| {_num(c['all_joined_s'], 2, ' s')} "
            f"| {_num(c['join_p99_ms'], 1, ' ms')} | {_pct(c['idle_cpu'])} over "
            f"{c['idle_seconds']:g} s, from {c.get('idle_after_s', 0):g} s after the last join |"
        )
    return lines + [""]


def _slow_and_limiter(results: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    slow = results.get("slow_reader")
    if slow:
        flood = slow["flood"]
        lines += [
            "## A member that stops reading",
            "",
            f"{slow['rooms']} rooms of {slow['members']} at the same paced rate as the "
            f"half-load run; one member per room stops reading when measuring starts. The "
            f"others' p99: {_num(slow['p99_ms'], 2)} ms (without a stalled member, run "
            f"just before: {_num(slow['reference_p99_ms'], 2)} ms).",
            "",
            f"Then a flood: {flood['rooms']} rooms of {flood['members']} with "
            f"{flood['body_bytes']:,}-byte bodies, so that about "
            f"{_num(flood['bytes_pushed_per_stalled_member'] / 2**20, 1)} MiB are sent towards "
            f"each stalled member in {flood['seconds']:g} s. Server memory grew by "
            f"{_num(flood['rss_growth_kib'] / 1024, 1)} MiB; the server cut "
            f"{flood['stalled_cut_by_server']} of the {flood['stalled_members']} stalled "
            f"members; the readers' p99 meanwhile: {_num(flood['readers_p99_ms'], 2)} ms. "
            f"Lost / duplicated / reordered among the readers (both runs): {slow['lost']} / "
            f"{slow['duplicated']} / {slow['reordered']}.",
            "",
        ]
    lim = results.get("limiter")
    if lim:
        lines += [
            "## The rate limiter at its defaults",
            "",
            f"The same paced load ({lim['rooms']} rooms of {lim['members']}, "
            f"{_num(lim['rate_per_room'])} broadcasts/s per room, {_num(lim['per_member_rate'], 1)}"
            f" per member, under the default 30/s) with the limits at their defaults and "
            f"raised:",
            "",
            "| limits | deliveries/s | p50 ms | p99 ms | server CPU per delivery "
            "| broadcasts refused (rate_limited) |",
            "|---|---|---|---|---|---|",
            f"| defaults | {_num(lim['default']['deliveries_per_s'])} "
            f"| {_num(lim['default']['p50_ms'], 2)} | {_num(lim['default']['p99_ms'], 2)} "
            f"| {_num(lim['server_cpu_us_per_delivery_default'], 1, ' µs')} "
            f"| {lim['default'].get('refused', 0)} |",
            f"| raised | {_num(lim['raised']['deliveries_per_s'])} "
            f"| {_num(lim['raised']['p50_ms'], 2)} | {_num(lim['raised']['p99_ms'], 2)} "
            f"| {_num(lim['server_cpu_us_per_delivery_raised'], 1, ' µs')} "
            f"| {lim['raised'].get('refused', 0)} |",
            "",
        ]
    return lines


def _e2e(results: dict[str, Any]) -> list[str]:
    e2e = results.get("e2e")
    if not e2e:
        return []
    lines = ["## End to end: the full protocol", ""]
    if "skipped" in e2e:
        return lines + [f"Not measured: {e2e['skipped']}", ""]
    lines += [
        "Every member is a real `RoomSession` (SPAKE2 with every other member, sender keys, "
        "signed and sealed messages) behind a thin WebSocket shell, against the embedded "
        "server with its default rate limits. All members share the generator's one core, "
        "where real members each have a device, so the times are upper bounds; the CPU the "
        "core used is shown beside them. PBKDF2 runs once per room (each member runs it once, "
        "in parallel, before joining).",
        "",
        "| room of | PBKDF2 | all but one join at once: each verified all, p50 / last "
        "| their CPU | the last one joins: verified all | its CPU | everyone sends one, "
        "all read | bytes per message up / down | failures |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in e2e["rooms"]:
        lines.append(
            f"| {r['members']} | {_num(r['pbkdf2_s'] * 1000, 0, ' ms')} "
            f"| {_num(r['crowd_verified_p50_s'], 2)} / {_num(r['crowd_all_verified_s'], 2, ' s')} "
            f"| {_num(r['crowd_cpu_s'], 2, ' s')} | {_num(r['newcomer_verified_s'], 2, ' s')} "
            f"| {_num(r['newcomer_cpu_s'], 2, ' s')} "
            f"| {_num(r['everyone_read_everyone_s'], 2, ' s')} "
            f"| {_num(r['upload_bytes_per_message'])} / {_num(r['download_bytes_per_delivery'])} B "
            f"| {r['failures']} |"
        )
    return lines + [""]


def _wire(results: dict[str, Any]) -> list[str]:
    cells = [c for c in results.get("matrix", []) if c["config"] == "embedded"]
    if not cells:
        return []
    lines = [
        "## Wire bytes per message as the room grows (relay runs)",
        "",
        "| room of | upload per broadcast | download per delivery |",
        "|---|---|---|",
    ]
    for c in cells:
        lines.append(
            f"| {c['members']} | {_num(c['upload_bytes_per_broadcast'])} B "
            f"| {_num(c['download_bytes_per_delivery'])} B |"
        )
    return lines + [""]


def write(results: dict[str, Any]) -> list[Path]:
    """Write docs/performance.md and its charts; return the paths written."""
    written = charts(results)
    notes = NOTES.read_text().strip() + "\n" if NOTES.exists() else ""
    lines = [
        "# Performance",
        "",
        "<!-- Generated by bench/run from bench/results/latest.json. Edit bench/notes.md "
        "(the analysis) or bench/report.py (the layout), not this file. -->",
        "",
        "`bench/run` starts each configuration on loopback and measures it with "
        "`sotto bench`; `bench/run --quick` runs a reduced matrix in under three minutes. "
        "Figures are from the run below; the ratios matter more than the absolute numbers.",
        "",
        *_header(results),
        *_targets(results),
        *_matrix(results),
        *_capacity(results),
        *_slow_and_limiter(results),
        *_e2e(results),
        *_wire(results),
        notes,
    ]
    PAGE.write_text("\n".join(lines).rstrip() + "\n")
    return [PAGE, *written]
