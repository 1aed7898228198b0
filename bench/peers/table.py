"""The one table `python -m bench.peers` prints: each peer's figure beside ours, and the ratio."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from bench.messaging import FanOut
from bench.peers.chat import ChatResult, Step


def _cells(
    values: Sequence[float | None], unit_format: str, marks: Sequence[str] = ()
) -> list[str]:
    """Our figure, then each peer's with its ratio to ours (peer / ours); a mark, where given,
    right after the figure."""
    ours = values[0]
    cells = []
    for i, value in enumerate(values):
        mark = marks[i] if i < len(marks) else ""
        if value is None:
            cells.append("-")
        elif i == 0 or not ours:
            cells.append(unit_format.format(value) + mark)
        else:
            cells.append(f"{unit_format.format(value)}{mark} (x{value / ours:.2f})")
    return cells


def _row(name: str, cells: list[str]) -> str:
    return f"| {name} | " + " | ".join(cells) + " |"


def chat_table(results: list[ChatResult]) -> str:
    """Rows of figures, a column per server, ours first; ratios are the peer's over ours."""
    head = "| chat, 200 users, 21 rooms | " + " | ".join(f"{r.name} {r.version}" for r in results)
    lines = [head + " |", "|---" * (len(results) + 1) + "|"]
    rate = results[0].fixed.rate
    held = [r.held.rate if r.held else 0.0 for r in results]
    capped = ["+" if r.capped else "" for r in results]
    title = "highest rate held, p99 ≤ 200 ms (msgs/s; + the highest tried)"
    lines.append(_row(title, _cells(held, "{:.0f}", capped)))
    rows: list[tuple[str, Callable[[ChatResult], float | None], str]] = [
        (f"CPU per message at {rate:.0f}/s, app (ms)", lambda r: _per_message(r.fixed), "{:.2f}"),
        (
            f"CPU per message at {rate:.0f}/s, app + stores (ms)",
            lambda r: _per_message(r.fixed, stores=True),
            "{:.2f}",
        ),
        (f"send-to-receive p50 at {rate:.0f}/s (ms)", lambda r: _or_none(r.fixed.p50), "{:.1f}"),
        (f"send-to-receive p99 at {rate:.0f}/s (ms)", lambda r: _or_none(r.fixed.p99), "{:.1f}"),
        (
            f"sends taken at {rate:.0f}/s",
            lambda r: 100 * (r.fixed.sent - r.fixed.failed) / max(r.fixed.sent, 1),
            "{:.1f} %",
        ),
        (
            f"copies arrived at {rate:.0f}/s",
            lambda r: len(r.fixed.latencies_ms) / max(r.fixed.expected, 1) * 100,
            "{:.1f} %",
        ),
        ("CPU with nothing sent, app (% of a core)", lambda r: 100 * r.idle_share, "{:.1f}"),
        ("RSS of the app's processes (MiB)", lambda r: r.fixed.app_rss_mb, "{:.0f}"),
    ]
    for name, of, unit in rows:
        lines.append(_row(name, _cells([of(r) for r in results], unit)))
    return "\n".join(lines)


def fan_out_table(results: list[tuple[str, FanOut]]) -> str:
    """The fan-out rows: each server's (label, run), ours first."""
    first = results[0][1]
    head = f"| fan-out, {first.clients} subscribers of one channel | " + " | ".join(
        label for label, _ in results
    )
    lines = [head + " |", "|---" * (len(results) + 1) + "|"]
    rows: list[tuple[str, Callable[[FanOut], float], str]] = [
        ("deliveries per CPU-second", lambda r: r.deliveries_per_cpu_second, "{:.0f}"),
        ("send-to-receive p50 (ms)", lambda r: r.percentile(50), "{:.1f}"),
        ("send-to-receive p99 (ms)", lambda r: r.percentile(99), "{:.1f}"),
        ("copies arrived", lambda r: 100 * r.received / max(r.expected, 1), "{:.1f} %"),
        ("memory per connection (KiB)", lambda r: r.kib_per_connection, "{:.1f}"),
    ]
    for name, of, unit in rows:
        lines.append(_row(name, _cells([of(r) for _, r in results], unit)))
    return "\n".join(lines)


def _or_none(value: float) -> float | None:
    return None if math.isnan(value) else value


def _per_message(step: Step, *, stores: bool = False) -> float | None:
    """CPU ms per message the server took (None: it took none)."""
    taken = step.sent - step.failed
    if not taken:
        return None
    return 1000 * (step.app_cpu + (step.store_cpu if stores else 0.0)) / taken


def goals(chat: dict[str, ChatResult], fan_out: dict[str, FanOut]) -> list[str]:
    """The issue's goals, each met or missed by how much (where both figures were measured)."""
    said = []
    ours, synapse, dendrite = chat.get("QuckChat"), chat.get("Synapse"), chat.get("Dendrite")
    if ours and synapse:
        cpu, theirs = _per_message(ours.fixed) or 0.0, _per_message(synapse.fixed) or 0.0
        bound = theirs / 3
        p99_ok = ours.fixed.p99 <= synapse.fixed.p99
        verdict = "met" if cpu <= bound and p99_ok else "missed"
        said.append(
            f"CPU per message at most a third of Synapse's, at equal or better p99: {verdict} "
            f"({cpu:.2f} ms against a bound of {bound:.2f} ms; p99 {ours.fixed.p99:.0f} ms "
            f"against {synapse.fixed.p99:.0f} ms)"
        )
    if ours and dendrite:
        held = ours.held.rate if ours.held else 0.0
        theirs = dendrite.held.rate if dendrite.held else 0.0
        verdict = "met" if held >= theirs else "missed"
        said.append(
            f"At least Dendrite's held rate: {verdict} ({held:.0f}/s against {theirs:.0f}/s)"
        )
    if "QuckChat" in fan_out and "Centrifugo" in fan_out:
        mine = fan_out["QuckChat"].deliveries_per_cpu_second
        half = fan_out["Centrifugo"].deliveries_per_cpu_second / 2
        verdict = "met" if mine >= half else "missed"
        said.append(
            f"Fan-out at least half of Centrifugo's deliveries per CPU-second: {verdict} "
            f"({mine:.0f} against {half:.0f})"
        )
    return said
