"""Plans keyed by shape (issue 15): what a document costs when it repeats, when it is new but of
a known shape (inline literals never seen), and when its shape is new.

Run: .venv/bin/python benchmarks/bench_plans.py [--dsn DSN] [--rounds N] [--seconds S]

In process, one client, the seed's `user(id)` with posts on the demo data: (a) the same
document every call, (a') the variables form of it, (b) `user(id: N)` with a fresh N each call,
(c) a fresh alias each call (a new shape: tokenize, parse, hoist, validate, compile), (c0) the
same without literals (a new document planned by its text, the miss of before); calls are
interleaved in a shuffled order and each figure is the median, with same-run ratios. Over
HTTP (one uvicorn worker, wrk -t1, benchmarks/bench_graphql.py's helpers): the variables form
against inline literals with a random id per request, rounds alternating. `--profile` prints
where a new shape's time goes (cProfile, cumulative); `--parts` times each step of planning a
new shape (no database).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import itertools
import json
import pstats
import random
import statistics
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_graphql import USER_QUERY, _server, run_wrk  # noqa: E402

import fraiseql  # noqa: E402
from fraiseql.db import create_pool  # noqa: E402
from fraiseql.demo import setup  # noqa: E402
from fraiseql.embedded import EmbeddedPostgres  # noqa: E402

SELECTION = "{ id firstName lastName email createdAt userPosts { id title content createdAt } }"
INLINE = "{ user(id: __ID__) " + SELECTION + " }"
NEW_SHAPE = "{ u__N__: user(id: 1) " + SELECTION + " }"
NEW_TEXT = "query($id: Int!) { u__N__: user(id: $id) " + SELECTION + " }"  # no literal: by text


async def in_process(dsn: str, users: int, n: int, rounds: int, profile: bool) -> dict[str, Any]:
    from fraiseql.examples import blog_api  # noqa: F401 - declares the seed's API

    executor = fraiseql.Executor(fraiseql.build_schema())
    ids = itertools.count(1)
    shapes = itertools.count(1)
    async with create_pool(dsn, min_size=1, max_size=1) as pool:
        context = {"db": pool}
        repeated = INLINE.replace("__ID__", "1")
        cases = {
            "(a) repeated document": lambda: executor.execute(repeated, context=context),
            "(a') variables form": lambda: executor.execute(
                USER_QUERY, {"id": 1 + next(ids) % users}, context=context
            ),
            "(b) new document, known shape": lambda: executor.execute(
                INLINE.replace("__ID__", str(1 + next(ids) % users)), context=context
            ),
            "(c) new shape": lambda: executor.execute(
                NEW_SHAPE.replace("__N__", str(next(shapes))), context=context
            ),
            "(c0) new document, variables (planned by text)": lambda: executor.execute(
                NEW_TEXT.replace("__N__", str(next(shapes))), {"id": 1}, context=context
            ),
        }
        # the same answer whichever way the document is sent
        one = json.loads(await cases["(a) repeated document"]())["data"]["user"]
        by_var = json.loads(await executor.execute(USER_QUERY, {"id": 1}, context=context))
        assert one == by_var["data"]["user"], (one, by_var)
        samples: dict[str, list[float]] = {name: [] for name in cases}
        order = list(cases)
        rng = random.Random(7)
        for name in order:  # warm-up
            for _ in range(max(20, n // 20)):
                await cases[name]()
        ratios = []
        for _ in range(rounds):
            per_round: dict[str, list[float]] = {name: [] for name in cases}
            for _ in range(n):
                rng.shuffle(order)
                for name in order:
                    t = time.perf_counter_ns()
                    await cases[name]()
                    per_round[name].append((time.perf_counter_ns() - t) / 1000)
            medians = {name: statistics.median(s) for name, s in per_round.items()}
            ratios.append(
                medians["(b) new document, known shape"] / medians["(a) repeated document"]
            )
            for name, s in per_round.items():
                samples[name] += s
        stats = executor.cache_stats()
        if profile:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(300):
                await cases["(c) new shape"]()
            profiler.disable()
            print("\n## Where a new shape's time goes (cProfile, 300 calls, cumulative)\n")
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    return {
        "medians": {name: statistics.median(s) for name, s in samples.items()},
        "b_over_a": ratios,
        "stats": stats,
    }


def parts(n: int) -> dict[str, float]:
    """Median us of each step a new shape takes, each on n new documents (no database); the
    validation of the original document with all rules, for comparison."""
    from graphql import parse, validate

    from fraiseql._native import native
    from fraiseql.examples import blog_api  # noqa: F401 - declares the seed's API
    from fraiseql.plan import Limits, check_limits, plan_document
    from fraiseql.plan_cache import _byte_offsets, _Hoister, compile_shape

    schema = fraiseql.build_schema()
    executor = fraiseql.Executor(schema)
    limits = Limits()
    steps: dict[str, list[float]] = {}

    def timed(name: str, fn: Any, *args: Any) -> Any:
        t = time.perf_counter_ns()
        out = fn(*args)
        steps.setdefault(name, []).append((time.perf_counter_ns() - t) / 1000)
        return out

    gc.disable()  # the collector's pauses depend on the heap, not on the step they fall in
    for i in range(n):
        gc.collect()
        query = NEW_SHAPE.replace("__N__", f"p{i}")
        shape = timed("gql_shape (C)", native.gql_shape, query)[0]
        document = timed("graphql-core parse", parse, query)
        literals = timed("gql_tokens (C)", native.gql_tokens, query)[1]
        hoister = _Hoister(schema, literals, _byte_offsets(query))
        timed("hoisting", list, map(hoister.definition, document.definitions))
        timed("check_limits", check_limits, document, limits)
        timed("graphql-core validate (all rules)", validate, schema, document)
        timed("plan_document (validate included)", plan_document, schema, document, None, limits)
        compiled = timed(
            "compile_shape (all of planning)", compile_shape, schema, query, shape, None, limits
        )
        timed("fast-path variant", executor._variant, compiled.plan, {"__fq0": 1})
    gc.enable()
    return {name: statistics.median(s) for name, s in steps.items()}


def over_http(dsn: str, users: int, seconds: int, rounds: int, connections: int) -> dict[str, Any]:
    bodies = {
        "variables form": json.dumps({"query": USER_QUERY, "variables": {"id": 0}}).replace(
            '"id": 0', '"id": __ID__'
        ),
        "inline literals": json.dumps({"query": INLINE}),
    }
    rps: dict[str, list[float]] = {name: [] for name in bodies}
    ratios = []
    with _server("benchmarks.bench_app:app", {"FRAISEQL_BENCH_DSN": dsn}) as url:
        for r in range(rounds):
            names = list(bodies) if r % 2 == 0 else list(reversed(bodies))
            got = {name: run_wrk(url, bodies[name], users, connections, seconds) for name in names}
            for name, row in got.items():
                rps[name].append(row["rps"])
            ratios.append(got["inline literals"]["rps"] / got["variables form"]["rps"])
    return {"rps": rps, "ratios": ratios}


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--dsn", help="database holding (or to receive) the demo data; default: embedded"
    )
    p.add_argument("--users", type=int, default=10_000)
    p.add_argument("--posts", type=int, default=200_000)
    p.add_argument("--calls", type=int, default=400, help="calls of each case per round")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--seconds", type=int, default=10, help="wrk run per round and form")
    p.add_argument("--connections", type=int, default=10)
    p.add_argument("--no-http", action="store_true")
    p.add_argument("--profile", action="store_true")
    p.add_argument("--parts", action="store_true", help="only the steps of a new shape, timed")
    args = p.parse_args()
    if args.parts:
        print("\n## The steps of a new shape (medians of 400 new documents, us)\n")
        print("| step | median us |")
        print("|---|---:|")
        for name, us in parts(400).items():
            print(f"| {name} | {us:.1f} |")
        return
    with contextmanager(lambda: (yield args.dsn))() if args.dsn else EmbeddedPostgres() as pg:
        dsn = args.dsn or pg.create_database("fraiseql_bench")
        asyncio.run(setup(dsn, args.users, args.posts))
        out = asyncio.run(in_process(dsn, args.users, args.calls, args.rounds, args.profile))
        print(
            f"\n## In process (1 client, {args.rounds} rounds x {args.calls} interleaved calls)\n"
        )
        print("| case | median us | x (a) |")
        print("|---|---:|---:|")
        base = out["medians"]["(a) repeated document"]
        for name, med in out["medians"].items():
            print(f"| {name} | {med:.1f} | {med / base:.2f} |")
        ratios = ", ".join(f"{r:.2f}" for r in out["b_over_a"])
        print(f"\n(b)/(a) per round: {ratios}; median {statistics.median(out['b_over_a']):.2f}")
        print(f"cache stats: {out['stats']}")
        if not args.no_http:
            http = over_http(dsn, args.users, args.seconds, args.rounds, args.connections)
            print(
                f"\n## Over HTTP (wrk -t1 -c{args.connections}, one uvicorn worker, "
                f"{args.rounds} rounds of {args.seconds} s, alternating)\n"
            )
            print("| form | requests/s per round | median |")
            print("|---|---|---:|")
            for name, values in http["rps"].items():
                each = ", ".join(f"{v:.0f}" for v in values)
                print(f"| {name} | {each} | {statistics.median(values):.0f} |")
            ratios = ", ".join(f"{r:.2f}" for r in http["ratios"])
            print(
                f"\ninline/variables per round: {ratios}; median "
                f"{statistics.median(http['ratios']):.2f}"
            )


if __name__ == "__main__":
    main()
