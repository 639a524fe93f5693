"""Filtered live lists against a real PostgreSQL: Repository.watch(where=...) and the
generated `where` of a list subscription, differential against graphql-core's subscribe()
of the same schema and resolvers (the same writes during each stream), documents that
start and stop matching, one batched match per filter shape, row-level security."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from support.databases import as_user, login_role
from support.graphql_reference import fraiseql_stream, stream_reference
from support.ws_client import WAIT

import fraiseql
from fraiseql.cqrs import enable_live
from fraiseql.current import current_field
from fraiseql.live import hub_of
from fraiseql.repository import Repository

REQUEST_ID = "live-where"
MEMBERS = """DROP TABLE IF EXISTS qm_member;
CREATE TABLE qm_member (id int PRIMARY KEY, data jsonb);
INSERT INTO qm_member VALUES
  (1, '{"id": 1, "name": "Ada", "status": "active", "score": 7.50, "tags": ["x"]}'),
  (2, '{"id": 2, "name": "Bob", "status": "active", "score": 3, "tags": []}'),
  (3, '{"id": 3, "name": "Cy", "status": "idle", "score": 9.25, "tags": ["x", "y"]}'),
  (4, '{"id": 4, "name": "Di", "status": "idle", "score": 1, "tags": ["y"]}')"""
FAST: list[bool] = []  # per stream: whether the subscription ran with a compiled selection


async def next_value(watch: Any) -> Any:
    return await asyncio.wait_for(anext(watch), WAIT)


@pytest.fixture(scope="module")
def dsn(pg_server: Any, pg_dsn: str) -> str:
    return pg_server.create_database("live_where") if pg_server is not None else pg_dsn


async def _members(dsn: str) -> None:
    """qm_member afresh, notifying its changes (the writes before this are not heard)."""
    conn = await fraiseql.connect(dsn)
    await conn.execute(MEMBERS)
    await enable_live(conn, "qm_member")
    await conn.close()


@pytest.fixture(scope="module")
def model(dsn: str) -> Any:
    fraiseql.reset_registry()

    @fraiseql.type(sql_source="qm_member")
    class Member:
        id: int
        name: str
        status: str
        score: float
        tags: list[str]

    @fraiseql.query
    async def members(info) -> list[Member]:
        return await Repository(info.context["db"], info.context).find()

    @fraiseql.subscription
    async def member_changes(info) -> AsyncIterator[list[Member]]:
        """The matching members, then again after each of the context's writes."""
        field = current_field.get()
        FAST.append(field is not None and field.selection is not None)
        script = info.context["script"]
        async for members in Repository(info.context["db"], info.context).watch():
            yield members
            if not script:
                return
            await info.context["db"].execute(script.pop(0))

    schema = fraiseql.build_schema()
    yield schema, fraiseql.Executor(schema)
    fraiseql.reset_registry()


# (subscription, variables, the writes made after each list but the last)
CASES = [
    (
        'subscription { memberChanges(where: {status: {eq: "active"}}) { id name status } }',
        None,
        [
            'UPDATE qm_member SET data = data || \'{"name": "Ada L"}\' WHERE id = 1',
            'UPDATE qm_member SET data = data || \'{"status": "active"}\' WHERE id = 3',
            'UPDATE qm_member SET data = data || \'{"status": "gone"}\' WHERE id = 1',
            "DELETE FROM qm_member WHERE id = 2",
            'INSERT INTO qm_member VALUES (9, \'{"id": 9, "name": "Ed", '
            '"status": "active", "score": 2, "tags": []}\')',
        ],
    ),
    (
        "subscription S($s: String!) { memberChanges(where: {status: {eq: $s}}, "
        "orderBy: [{score: DESC}], limit: 2) { name score tags __typename } }",
        {"s": "idle"},
        [
            "UPDATE qm_member SET data = data || '{\"score\": 0.5}' WHERE id = 3",
            'UPDATE qm_member SET data = data || \'{"status": "idle"}\' WHERE id = 1',
        ],
    ),
    (
        "subscription { memberChanges(where: {OR: [{score: {gt: 5}}, "
        '{tags: {contains: ["y"]}}]}) { id tags } }',
        None,
        [
            'UPDATE qm_member SET data = data || \'{"tags": ["y"]}\' WHERE id = 2',
            "UPDATE qm_member SET data = data || '{\"score\": 1}' WHERE id = 1",
        ],
    ),
    (  # a null in a non-null field: graphql-core completes that list, on both paths
        'subscription { memberChanges(where: {status: {eq: "active"}}) { id name } }',
        None,
        [
            "UPDATE qm_member SET data = data || '{\"name\": null}' WHERE id = 2",
            'UPDATE qm_member SET data = data || \'{"name": "Bo"}\' WHERE id = 2',
        ],
    ),
    ('subscription { memberChanges(where: {nope: {eq: "x"}}) { id } }', None, []),
    ("subscription { memberChanges(limit: -1) { id } }", None, []),
]


@pytest.mark.parametrize("case", CASES, ids=[f"w{i}" for i in range(len(CASES))])
def test_same_stream_as_graphql_core(model: Any, dsn: str, case: Any) -> None:
    schema, executor = model
    query, variables, script = case

    async def go() -> tuple[Any, Any]:
        async with fraiseql.create_pool(dsn, max_size=3) as pool:
            await _members(dsn)
            context = {"db": pool, "script": list(script)}
            expected = await stream_reference(schema, (query, variables, None), REQUEST_ID, context)
            await _members(dsn)
            context = {"db": pool, "script": list(script)}
            got = await fraiseql_stream(executor, (query, variables, None), REQUEST_ID, context)
            return expected, got

    FAST.clear()
    expected, got = asyncio.run(go())
    assert got == expected, (case, got, expected)
    if expected and expected[0] != "refused" and not isinstance(expected[-1], tuple):
        assert len(expected) == len(script) + 1  # a list after each write: none missed
        assert FAST == [False, True]  # graphql-core's run, then fraiseql's fast path


def test_a_document_starting_and_stopping_to_match(dsn: str) -> None:
    async def go() -> list[Any]:
        async with fraiseql.create_pool(dsn, max_size=2) as pool:
            await _members(dsn)
            watch = Repository(pool).watch("qm_member", where={"data.status": {"eq": "idle"}})
            seen = [await next_value(watch)]
            await pool.execute("UPDATE qm_member SET data = data || '{\"x\": 1}' WHERE id = 1")
            await pool.execute(  # unrelated, then related: the next list is the related one
                'UPDATE qm_member SET data = data || \'{"status": "idle"}\' WHERE id = 2'
            )
            seen.append(await next_value(watch))
            await pool.execute(
                'UPDATE qm_member SET data = data || \'{"status": "gone"}\' WHERE id = 3'
            )
            seen.append(await next_value(watch))
            await pool.execute("TRUNCATE qm_member")
            seen.append(await next_value(watch))
            await watch.aclose()
            return seen

    seen = asyncio.run(go())
    assert [[m["id"] for m in members] for members in seen] == [[3, 4], [2, 3, 4], [2, 4], []]


def test_lists_of_one_filter_shape_share_one_match_statement(dsn: str) -> None:
    async def go() -> tuple[int, int, list[Any], list[Any]]:
        async with fraiseql.create_pool(dsn, max_size=3) as pool:
            await _members(dsn)
            repo = Repository(pool)
            # 30 lists of one shape (other values), 1 of another shape
            watches = [
                repo.watch("qm_member", where={"data.name": {"eq": f"N{i}"}}) for i in range(30)
            ]
            watches.append(repo.watch("qm_member", where={"data.score": {"gt": 100}}))
            firsts = [await next_value(w) for w in watches]
            hub = hub_of(pool)
            before = hub.match_statements
            await pool.execute(
                'UPDATE qm_member SET data = data || \'{"name": "N7", "score": 200}\' WHERE id = 4'
            )
            changed = [await next_value(watches[7]), await next_value(watches[-1])]
            matches = hub.match_statements - before
            for w in watches:
                await w.aclose()
            return matches, len(hub.groups), firsts, changed

    matches, groups_left, firsts, changed = asyncio.run(go())
    assert all(first == [] for first in firsts)
    assert [[m["id"] for m in members] for members in changed] == [[4], [4]]
    assert matches == 2  # one statement per shape, for every list of it
    assert groups_left == 0


def test_row_level_security_applies_to_matches_and_re_reads(dsn: str) -> None:
    reader = as_user(dsn, "lw_reader")  # superusers bypass row-level security

    async def go() -> tuple[Any, Any, Any, Any]:
        admin = await fraiseql.connect(dsn)
        await admin.execute(login_role("lw_reader"))
        await admin.execute(
            """DROP TABLE IF EXISTS tenant_lists;
            CREATE TABLE tenant_lists (id int PRIMARY KEY, tenant int, data jsonb);
            ALTER TABLE tenant_lists ENABLE ROW LEVEL SECURITY;
            CREATE POLICY tenant ON tenant_lists
                USING (tenant = nullif(current_setting('app.tenant', true), '')::int);
            GRANT SELECT ON tenant_lists TO lw_reader;
            GRANT USAGE ON SCHEMA fraiseql TO lw_reader;
            GRANT SELECT ON ALL TABLES IN SCHEMA fraiseql TO lw_reader;
            INSERT INTO tenant_lists VALUES (1, 1, '{"id": 1, "on": true}')"""
        )
        await enable_live(admin, "tenant_lists")
        async with fraiseql.create_pool(
            reader, max_size=2, session_settings={"tenant": "app.tenant"}
        ) as pool:
            where = {"data.on": {"eq": True}}
            mine = Repository(pool, {"tenant": 1}).watch("tenant_lists", where=where)
            theirs = Repository(pool, {"tenant": 2}).watch("tenant_lists", where=where)
            first = await next_value(mine), await next_value(theirs)
            await admin.execute(  # tenant 2's row starts matching: only tenant 2 sees it
                'INSERT INTO tenant_lists VALUES (2, 2, \'{"id": 2, "on": true}\')'
            )
            second = await next_value(theirs)
            await admin.execute(
                'UPDATE tenant_lists SET data = \'{"id": 1, "on": true, "v": 2}\' WHERE id = 1'
            )
            third = await next_value(mine)
            await mine.aclose()
            await theirs.aclose()
        await admin.close()
        return first, second, third, None

    (mine, theirs), second, third, _ = asyncio.run(go())
    assert mine == [{"id": 1, "on": True}] and theirs == []
    assert second == [{"id": 2, "on": True}]
    assert third == [{"id": 1, "on": True, "v": 2}]
