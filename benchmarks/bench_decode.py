"""Decoding of PostgreSQL text values by type: best of N fetches of many rows, per type.

Usage: python benchmarks/bench_decode.py DSN [--rows 20000] [--repeat 7]
"""

from __future__ import annotations

import argparse
import asyncio
import time

import fraiseql

# One expression per decoded type; each row holds one value of it.
VALUES = {
    "int4": "g",
    "int8": "g::int8 * 1000003",
    "numeric": "(g * 1.25)::numeric",
    "timestamptz": "timestamptz '2024-05-06 07:08:09.123456+02' + g * interval '1 minute'",
    "date": "date '2024-05-06' + g % 1000",
    "interval": "g * interval '1 day 02:03:04.5'",
    "bytea": "decode(md5(g::text), 'hex')",
    "int4[]": "ARRAY[g, g + 1, g + 2, NULL]",
    "text[]": "ARRAY['a' || g, 'b c', 'quo\"te']",
}


async def main(dsn: str, rows: int, repeat: int) -> None:
    async with fraiseql.create_pool(dsn, max_size=1) as pool:
        print(f"| type | us per value (best of {repeat}, {rows} rows) |\n|---|---|")
        for name, expr in VALUES.items():
            sql = f"SELECT {expr} FROM generate_series(1, {rows}) g"
            best = float("inf")
            for _ in range(repeat):
                t0 = time.perf_counter()
                await pool.fetch(sql)
                best = min(best, time.perf_counter() - t0)
            print(f"| {name} | {best / rows * 1e6:.3f} |")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("dsn")
    ap.add_argument("--rows", type=int, default=20000)
    ap.add_argument("--repeat", type=int, default=7)
    a = ap.parse_args()
    asyncio.run(main(a.dsn, a.rows, a.repeat))
