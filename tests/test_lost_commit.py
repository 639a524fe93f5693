"""A connection lost while COMMIT is in flight: the mutation is answered with the truth.

A relay between the pool and PostgreSQL drops the connection the moment the client sends
COMMIT, after forwarding it (the server commits, the client never hears) or instead of it
(the server rolls back); the outcome is learnt on a new connection with txid_status(). When
no new connection can be made, the answer says the outcome is unknown.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from support.tcp_relay import Cut, address, free_port, relay, through

import fraiseql
from fraiseql.db import transaction

COMMIT = b"COMMIT\x00"  # the text of the Parse message of the first COMMIT on a connection
MUTATION = "mutation($token: String!) { createToken(token: $token) { token } }"


@pytest.fixture(scope="module")
def dsn(pg_server: Any, pg_dsn: str) -> str:
    if pg_server is None:
        return pg_dsn
    return pg_server.create_database("lost_commit")


@pytest.fixture(scope="module")
def executor(dsn: str) -> Any:
    async def create() -> None:
        conn = await fraiseql.connect(dsn)
        await conn.execute(
            "DROP TABLE IF EXISTS tb_token; "
            "CREATE TABLE tb_token (id serial PRIMARY KEY, token text NOT NULL UNIQUE)"
        )
        await conn.close()

    asyncio.run(create())
    fraiseql.reset_registry()

    @fraiseql.type(sql_source="tb_token")
    class Token:
        token: str

    @fraiseql.query
    async def tokens(info) -> list[Token]:
        return []

    @fraiseql.mutation
    async def create_token(info, token: str) -> Token:
        row = await info.context["db"].fetchrow(
            "INSERT INTO tb_token (token) VALUES ($1) RETURNING token", token
        )
        return dict(row)

    yield fraiseql.Executor(fraiseql.build_schema())
    fraiseql.reset_registry()


def mutate(executor: Any, dsn: str, token: str, cut: Cut) -> tuple[Any, bool]:
    """The answer to createToken sent through a relay that cuts at COMMIT; whether the
    token is in the table afterwards."""
    port = free_port()

    async def go() -> tuple[Any, bool]:
        with relay(port, address(dsn), cut):
            pool = await fraiseql.create_pool(through(dsn, port), min_size=0, max_size=1)
            try:
                body = await executor.execute(MUTATION, {"token": token}, context={"db": pool})
            finally:
                await pool.close()
        assert cut.done.is_set(), "the relay never saw COMMIT"
        conn = await fraiseql.connect(dsn)
        try:
            stored = await conn.fetchval("SELECT count(*) FROM tb_token WHERE token = $1", token)
        finally:
            await conn.close()
        return json.loads(body), stored == 1

    return asyncio.run(go())


def test_commit_received_then_lost_is_answered_as_success(executor: Any, dsn: str) -> None:
    answer, stored = mutate(executor, dsn, "t-committed", Cut(COMMIT, forward=True))
    assert stored
    assert answer == {"data": {"createToken": {"token": "t-committed"}}}


def test_commit_lost_before_the_server_is_answered_as_failure(executor: Any, dsn: str) -> None:
    answer, stored = mutate(executor, dsn, "t-aborted", Cut(COMMIT, forward=False))
    assert not stored
    assert answer["data"] is None
    (error,) = answer["errors"]
    assert error["message"] == "Internal server error"  # a lost connection: masked
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"


def test_outcome_that_cannot_be_learnt_says_so(
    executor: Any, dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transaction, "OUTCOME_TIMEOUT", 1.0)
    answer, stored = mutate(executor, dsn, "t-unknown", Cut(COMMIT, forward=True, refuse=True))
    assert stored  # it did commit, but no new connection could ask
    assert answer["data"] is None
    (error,) = answer["errors"]
    assert error["extensions"] == {"code": "TRANSACTION_OUTCOME_UNKNOWN"}
    assert "could not be learnt" in error["message"]
    assert "127.0.0.1" not in error["message"]  # no internals


def test_transaction_block_raises_the_distinct_error(
    dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transaction, "OUTCOME_TIMEOUT", 0.5)
    port = free_port()

    async def go() -> None:
        with relay(port, address(dsn), Cut(COMMIT, forward=True, refuse=True)):
            conn = await fraiseql.connect(through(dsn, port))
            with pytest.raises(fraiseql.TransactionOutcomeUnknownError) as info:
                async with conn.transaction():
                    await conn.execute("INSERT INTO tb_token (token) VALUES ($1)", "t-block")
            assert info.value.xid is not None and isinstance(info.value, fraiseql.OperationalError)

    asyncio.run(go())
