"""What the typed-result machinery costs a mutation: the same insert and read-back through a
bare resolver (`-> Member`, the seed's createUser pattern) and through a typed result
(`-> MemberCreated | MemberError`, fast path), in process against PostgreSQL.

Run: .venv/bin/python benchmarks/bench_mutations.py --dsn postgresql://... [--rounds 5]
     [--requests 500]
Contenders (CONTENDERS, a list: more may join) are interleaved per round; medians per
mutation, and each one's difference to the first.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

import fraiseql
from fraiseql.repository import Repository

SETUP = """
DROP TABLE IF EXISTS bench_member;
CREATE TABLE bench_member (id serial PRIMARY KEY, email text NOT NULL UNIQUE, name text);
"""


def declare() -> None:
    @fraiseql.type(sql_source="bench_member")
    class Member:
        id: int
        email: str
        name: str | None

    @fraiseql.type
    class MemberCreated:
        member: Member

    @fraiseql.error
    class MemberError:
        code: str
        message: str
        field: str | None = None

    async def insert(info: Any, email: str) -> Any:
        db = info.context["db"]
        new_id = await db.fetchval(
            "INSERT INTO bench_member (email, name) VALUES ($1, 'n') RETURNING id", email
        )
        return await Repository(db, info.context).find_one("bench_member", id=new_id)

    @fraiseql.query
    async def members(info) -> list[Member]:
        return []

    @fraiseql.mutation
    async def bare(info, email: str) -> Member:
        return await insert(info, email)

    @fraiseql.mutation
    async def typed(info, email: str) -> MemberCreated | MemberError:
        return MemberCreated(member=await insert(info, email))


# (name, query): each inserts one member and reads it back
CONTENDERS = [
    ("bare resolver (-> Member)", "mutation($e: String!) { bare(email: $e) { id email name } }"),
    (
        "typed result (-> MemberCreated | MemberError)",
        "mutation($e: String!) { typed(email: $e) { ... on MemberCreated "
        "{ member { id email name } } ... on MemberError { code message field } } }",
    ),
]


async def main(dsn: str, rounds: int, requests: int) -> None:
    conn = await fraiseql.connect(dsn)
    await conn.execute(SETUP)
    await conn.close()
    declare()
    executor = fraiseql.Executor(fraiseql.build_schema())
    pool = await fraiseql.create_pool(dsn, min_size=1, max_size=1)
    context = {"db": pool}
    times: dict[str, list[float]] = {name: [] for name, _ in CONTENDERS}
    serial = 0
    for _ in range(rounds):
        for name, query in CONTENDERS:
            start = time.perf_counter()
            for _ in range(requests):
                serial += 1
                body = await executor.execute(query, {"e": f"m{serial}@x"}, context=context)
            times[name].append((time.perf_counter() - start) / requests * 1e6)
            assert b"errors" not in body, body
    await pool.close()
    base = statistics.median(times[CONTENDERS[0][0]])
    print(f"{'contender':50} {'us/mutation':>12} {'vs first':>10}")
    for name, _ in CONTENDERS:
        median = statistics.median(times[name])
        print(f"{name:50} {median:12.1f} {median - base:+10.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    asyncio.run(main(args.dsn, args.rounds, args.requests))
