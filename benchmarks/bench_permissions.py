"""What fraiseql.requires costs a fast-path request: the same stored document and selection
with no guarded field, with one guarded field a sync predicate allows, with one an async
predicate allows, and refused (graphql-core then answers). No database: the resolver returns
the stored JSON text itself, so the figures are the executor's own.

Run: .venv/bin/python benchmarks/bench_permissions.py [--rounds 5] [--requests 20000]
Contenders are interleaved per round; medians and ratios to the unguarded request.
`--case N --rounds 1` runs only the Nth contender, for counting its instructions under
callgrind (the count at two --requests values, subtracted: timings swing on a shared machine).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from typing import Annotated, Any

import fraiseql
from fraiseql.current import current_field

DOCUMENT = json.dumps(
    {
        "id": 1,
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.org",
        "phone": "+44 20 0000 0000",
        "user_posts": [{"id": i, "title": f"Post {i}"} for i in range(10)],
    }
).encode()


def staff(info: Any) -> bool:
    return info.context["role"] == "staff"


async def staff_async(info: Any) -> bool:
    return info.context["role"] == "staff"


@fraiseql.type(sql_source="qm_user")
class Post:
    id: int
    title: str


@fraiseql.type(sql_source="qm_user")
class User:
    id: int
    first_name: str
    last_name: str
    email: Annotated[str, fraiseql.requires(staff_async)]
    phone: Annotated[str, fraiseql.requires(staff)]
    user_posts: list[Post]


@fraiseql.query
async def user(info: Any, id: int) -> User:
    # What the Repository does: the stored text, rewritten in C on the fast path.
    selection = current_field.get().selection  # type: ignore[union-attr]
    return fraiseql.rewrite(DOCUMENT, selection) if selection is not None else DOCUMENT


BASE = "id firstName lastName userPosts { id title }"
CASES = {
    "no guarded field": (f"{{ user(id: 1) {{ {BASE} }} }}", "staff"),
    "guarded, sync predicate allows": (f"{{ user(id: 1) {{ {BASE} phone }} }}", "staff"),
    "guarded, async predicate allows": (f"{{ user(id: 1) {{ {BASE} email }} }}", "staff"),
    "guarded, refused (graphql-core)": (f"{{ user(id: 1) {{ {BASE} phone }} }}", "guest"),
}


async def per_request(executor: Any, query: str, role: str, n: int) -> float:
    context = {"role": role}
    start = time.perf_counter()
    for _ in range(n):
        await executor.execute(query, context=context)
    return (time.perf_counter() - start) / n * 1e6


async def main(rounds: int, requests: int, case: int | None) -> None:
    executor = fraiseql.Executor(fraiseql.build_schema())
    for query, role in CASES.values():  # plans cached, answers checked
        body = await executor.execute(query, context={"role": role})
        assert (b"FORBIDDEN" in body) == (role == "guest"), body
    if case is not None:
        await per_request(executor, *list(CASES.values())[case], requests)
        return
    figures: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(rounds):
        for name, (query, role) in CASES.items():
            n = requests if role == "staff" else requests // 10
            figures[name].append(await per_request(executor, query, role, n))
    base = statistics.median(figures["no guarded field"])
    print(f"{'request':<36}{'median us':>12}{'ratio':>8}   rounds")
    for name, values in figures.items():
        median = statistics.median(values)
        spread = " ".join(f"{v:.1f}" for v in values)
        print(f"{name:<36}{median:>12.2f}{median / base:>8.2f}   {spread}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--case", type=int, choices=range(len(CASES)))
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.requests, args.case))
