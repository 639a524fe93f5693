"""What metrics and tracing cost a fast-path request (issue 13, items 5 and 6).

Run: .venv/bin/python benchmarks/bench_observability.py [--rounds R] [--requests N]

The ASGI app is called in process (no socket, no server) with one POSTed fast-path query
whose resolver returns an in-memory document, so the figure is the app's and executor's own
work, without the database's noise: `create_app()` plain, with `metrics=True`, with
`tracing=True` and no tracer provider configured (the no-op case), and both. Configurations
run in rounds, in a rotating order; the table shows the minimum over rounds of the mean time per
request (the round least disturbed by other processes), its difference from plain, and the
median. The driver's hook (one per database
statement) is timed on its own: the ContextVar lookup and the extra call `request` makes.

Timings on a machine shared with other work wander by more than the costs measured, so
`--count` also counts instructions per request under callgrind (needs valgrind), which
do not: each configuration's count for N requests minus its count for none.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import re
import statistics
import subprocess
import sys
import time
import timeit
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import fraiseql  # noqa: E402
from fraiseql import tracing  # noqa: E402

BODY = json.dumps(
    {"query": "query($id: Int!) { user(id: $id) { id firstName } }", "variables": {"id": 1}}
).encode()
SCOPE = {
    "type": "http",
    "method": "POST",
    "path": "/graphql",
    "root_path": "",
    "query_string": b"",
    "headers": [(b"content-type", b"application/json"), (b"accept", b"application/json")],
}
CONFIGS = {
    "plain": {},
    "metrics=True": {"metrics": True},
    "tracing=True, no provider": {"tracing": True},
    "both": {"metrics": True, "tracing": True},
}


def declare() -> None:
    fraiseql.reset_registry()

    @fraiseql.type
    class User:
        id: int
        first_name: str

    @fraiseql.query
    async def user(info, id: int) -> User:
        return {"id": id, "first_name": "Ann"}


async def per_request(app: Any, n: int) -> float:
    """Mean seconds per request over n requests."""
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": BODY, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    start = time.perf_counter()
    for _ in range(n):
        await app(SCOPE, receive, send)
    elapsed = time.perf_counter() - start
    assert sent[-1]["body"] == b'{"data":{"user":{"id":1,"firstName":"Ann"}}}', sent[-1]
    return elapsed / n


async def serve_only(name: str, n: int) -> None:
    """The child under callgrind: n requests to one configuration, after the same warm-up."""
    declare()
    app = fraiseql.create_app(**CONFIGS[name])
    await per_request(app, 500)
    if n:
        await per_request(app, n)


def instructions(name: str, n: int) -> int:
    run = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
         __file__, "--run", name, "--requests", str(n)],
        capture_output=True, text=True, check=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},  # dict layouts, hence counts, repeat
    )  # fmt: skip
    return int(re.search(r"refs:\s+([\d,]+)", run.stderr).group(1).replace(",", ""))


async def run(rounds: int, n: int) -> dict[str, list[float]]:
    declare()
    apps = {name: fraiseql.create_app(**options) for name, options in CONFIGS.items()}
    for app in apps.values():
        await per_request(app, 500)  # warm: plans, variants, caches
    means: dict[str, list[float]] = {name: [] for name in apps}
    order = list(apps)
    for i in range(rounds):
        for name in (
            order[i % len(order) :] + order[: i % len(order)]
        ):  # rotated: no config always first
            gc.collect()
            means[name].append(await per_request(apps[name], n))
    return means


def driver_hook_ns(number: int = 1_000_000) -> tuple[float, float]:
    """ns of the ContextVar lookup, and of a call returning the coroutine it is given (what
    Connection.request adds in front of _request when untraced)."""
    get = tracing.current.get

    def request(x: Any) -> Any:
        tracer = get()
        return x if tracer is None else None

    lookup = timeit.timeit(get, number=number) / number * 1e9
    wrapped = timeit.timeit(lambda: request(1), number=number) / number * 1e9
    bare = timeit.timeit(lambda: 1, number=number) / number * 1e9
    return lookup, wrapped - bare


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--rounds", type=int, default=60)
    p.add_argument("--requests", type=int, default=1000)
    p.add_argument("--count", action="store_true", help="also count instructions (valgrind)")
    p.add_argument("--run", help=argparse.SUPPRESS)  # the child under valgrind
    args = p.parse_args()
    if args.run:
        asyncio.run(serve_only(args.run, args.requests))
        return
    means = asyncio.run(run(args.rounds, args.requests))
    # The minimum over rounds: on a shared machine, the round least disturbed by others.
    base = min(means["plain"])
    print(f"{'configuration':<28} {'us/request':>11} {'vs plain, ns':>13} {'median us':>10}")
    for name, values in means.items():
        best = min(values)
        print(
            f"{name:<28} {best * 1e6:>11.2f} {(best - base) * 1e9:>+13.0f} "
            f"{statistics.median(values) * 1e6:>10.2f}"
        )
    if args.count:
        counts = {
            name: (instructions(name, args.requests) - instructions(name, 0)) / args.requests
            for name in CONFIGS
        }
        print(f"{'configuration':<28} {'instructions/request':>21} {'vs plain':>9}")
        for name, count in counts.items():
            print(f"{name:<28} {count:>21,.0f} {count - counts['plain']:>+9,.0f}")
    lookup, call = driver_hook_ns()
    print(f"driver hook per statement: ContextVar.get {lookup:.0f} ns, wrapper call {call:.0f} ns")


if __name__ == "__main__":
    main()
