"""Benchmark of the write side (issue 11): generated commands against the hand-written
resolver doing the same SQL, and against Strawberry doing the same write and read-back.

Run: .venv/bin/python benchmarks/bench_commands.py [--dsn DSN] [--quick] [--no-http]

Contenders, on the demo's blog (tb_user with its qm_user triggers):
- create: the generated `createUser(input:)`, the seed's hand-written `createUserByHand`
  (INSERT, then the qm_user document), Strawberry's `createUser` (asyncpg: INSERT, then the
  row read back; benchmarks/peers/strawberry_commands_app.py);
- update: the generated `updateUser(id:, input: {lastName:})`, the hand-written
  `renameUser` (benchmarks/bench_commands_app.py: UPDATE, then the document), Strawberry's
  `renameUser`. Every call writes a new last name, so every call rebuilds a document.

1. In process, one client: per-mutation time through the executor with a pool (one
   connection and transaction per mutation, as over HTTP), Strawberry's `schema.execute`
   with an asyncpg pool. Rounds interleave the contenders; medians over rounds, and the
   generated/hand-written ratio of each round's pair (its median).
2. Over HTTP with wrk at 10 connections (one uvicorn worker each): requests/s, p50, p99.

The database commits with synchronous_commit off (unless --sync-commit): on a shared
machine a COMMIT's flush takes milliseconds and varies more than the layers compared.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_graphql import _server, run_wrk  # noqa: E402 - the wrk runs bench_graphql makes

from fraiseql.demo import setup  # noqa: E402
from fraiseql.embedded import EmbeddedPostgres  # noqa: E402

FIELDS = "id firstName lastName email createdAt"
CREATE_VARS = "$f: String!, $l: String!, $e: String!"
CREATES = {
    "generated createUser": f"mutation({CREATE_VARS}) {{ createUser(input: {{firstName: $f, "
    f"lastName: $l, email: $e}}) {{ ... on CreateUserSuccess {{ user {{ {FIELDS} }} }} "
    "... on CreateUserError { code message field } } }",
    "hand-written createUserByHand": f"mutation({CREATE_VARS}) {{ createUserByHand("
    f"firstName: $f, lastName: $l, email: $e) {{ {FIELDS} }} }}",
}
UPDATES = {
    "generated updateUser": "mutation($id: Int!, $l: String!) { updateUser(id: $id, "
    f"input: {{lastName: $l}}) {{ ... on UpdateUserSuccess {{ user {{ {FIELDS} }} }} "
    "... on UpdateUserError { code message field currentVersion } } }",
    "hand-written renameUser": "mutation($id: Int!, $l: String!) { renameUser(id: $id, "
    f"lastName: $l) {{ {FIELDS} }} }}",
}
STRAWBERRY = {
    "create": f"mutation({CREATE_VARS}) {{ createUser(firstName: $f, lastName: $l, email: $e) "
    f"{{ {FIELDS} }} }}",
    "update": "mutation($id: Int!, $l: String!) { renameUser(id: $id, lastName: $l) "
    f"{{ {FIELDS} }} }}",
}
STRAWBERRY_NAME = "strawberry+asyncpg"


class Values:
    """Fresh variables per call: unique emails, a new last name, the next user."""

    def __init__(self, users: int) -> None:
        self.users = users
        self.n = 0
        self.token = secrets.token_hex(4)

    def create(self) -> dict[str, Any]:
        self.n += 1
        return {"f": "Bench", "l": "Mark", "e": f"bench-{self.token}-{self.n}@example.com"}

    def update(self) -> dict[str, Any]:
        self.n += 1
        return {"id": 1 + self.n % self.users, "l": f"L{self.token}{self.n}"}


# ---------------------------------------------------------------- in process


async def in_process(dsn: str, users: int, n: int, rounds: int) -> list[dict[str, Any]]:
    import asyncpg

    import fraiseql

    os.environ["FRAISEQL_BENCH_DSN"] = dsn
    from benchmarks import bench_commands_app
    from benchmarks.peers import strawberry_commands_app

    executor = bench_commands_app.app.executor
    pool = await fraiseql.create_pool(dsn, min_size=1, max_size=2)
    apg = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    await executor.load_commands(pool)
    values = Values(users)

    async def ours(query: str, make: Any) -> None:
        body = await executor.execute(query, make(), context={"db": pool})
        assert b'"errors"' not in body, body

    async def strawberry(query: str, make: Any) -> None:
        result = await strawberry_commands_app.schema.execute(
            query, variable_values=make(), context_value={"pool": apg}
        )
        assert not result.errors, result.errors

    contenders = [
        *(("create", name, ours, q, values.create) for name, q in CREATES.items()),
        ("create", STRAWBERRY_NAME, strawberry, STRAWBERRY["create"], values.create),
        *(("update", name, ours, q, values.update) for name, q in UPDATES.items()),
        ("update", STRAWBERRY_NAME, strawberry, STRAWBERRY["update"], values.update),
    ]
    per_round: dict[tuple[str, str], list[float]] = {(c[0], c[1]): [] for c in contenders}
    try:
        for _ in range(max(n // 20, 10)):  # warm: plans, prepared statements, caches
            for _, _, run, query, make in contenders:
                await run(query, make)
        for _ in range(rounds):
            for kind, name, run, query, make in contenders:
                start = time.perf_counter()
                for _ in range(n):
                    await run(query, make)
                per_round[(kind, name)].append((time.perf_counter() - start) / n * 1e6)
    finally:
        await pool.close()
        await apg.close()
    rows = []
    for (kind, name), times in per_round.items():
        generated = next(k for k in per_round if k[0] == kind and k[1].startswith("generated"))
        hand = next(k for k in per_round if k[0] == kind and k[1].startswith("hand-written"))
        ratios = [a / b for a, b in zip(times, per_round[hand], strict=True)]
        rows.append(
            {
                "kind": kind,
                "name": name,
                "us": statistics.median(times),
                "vs_hand": statistics.median(ratios),
                "gen_minus_hand": statistics.median(
                    a - b for a, b in zip(per_round[generated], per_round[hand], strict=True)
                ),
            }
        )
    return rows


def print_in_process(rows: list[dict[str, Any]], n: int, rounds: int) -> None:
    print(f"\n## In process, one client ({rounds} rounds of {n} mutations, medians)\n")
    print("| mutation | contender | us per mutation | / hand-written (same rounds) |")
    print("|---|---|---:|---:|")
    for r in rows:
        print(f"| {r['kind']} | {r['name']} | {r['us']:.0f} | {r['vs_hand']:.2f}x |")
    for kind in dict.fromkeys(r["kind"] for r in rows):
        row = next(r for r in rows if r["kind"] == kind)
        print(
            f"\n{kind}: generated minus hand-written, median of rounds: {row['gen_minus_hand']:.1f} us"
        )


# ---------------------------------------------------------------- HTTP with wrk


def _body(query: str, kind: str) -> str:
    variables = (
        {"f": "Bench", "l": "Mark", "e": "w-__N__@example.com"}
        if kind == "create"
        else {"id": 0, "l": "L__N__"}
    )
    return json.dumps({"query": query, "variables": variables}).replace('"id": 0', '"id": __ID__')


def over_http(dsn: str, users: int, seconds: int, connections: int) -> list[dict[str, Any]]:
    env = {"FRAISEQL_BENCH_DSN": dsn}
    servers = {
        "fraiseql": ("benchmarks.bench_commands_app:app", {**CREATES, **UPDATES}),
        STRAWBERRY_NAME: (
            "benchmarks.peers.strawberry_commands_app:app",
            {f"{STRAWBERRY_NAME} {k}": q for k, q in STRAWBERRY.items()},
        ),
    }
    rows = []
    for server, (app, queries) in servers.items():
        with _server(app, env) as url:
            for name, query in queries.items():
                kind = (
                    "create" if "create" in name.lower() or "insert" in name.lower() else "update"
                )
                rows.append(
                    {
                        "kind": kind,
                        "name": name if server == "fraiseql" else STRAWBERRY_NAME,
                        **run_wrk(url, _body(query, kind), users, connections, seconds),
                    }
                )
    return rows


def print_http(rows: list[dict[str, Any]], connections: int) -> None:
    print(f"\n## Over HTTP (wrk -t1 -c{connections}, one uvicorn worker)\n")
    print("| mutation | contender | requests/s | p50 ms | p99 ms |")
    print("|---|---|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['kind']} | {r['name']} | {r['rps']:.0f} | {r['p50_ms']:.2f} | "
            f"{r['p99_ms']:.2f} |"
        )


async def _commit_asynchronously(dsn: str) -> None:
    import fraiseql

    conn = await fraiseql.connect(dsn)
    try:
        name = await conn.fetchval("SELECT current_database()")
        await conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit TO off')
    finally:
        await conn.close()


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--dsn", help="database holding (or to receive) the demo data; default: embedded"
    )
    p.add_argument("--users", type=int, default=10_000)
    p.add_argument("--posts", type=int, default=100_000)
    p.add_argument("--quick", action="store_true", help="fewer iterations (a smoke run)")
    p.add_argument("--no-http", action="store_true", help="skip the wrk part")
    p.add_argument("--connections", type=int, default=10)
    p.add_argument("--seconds", type=int, default=10)
    p.add_argument("--sync-commit", action="store_true", help="keep synchronous_commit on")
    args = p.parse_args()
    n, rounds = (50, 2) if args.quick else (500, 5)
    with contextmanager(lambda: (yield args.dsn))() if args.dsn else EmbeddedPostgres() as pg:
        dsn = args.dsn or pg.create_database("fraiseql_bench_commands")
        t = time.perf_counter()
        asyncio.run(setup(dsn, args.users, args.posts))
        print(
            f"data ready ({args.users} users, {args.posts} posts) in {time.perf_counter() - t:.0f} s"
        )
        print_in_process(asyncio.run(in_process(dsn, args.users, n, rounds)), n, rounds)
        if not args.no_http:
            seconds = 3 if args.quick else args.seconds
            print_http(over_http(dsn, args.users, seconds, args.connections), args.connections)


if __name__ == "__main__":
    main()
