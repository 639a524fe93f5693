"""The pool's pipeline_wait, on and off: requests/s of 10 concurrent clients in process.

Run: .venv/bin/python benchmarks/bench_pipeline_wait.py --dsn postgresql://.../fq_peers
     [--queries page,total,range,email] [--rounds 3] [--seconds 4]

The database is benchmarks/peers/dataset.py's (the blog at 100,000 users). Ten tasks run
`Executor.execute` of the demo's generated read API on qm_user (fraiseql.expose: a connection
page, the same with totalCount, a range with orderBy and limit 20, an email equality)
through one pool, for `--seconds` per cell: with pipeline_wait=1e9 (the pool before it: a
pipeline takes up to pipeline_depth requests, however slow) and with the default (2 ms),
alternating which goes first in each round. Prints requests/s per cell, the connections
the pool had opened at the end, and the medians' ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import fraiseql  # noqa: E402
import fraiseql.examples.blog_api  # noqa: E402, F401  (the schema of the demo)
import fraiseql.examples.blog_expose  # noqa: E402, F401  (and its generated read API)
from fraiseql.executor import default_executor  # noqa: E402

FIELDS = "id firstName lastName email createdAt"
PAGE = f"edges {{ cursor node {{ {FIELDS} }} }} pageInfo {{ hasNextPage endCursor }}"
QUERIES = {
    "page": f"query($c: String) {{ usersConnection(first: 20, after: $c) {{ {PAGE} }} }}",
    "total": (
        f"query($c: String) {{ usersConnection(first: 20, after: $c) {{ totalCount {PAGE} }} }}"
    ),
    "range": (
        "query($t: DateTime!) { allUsers(where: {createdAt: {gte: $t}}, "
        f"orderBy: [{{createdAt: DESC}}], limit: 20) {{ {FIELDS} }} }}"
    ),
    "email": f"query($e: String!) {{ allUsers(where: {{email: {{eq: $e}}}}) {{ {FIELDS} }} }}",
}
BEFORE, DEFAULT = 1e9, 0.002  # pipeline_wait values compared


async def _cursors(executor: Any, context: Any) -> list[str]:
    """The cursors of the first 1,000 users: where the pages start."""
    first = "{ usersConnection(first: 1000) { edges { cursor } } }"
    edges = json.loads(await executor.execute(first, None, context=context))
    return [e["cursor"] for e in edges["data"]["usersConnection"]["edges"]]


async def cell(dsn: str, wait: float, name: str, seconds: float) -> tuple[float, int]:
    """Requests/s of 10 clients sending `name` through a new pool, and its size at the end."""
    async with fraiseql.create_pool(dsn, pipeline_wait=wait) as pool:
        executor, context = default_executor(), {"db": pool}
        cursors = await _cursors(executor, context) if name in ("page", "total") else []
        rng = random.Random(1)

        def values() -> dict[str, Any]:
            if name == "email":
                return {"e": f"user{rng.randint(1, 100_000)}@example.com"}
            if name == "range":
                return {"t": "2024-01-01T00:00:00Z"}
            return {"c": rng.choice(cursors)}

        done = 0
        stop = time.monotonic() + seconds

        async def client() -> None:
            nonlocal done
            while time.monotonic() < stop:
                await executor.execute(QUERIES[name], values(), context=context)
                done += 1

        start = time.monotonic()
        await asyncio.gather(*(client() for _ in range(10)))
        return done / (time.monotonic() - start), pool.size


async def main(dsn: str, names: list[str], rounds: int, seconds: float) -> None:
    rates: dict[tuple[str, float], list[float]] = {}
    for r in range(rounds):
        for name in names:
            for wait in (BEFORE, DEFAULT) if r % 2 == 0 else (DEFAULT, BEFORE):
                rps, size = await cell(dsn, wait, name, seconds)
                rates.setdefault((name, wait), []).append(rps)
                label = "before" if wait == BEFORE else "pipeline_wait"
                print(f"round {r + 1} {name} {label}: {rps:.0f}/s, {size} connections")
    print("| query | before (requests/s) | pipeline_wait=2 ms | ratio |\n|---|---:|---:|---:|")
    for name in names:
        before = statistics.median(rates[(name, BEFORE)])
        after = statistics.median(rates[(name, DEFAULT)])
        print(f"| {name} | {before:.0f} | {after:.0f} | {after / before:.2f}x |")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--dsn", required=True)
    p.add_argument("--queries", default=",".join(QUERIES))
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seconds", type=float, default=4.0)
    args = p.parse_args()
    asyncio.run(main(args.dsn, args.queries.split(","), args.rounds, args.seconds))
