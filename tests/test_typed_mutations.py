"""Typed mutation results against a real PostgreSQL: success on the fast path, constraint
violations and refusals as the error member, nothing written (the tables are checked after
every failing mutation), graphql-core answering the same bytes, and once over HTTP."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from support.graphql_reference import reference
from support.http_server import serve

import fraiseql
from fraiseql import constraints
from fraiseql.repository import Repository

SCHEMA_SQL = """
DROP TABLE IF EXISTS tb_member, tb_team, tb_booking;
CREATE TABLE tb_team (id int PRIMARY KEY);
INSERT INTO tb_team VALUES (1);
CREATE TABLE tb_member (
    id serial PRIMARY KEY,
    email text NOT NULL CONSTRAINT tb_member_email_key UNIQUE,
    display_name text NOT NULL CHECK (length(display_name) > 0),
    team_id int REFERENCES tb_team (id)
);
CREATE TABLE tb_booking (during int4range, EXCLUDE USING gist (during WITH &&));
"""

CALLS: list[str] = []  # the email of each createMember call

CREATE = (
    "mutation($e: String!, $n: String, $t: Int, $refuse: Boolean) { createMember(email: $e, "
    "displayName: $n, teamId: $t, refuse: $refuse) { __typename "
    "... on MemberCreated { member { id email displayName } } "
    "... on MemberError { code message field } } }"
)


@pytest.fixture(scope="module")
def dsn(pg_server: Any, pg_dsn: str) -> str:
    if pg_server is None:  # FRAISEQL_TEST_DSN: use that database as is
        return pg_dsn
    return pg_server.create_database("union_typed_mutations")


@pytest.fixture(scope="module")
def schema(dsn: str) -> Any:
    async def create() -> None:
        conn = await fraiseql.connect(dsn)
        await conn.execute(SCHEMA_SQL)
        await conn.close()

    asyncio.run(create())
    fraiseql.reset_registry()

    @fraiseql.type(sql_source="tb_member")
    class Member:
        id: int
        email: str
        display_name: str

    @fraiseql.type
    class MemberCreated:
        member: Member

    @fraiseql.error
    class MemberError:
        code: str
        message: str
        field: str | None = None

    @fraiseql.query
    async def members(info) -> list[Member]:
        return await Repository(info.context["db"], info.context).find("tb_member")

    @fraiseql.mutation
    async def create_member(
        info,
        email: str,
        display_name: str | None = "A",
        team_id: int | None = None,
        refuse: bool | None = False,
    ) -> MemberCreated | MemberError:
        CALLS.append(email)
        db = info.context["db"]
        new_id = await db.fetchval(
            "INSERT INTO tb_member (email, display_name, team_id) VALUES ($1, $2, $3) RETURNING id",
            email,
            display_name,
            team_id,
        )
        if refuse:  # after the insert: the rollback must take it back
            return MemberError(code="REFUSED", message="Not today.")
        return MemberCreated(member=await Repository(db, info.context).find_one(Member, id=new_id))

    @fraiseql.mutation
    async def book(info, lo: int, hi: int) -> MemberCreated | MemberError:
        await info.context["db"].execute(
            "INSERT INTO tb_booking VALUES (int4range($1, $2))", lo, hi
        )
        raise fraiseql.CommandError("BOOKED", "Booked.")

    yield fraiseql.build_schema()
    fraiseql.reset_registry()


def _run(dsn: str, work: Any) -> Any:
    async def go() -> Any:
        pool = await fraiseql.create_pool(dsn, min_size=1, max_size=2)
        try:
            return await work(pool)
        finally:
            await pool.close()

    return asyncio.run(go())


def _emails(pool: Any) -> Any:
    return pool.fetch("SELECT email FROM tb_member ORDER BY id")


def mutate(schema: Any, dsn: str, variables: dict[str, Any]) -> tuple[Any, list[str], int]:
    """The response to CREATE, the emails stored afterwards, and the fast runs it took."""
    executor = fraiseql.Executor(schema)

    async def work(pool: Any) -> Any:
        body = await executor.execute(CREATE, variables, context={"db": pool}, request_id="t")
        return json.loads(body), [r["email"] for r in await _emails(pool)]

    body, emails = _run(dsn, work)
    return body, emails, executor.fast_runs


def test_success_is_served_by_the_fast_path(schema: Any, dsn: str) -> None:
    body, emails, fast = mutate(schema, dsn, {"e": "ada@example.org", "n": "Ada"})
    member = body["data"]["createMember"]
    assert member["__typename"] == "MemberCreated"
    assert member["member"]["email"] == "ada@example.org"
    assert member["member"]["displayName"] == "Ada"
    assert "ada@example.org" in emails
    assert fast == 1  # the document read back was rewritten in C, not decoded


@pytest.mark.parametrize(
    ("variables", "code", "field", "message"),
    [
        ({"e": "dup@example.org"}, "UNIQUE_VIOLATION", "email", "Email is already taken."),
        (
            {"e": "fk@example.org", "t": 999},
            "FOREIGN_KEY_VIOLATION",
            "teamId",
            "Team id is not a record that exists.",
        ),
        (
            {"e": "nn@example.org", "n": None},
            "NOT_NULL_VIOLATION",
            "displayName",
            "Display name is required.",
        ),
        (
            {"e": "ck@example.org", "n": ""},
            "CHECK_VIOLATION",
            "displayName",
            "Display name is not valid.",
        ),
    ],
)
def test_violations_fill_the_error_member(
    schema: Any, dsn: str, variables: dict[str, Any], code: str, field: str, message: str
) -> None:
    mutate(schema, dsn, {"e": "dup@example.org"})  # the first one is fine (once)
    _, before, _ = mutate(schema, dsn, {"e": "probe@example.org", "refuse": True})
    body, after, _ = mutate(schema, dsn, variables)
    assert body == {
        "data": {
            "createMember": {
                "__typename": "MemberError",
                "code": code,
                "message": message,
                "field": field,
            }
        }
    }
    assert after == before  # nothing written
    text = json.dumps(body)
    assert "tb_member" not in text and "_key" not in text and "violates" not in text


def test_a_returned_error_rolls_the_insert_back(schema: Any, dsn: str) -> None:
    body, emails, _ = mutate(schema, dsn, {"e": "refused@example.org", "refuse": True})
    assert body["data"]["createMember"] == {
        "__typename": "MemberError",
        "code": "REFUSED",
        "message": "Not today.",
        "field": None,
    }
    assert "refused@example.org" not in emails


def test_exclusion_violation_and_command_error(schema: Any, dsn: str) -> None:
    executor = fraiseql.Executor(schema)
    query = "mutation { book(lo: 1, hi: 5) { ... on MemberError { code message field } } }"

    async def work(pool: Any) -> Any:
        await pool.execute("TRUNCATE tb_booking; INSERT INTO tb_booking VALUES ('[2,3)')")
        refused = json.loads(await executor.execute(query, context={"db": pool}))
        overlap = json.loads(
            await executor.execute(
                "mutation { book(lo: 2, hi: 4) { ... on MemberError { code field } } }",
                context={"db": pool},
            )
        )
        return refused, overlap, await pool.fetchval("SELECT count(*) FROM tb_booking")

    refused, overlap, count = _run(dsn, work)
    assert overlap == {"data": {"book": {"code": "EXCLUSION_VIOLATION", "field": "during"}}}
    # [1,5) overlaps too: the raise after the insert never happens
    assert refused["data"]["book"]["code"] == "EXCLUSION_VIOLATION"
    assert count == 1


def test_graphql_core_answers_the_same_bytes(schema: Any, dsn: str) -> None:
    """graphql-core executing the schema itself (db a pool, no transaction) answers each
    case as the executor does; the table is reset before each run."""
    executor = fraiseql.Executor(schema)
    cases = [
        {"e": "same@example.org", "n": "Same"},
        {"e": "same@example.org"},
        {"e": "other@example.org", "t": 999},
        {"e": "x@example.org", "refuse": True},
    ]

    async def work(pool: Any) -> Any:
        out = []
        await pool.execute(
            "DELETE FROM tb_member; INSERT INTO tb_member (email, display_name) VALUES ('same@example.org', 'S')"
        )
        for variables in cases[1:]:
            got = await executor.execute(CREATE, variables, context={"db": pool}, request_id="r")
            want = await reference(schema, (CREATE, variables, None), "r", {"db": pool})
            out.append((got, want))
        await pool.execute("DELETE FROM tb_member")
        got = await executor.execute(CREATE, cases[0], context={"db": pool}, request_id="r")
        await pool.execute("DELETE FROM tb_member")
        want = await reference(schema, (CREATE, cases[0], None), "r", {"db": pool})
        out.append((got, want))
        return out

    answers = _run(dsn, work)
    for got, want in answers[:-1]:
        assert got == want
    got, want = (json.loads(body) for body in answers[-1])
    for doc in (got, want):  # the ids differ (a sequence): compared without them
        assert doc["data"]["createMember"]["member"].pop("id") > 0
    assert got == want


def test_a_constraint_created_after_the_catalog_was_read(schema: Any, dsn: str) -> None:
    """The catalog is read again on another connection of the pool (the violation aborted
    the mutation's): the new constraint's column is named, and the mutation ran once."""
    executor = fraiseql.Executor(schema)

    async def work(pool: Any) -> Any:
        await pool.execute("ALTER TABLE tb_member DROP CONSTRAINT IF EXISTS late_name_key")
        await pool.execute("DELETE FROM tb_member")
        await executor.execute(
            CREATE, {"e": "first@example.org", "n": "Late"}, context={"db": pool}
        )
        await pool.execute(
            "ALTER TABLE tb_member ADD CONSTRAINT late_name_key UNIQUE (display_name)"
        )
        try:
            CALLS.clear()
            body = await executor.execute(
                CREATE, {"e": "second@example.org", "n": "Late"}, context={"db": pool}
            )
            assert CALLS == ["second@example.org"]
            return json.loads(body), [r["email"] for r in await _emails(pool)]
        finally:
            await pool.execute("ALTER TABLE tb_member DROP CONSTRAINT late_name_key")

    body, emails = _run(dsn, work)
    assert body["data"]["createMember"]["field"] == "displayName"
    assert body["data"]["createMember"]["code"] == "UNIQUE_VIOLATION"
    assert emails == ["first@example.org"]


def test_over_http(schema: Any, dsn: str) -> None:
    app = fraiseql.create_app(dsn, schema=schema)
    with serve(app) as base, httpx.Client(timeout=30) as client:
        for email in ("http@example.org", "http@example.org"):
            got = client.post(f"{base}/graphql", json={"query": CREATE, "variables": {"e": email}})
            assert got.status_code == 200
        assert got.json() == {
            "data": {
                "createMember": {
                    "__typename": "MemberError",
                    "code": "UNIQUE_VIOLATION",
                    "message": "Email is already taken.",
                    "field": "email",
                }
            }
        }


def test_catalog_cache_is_per_pool(dsn: str) -> None:
    async def work(pool: Any) -> Any:
        await constraints.ensure(pool)
        constraints.clear(pool)
        await constraints.ensure(pool)
        return True

    assert _run(dsn, work)
