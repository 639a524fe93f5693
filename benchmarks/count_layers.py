"""Client-side instructions per request of each layer (callgrind), repeatable where timings on
a shared machine are not: the bare fetch_json of the seed's user query, Repository.find_one,
fraiseql.execute of `user(id)` with posts and `users(limit: 10)`, and of the generated read
API's `allUsers(where: {email: {eq: $e}})` (fraiseql.expose: arguments, filter SQL). Each figure is the
count of N requests minus the count of 0 (imports, connecting and warm-up cancel out).

Run: .venv/bin/python benchmarks/count_layers.py --dsn DSN   (a database loaded by
`fraiseql demo --dsn DSN --setup-only`; needs valgrind). Works on any checkout that has
these APIs, so two trees can be compared with the same copy of this file.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import subprocess
import sys

USER = "query($id: Int!) { user(id: $id) { id firstName lastName email userPosts { id title } } }"
USERS = "{ users(limit: 10) { id firstName userPosts { id title } } }"
SQL = "SELECT data FROM qm_user WHERE id = $1"
WHERE_EQ = (
    "query($e: String!) { allUsers(where: {email: {eq: $e}}) "
    "{ id firstName lastName email createdAt } }"
)
PATHS = (
    "fetch_json",
    "find_one",
    "execute user(id)",
    "execute users(limit: 10)",
    "execute allUsers(where email eq)",
)


async def workload(dsn: str, path: str, n: int) -> None:
    import fraiseql
    import fraiseql.examples.blog_api  # noqa: F401  (registers the seed's schema)
    import fraiseql.examples.blog_expose  # noqa: F401  (and the generated read API)
    from fraiseql.repository import Repository

    async with fraiseql.create_pool(dsn, min_size=1, max_size=1) as pool:
        context = {"db": pool}
        await fraiseql.execute(USER, {"id": 1}, context=context)
        await fraiseql.execute(USERS, None, context=context)
        await fraiseql.execute(WHERE_EQ, {"e": "user1@example.com"}, context=context)
        selection = fraiseql.Selection(
            "User", [("id", "id", None), ("firstName", "first_name", None)]
        )
        await pool.fetch_json(SQL, 1, selection=selection)
        repo = Repository(pool, context)
        await repo.find_one("qm_user", id=1)
        for i in range(n):
            uid = 1 + i % 1000
            if path == "fetch_json":
                await pool.fetch_json(SQL, uid, selection=selection)
            elif path == "find_one":
                await repo.find_one("qm_user", id=uid)
            elif path == "execute allUsers(where email eq)":
                await fraiseql.execute(WHERE_EQ, {"e": f"user{uid}@example.com"}, context=context)
            elif path == "execute user(id)":
                await fraiseql.execute(USER, {"id": uid}, context=context)
            else:
                await fraiseql.execute(USERS, None, context=context)


def instructions(dsn: str, path: str, n: int) -> int:
    run = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
         __file__, "--dsn", dsn, "--run", path, "--n", str(n)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return int(re.search(r"refs:\s+([\d,]+)", run.stderr).group(1).replace(",", ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--path", action="append", choices=PATHS, help="only these (repeatable)")
    parser.add_argument("--run", help=argparse.SUPPRESS)  # the child under valgrind
    args = parser.parse_args()
    if args.run:
        asyncio.run(workload(args.dsn, args.run, args.n))
        return
    print(f"{'path':<28}{'instructions per request':>26}")
    for path in args.path or PATHS:
        per = (instructions(args.dsn, path, args.n) - instructions(args.dsn, path, 0)) / args.n
        print(f"{path:<28}{per:>26,.0f}")


if __name__ == "__main__":
    main()
