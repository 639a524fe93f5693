"""Serving: `fraiseql serve` with and without the access log, and granian, over real HTTP (issue 13).

Run: .venv/bin/python benchmarks/bench_serve.py [--dsn DSN] [--seconds S] [--rounds N]

One server process (one worker) at a time serves benchmarks.bench_app (the demo's API) on
the demo data; wrk (-t1, 10 connections) sends `{ __typename }` (HTTP, parsing and the plan
cache, no database: the serving floor) and the seed's `user(id)` with posts. Per server:
requests/s, p50/p99, and the server's CPU time per request (utime+stime of the process from
/proc, divided by the requests wrk completed). Rounds alternate the servers to spread noise;
the best round of each is printed. granian runs only when it is installed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_graphql import USER_QUERY, free_port, run_wrk, wait_listening  # noqa: E402

from fraiseql.demo import setup  # noqa: E402
from fraiseql.embedded import EmbeddedPostgres  # noqa: E402

APP = "benchmarks.bench_app:app"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def servers(port: int) -> dict[str, list[str]]:
    fraiseql = [sys.executable, "-m", "fraiseql.cli", "serve", APP, "--port", str(port)]
    out = {
        "fraiseql serve": fraiseql,
        "fraiseql serve --access-log": [*fraiseql, "--access-log"],
    }
    granian = shutil.which("granian") or str(Path(sys.executable).with_name("granian"))
    if Path(granian).exists():
        out["granian (asgi, uvloop)"] = [
            granian, "--interface", "asgi", "--host", "127.0.0.1", "--port", str(port),
            "--workers", "1", "--loop", "uvloop", "--no-ws", "--log-level", "warning", APP,
        ]  # fmt: skip
        # Its single-threaded runtime and Rust task implementation: its fastest settings here.
        out["granian (asgi, uvloop, st, rust tasks)"] = [
            *out["granian (asgi, uvloop)"][:-1], "--runtime-mode", "st", "--task-impl", "rust", APP,
        ]  # fmt: skip
    return out


def cpu_seconds(pid: int) -> float:
    """CPU time of a process and its live descendants (granian serves from a child)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    total = (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            total += cpu_seconds(int(child))
    return total


@contextmanager
def serving(command: list[str], port: int, dsn: str) -> Iterator[int]:
    proc = subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, "FRAISEQL_BENCH_DSN": dsn},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    wait_listening(proc, port, command[0])
    try:
        yield proc.pid
    finally:
        proc.terminate()
        proc.wait(30)


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--dsn", help="database holding (or to receive) the demo data")
    p.add_argument("--users", type=int, default=10_000)
    p.add_argument("--posts", type=int, default=200_000)
    p.add_argument("--seconds", type=int, default=5)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--connections", type=int, default=10)
    args = p.parse_args()
    bodies = {
        "{ __typename }": json.dumps({"query": "{ __typename }"}),
        "user(id) with posts": json.dumps({"query": USER_QUERY, "variables": {"id": 0}}).replace(
            '"id": 0', '"id": __ID__'
        ),
    }
    best: dict[tuple[str, str], dict[str, float]] = {}
    with contextmanager(lambda: (yield None))() if args.dsn else EmbeddedPostgres() as pg:
        dsn = args.dsn or pg.create_database("fraiseql_bench")
        asyncio.run(setup(dsn, args.users, args.posts))
        for _ in range(args.rounds):
            port = free_port()
            for name, command in servers(port).items():
                with serving(command, port, dsn) as pid:
                    url = f"http://127.0.0.1:{port}/graphql"
                    for label, body in bodies.items():
                        cpu = cpu_seconds(pid)
                        row = run_wrk(url, body, args.users, args.connections, args.seconds)
                        row["cpu_us"] = (cpu_seconds(pid) - cpu) / (row["rps"] * args.seconds) * 1e6
                        if row["rps"] > best.get((label, name), {"rps": 0})["rps"]:
                            best[(label, name)] = row
    print(
        f"\n## Serving (wrk -t1 -c{args.connections}, one worker, best of {args.rounds} rounds)\n"
    )
    print("| query | server | requests/s | p50 ms | p99 ms | server CPU us/request |")
    print("|---|---|---:|---:|---:|---:|")
    for (label, name), r in sorted(best.items()):
        print(
            f"| {label} | {name} | {r['rps']:.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
            f"{r['cpu_us']:.0f} |"
        )


if __name__ == "__main__":
    main()
