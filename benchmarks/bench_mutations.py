"""What the typed-result machinery costs a mutation: the same insert and read-back through a
bare resolver (`-> Member`, the seed's createUser pattern), through a typed result
(`-> MemberCreated | MemberError`, fast path) and through the generated typed createMember;
the same update and read-back through a bare resolver and the generated typed updateMember;
in process against PostgreSQL.

Run: .venv/bin/python benchmarks/bench_mutations.py --dsn postgresql://... [--rounds 5]
     [--requests 500]   (a database of its own: it drops and creates bench_member; with
     synchronous_commit off on it the commit's flush no longer hides the difference)
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

    @fraiseql.mutation
    async def bare_rename(info, id: int, name: str) -> Member | None:
        db = info.context["db"]
        key = await db.fetchval(
            "UPDATE bench_member SET name = $2 WHERE id = $1 RETURNING id", id, name
        )
        return await Repository(db, info.context).find_one("bench_member", id=key)

    fraiseql.expose(Member, create="createMember", update="updateMember")


def _create(serial: int) -> dict[str, Any]:
    return {"e": f"m{serial}@x"}


def _rename(serial: int) -> dict[str, Any]:
    return {"id": 1, "n": f"n{serial}"}


# (name, query, its variables for the nth call): each writes one member and reads it back;
# each typed contender's difference is to the bare one of its kind (create, update) before it.
CONTENDERS = [
    (
        "create: bare resolver (-> Member)",
        "mutation($e: String!) { bare(email: $e) { id email name } }",
        _create,
    ),
    (
        "create: typed result (-> MemberCreated | MemberError)",
        "mutation($e: String!) { typed(email: $e) { ... on MemberCreated "
        "{ member { id email name } } ... on MemberError { code message field } } }",
        _create,
    ),
    (
        "create: generated typed createMember",
        'mutation($e: String!) { createMember(input: {email: $e, name: "n"}) { '
        "... on CreateMemberSuccess { member { id email name } } "
        "... on CreateMemberError { code message field } } }",
        _create,
    ),
    (
        "update: bare resolver (-> Member)",
        "mutation($id: Int!, $n: String!) { bareRename(id: $id, name: $n) { id email name } }",
        _rename,
    ),
    (
        "update: generated typed updateMember",
        "mutation($id: Int!, $n: String!) { updateMember(id: $id, input: {name: $n}) { "
        "... on UpdateMemberSuccess { member { id email name } } "
        "... on UpdateMemberError { code message field } } }",
        _rename,
    ),
]


async def main(dsn: str, rounds: int, requests: int) -> None:
    conn = await fraiseql.connect(dsn)
    await conn.execute(SETUP)
    await conn.close()
    declare()
    pool = await fraiseql.create_pool(dsn, min_size=1, max_size=1)
    executor = fraiseql.Executor()
    await executor.load_commands(pool)
    await pool.execute("INSERT INTO bench_member (email, name) VALUES ('first@x', 'n')")
    context = {"db": pool}
    times: dict[str, list[float]] = {name: [] for name, _, _ in CONTENDERS}
    serial = 0
    for _ in range(rounds):
        for name, query, variables in CONTENDERS:
            start = time.perf_counter()
            for _ in range(requests):
                serial += 1
                body = await executor.execute(query, variables(serial), context=context)
            times[name].append((time.perf_counter() - start) / requests * 1e6)
            assert b"errors" not in body and b"Error" not in body, body
    await pool.close()
    print(f"{'contender':56} {'us/mutation':>12} {'vs bare':>10}")
    base = 0.0
    for name, _, _ in CONTENDERS:
        median = statistics.median(times[name])
        if "bare" in name:
            base = median
        print(f"{name:56} {median:12.1f} {median - base:+10.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    asyncio.run(main(args.dsn, args.rounds, args.requests))
