"""What a driver adds above the database: fraiseql's C path vs asyncpg and psycopg 3.

The query is the seed's hot read, `SELECT data FROM qm_user WHERE id = $1` on the blog
example (10,000 users, 200,000 posts, qm_user documents holding the 10 latest posts), and
the response is the GraphQL shape {__typename, id, firstName, lastName, email, userPosts
{id, title}} as JSON bytes. Compared in the same run:

  floor      pgbench -M prepared on the same SQL (no Python at all)
  asyncpg    pool (reset on release disabled) + prepared fetchval + orjson.loads
             + precomputed field lists + orjson.dumps
  psycopg    psycopg 3 async (a queue of connections), prepare=True, jsonb as text,
             same transform
  fetch_json fraiseql: pool.fetch_json(sql, id, selection=...) (rewritten in C from PQgetvalue)
  find_one   fraiseql: Repository(pool).find_one("qm_user", id=...) with a selection active

Latency: one task, sequential requests; each round runs pgbench, then every contender on the
same ids in 10 interleaved slices (order rotated); the table shows the median over all slices
of the mean per request, and the floor as the median of pgbench's average latency per round.
Throughput: 64 tasks on 2 and on 8 connections, requests per second (median over rounds); fraiseql once with shared
pipelined connections (the pool's default for reads) and once with one connection held per
request (`acquire`), which is what pipelining is measured against.

    python benchmarks/bench_repository.py [--dsn DSN] [--rounds 5] [--requests 5000] [--seconds 2]

Without --dsn an embedded cluster is started and loaded (about 10 s).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable

import asyncpg
import orjson
import psycopg
from psycopg.types.string import TextLoader

import fraiseql
from fraiseql.embedded import EmbeddedPostgres, find_bindir
from fraiseql.examples import blog
from fraiseql.repository import Repository, current_selection

SQL = "SELECT data FROM qm_user WHERE id = $1"
USERS = 10_000

SELECTION = fraiseql.Selection(
    "User",
    [
        ("__typename", None, None),
        ("id", "id", None, fraiseql.FIELD_ID),
        ("firstName", "first_name", None),
        ("lastName", "last_name", None),
        ("email", "email", None),
        (
            "userPosts",
            "user_posts",
            fraiseql.Selection(
                "Post", [("id", "id", None, fraiseql.FIELD_ID), ("title", "title", None)]
            ),
        ),
    ],
)

# The best pure-Python transform (DESIGN.md §2): field lists precomputed once per level.
_USER_FIELDS = (("firstName", "first_name"), ("lastName", "last_name"), ("email", "email"))
_POST_FIELDS = (("title", "title"),)


def transform(text: str | bytes) -> bytes:
    doc = orjson.loads(text)
    out = {"__typename": "User", "id": str(doc["id"])}
    for key, src in _USER_FIELDS:
        out[key] = doc.get(src)
    posts = doc.get("user_posts")
    out["userPosts"] = (
        None
        if posts is None
        else [{"id": str(p["id"]), **{k: p.get(s) for k, s in _POST_FIELDS}} for p in posts]
    )
    return orjson.dumps(out)


# -- contenders: each is (name, setup(n_conns) -> (request(id) -> bytes, close)) -------------

Request = Callable[[int], Awaitable[bytes]]


async def make_asyncpg(dsn: str, n: int) -> tuple[Request, Callable]:
    async def no_reset(conn: asyncpg.Connection) -> None:
        """asyncpg's default reset on release costs a round trip; our pool has none either."""

    pool = await asyncpg.create_pool(dsn, min_size=n, max_size=n, reset=no_reset)

    async def request(uid: int) -> bytes:
        async with pool.acquire() as conn:
            text = await conn.fetchval(SQL, uid)
        return transform(text)

    return request, pool.close


async def make_psycopg(dsn: str, n: int) -> tuple[Request, Callable]:
    conns = []
    for _ in range(n):
        conn = await psycopg.AsyncConnection.connect(dsn, autocommit=True)
        conn.adapters.register_loader("jsonb", TextLoader)
        conns.append(conn)
    free: asyncio.Queue = asyncio.Queue()
    for c in conns:
        free.put_nowait(c)
    sql = SQL.replace("$1", "%s")

    async def request(uid: int) -> bytes:
        conn = await free.get()
        try:
            cur = await conn.execute(sql, (uid,), prepare=True)
            row = await cur.fetchone()
        finally:
            free.put_nowait(conn)
        return transform(row[0])

    async def close() -> None:
        for c in conns:
            await c.close()

    return request, close


async def make_fetch_json(dsn: str, n: int) -> tuple[Request, Callable]:
    pool = await fraiseql.create_pool(dsn, min_size=n, max_size=n)

    async def request(uid: int) -> bytes:
        return await pool.fetch_json(SQL, uid, selection=SELECTION)

    return request, pool.close


async def make_fetch_json_held(dsn: str, n: int) -> tuple[Request, Callable]:
    pool = await fraiseql.create_pool(dsn, min_size=n, max_size=n)

    async def request(uid: int) -> bytes:
        async with pool.acquire() as conn:
            return await conn.fetch_json(SQL, uid, selection=SELECTION)

    return request, pool.close


async def make_find_one(dsn: str, n: int) -> tuple[Request, Callable]:
    pool = await fraiseql.create_pool(dsn, min_size=n, max_size=n)
    repo = Repository(pool, {})

    async def request(uid: int) -> bytes:
        token = current_selection.set(SELECTION)  # as the executor does per root field
        try:
            return await repo.find_one("qm_user", id=uid)
        finally:
            current_selection.reset(token)

    return request, pool.close


LATENCY = {
    "asyncpg": make_asyncpg,
    "psycopg": make_psycopg,
    "fetch_json": make_fetch_json,
    "find_one": make_find_one,
}
THROUGHPUT = {**LATENCY, "fetch_json (held)": make_fetch_json_held}


# -- pgbench ----------------------------------------------------------------------------------


def pgbench_path() -> str:
    for candidate in (
        shutil.which("pgbench"),
        str(find_bindir() / "pgbench"),
        "/usr/lib/postgresql/15/bin/pgbench",
    ):
        if candidate and os.path.exists(candidate):
            return candidate
    sys.exit("pgbench not found (apt-get install postgresql-contrib or postgresql)")


def pgbench(dsn: str, clients: int, seconds: float) -> tuple[float, float]:
    """(average latency in us, tps) of pgbench -M prepared on the same SQL."""
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as script:
        script.write(f"\\set id random(1, {USERS})\n{SQL.replace('$1', ':id')};\n")
    os.chmod(script.name, 0o644)
    try:
        out = subprocess.run(
            [
                pgbench_path(),
                "-n",
                "-M",
                "prepared",
                "-c",
                str(clients),
                "-j",
                str(min(clients, 2)),
                "-T",
                str(max(1, round(seconds))),
                "-f",
                script.name,
                dsn,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script.name)
    latency = float(re.search(r"latency average = ([\d.]+) ms", out).group(1)) * 1000
    tps = float(re.search(r"tps = ([\d.]+)", out).group(1))
    return latency, tps


# -- measurement ------------------------------------------------------------------------------


async def check_same_output(dsn: str) -> None:
    """Every contender returns the same bytes (up to key order of the baselines)."""
    outputs = {}
    for name, make in THROUGHPUT.items():
        request, close = await make(dsn, 1)
        outputs[name] = orjson.loads(await request(42))
        await close()
    first = next(iter(outputs.values()))
    assert all(o == first for o in outputs.values()), outputs


async def latency_chunks(
    dsn: str, ids: list[int], chunks: int, makers: dict[str, Callable] = LATENCY
) -> dict[str, list[float]]:
    """Mean us per request of each contender over `chunks` slices of ids, the contenders
    interleaved slice by slice (order rotated) so that bursts of machine noise hit all alike."""
    contenders = {name: await make(dsn, 1) for name, make in makers.items()}
    for request, _ in contenders.values():
        for uid in ids[:200]:  # warm up: prepare, caches
            await request(uid)
    size = max(1, len(ids) // chunks)
    out: dict[str, list[float]] = {name: [] for name in contenders}
    names = list(contenders)
    for c in range(chunks):
        part = ids[c * size : (c + 1) * size]
        for name in names[c % len(names) :] + names[: c % len(names)]:
            request = contenders[name][0]
            start = time.perf_counter()
            for uid in part:
                await request(uid)
            out[name].append((time.perf_counter() - start) / len(part) * 1e6)
    for _, close in contenders.values():
        await close()
    return out


async def throughput_round(
    dsn: str,
    name: str,
    conns: int,
    seconds: float,
    tasks: int = 64,
    makers: dict[str, Callable] = THROUGHPUT,
) -> float:
    request, close = await makers[name](dsn, conns)
    rng = random.Random(7)
    await asyncio.gather(*(request(rng.randint(1, USERS)) for _ in range(tasks)))  # warm up
    done = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        local = random.Random()
        while time.perf_counter() < deadline:
            await request(local.randint(1, USERS))
            done += 1

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(tasks)))
    rate = done / (time.perf_counter() - start)
    await close()
    return rate


async def run(dsn: str, rounds: int, requests: int, seconds: float) -> str:
    await check_same_output(dsn)
    rng = random.Random(1)
    ids = [rng.randint(1, USERS) for _ in range(requests)]
    lat: dict[str, list[float]] = {name: [] for name in ["floor (pgbench)", *LATENCY]}
    for _ in range(rounds):
        lat["floor (pgbench)"].append(pgbench(dsn, 1, seconds)[0])
        for name, values in (await latency_chunks(dsn, ids, 10)).items():
            lat[name] += values
    floor = statistics.median(lat["floor (pgbench)"])
    lines = [
        "| latency, 1 task | median us/request | above floor (us) | above floor vs asyncpg | vs psycopg |",
        "|---|---|---|---|---|",
    ]
    above = {name: statistics.median(v) - floor for name, v in lat.items()}
    for name, values in lat.items():
        med = statistics.median(values)
        if name.startswith("floor"):
            lines.append(f"| {name} | {med:.1f} | 0 | | |")
        else:
            lines.append(
                f"| {name} | {med:.1f} | {above[name]:.1f} | {above[name] / above['asyncpg']:.2f}x "
                f"| {above[name] / above['psycopg']:.2f}x |"
            )
    lines += [
        "",
        "| throughput, 64 tasks | 2 connections (req/s) | 8 connections (req/s) |",
        "|---|---|---|",
    ]
    tput: dict[str, dict[int, list[float]]] = {
        name: {2: [], 8: []} for name in ["pgbench", *THROUGHPUT]
    }
    for _ in range(max(1, rounds // 2)):
        for conns in (2, 8):
            tput["pgbench"][conns].append(pgbench(dsn, conns, seconds)[1])
            for name in THROUGHPUT:
                tput[name][conns].append(await throughput_round(dsn, name, conns, seconds))
    for name, by in tput.items():
        label = "pgbench -c N (floor)" if name == "pgbench" else name
        lines.append(
            f"| {label} | {statistics.median(by[2]):.0f} | {statistics.median(by[8]):.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--dsn", help="an already loaded database (blog example); default: embedded"
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    on_blog(args.dsn, lambda dsn: run(dsn, args.rounds, args.requests, args.seconds))


def on_blog(dsn: str | None, body: Callable[[str], Awaitable[str]]) -> None:
    """Prints what body(dsn) returns, on the loaded database given, else on an embedded
    cluster loaded here with the blog example."""
    if dsn:
        print(asyncio.run(body(dsn)))
        return
    with EmbeddedPostgres() as pg:
        dsn = pg.create_database("bench")

        async def load() -> None:
            conn = await fraiseql.connect(dsn)
            await blog.setup(conn, users=USERS, posts=200_000)
            await conn.close()

        asyncio.run(load())
        print(asyncio.run(body(dsn)))


if __name__ == "__main__":
    main()
