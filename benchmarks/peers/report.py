"""The results of `make bench-peers`: per query and server the timed rounds, or why the cell
failed; written as a section of benchmarks/RESULTS.md (replaced in place) and a PNG plot."""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCHMARKS = Path(__file__).resolve().parents[1]
RESULTS = BENCHMARKS / "RESULTS.md"
PLOT = BENCHMARKS / "peers_filters.png"
TITLE = "## Filters against PostGraphile and Strawberry (make bench-peers)"
CONTENDER = "fraiseql"
TARGET_PEER, TARGET_RATIO = "PostGraphile v5", 5.0  # issue 10's target


@dataclass
class Cell:
    """One query on one server: its request bodies, the timed rounds, or why it failed."""

    bodies: list[str] = field(default_factory=list)
    rounds: list[dict[str, float]] = field(default_factory=list)
    failed: str | None = None

    def fail(self, reason: str) -> None:
        self.failed = self.failed or reason

    def median(self, key: str) -> float:
        return statistics.median(r[key] for r in self.rounds)


def _ratio(cells: dict[tuple[str, str], Cell], query: str, server: str) -> str:
    ours, theirs = cells[(query, CONTENDER)], cells[(query, server)]
    if server == CONTENDER or ours.failed or theirs.failed:
        return ""
    return _times(ours.median("rps") / theirs.median("rps"))


def _times(ratio: float) -> str:
    """A ratio with two significant digits at least (0.02x, 1.5x, 17.7x)."""
    return f"{ratio:.1f}x" if ratio >= 1 else f"{ratio:.2g}x"


def _against(cells: dict[tuple[str, str], Cell], queries: list[str], peer: str) -> list[str]:
    """Per query, fraiseql against `peer` by issue 10's target (5x requests/s, lower p99)."""
    out = [
        f"Against {peer} (target: at least {TARGET_RATIO:g}x its requests/s at a lower p99):",
        "",
    ]
    for q in queries:
        ours, theirs = cells[(q, CONTENDER)], cells[(q, peer)]
        if ours.failed or theirs.failed:
            out.append(f"- {q}: not compared ({CONTENDER if ours.failed else peer} failed)")
            continue
        ratio = ours.median("rps") / theirs.median("rps")
        p99 = ours.median("p99_ms"), theirs.median("p99_ms")
        met = "met" if ratio >= TARGET_RATIO and p99[0] < p99[1] else "not met"
        out.append(f"- {q}: {_times(ratio)}, p99 {p99[0]:.2f} against {p99[1]:.2f} ms: {met}")
    return out


def section(cells: dict[tuple[str, str], Cell], queries: list[str], servers: list[str],
            args: argparse.Namespace, facts: dict[str, str]) -> str:  # fmt: skip
    """The markdown of the section, title included; `facts`: started, load, postgres."""
    lines = [
        TITLE,
        "",
        "Command: `make bench-peers` = `.venv/bin/python benchmarks/peers/run.py "
        f"{' '.join(sys.argv[1:])}`, {facts['started']}; machine: {os.cpu_count()} cores "
        f"({platform.machine()}, a shared VM: load average {facts['load']}), PostgreSQL "
        f"{facts['postgres']} on the same machine, database `{args.database}` "
        f"({args.users:,} users, {args.posts_per_user} posts each). wrk -t1 "
        f"-c{args.connections}, {args.seconds} s per cell and round, {args.rounds} rounds with "
        "the servers interleaved (A B C D, D C B A, ...); figures are medians over rounds. "
        f"Each server answered the same {args.bodies} request bodies per query with the same "
        "rows before it was timed. fraiseql serves the qm_user_summary read model (a user's own "
        "fields, as the peers read them from tb_user), `fraiseql on qm_user` the blog's "
        "documents (each with its 10 latest posts), the peers the tb_ tables "
        "(benchmarks/peers/README.md). Plot: benchmarks/peers_filters.png.",
        "",
        "| query | server | requests/s | p99 ms | CPU us/request: server | database | wrk | "
        f"{CONTENDER} requests/s ÷ server's |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    failures = []
    for q in queries:
        for s in servers:
            c = cells[(q, s)]
            if c.failed:
                lines.append(f"| {q} | {s} | failed | | | | | |")
                failures.append(f"- {q}, {s}: {c.failed}")
            else:
                lines.append(
                    f"| {q} | {s} | {c.median('rps'):.0f} | {c.median('p99_ms'):.2f} | "
                    f"{c.median('cpu_us'):.0f} | {c.median('db_cpu_us'):.0f} | "
                    f"{c.median('wrk_cpu_us'):.0f} | {_ratio(cells, q, s)} |"
                )
    lines += ["", *_against(cells, queries, TARGET_PEER)]
    if failures:
        lines += ["", "Failed cells (not timed):", "", *failures]
    return "\n".join(lines) + "\n"


def replace_section(text: str, new: str) -> str:
    """`text` with the section titled TITLE replaced by `new` (appended when absent)."""
    start = text.find(TITLE + "\n")
    if start < 0:
        return text.rstrip("\n") + "\n\n" + new
    end = text.find("\n## ", start + len(TITLE))
    return text[:start] + new + (text[end:] if end >= 0 else "")


def plot(cells: dict[tuple[str, str], Cell], queries: list[str], servers: list[str]) -> None:
    """Requests/s and p99 per query, one bar per server; a failed cell is marked, not drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 1, figsize=(11, 8), sharex=True)
    width = 0.8 / len(servers)
    for i, s in enumerate(servers):
        xs = [j + (i - (len(servers) - 1) / 2) * width for j in range(len(queries))]
        for ax, key in zip(axes, ("rps", "p99_ms"), strict=True):
            ok = [(x, cells[(q, s)]) for x, q in zip(xs, queries, strict=True)]
            ax.bar(
                [x for x, c in ok if not c.failed],
                [c.median(key) for _, c in ok if not c.failed],
                width,
                label=s,
            )
            for x, c in ok:
                if c.failed:
                    ax.text(x, 0.02, "failed", rotation=90, ha="center", va="bottom",
                            fontsize=7, transform=ax.get_xaxis_transform())  # fmt: skip
    axes[0].set_ylabel("requests/s (median)")
    axes[0].set_yscale("log")
    axes[1].set_ylabel("p99 latency ms (median)")
    axes[1].set_yscale("log")
    axes[0].legend(fontsize=8)
    axes[0].set_title("make bench-peers: wrk -t1, one worker per server, 100,000 users")
    axes[1].set_xticks(range(len(queries)), [q.replace(", ", ",\n") for q in queries], fontsize=7)
    fig.tight_layout()
    fig.savefig(PLOT, dpi=100)
    plt.close(fig)


def write(cells: dict[tuple[str, str], Any], queries: list[str], servers: list[str],
          args: argparse.Namespace, facts: dict[str, str]) -> None:  # fmt: skip
    """The section into RESULTS.md and the plot, and the section on stdout."""
    new = section(cells, queries, servers, args, facts)
    RESULTS.write_text(replace_section(RESULTS.read_text(), new))
    plot(cells, queries, servers)
    print(new)
