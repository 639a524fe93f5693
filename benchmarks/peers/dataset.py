"""The data set of `make bench-peers`: the blog example at 100,000 users, with the indexes the
filtered queries need.

Run: .venv/bin/python benchmarks/peers/dataset.py [--dsn DSN] [--database fq_filters]
     [--users 100000] [--posts-per-user 20]

Creates the database on the server of DSN unless it exists, loads fraiseql.examples.blog into
it (tb_user, tb_post, tb_comment and the read models qm_user, mv_user, tv_user, tv_post) as
`make demo` does at 10,000 users, installs USER_SUMMARY (qm_user_summary: the read model of
what the benchmarked queries select), then adds the tb_ indexes the peers' filters use
(TB_INDEXES) and fraiseql's indexes on qm_user (qm_user_indexes.sql beside this file), VACUUM
ANALYZE. A database already holding qm_user keeps its data; the read model and the indexes
are (re)applied either way.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from fraiseql.cqrs import ReadModel, install  # noqa: E402
from fraiseql.db import connect  # noqa: E402
from fraiseql.demo import setup  # noqa: E402

DEFAULT_DSN = "postgresql://postgres@127.0.0.1:5432"
DEFAULT_DATABASE = "fq_filters"
QM_INDEXES = Path(__file__).with_name("qm_user_indexes.sql")

# tb_user.email is UNIQUE already (the equality); the range on created_at ordered by it with
# the key as tie-breaker reads this index backward; the connection pages walk the primary key.
TB_INDEXES = "CREATE INDEX IF NOT EXISTS tb_user_created_at ON tb_user (created_at, id);"

# The read model of the benchmarked queries: a user's own fields, what the peers read from
# tb_user. The blog's qm_user also embeds the 10 latest posts (~4.3 KB a document, against
# ~160 bytes here), which PostgreSQL decompresses and prints for every row it returns.
USER_SUMMARY = ReadModel(
    "user_summary",
    table="tb_user",
    fields=("id", "first_name", "last_name", "email", "created_at"),
    forms=("qm",),
    indexed=("email", "created_at DESC"),
)


async def install_summary(dsn: str) -> None:
    """USER_SUMMARY in the database of `dsn` (its qm_ table backfilled), unless there."""
    conn = await connect(dsn)
    try:
        await install(conn, [USER_SUMMARY])
    finally:
        await conn.close()


def database_dsn(dsn: str, database: str) -> str:
    """`dsn` pointing at `database` instead of the database it names."""
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path="/" + database))


async def create_database(dsn: str, database: str) -> None:
    """CREATE DATABASE `database` on the server of `dsn` unless it exists."""
    conn = await connect(database_dsn(dsn, "postgres"))
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database):
            await conn.execute(f'CREATE DATABASE "{database}"')  # a name given on the command line
    finally:
        await conn.close()


async def build(dsn: str, database: str, users: int, posts_per_user: int) -> str:
    """The loaded and indexed database's DSN."""
    if not database.replace("_", "").isalnum():
        raise ValueError(f"database name must be letters, digits and _, got {database!r}")
    await create_database(dsn, database)
    target = database_dsn(dsn, database)
    loaded = await setup(target, users, users * posts_per_user)
    await install_summary(target)
    conn = await connect(target)
    try:
        await conn.execute(TB_INDEXES)
        await conn.execute(QM_INDEXES.read_text())
        # statistics of indexed expressions exist only after an ANALYZE of the table; the
        # read model's visibility map (an index-only totalCount) only after a VACUUM
        if loaded:
            await conn.execute("VACUUM ANALYZE")
        else:
            await conn.execute("ANALYZE tb_user, qm_user")
            await conn.execute("VACUUM ANALYZE qm_user_summary")
    finally:
        await conn.close()
    return target


def server_version(dsn: str) -> str:
    """The `server_version` of the PostgreSQL at `dsn`, for the results' machine note."""

    async def ask() -> str:
        conn = await connect(dsn)
        try:
            return await conn.fetchval("SHOW server_version")
        finally:
            await conn.close()

    return asyncio.run(ask())


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options naming the data set (this script's, and the runner's)."""
    p.add_argument("--dsn", default=DEFAULT_DSN, help=f"server to create it on ({DEFAULT_DSN})")
    p.add_argument("--database", default=DEFAULT_DATABASE)
    p.add_argument("--users", type=int, default=100_000)
    p.add_argument("--posts-per-user", type=int, default=20)


def from_arguments(args: argparse.Namespace) -> str:
    """The DSN of the data set `args` name, built unless there."""
    return asyncio.run(build(args.dsn, args.database, args.users, args.posts_per_user))


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_arguments(p)
    print(from_arguments(p.parse_args()))


if __name__ == "__main__":
    main()
