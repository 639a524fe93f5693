"""Mutations with a pool in context["db"]: one connection, one transaction, rollback on error."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

import fraiseql


@pytest.fixture(scope="module")
def dsn(pg_server: Any, pg_dsn: str) -> str:
    if pg_server is None:  # FRAISEQL_TEST_DSN: use that database as is
        return pg_dsn
    return pg_server.create_database("graphql_mutations")


@pytest.fixture(scope="module")
def executor(dsn: str) -> Any:
    async def create() -> None:
        conn = await fraiseql.connect(dsn)
        await conn.execute(
            "DROP TABLE IF EXISTS tb_account; "
            "CREATE TABLE tb_account (id serial PRIMARY KEY, email text NOT NULL UNIQUE)"
        )
        await conn.close()

    asyncio.run(create())
    fraiseql.reset_registry()

    @fraiseql.type(sql_source="tb_account")
    class Account:
        id: int
        email: str

    @fraiseql.query
    async def accounts(info) -> list[Account]:
        rows = await info.context["db"].fetch("SELECT id, email FROM tb_account ORDER BY id")
        return [dict(r) for r in rows]

    @fraiseql.mutation
    async def create_account(info, email: str, fail_after_insert: bool = False) -> Account:
        db = info.context["db"]
        row = await db.fetchrow(
            "INSERT INTO tb_account (email) VALUES ($1) RETURNING id, email", email
        )
        # reads back its own write, inside the transaction
        seen = await db.fetchval("SELECT count(*) FROM tb_account WHERE email = $1", email)
        if fail_after_insert or seen != 1:
            raise ValueError(f"failing after inserting {email}")
        return dict(row)

    yield fraiseql.Executor(fraiseql.build_schema())
    fraiseql.reset_registry()


def run(executor: Any, dsn: str, query: str) -> Any:
    async def go() -> Any:
        pool = await fraiseql.create_pool(dsn, min_size=1, max_size=2)
        try:
            body = await executor.execute(query, context={"db": pool})
            emails = [
                r["email"] for r in await pool.fetch("SELECT email FROM tb_account ORDER BY id")
            ]
            return json.loads(body), emails
        finally:
            await pool.close()

    return asyncio.run(go())


def test_mutation_commits(executor: Any, dsn: str) -> None:
    result, emails = run(executor, dsn, 'mutation { createAccount(email: "a@x") { email } }')
    assert result == {"data": {"createAccount": {"email": "a@x"}}}
    assert emails == ["a@x"]


def test_error_rolls_back_the_whole_mutation(executor: Any, dsn: str) -> None:
    result, emails = run(
        executor,
        dsn,
        'mutation { ok: createAccount(email: "b@x") { email } '
        'bad: createAccount(email: "c@x", failAfterInsert: true) { email } }',
    )
    assert result["data"] is None
    assert result["errors"][0]["message"] == "Internal server error"  # a bug: masked
    assert result["errors"][0]["path"] == ["bad"]
    assert "b@x" not in emails and "c@x" not in emails


def test_database_error_rolls_back(executor: Any, dsn: str) -> None:
    result, emails = run(
        executor,
        dsn,
        'mutation { a: createAccount(email: "d@x") { id } b: createAccount(email: "a@x") { id } }',
    )
    # masked: the constraint's name is not for clients
    assert result["errors"][0]["message"] == "Internal server error"
    assert result["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "d@x" not in emails
