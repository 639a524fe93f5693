"""Databases for the CQRS tests: one database per test module, a blocking runner for coroutines."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from fraiseql.embedded import EmbeddedPostgres


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def fresh_database(pg_server: EmbeddedPostgres | None, pg_dsn: str, name: str) -> str:
    """Create (or recreate) database `name` on the test server and return its DSN."""
    if pg_server is not None:
        return pg_server.create_database(name)

    async def recreate() -> None:
        conn = await asyncpg.connect(pg_dsn)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    run(recreate())
    parts = urlsplit(pg_dsn)
    return urlunsplit(parts._replace(path=f"/{name}"))


async def assert_no_drift(conn: Any, *relations: str) -> None:
    from fraiseql.cqrs.verify import verify

    for relation in relations:
        drift = await verify(conn, relation)
        assert not drift, (
            f"{relation} drifted: missing={drift.missing} orphaned={drift.orphaned} changed={drift.changed}"
        )


def with_conn(dsn: str, body: Any) -> Any:
    """Run `await body(conn)` on a fresh connection to `dsn`, closed afterwards."""

    async def go() -> Any:
        conn = await asyncpg.connect(dsn)
        try:
            return await body(conn)
        finally:
            await conn.close()

    return run(go())


def prepared_database(
    pg_server: EmbeddedPostgres | None, pg_dsn: str, name: str, sql: str, models: Any = ()
) -> str:
    """A fresh database with `sql` executed and `models` installed; its DSN."""
    from fraiseql.cqrs import install

    dsn = fresh_database(pg_server, pg_dsn, name)

    async def setup(conn: Any) -> None:
        await conn.execute(sql)
        if models:
            await install(conn, models)

    with_conn(dsn, setup)
    return dsn
