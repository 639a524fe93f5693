"""EXPLAIN ANALYZE of a connection page after a cursor deep in qm_user (issue 10 item 7).

Run: .venv/bin/python benchmarks/explain_deep_cursor.py --dsn postgresql://.../db [--at 90000]
(with another checkout's .venv/bin/python, that checkout's fraiseql runs it)

On a blog database of 100,000 users (bench_filters.py's), for the demo's `usersConnection`
ordered by id and by createdAt DESC: the statement the Repository sends for
`first: 20, after: <cursor of user --at>` (captured as bench_filters does), its execution
time, and each scan of the read model with the rows it returned and its filter removed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Iterator
from typing import Any

# fraiseql as installed in the interpreter's environment (no sys.path change), so another
# checkout's .venv runs this script on its own code: before/after figures.
import fraiseql
from fraiseql.db import create_pool


class FirstStatement:
    """The pool, keeping the first statement sent through fetch_json (and sending it)."""

    def __init__(self, pool: Any) -> None:
        self.pool, self.view_cache, self.statement = pool, pool.view_cache, None

    async def fetch_json(self, sql: str, *args: Any, **kw: Any) -> Any:
        self.statement = self.statement or (sql, args)
        return await self.pool.fetch_json(sql, *args, **kw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.pool, name)


ORDERS = {"by id": "", "createdAt DESC": ", orderBy: [{createdAt: DESC}]"}


def scans(plan: dict) -> Iterator[dict]:
    if "Relation Name" in plan:
        yield plan
    for child in plan.get("Plans", ()):
        yield from scans(child)


async def explain(dsn: str, at: int) -> None:
    from fraiseql.examples import blog_api, blog_expose  # noqa: F401 - the demo's API

    executor = fraiseql.Executor()
    async with create_pool(dsn, min_size=1, max_size=1) as pool:
        for label, order in ORDERS.items():
            first = f"{{ usersConnection(first: 1, where: {{id: {{eq: {at}}}}}{order}) {{ edges {{ cursor }} }} }}"
            out = json.loads(await executor.execute(first, context={"db": pool}))
            cursor = out["data"]["usersConnection"]["edges"][0]["cursor"]
            capture = FirstStatement(pool)
            page = (
                f"{{ usersConnection(first: 20, after: {json.dumps(cursor)}{order}) "
                "{ edges { node { id } } pageInfo { hasNextPage hasPreviousPage } } }"
            )
            await executor.execute(page, context={"db": capture})
            sql, args = capture.statement  # type: ignore[misc]
            plan = (await pool.fetchval("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, *args))[0]
            nodes = "; ".join(
                f"{n['Node Type']} {n.get('Index Name', '')} rows={n['Actual Rows']} "
                f"removed={n.get('Rows Removed by Filter', 0)}"
                for n in scans(plan["Plan"])
            )
            print(f"| {label} | {plan['Execution Time']:.2f} ms | {nodes} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--at", type=int, default=90_000, help="the user whose cursor to follow")
    args = parser.parse_args()
    asyncio.run(explain(args.dsn, args.at))


if __name__ == "__main__":
    main()
