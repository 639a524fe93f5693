"""Benchmark of the generated read API on 100,000 qm_user documents (issue 10).

Run: .venv/bin/python benchmarks/bench_filters.py --dsn postgresql://.../fq_filters [--n 2000]

The database is benchmarks/peers/dataset.py's (100,000 users; `make bench-peers` loads it).
For each query -- an indexed `where` equality, a range with `orderBy` and `limit: 20`, a
connection page with `after`, the same with `totalCount` -- it times `Executor.execute`
(the demo's `allUsers`/`usersConnection` from fraiseql.expose: plan cache, generated
arguments, Repository, C rewrite from libpq) against the bare
`fetch_json` of the very SQL and parameters the Repository sent for the same values
(captured beforehand, request by request), interleaved call by call; medians of per-call
times, and their ratio (target <= 1.3x).
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
from fraiseql.db import create_pool  # noqa: E402

FIELDS = "id firstName lastName email createdAt"
QUERIES = {
    "where email eq (indexed)": (
        f"query($e: String!) {{ allUsers(where: {{email: {{eq: $e}}}}) {{ {FIELDS} }} }}",
        lambda rng: {"e": f"user{rng.randint(1, 100_000)}@example.com"},
    ),
    "createdAt range, orderBy DESC, limit 20": (
        "query($t: DateTime!) { allUsers(where: {createdAt: {gte: $t}}, "
        f"orderBy: [{{createdAt: DESC}}], limit: 20) {{ {FIELDS} }} }}",
        lambda rng: {"t": "2024-01-01T00:00:00Z"},
    ),
    "connection first 20 after": (
        "query($c: String) { usersConnection(first: 20, after: $c) { edges { cursor node "
        f"{{ {FIELDS} }} }} pageInfo {{ hasNextPage endCursor }} }} }}",
        None,  # the cursor of a random earlier page
    ),
    "connection first 20 after + totalCount": (
        "query($c: String) { usersConnection(first: 20, after: $c) { totalCount edges { cursor "
        f"node {{ {FIELDS} }} }} pageInfo {{ hasNextPage endCursor }} }} }}",
        None,
    ),
}


class Capture:
    """The pool, recording the statement each fetch_json sends (to replay it bare)."""

    def __init__(self, pool: Any) -> None:
        self.pool, self.view_cache, self.sent = pool, pool.view_cache, []

    async def fetch_json(self, sql: str, *args: Any, **kw: Any) -> Any:
        self.sent.append((sql, args, kw))
        return await self.pool.fetch_json(sql, *args, **kw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.pool, name)


async def cursors(executor: Any, context: Any, count: int) -> list[str]:
    """End cursors of pages spread over the first `count` rows."""
    query = "query($n: Int) { usersConnection(first: $n) { edges { cursor } } }"
    body = await executor.execute(query, {"n": count}, context=context)

    edges = json.loads(body)["data"]["usersConnection"]["edges"]
    return [e["cursor"] for e in edges[19::20]]


async def bench(dsn: str, n: int) -> list[dict[str, Any]]:
    from fraiseql.examples import blog_api, blog_expose  # noqa: F401 - the demo's API

    executor = fraiseql.Executor()
    rows = []
    async with create_pool(dsn, min_size=1, max_size=1) as pool:
        context = {"db": pool}
        after = await cursors(executor, context, 1000)
        for label, (query, make) in QUERIES.items():
            rng = random.Random(7)

            def variables() -> dict[str, Any]:
                return make(rng) if make else {"c": rng.choice(after)}

            # Each timed request's values drawn beforehand, and the statement and parameters
            # the Repository sends for them captured: the bare call binds the same values.
            draws = [variables() for _ in range(n)]
            capture = Capture(pool)
            for values in draws:
                await executor.execute(query, values, context={"db": capture})
            assert len(capture.sent) == n, "one statement per request"

            async def execute(i: int) -> bytes:
                return await executor.execute(query, draws[i], context=context)

            async def bare(i: int) -> bytes:
                sql, args, kw = capture.sent[i]
                return await pool.fetch_json(sql, *args, **kw)

            paths = {"bare fetch_json": bare, "execute": execute}
            samples: dict[str, list[int]] = {name: [] for name in paths}
            order = list(paths)
            for i in range(n):
                rng.shuffle(order)
                for name in order:
                    t = time.perf_counter_ns()
                    await paths[name](i)
                    samples[name].append(time.perf_counter_ns() - t)
            floor = statistics.median(samples["bare fetch_json"]) / 1000
            median = statistics.median(samples["execute"]) / 1000
            rows.append({"query": label, "bare": floor, "execute": median})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--n", type=int, default=2000, help="calls per path and query")
    args = parser.parse_args()
    rows = asyncio.run(bench(args.dsn, args.n))
    print("| query | bare fetch_json (us) | execute (us) | execute / fetch_json |")
    print("|---|---:|---:|---:|")
    for r in rows:
        ratio = r["execute"] / r["bare"]
        print(f"| {r['query']} | {r['bare']:.1f} | {r['execute']:.1f} | {ratio:.2f}x |")


if __name__ == "__main__":
    main()
