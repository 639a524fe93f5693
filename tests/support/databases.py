"""What the database test modules share: running a coroutine, a database of their own (with
a schema), and roles on the suite's PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from fraiseql import db


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(coro)


def own_database(pg_server: Any, pg_dsn: str, name: str) -> str:
    """A fresh database `name` on the suite's server (pg_dsn itself when the suite was given
    an outside server)."""
    return pg_dsn if pg_server is None else pg_server.create_database(name)


def database_with(
    pg_server: Any, pg_dsn: str, name: str, schema: str, read_models: Sequence[Any] = ()
) -> str:
    """DSN of a new database `name` on the suite's embedded server, holding `schema` (an SQL
    script) and the `fraiseql.cqrs` read models given; with FRAISEQL_TEST_DSN (pg_server
    None) the script runs in that DSN's database."""
    dsn = own_database(pg_server, pg_dsn, name)

    async def setup() -> None:
        conn = await db.connect(dsn)
        await conn.execute(schema)
        if read_models:
            from fraiseql.cqrs import install

            await install(conn, list(read_models))
        await conn.close()

    run(setup())
    return dsn


@contextmanager
def pool_on(runner: asyncio.AbstractEventLoop, dsn: str) -> Iterator[Any]:
    """A small pool on `dsn`, opened and closed on the suite's event loop."""
    pool = runner.run_until_complete(db.create_pool(dsn, min_size=1, max_size=2))
    try:
        yield pool
    finally:
        runner.run_until_complete(pool.close())


def login_role(role: str) -> str:
    """SQL creating the login role `role` unless it exists: roles belong to the cluster, and
    outlive the databases of earlier runs on a server of one's own."""
    return f"""
DO $$BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN
    CREATE ROLE {role} LOGIN;
  END IF;
END$$;
"""


def as_user(dsn: str, user: str) -> str:
    """`dsn` logging in as `user` (a URI's parameters, or a keyword DSN's, override it)."""
    if "://" in dsn:
        return f"{dsn}{'&' if '?' in dsn else '?'}user={user}"
    return f"{dsn} user={user}"


def table_rows(runner: asyncio.AbstractEventLoop, pool: Any, sql: str) -> list[tuple]:
    """The rows of `sql` as tuples: what the tables hold after a write (or a refused one)."""
    return [tuple(r) for r in runner.run_until_complete(pool.fetch(sql))]
