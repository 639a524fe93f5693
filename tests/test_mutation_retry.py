"""Deadlocks and serialization failures in mutations: real ones, provoked with two
SERIALIZABLE transactions (or two writers locking in opposite orders) on their own
connections; `retry=` re-runs the whole transaction, else (or once exhausted) the client
gets a typed error, and the tables hold exactly what the committed attempts wrote."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from support.databases import database_with

import fraiseql

SCHEMA_SQL = """
CREATE TABLE tb_ledger (id serial PRIMARY KEY, who text NOT NULL, total int NOT NULL);
CREATE TABLE tb_slot (id int PRIMARY KEY, holder text);
INSERT INTO tb_slot VALUES (1, NULL), (2, NULL);
"""


@pytest.fixture(scope="module")
def dsn(pg_server: Any, pg_dsn: str) -> str:
    return database_with(pg_server, pg_dsn, "write_retry", SCHEMA_SQL)


class Collision:
    """Makes the first attempts of two mutations overlap: each waits at `meet` until the
    other got there too, so their transactions interleave; re-runs pass straight through."""

    def __init__(self) -> None:
        self.barrier = asyncio.Barrier(2)
        self.attempts: dict[str, int] = {}

    async def meet(self, who: str) -> None:
        self.attempts[who] = self.attempts.get(who, 0) + 1
        if self.attempts[who] == 1:
            await asyncio.wait_for(self.barrier.wait(), 30)  # a safety net, not a measure


def declare(retry: int, collision: Collision) -> Any:
    fraiseql.reset_registry()

    @fraiseql.query
    async def ping(info) -> str:
        return "pong"

    @fraiseql.mutation(retry=retry)
    async def append(info, who: str) -> int:
        """Write skew: both read the total, both append to it; SERIALIZABLE refuses one."""
        db = info.context["db"]
        await db.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
        total = await db.fetchval("SELECT coalesce(max(total), 0) FROM tb_ledger")
        await collision.meet(who)
        await db.execute("INSERT INTO tb_ledger (who, total) VALUES ($1, $2)", who, total + 1)
        return total + 1

    @fraiseql.mutation(retry=retry)
    async def swap(info, who: str, first: int) -> str:
        """Two writers taking the two slots in opposite orders: a deadlock."""
        db = info.context["db"]
        await db.execute("UPDATE tb_slot SET holder = $1 WHERE id = $2", who, first)
        await collision.meet(who)
        await db.execute("UPDATE tb_slot SET holder = $1 WHERE id = $2", who, 3 - first)
        return who

    @fraiseql.type
    class Appended:
        total: int

    @fraiseql.error
    class NotAppended:
        code: str
        message: str

    @fraiseql.mutation(retry=retry)
    async def append_typed(info, who: str) -> Appended | NotAppended:
        """append, answering with a typed result: a refusal is its error member."""
        return Appended(total=await append(info, who))

    return fraiseql.Executor()


def race(
    dsn: str, executor: Any, queries: list[str]
) -> tuple[list[dict], list[tuple], list[tuple]]:
    async def go() -> tuple[list[dict], list[tuple], list[tuple]]:
        pools = [await fraiseql.create_pool(dsn, min_size=1, max_size=1) for _ in queries]
        try:
            await pools[0].execute(
                "TRUNCATE tb_ledger RESTART IDENTITY; UPDATE tb_slot SET holder = NULL"
            )
            bodies = await asyncio.gather(
                *(
                    executor.execute(q, context={"db": p})
                    for q, p in zip(queries, pools, strict=True)
                )
            )
            ledger = [
                tuple(r)
                for r in await pools[0].fetch("SELECT who, total FROM tb_ledger ORDER BY id")
            ]
            slots = [
                tuple(r) for r in await pools[0].fetch("SELECT id, holder FROM tb_slot ORDER BY id")
            ]
        finally:
            for p in pools:
                await p.close()
        return [json.loads(b) for b in bodies], ledger, slots

    return asyncio.run(go())


APPENDS = ['mutation { append(who: "a") }', 'mutation { append(who: "b") }']
SWAPS = ['mutation { swap(who: "a", first: 1) }', 'mutation { swap(who: "b", first: 2) }']


@pytest.fixture()
def registry() -> Iterator[None]:
    yield
    fraiseql.reset_registry()


def test_a_serialization_failure_is_retried_and_both_commit(dsn, registry) -> None:
    collision = Collision()
    results, ledger, _ = race(dsn, declare(2, collision), APPENDS)
    assert sorted(r["data"]["append"] for r in results) == [1, 2]
    assert sorted(total for _, total in ledger) == [1, 2]  # as if one ran after the other
    assert sorted(collision.attempts.values()) == [1, 2]  # the refused one ran twice


def test_without_retry_the_refused_one_is_typed_and_writes_nothing(dsn, registry) -> None:
    results, ledger, _ = race(dsn, declare(0, Collision()), APPENDS)
    failed = [r for r in results if r.get("errors")]
    assert len(failed) == 1
    (error,) = failed[0]["errors"]
    assert error["extensions"] == {"code": "SERIALIZATION_FAILURE"}
    assert error["message"] == (
        "The change conflicted with a concurrent one and was not applied; send it again."
    )
    assert len(ledger) == 1 and ledger[0][1] == 1  # only the other one's row


def test_a_deadlock_is_retried_and_the_slots_have_one_holder(dsn, registry) -> None:
    collision = Collision()
    results, _, slots = race(dsn, declare(1, collision), SWAPS)
    assert sorted(r["data"]["swap"] for r in results) == ["a", "b"]
    (holder,) = {h for _, h in slots}  # the one that ran last took both slots
    assert holder in ("a", "b")


def test_a_deadlock_without_retry_is_typed_and_rolled_back(dsn, registry) -> None:
    results, _, slots = race(dsn, declare(0, Collision()), SWAPS)
    failed = [r for r in results if r.get("errors")]
    (winner,) = [r["data"]["swap"] for r in results if not r.get("errors")]
    assert [f["errors"][0]["extensions"]["code"] for f in failed] == ["DEADLOCK"]
    assert slots == [(1, winner), (2, winner)]  # nothing of the loser's first update


def test_retry_must_be_a_count() -> None:
    with pytest.raises(TypeError, match="retry must be True or an int >= 0"):
        fraiseql.mutation(retry=-2)


TYPED = [
    f'mutation {{ appendTyped(who: "{who}") {{ ... on Appended {{ total }} '
    "... on NotAppended { code message } } }"
    for who in "ab"
]


def test_a_typed_result_answers_the_failure_as_its_error_member(dsn, registry) -> None:
    results, ledger, _ = race(dsn, declare(0, Collision()), TYPED)
    message = "The change conflicted with a concurrent one and was not applied; send it again."
    answers = [r["data"]["appendTyped"] if r.get("data") else r["errors"][0] for r in results]
    assert {"total": 1} in answers
    (refused,) = [a for a in answers if a != {"total": 1}]
    # Refused inside the mutation: its error member. At COMMIT (PostgreSQL may find the
    # conflict there), after the value was answered: the error of the request.
    assert refused in (
        {"code": "SERIALIZATION_FAILURE", "message": message},
        {"message": message, "extensions": {"code": "SERIALIZATION_FAILURE"}},
    )
    assert [total for _, total in ledger] == [1]  # the refused one wrote nothing


def test_a_typed_result_is_retried_too(dsn, registry) -> None:
    results, ledger, _ = race(dsn, declare(1, Collision()), TYPED)
    assert sorted(r["data"]["appendTyped"]["total"] for r in results) == [1, 2]
    assert sorted(total for _, total in ledger) == [1, 2]
