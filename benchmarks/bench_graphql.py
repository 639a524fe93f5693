"""Benchmark of the GraphQL layer on the demo data (issue 4).

Run: .venv/bin/python benchmarks/bench_graphql.py [--dsn DSN] [--quick] [--no-http]

1. In process, one client, the seed's queries `user(id)` with posts and `users(limit: 10)`:
   fraiseql.execute (plan cache, fast path: resolver -> Repository -> C fetch_json with the
   compiled selection) vs graphql-core's `graphql()` on build_schema() with the same
   resolvers (the Repository then returns Python objects), vs graphql-core with the document
   parsed and validated once (execute only), vs the bare `fetch_json` of the same SQL with the
   same compiled selection (the floor: database round trip + C rewrite). Medians of per-call
   times; the layer's own cost is a path's median minus the bare fetch_json median.
2. Over HTTP with wrk (one server worker, fixed connection counts): fraiseql's ASGI app under
   uvicorn vs a Strawberry + DataLoader server on the same tb_* tables
   (benchmarks/peers/strawberry_app.py). Requests/s, p50 and p99.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import graphql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import fraiseql  # noqa: E402
from fraiseql.db import create_pool  # noqa: E402
from fraiseql.demo import setup  # noqa: E402
from fraiseql.embedded import EmbeddedPostgres  # noqa: E402
from fraiseql.repository import Repository  # noqa: E402

USER_QUERY = (
    "query($id: Int!) { user(id: $id) { id firstName lastName email createdAt "
    "userPosts { id title content createdAt } } }"
)
USERS_QUERY = "{ users(limit: 10) { id firstName lastName userPosts { id title } } }"


def _median_us(samples: list[int]) -> float:
    return statistics.median(samples) / 1000


async def _timed(fn: Callable[[], Awaitable[Any]], n: int) -> list[int]:
    out = []
    for _ in range(n):
        t = time.perf_counter_ns()
        await fn()
        out.append(time.perf_counter_ns() - t)
    return out


async def in_process(dsn: str, users: int, n: int, rounds: int) -> list[dict[str, Any]]:
    from fraiseql.examples import blog_api  # noqa: F401 - declares the seed's API

    schema = fraiseql.build_schema()
    executor = fraiseql.Executor(schema)
    rows = []
    async with create_pool(dsn, min_size=1, max_size=1) as pool:
        context = {"db": pool}
        repo = Repository(pool, context)
        for label, query, (sql, params), many in (
            # The SQL the seed's resolvers send through the Repository, for the bare fetch_json.
            (
                "user(id) with posts",
                USER_QUERY,
                await repo._select(repo._source("qm_user"), None, None, 1, None, {"id": 1}),
                False,
            ),
            (
                "users(limit: 10)",
                USERS_QUERY,
                await repo._select(repo._source("qm_user"), None, None, 10, None, {}),
                True,
            ),
        ):
            rng = random.Random(7)

            def variables() -> dict[str, Any] | None:
                return {"id": rng.randint(1, users)} if "$id" in query else None

            # The compiled selection of the plan, for the bare fetch_json of the same SQL.
            await executor.execute(query, variables(), context=context)
            plan = executor.plan(query, None)
            (variant,) = plan.variants.values()
            selection = variant.roots[0].selection
            parsed = graphql.parse(query)

            async def fraiseql_execute() -> bytes:
                return await executor.execute(query, variables(), context=context)

            async def graphql_core() -> bytes:
                result = await graphql.graphql(
                    schema, query, variable_values=variables(), context_value=context
                )
                return json.dumps(result.formatted).encode()

            async def graphql_core_cached_parse() -> bytes:
                result = graphql.execute(
                    schema, parsed, variable_values=variables(), context_value=context
                )
                if graphql.pyutils.is_awaitable(result):
                    result = await result
                return json.dumps(result.formatted).encode()

            async def bare_fetch_json() -> bytes:
                args = params if many else [rng.randint(1, users), *params[1:]]
                return await pool.fetch_json(
                    sql, *args, selection=selection, many=many, context=context
                )

            # Same answer from the fast path and graphql-core (the same id for each).
            rng.seed(1)
            a = json.loads(await fraiseql_execute())
            rng.seed(1)
            b = json.loads(await graphql_core())
            assert a == b, (a, b)

            paths = {
                "bare fetch_json": bare_fetch_json,
                "fraiseql.execute": fraiseql_execute,
                "graphql-core graphql()": graphql_core,
                "graphql-core execute() (parsed once)": graphql_core_cached_parse,
            }
            samples: dict[str, list[int]] = {name: [] for name in paths}
            for fn in paths.values():  # warm-up
                await _timed(fn, max(20, n // 20))
            # Interleaved call by call, in a shuffled order: load from the other users of
            # the machine hits every path alike. graphql-core (~50x slower) runs every 5th turn.
            order = list(paths)
            for i in range(n * rounds):
                rng.shuffle(order)
                for name in order:
                    if "graphql-core" in name and i % 5:
                        continue
                    samples[name] += await _timed(paths[name], 1)
            floor = _median_us(samples["bare fetch_json"])
            for name, s in samples.items():
                med = _median_us(s)
                rows.append(
                    {
                        "query": label,
                        "path": name,
                        "median_us": med,
                        "vs_fetch_json": med / floor,
                        "layer_us": med - floor,
                    }
                )
    return rows


def print_in_process(rows: list[dict[str, Any]]) -> None:
    print("\n## In process (1 client, medians of per-call times)\n")
    print("| query | path | median us | x bare fetch_json | layer cost us (minus fetch_json) |")
    print("|---|---|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['query']} | {r['path']} | {r['median_us']:.1f} | {r['vs_fetch_json']:.2f} | "
            f"{r['layer_us']:.1f} |"
        )
    for q in dict.fromkeys(r["query"] for r in rows):
        by = {r["path"]: r for r in rows if r["query"] == q}
        ours = max(by["fraiseql.execute"]["layer_us"], 0.1)
        print(
            f"\n{q}: execute/fetch_json = {by['fraiseql.execute']['vs_fetch_json']:.2f}; layer cost "
            f"graphql-core graphql() / fraiseql = {by['graphql-core graphql()']['layer_us'] / ours:.0f}x, "
            f"graphql-core execute() / fraiseql = "
            f"{by['graphql-core execute() (parsed once)']['layer_us'] / ours:.0f}x"
        )


# ---------------------------------------------------------------- HTTP with wrk

# __ID__: a random user's id; __N__: a token unique to the request (writes: new emails).
LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local users = %d
local template = %s
local token = %s
local n = 0
request = function()
  n = n + 1
  local body = string.gsub(template, "__ID__", tostring(math.random(1, users)))
  body = string.gsub(body, "__N__", token .. "-" .. tostring(n))
  return wrk.format(nil, nil, nil, body)
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(proc: subprocess.Popen[bytes], port: int, what: str) -> None:
    """Until `proc` accepts connections on `port`; RuntimeError (with its stderr) if it exits."""
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                err = proc.stderr.read().decode() if proc.stderr else ""
                raise RuntimeError(f"{what} did not start: {err}") from None
            time.sleep(0.1)


@contextmanager
def _server(module_app: str, env: dict[str, str]):  # type: ignore[no-untyped-def]
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            module_app,
            "--port",
            str(port),
            "--workers",
            "1",
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    wait_listening(proc, port, module_app)
    try:
        yield f"http://127.0.0.1:{port}/graphql"
    finally:
        proc.terminate()
        proc.wait(30)


def run_wrk(url: str, body: str, users: int, connections: int, seconds: int) -> dict[str, float]:
    token = secrets.token_hex(4)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(LUA % (users, json.dumps(body), json.dumps(token)))
        script = f.name
    try:
        check = body.replace("__ID__", "1").replace("__N__", f"{token}-check")
        answer = subprocess.run(
            ["curl", "-sf", "-H", "content-type: application/json", "-d", check, url],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        assert '"errors"' not in answer, answer  # answers before load
        out = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script, url],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    finally:
        os.unlink(script)
    row = parse_wrk(out)
    assert not row["non_2xx"], out
    return row


def parse_wrk(out: str) -> dict[str, float]:
    """Requests/s, requests, p50/p99 ms and non-2xx answers of `wrk --latency` output."""

    def figure(pattern: str) -> re.Match[str]:
        m = re.search(pattern, out, re.M)
        if m is None:
            raise ValueError(f"wrk printed no {pattern!r}: {out}")
        return m

    def latency(label: str) -> float:
        m = figure(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$")
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": float(figure(r"Requests/sec:\s+([\d.]+)").group(1)),
        "requests": int(figure(r"(\d+) requests in").group(1)),
        "p50_ms": latency("50"),
        "p99_ms": latency("99"),
        "non_2xx": int(errors.group(1)) if errors else 0,
    }


def over_http(dsn: str, users: int, seconds: int, connections: list[int]) -> list[dict[str, Any]]:
    bodies = {
        "user(id) with posts": json.dumps({"query": USER_QUERY, "variables": {"id": 0}}).replace(
            '"id": 0', '"id": __ID__'
        ),
        "users(limit: 10)": json.dumps({"query": USERS_QUERY}),
    }
    rows = []
    env = {"FRAISEQL_BENCH_DSN": dsn}
    for server, app in (
        ("fraiseql", "benchmarks.bench_app:app"),
        ("strawberry+dataloader", "benchmarks.peers.strawberry_app:app"),
    ):
        with _server(app, env) as url:
            for label, body in bodies.items():
                for c in connections:
                    rows.append(
                        {
                            "server": server,
                            "query": label,
                            "connections": c,
                            **run_wrk(url, body, users, c, seconds),
                        }
                    )
    return rows


def print_http(rows: list[dict[str, Any]]) -> None:
    print("\n## Over HTTP (wrk -t1, one uvicorn worker)\n")
    print("| query | connections | server | requests/s | p50 ms | p99 ms |")
    print("|---|---:|---|---:|---:|---:|")
    for r in sorted(rows, key=lambda r: (r["query"], r["connections"], r["server"])):
        print(
            f"| {r['query']} | {r['connections']} | {r['server']} | {r['rps']:.0f} | "
            f"{r['p50_ms']:.2f} | {r['p99_ms']:.2f} |"
        )
    for key in dict.fromkeys((r["query"], r["connections"]) for r in rows):
        by = {r["server"]: r for r in rows if (r["query"], r["connections"]) == key}
        print(
            f"\n{key[0]}, {key[1]} connections: fraiseql/strawberry requests/s = "
            f"{by['fraiseql']['rps'] / by['strawberry+dataloader']['rps']:.1f}x"
        )


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--dsn", help="database holding (or to receive) the demo data; default: embedded"
    )
    p.add_argument("--users", type=int, default=10_000)
    p.add_argument("--posts", type=int, default=200_000)
    p.add_argument("--quick", action="store_true", help="fewer iterations (a smoke run)")
    p.add_argument("--no-http", action="store_true", help="skip the wrk part")
    p.add_argument("--connections", default="10,50")
    p.add_argument("--seconds", type=int, default=10)
    args = p.parse_args()
    n, rounds = (100, 2) if args.quick else (1000, 5)
    with contextmanager(lambda: (yield args.dsn))() if args.dsn else EmbeddedPostgres() as pg:
        dsn = args.dsn or pg.create_database("fraiseql_bench")
        t = time.perf_counter()
        asyncio.run(setup(dsn, args.users, args.posts))
        print(
            f"data ready ({args.users} users, {args.posts} posts) in {time.perf_counter() - t:.0f} s"
        )
        print_in_process(asyncio.run(in_process(dsn, args.users, n, rounds)))
        if not args.no_http:
            conns = [int(c) for c in args.connections.split(",")]
            print_http(over_http(dsn, args.users, 3 if args.quick else args.seconds, conns))


if __name__ == "__main__":
    main()
