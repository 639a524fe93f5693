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

--machinery: the machinery alone, resolvers that write nothing (the same stored member
returned bare, or typed as MemberCreated), in the same transaction per call: the two
alternate call by call and each call is timed, so the database's jitter falls on both
alike; medians of the calls (wall and CPU time) and their differences.
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

    @fraiseql.mutation
    async def bare_none(info) -> Member:
        return STORED_MEMBER

    @fraiseql.mutation
    async def typed_none(info) -> MemberCreated | MemberError:
        return MemberCreated(member=STORED_MEMBER)

    fraiseql.expose(Member, create="createMember", update="updateMember")


# What the no-write resolvers return: a member as the Repository's fast path hands it over.
STORED_MEMBER = {"id": 1, "email": "first@x", "name": "n"}
MACHINERY = [
    ("bare resolver, no write (-> Member)", "mutation { bareNone { id email name } }"),
    (
        "typed result, no write (-> MemberCreated | MemberError)",
        "mutation { typedNone { ... on MemberCreated { member { id email name } } "
        "... on MemberError { code message field } } }",
    ),
]


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


async def machinery(executor: Any, context: Any, calls: int) -> None:
    # Wall time per call, and the process's CPU time (what the machinery itself costs:
    # the database's share and the other processes on the machine left out).
    wall: list[list[float]] = [[] for _ in MACHINERY]
    cpu: list[list[float]] = [[] for _ in MACHINERY]
    for _ in range(calls):
        for i, (_, query) in enumerate(MACHINERY):
            start, start_cpu = time.perf_counter(), time.process_time()
            body = await executor.execute(query, context=context)
            cpu[i].append((time.process_time() - start_cpu) * 1e6)
            wall[i].append((time.perf_counter() - start) * 1e6)
            assert b"errors" not in body, body
    walls = [statistics.median(t) for t in wall]
    cpus = [statistics.median(t) for t in cpu]
    print(f"median of {calls} calls each, us per mutation: wall (vs bare), CPU (vs bare)")
    for (name, _), w, c in zip(MACHINERY, walls, cpus, strict=True):
        print(f"{name:56} {w:8.1f} ({w - walls[0]:+6.1f}) {c:8.1f} ({c - cpus[0]:+6.1f})")


async def main(dsn: str, rounds: int, requests: int, calls: int | None) -> None:
    conn = await fraiseql.connect(dsn)
    await conn.execute(SETUP)
    await conn.close()
    declare()
    pool = await fraiseql.create_pool(dsn, min_size=1, max_size=1)
    executor = fraiseql.Executor()
    await executor.load_commands(pool)
    await pool.execute("INSERT INTO bench_member (email, name) VALUES ('first@x', 'n')")
    context = {"db": pool}
    if calls is not None:
        await machinery(executor, context, calls)
        await pool.close()
        return
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
    parser.add_argument("--machinery", type=int, metavar="CALLS", help="the machinery alone")
    args = parser.parse_args()
    asyncio.run(main(args.dsn, args.rounds, args.requests, args.machinery))
