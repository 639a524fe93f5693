"""fraiseql.expose's generated create/update/delete over a read model's command table, and
optimistic locking on the qm_ version: against a real PostgreSQL, tables checked after
every refusal, answers compared with graphql-core executing the same schema."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from support.databases import database_with, pool_on, table_rows
from support.graphql_reference import reference, rolled_back
from support.http_server import serve

import fraiseql
from fraiseql.cqrs import ReadModel

SCHEMA_SQL = """
CREATE TYPE mood AS ENUM ('calm', 'busy');
CREATE TABLE tb_member (
    id         serial PRIMARY KEY,
    first_name text NOT NULL,
    last_name  text NOT NULL DEFAULT '',
    email      text NOT NULL UNIQUE,
    nick       text,
    karma      bigint,
    mood       mood,
    tags       text[],
    settings   jsonb,
    joined_at  timestamptz NOT NULL DEFAULT '2024-01-01T00:00:00Z',
    shout      text GENERATED ALWAYS AS (upper(first_name)) STORED
);
CREATE TABLE tb_badge (
    id    int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    label text NOT NULL
);
CREATE TABLE tb_snapshot (id int PRIMARY KEY, note text);
"""

MEMBER = ReadModel(
    "member",
    table="tb_member",
    fields=("id", "first_name", "last_name", "email", "nick", "karma", "tags", "settings"),
    forms=("qm", "tv", "mv"),
)
SEED = """
TRUNCATE tb_member RESTART IDENTITY CASCADE;
INSERT INTO tb_member (first_name, email, nick) VALUES ('Ann', 'ann@x', 'annie'), ('Bob', 'bob@x', NULL);
TRUNCATE tb_badge RESTART IDENTITY;
"""


@pytest.fixture(scope="module")
def dsn(pg_server: Any, pg_dsn: str) -> str:
    return database_with(pg_server, pg_dsn, "write_commands", SCHEMA_SQL, [MEMBER])


@pytest.fixture(scope="module")
def pool(dsn: str, runner: asyncio.AbstractEventLoop) -> Iterator[Any]:
    with pool_on(runner, dsn) as pool:
        yield pool


def declare() -> None:
    fraiseql.reset_registry()

    @fraiseql.type(sql_source="qm_member", jsonb_column="data")
    class Member:
        id: int
        first_name: str
        last_name: str
        email: str
        nick: str | None

    @fraiseql.type(sql_source="tv_member", jsonb_column="data")
    class MemberView:
        id: int
        first_name: str

    @fraiseql.type(sql_source="tb_badge")
    class Badge:
        id: int
        label: str

    @fraiseql.query
    async def ping(info) -> str:
        return "pong"

    fraiseql.expose(Member, create="createMember", update="updateMember", delete="deleteMember")
    fraiseql.expose(MemberView, update="renameMember")
    fraiseql.expose(Badge, create="createBadge", delete="deleteBadge")


@pytest.fixture(scope="module")
def api(pool: Any, runner: asyncio.AbstractEventLoop) -> Iterator[tuple[Any, Any]]:
    declare()
    runner.run_until_complete(fraiseql.load_commands(pool))
    executor = fraiseql.Executor()
    yield executor.schema, executor
    fraiseql.reset_registry()


@pytest.fixture()
def seeded(pool: Any, runner: asyncio.AbstractEventLoop) -> None:
    runner.run_until_complete(pool.execute(SEED))


def members(runner: Any, pool: Any) -> list[tuple]:
    return table_rows(
        runner,
        pool,
        "SELECT t.id, t.first_name, t.nick, t.email, q.version FROM tb_member t "
        "JOIN qm_member q ON q.id = t.id ORDER BY t.id",
    )


ERROR_FIELDS = "code message field"


def typed(name: str, fields: str, entity: str = "member", versioned: bool = True) -> str:
    """The selection of a generated command's typed result: `fields` of the document (of
    the key for a delete) in the success member, the error member's fields."""
    stem = name[:1].upper() + name[1:]
    success = fields if name.startswith("delete") else f"{entity} {{ {fields} }}"
    error = ERROR_FIELDS + (" currentVersion" if versioned else "")
    return f"{{ __typename ... on {stem}Success {{ {success} }} ... on {stem}Error {{ {error} }} }}"


def mutate(api: Any, runner: Any, pool: Any, query: str, variables: Any = None) -> dict:
    _, executor = api
    body = runner.run_until_complete(
        executor.execute(query, variables, context={"db": pool}, request_id="r")
    )
    return json.loads(body)


def alike(api: Any, runner: Any, pool: Any, query: str, variables: Any = None) -> dict:
    """The executor's answer (one connection, the fast path for stored roots) and
    graphql-core's over the same schema, each in a transaction rolled back: the same bytes."""
    schema, executor = api

    got = runner.run_until_complete(
        rolled_back(
            pool, lambda ctx: executor.execute(query, variables, context=ctx, request_id="r")
        )
    )
    expected = runner.run_until_complete(
        rolled_back(pool, lambda ctx: reference(schema, (query, variables, None), "r", ctx))
    )
    assert got == expected, (query, got, expected)
    return json.loads(got)


# ---------------------------------------------------------------- the generated schema


def _fields(schema: Any, name: str) -> dict[str, str]:
    return {n: str(f.type) for n, f in schema.type_map[name].fields.items()}


def test_inputs_follow_the_command_tables_columns(api) -> None:
    schema, _ = api
    assert _fields(schema, "CreateMemberInput") == {
        "id": "Int",  # serial: a default
        "firstName": "String!",  # NOT NULL without default: required
        "lastName": "String",  # NOT NULL with a default: optional
        "email": "String!",
        "nick": "String",
        "karma": "Decimal",  # bigint: beyond Int, exactly
        "mood": "String",
        "tags": "[String]",
        "settings": "JSON",
        "joinedAt": "DateTime",
    }  # the generated column `shout` is left out
    update = _fields(schema, "UpdateMemberInput")
    assert "id" not in update and all(not t.endswith("!") for t in update.values())
    assert set(update) == set(_fields(schema, "CreateMemberInput")) - {"id"}
    assert _fields(schema, "CreateBadgeInput") == {"label": "String!"}  # ALWAYS identity: out
    mutation = schema.mutation_type.fields
    assert {n: str(a.type) for n, a in mutation["updateMember"].args.items()} == {
        "id": "Int!",
        "input": "UpdateMemberInput!",
        "expectedVersion": "Int",
    }
    assert str(mutation["deleteMember"].type) == "DeleteMemberResult!"
    result = schema.type_map["CreateMemberResult"]
    assert [t.name for t in result.types] == ["CreateMemberSuccess", "CreateMemberError"]
    assert _fields(schema, "CreateMemberSuccess") == {"member": "Member!", "message": "String!"}
    assert _fields(schema, "DeleteMemberSuccess") == {"id": "Int!", "message": "String!"}
    assert _fields(schema, "UpdateMemberError") == {
        "code": "String!",
        "message": "String!",
        "field": "String",
        "currentVersion": "Int",
    }
    assert _fields(schema, "CreateMemberError") == {
        "code": "String!",
        "message": "String!",
        "field": "String",
    }  # a create has no version to conflict with
    assert "currentVersion" not in _fields(schema, "RenameMemberError")  # tv_: none kept
    assert "expectedVersion" not in mutation["renameMember"].args  # tv_: no version kept
    assert "expectedVersion" not in mutation["deleteBadge"].args  # a plain table neither


# ---------------------------------------------------------------- writes


def test_create_writes_the_table_and_answers_the_read_model(api, runner, pool, seeded) -> None:
    out = mutate(
        api,
        runner,
        pool,
        'mutation { createMember(input: {firstName: "Cy", email: "cy@x"}) '
        + typed("createMember", "id firstName lastName nick", versioned=False).replace(
            "} }", "} message }", 1
        )
        + " }",
    )
    assert out == {
        "data": {
            "createMember": {
                "__typename": "CreateMemberSuccess",
                "member": {"id": 3, "firstName": "Cy", "lastName": "", "nick": None},
                "message": "Member created.",
            }
        }
    }
    assert members(runner, pool)[-1] == (3, "Cy", None, "cy@x", 1)


def test_a_v1_clients_selection_works(api, runner, pool, seeded) -> None:
    out = mutate(
        api,
        runner,
        pool,
        'mutation { createMember(input: {firstName: "Cy", email: "ann@x"}) { '
        "... on CreateMemberSuccess { member { id } } ... on CreateMemberError { message code } } }",
    )
    assert out == {
        "data": {"createMember": {"message": "Email is already taken.", "code": "UNIQUE_VIOLATION"}}
    }


def test_update_writes_only_the_fields_given(api, runner, pool, seeded) -> None:
    out = mutate(
        api,
        runner,
        pool,
        'mutation { updateMember(id: 1, input: {firstName: "Anna"}) '
        + typed("updateMember", "firstName nick")
        + " }",
    )
    assert out["data"]["updateMember"] == {
        "__typename": "UpdateMemberSuccess",
        "member": {"firstName": "Anna", "nick": "annie"},
    }  # nick untouched
    out = mutate(
        api,
        runner,
        pool,
        "mutation { updateMember(id: 1, input: {nick: null}) "
        + typed("updateMember", "firstName nick")
        + " }",
    )
    assert out["data"]["updateMember"]["member"] == {"firstName": "Anna", "nick": None}
    assert members(runner, pool)[0] == (1, "Anna", None, "ann@x", 3)  # two changes, two versions


def test_update_keeps_types_of_other_columns(api, runner, pool, seeded) -> None:
    out = mutate(
        api,
        runner,
        pool,
        "mutation($i: UpdateMemberInput!) { updateMember(id: 2, input: $i) "
        + typed("updateMember", "id")
        + " }",
        {
            "i": {
                "karma": "9007199254740993",
                "tags": ["a", None],
                "settings": {"k": [1, "x"]},
                "mood": "busy",
            }
        },
    )
    assert out["data"]["updateMember"]["member"] == {"id": 2}
    row = runner.run_until_complete(
        pool.fetchrow("SELECT karma, tags, settings, mood::text FROM tb_member WHERE id = 2")
    )
    assert tuple(row) == (9007199254740993, ["a", None], {"k": [1, "x"]}, "busy")


def test_delete_returns_the_key_and_removes_the_document(api, runner, pool, seeded) -> None:
    out = mutate(
        api,
        runner,
        pool,
        "mutation { deleteMember(id: 2) " + typed("deleteMember", "id message") + " }",
    )
    assert out == {
        "data": {
            "deleteMember": {
                "__typename": "DeleteMemberSuccess",
                "id": 2,
                "message": "Member deleted.",
            }
        }
    }
    assert [m[0] for m in members(runner, pool)] == [1]


def test_a_plain_table_is_its_own_command_table(api, runner, pool, seeded) -> None:
    out = mutate(
        api,
        runner,
        pool,
        'mutation { createBadge(input: {label: "gold"}) '
        + typed("createBadge", "id label", entity="badge", versioned=False)
        + " }",
    )
    assert out["data"]["createBadge"]["badge"] == {"id": 1, "label": "gold"}
    out = mutate(
        api,
        runner,
        pool,
        "mutation { deleteBadge(id: 1) " + typed("deleteBadge", "id", versioned=False) + " }",
    )
    assert out["data"]["deleteBadge"] == {"__typename": "DeleteBadgeSuccess", "id": 1}


# Each command's answers, refusals included, against graphql-core's (nothing kept).
ALIKE = [
    'mutation { updateMember(id: 1, input: {nick: "a"}) '
    + typed("updateMember", "__typename id nick lastName")
    + " }",
    "mutation { updateMember(id: 1, input: {}, expectedVersion: 1) "
    + typed("updateMember", "id")
    + " }",
    "mutation { updateMember(id: 1, input: {nick: null}, expectedVersion: 7) "
    + typed("updateMember", "id")
    + " }",
    "mutation { updateMember(id: 42, input: {nick: null}) " + typed("updateMember", "id") + " }",
    'mutation { createMember(input: {id: 10, firstName: "Di", email: "di@x"}) '
    + typed("createMember", "id email", versioned=False)
    + " }",
    'mutation { createMember(input: {firstName: "Di", email: "di@x", karma: "1.5"}) '
    + typed("createMember", "id", versioned=False)
    + " }",
    'mutation { createMember(input: {firstName: "Di", email: "ann@x"}) '
    + typed("createMember", "id", versioned=False)
    + " }",
    'mutation { createMember(input: {firstName: null, email: "n@x"}) { __typename } }',
    "mutation { deleteMember(id: 1, expectedVersion: 2) " + typed("deleteMember", "id") + " }",
    "mutation { deleteMember(id: 1, expectedVersion: 1) "
    + typed("deleteMember", "id message")
    + " }",
    'mutation { renameMember(id: 2, input: {nick: "b"}) '
    + typed("renameMember", "firstName", entity="memberView", versioned=False)
    + " }",
    "mutation { renameMember(id: 9, input: {}) "
    + typed("renameMember", "firstName", entity="memberView", versioned=False)
    + " }",
    'mutation { a: updateMember(id: 2, input: {nick: "b"}) { __typename } '
    'b: createMember(input: {firstName: "Z", email: "ann@x"}) { __typename } }',
]


@pytest.mark.parametrize("query", ALIKE)
def test_answers_are_graphql_cores_on_both_paths(api, runner, pool, seeded, query) -> None:
    alike(api, runner, pool, query)
    assert members(runner, pool) == BEFORE


# ---------------------------------------------------------------- refusals: nothing written


BEFORE = [(1, "Ann", "annie", "ann@x", 1), (2, "Bob", None, "bob@x", 1)]


@pytest.mark.parametrize(
    ("query", "code", "message", "field"),
    [
        (
            'mutation { updateMember(id: 1, input: {nick: "x"}, expectedVersion: 5) ',
            "CONFLICT",
            "The Member was changed by someone else (it is at version 1, not 5); read it again and retry.",
            "expectedVersion",
        ),
        (
            "mutation { deleteMember(id: 1, expectedVersion: 0) ",
            "CONFLICT",
            "The Member was changed by someone else (it is at version 1, not 0); read it again and retry.",
            "expectedVersion",
        ),
        (
            'mutation { updateMember(id: 77, input: {nick: "x"}) ',
            "NOT_FOUND",
            "No Member has id 77.",
            "id",
        ),
        ("mutation { deleteMember(id: 77) ", "NOT_FOUND", "No Member has id 77.", "id"),
        (
            'mutation { createMember(input: {firstName: "Z", email: "z@x", karma: "2.5"}) ',
            "INVALID_INPUT",
            "karma must be a whole number within 64 bits, got 2.5.",
            "karma",
        ),
        (
            'mutation { updateMember(id: 1, input: {mood: "angry"}) ',
            "INVALID_INPUT",
            "A value of the input is not valid for the column it is written to.",
            None,
        ),
        (
            'mutation { createMember(input: {firstName: "Z", email: "bob@x"}) ',
            "UNIQUE_VIOLATION",
            "Email is already taken.",
            "email",
        ),
        (
            'mutation { updateMember(id: 2, input: {email: "ann@x"}) ',
            "UNIQUE_VIOLATION",
            "Email is already taken.",
            "email",
        ),
        (
            "mutation { updateMember(id: 2, input: {firstName: null}) ",
            "NOT_NULL_VIOLATION",
            None,
            "firstName",
        ),
    ],
)
def test_refusals_are_the_error_member_and_write_nothing(
    api, runner, pool, seeded, query, code, message, field
) -> None:
    name = query.split("{ ")[1].split("(")[0]
    versioned = not name.startswith("create")
    out = mutate(api, runner, pool, query + typed(name, "id", versioned=versioned) + " }")
    error = out["data"][name]
    assert "errors" not in out
    stem = name[:1].upper() + name[1:]
    assert error["__typename"] == f"{stem}Error"
    assert error["code"] == code and error["field"] == field
    if message is not None:
        assert error["message"] == message
    if versioned:
        assert error["currentVersion"] == (1 if code == "CONFLICT" else None)
    assert members(runner, pool) == BEFORE


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ('mutation { updateMember(id: "one", input: {}) { __typename } }', "Int"),  # wrong type
        (
            'mutation { createMember(input: {firstName: "Z"}) { __typename } }',
            "email",
        ),  # required field missing
        (
            'mutation { createMember(input: {firstName: "Z", email: "z@x", shout: "Z"}) '
            "{ __typename } }",
            "shout",
        ),
        ('mutation { createMember(input: {firstName: 5, email: "z@x"}) { __typename } }', "String"),
        ('mutation { createBadge(input: {id: 3, label: "x"}) { __typename } }', "id"),  # ALWAYS
        (
            'mutation { createMember(input: {firstName: "Z", email: "z@x"}) { id } }',
            "CreateMemberResult",
        ),  # the plain selection of before: a field the union lacks
    ],
)
def test_bad_input_is_a_request_error_before_any_write(
    api, runner, pool, seeded, query, names
) -> None:
    out = mutate(api, runner, pool, query)
    assert "data" not in out
    assert names in out["errors"][0]["message"]
    assert members(runner, pool) == BEFORE
    assert runner.run_until_complete(pool.fetchval("SELECT count(*) FROM tb_badge")) == 0


def test_a_constraint_violation_rolls_back_the_whole_mutation(api, runner, pool, seeded) -> None:
    out = mutate(
        api,
        runner,
        pool,
        'mutation { a: updateMember(id: 2, input: {nick: "b"}) { __typename } '
        'b: createMember(input: {firstName: "Z", email: "ann@x"}) '
        + typed("createMember", "id", versioned=False)
        + " }",
    )
    assert out == {
        "data": {
            "a": {"__typename": "UpdateMemberSuccess"},
            "b": {
                "__typename": "CreateMemberError",
                "code": "UNIQUE_VIOLATION",
                "message": "Email is already taken.",
                "field": "email",
            },
        }
    }
    assert members(runner, pool) == BEFORE  # a's write is rolled back with b's refusal


# ---------------------------------------------------------------- concurrent writers


def sent(executor: Any, query: str) -> Any:
    """A writer sending `query` to `executor` with its connection's pool as context["db"]."""
    return lambda db: executor.execute(query, context={"db": db})


async def at_once(dsn: str, writers: list[Any]) -> list[Any]:
    """Each writer(db) on a connection of its own, all started together."""
    pools = [await fraiseql.create_pool(dsn, min_size=1, max_size=1) for _ in writers]
    try:
        return await asyncio.gather(*(write(p) for write, p in zip(writers, pools, strict=True)))
    finally:
        for p in pools:
            await p.close()


def test_concurrent_updates_with_one_version_let_exactly_one_through(
    api, runner, pool, dsn, seeded
) -> None:
    _, executor = api

    update = (
        'mutation { updateMember(id: 1, input: {nick: "w%d"}, expectedVersion: 1) '
        + typed("updateMember", "nick")
        + " }"
    )
    writers = [sent(executor, update % i) for i in range(6)]
    results = [
        json.loads(b)["data"]["updateMember"]
        for b in runner.run_until_complete(at_once(dsn, writers))
    ]
    winners = [r["member"]["nick"] for r in results if r["__typename"] == "UpdateMemberSuccess"]
    assert len(winners) == 1
    losers = [r for r in results if r["__typename"] == "UpdateMemberError"]
    assert [(r["code"], r["field"], r["currentVersion"]) for r in losers] == [
        ("CONFLICT", "expectedVersion", 2)
    ] * 5
    assert members(runner, pool)[0] == (1, "Ann", winners[0], "ann@x", 2)


def test_concurrent_commands_and_plain_writers_neither_lose_nor_deadlock(
    api, runner, pool, dsn, seeded
) -> None:
    _, executor = api

    command = sent(
        executor,
        'mutation { updateMember(id: 1, input: {nick: "n0"}) ' + typed("updateMember", "id") + " }",
    )

    def plain(db: Any) -> Any:  # a plain writer of the same row, locking in the triggers' order
        return db.execute("UPDATE tb_member SET last_name = last_name || 'x' WHERE id = 1")

    results = runner.run_until_complete(at_once(dsn, [command, plain] * 4))
    answers = [json.loads(r) for r in results if isinstance(r, bytes)]
    assert len(answers) == 4
    assert all(a["data"]["updateMember"]["__typename"] == "UpdateMemberSuccess" for a in answers)
    row = runner.run_until_complete(
        pool.fetchrow(
            "SELECT last_name, q.version, q.data->>'last_name' AS doc "
            "FROM tb_member t JOIN qm_member q USING (id) WHERE id = 1"
        )
    )
    assert row["last_name"] == "xxxx" and row["doc"] == "xxxx"  # every plain write kept
    assert row["version"] == 6  # the 4 plain writes and the nick's one change: 1 + 5


# ---------------------------------------------------------------- start-up and HTTP


def test_a_materialized_view_has_no_command_side(pool, runner) -> None:
    fraiseql.reset_registry()

    @fraiseql.type(sql_source="mv_member", jsonb_column="data")
    class Stale:
        id: int

    fraiseql.expose(Stale, create="createStale")
    with pytest.raises(
        fraiseql.SchemaError, match=r"type Stale \(sql_source 'mv_member'\): an mv_ read model"
    ):
        runner.run_until_complete(fraiseql.load_commands(pool))
    fraiseql.reset_registry()


def test_a_read_models_commands_find_rows_by_its_id(pool, runner) -> None:
    fraiseql.reset_registry()

    @fraiseql.type(sql_source="qm_member", jsonb_column="data", key="email")
    class ByEmail:
        id: int
        email: str

    fraiseql.expose(ByEmail, delete="deleteByEmail")
    with pytest.raises(fraiseql.SchemaError, match="its key is 'email', but a read model's rows"):
        runner.run_until_complete(fraiseql.load_commands(pool))
    fraiseql.reset_registry()


def test_a_view_of_no_read_model_has_no_table_to_write(pool, runner) -> None:
    fraiseql.reset_registry()
    runner.run_until_complete(pool.execute("CREATE OR REPLACE VIEW v_plain AS SELECT 1 AS id"))

    @fraiseql.type(sql_source="v_plain")
    class Plain:
        id: int

    fraiseql.expose(Plain, delete="deletePlain")
    with pytest.raises(fraiseql.SchemaError, match="'v_plain' is neither a table nor a read model"):
        runner.run_until_complete(fraiseql.load_commands(pool))
    fraiseql.reset_registry()


def test_expose_checks_its_arguments() -> None:
    fraiseql.reset_registry()

    @fraiseql.type(sql_source="qm_member")
    class Some:
        id: int

    with pytest.raises(TypeError, match="retry must be True or an int >= 0"):
        fraiseql.expose(Some, create="createSome", retry=-1)
    fraiseql.reset_registry()


UPDATE_BOBBY = (
    'mutation { updateMember(id: 2, input: {nick: "bobby"}) ' + typed("updateMember", "nick") + " }"
)


@pytest.mark.parametrize("lifespan", ["on", "off"])
def test_the_app_declares_the_commands_when_it_opens_its_pool(api, dsn, seeded, lifespan) -> None:
    declare()  # create_app's registry (the api fixture's executor keeps its own schema)
    app = fraiseql.create_app(database_url=dsn)
    with serve(app, lifespan=lifespan) as base:
        posted = httpx.post(
            f"{base}/graphql",
            json={"query": UPDATE_BOBBY},
        )
        got = httpx.get(
            f"{base}/graphql",
            params={
                "query": "mutation { deleteMember(id: 2) " + typed("deleteMember", "id") + " }"
            },
        )
    assert posted.json() == {
        "data": {"updateMember": {"__typename": "UpdateMemberSuccess", "member": {"nick": "bobby"}}}
    }
    assert got.status_code == 405 and got.headers["allow"] == "POST"
    assert [m[:3] for m in members_now(dsn)] == [(1, "Ann", "annie"), (2, "Bob", "bobby")]
    fraiseql.reset_registry()


def members_now(dsn: str) -> list[tuple]:
    async def go() -> list[tuple]:
        conn = await fraiseql.connect(dsn)
        try:
            return [
                tuple(r)
                for r in await conn.fetch("SELECT id, first_name, nick FROM tb_member ORDER BY id")
            ]
        finally:
            await conn.close()

    return asyncio.run(go())
