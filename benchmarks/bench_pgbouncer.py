"""What prepared_statements=False (the mode for PgBouncer in transaction pooling) costs.

On a direct connection, the seed's hot read of bench_repository.py through fetch_json:

  named           the default: each SQL text prepared once per connection, run by name
  named + prefix  the same with a call context naming 4 settings (one set_config
                  statement ahead of the query in its request): what the mode adds besides
                  unnamed statements
  unnamed         prepared_statements=False: every statement parsed and planned each time,
                  and the connection's settings (statement_timeout, output formats) applied
                  to each transaction by that same kind of prefix

Latency: one task, sequential requests, contenders interleaved in 10 slices per round
(median of the slices' mean); throughput: 64 tasks on 2 pipelined connections (median).

    python benchmarks/bench_pgbouncer.py [--dsn DSN] [--rounds 5] [--requests 5000] [--seconds 2]
"""

from __future__ import annotations

import argparse
import random
import statistics
from collections.abc import Callable

from bench_repository import (
    SELECTION,
    SQL,
    USERS,
    Request,
    latency_chunks,
    on_blog,
    throughput_round,
)

import fraiseql

# Four settings, as many as the unnamed mode applies per transaction (statement_timeout,
# DateStyle, IntervalStyle, bytea_output).
_SETTINGS = {f"k{i}": f"bench.s{i}" for i in range(4)}
_CONTEXT = dict.fromkeys(_SETTINGS, "1")


def _maker(context: dict | None, **pool_kw: object) -> Callable:
    async def make(dsn: str, n: int) -> tuple[Request, Callable]:
        pool = await fraiseql.create_pool(
            dsn, min_size=n, max_size=n, session_settings=_SETTINGS, **pool_kw
        )

        async def request(uid: int) -> bytes:
            return await pool.fetch_json(SQL, uid, selection=SELECTION, context=context)

        return request, pool.close

    return make


MAKERS = {
    "named": _maker(None),
    "named + prefix": _maker(_CONTEXT),
    "unnamed": _maker(None, prepared_statements=False, statement_timeout=30),
}


async def run(dsn: str, rounds: int, requests: int, seconds: float) -> str:
    outputs = set()
    for make in MAKERS.values():
        request, close = await make(dsn, 1)
        outputs.add(await request(42))
        await close()
    assert len(outputs) == 1, outputs
    rng = random.Random(1)
    ids = [rng.randint(1, USERS) for _ in range(requests)]
    lat: dict[str, list[float]] = {name: [] for name in MAKERS}
    tput: dict[str, list[float]] = {name: [] for name in MAKERS}
    for _ in range(rounds):
        for name, values in (await latency_chunks(dsn, ids, 10, MAKERS)).items():
            lat[name] += values
        for name in MAKERS:
            tput[name].append(await throughput_round(dsn, name, 2, seconds, makers=MAKERS))
    base = statistics.median(lat["named"])
    lines = [
        "| direct connection | latency, 1 task (us/request) | vs named (us) | 64 tasks, 2 conns (req/s) |",
        "|---|---|---|---|",
    ]
    for name in MAKERS:
        med = statistics.median(lat[name])
        lines.append(
            f"| {name} | {med:.1f} | {med - base:+.1f} | {statistics.median(tput[name]):.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", help="a database loaded with the blog example; default: embedded")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    on_blog(args.dsn, lambda dsn: run(dsn, args.rounds, args.requests, args.seconds))


if __name__ == "__main__":
    main()
