"""Indexed keys of read models (`ReadModel(indexed=...)`): typed columns beside `data`.

On 100,000 rows, the planner (after ANALYZE, seq scans allowed) serves each statement the
Repository sends for an indexed equality, a range, an order-by with a limit and connection
pages after a cursor from an index of the qm_ table, reading no more rows than the answer
needs. On a small table with nulls, a model with every scalar key indexed answers every
filter, order and page as the same model without indexed keys does, and graphql-core as
the fast path does.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from support.databases import database_with, pool_on
from support.graphql_reference import answered_alike

import fraiseql
from fraiseql.cqrs import DeclarationError, ReadModel

ROWS = 100_000
SCHEMA_SQL = f"""
CREATE TABLE tb_member (
    id     int PRIMARY KEY,
    email  text NOT NULL,
    joined timestamptz NOT NULL,
    age    int,
    name   text NOT NULL
);
INSERT INTO tb_member
SELECT g, 'm' || g || '@example.com', timestamptz '2024-01-01 00:00:00+00' + (g / 3) * interval '1 minute',
       CASE WHEN g % 10 = 0 THEN NULL ELSE g % 90 END, 'Name ' || g
FROM generate_series(1, {ROWS}) AS g;
CREATE TABLE tb_author (
    id     int PRIMARY KEY,
    email  text NOT NULL,
    joined timestamptz NOT NULL,
    age    int,
    rating numeric(5, 2),
    born   date,
    active boolean
);
INSERT INTO tb_author VALUES
  (1, 'ada@example.com', '2024-01-05 10:00:00+00', 36, 14.00, '1815-12-10', true),
  (2, 'bob@example.org', '2024-01-05 12:00:00+02', 10, 3.50, NULL, false),
  (3, 'cy_1@example.com', '2023-06-01 00:00:00+00', NULL, NULL, '1990-01-01', NULL),
  (4, 'di%@example.net', '2025-03-01 00:00:00+00', 36, 9.00, '1990-01-01', true),
  (5, 'ada2@example.com', '2025-03-01 00:00:00+00', 2, 9.00, '2000-02-29', false),
  (6, 'eve@example.com', '2022-12-31 23:59:59+00', NULL, 100.00, NULL, true),
  (7, 'Ada@example.com', '2024-01-05 10:00:00+00', 99, 14.0, '1815-12-10', NULL);
"""
MEMBER = ReadModel(
    "member",
    table="tb_member",
    fields=("id", "email", "joined", "age", "name"),
    forms=("qm",),
    indexed=("email", "joined DESC", "age"),
)
AUTHOR_FIELDS = ("id", "email", "joined", "age", "rating", "born", "active")
AUTHOR = ReadModel("author", table="tb_author", fields=AUTHOR_FIELDS, forms=("qm",))
KEYED = ReadModel(
    "keyed",
    table="tb_author",
    fields=AUTHOR_FIELDS,
    forms=("qm", "mv", "tv"),
    indexed=("email", "joined DESC", "age", "rating DESC NULLS LAST", "born", "active"),
)


@pytest.fixture(scope="module")
def dsn(pg_server: Any, pg_dsn: str) -> str:
    return database_with(
        pg_server, pg_dsn, "read_model_indexes", SCHEMA_SQL, [MEMBER, AUTHOR, KEYED]
    )


@pytest.fixture(scope="module")
def pool(dsn: str, runner: asyncio.AbstractEventLoop) -> Iterator[Any]:
    with pool_on(runner, dsn) as pool:
        runner.run_until_complete(pool.execute("ANALYZE"))
        yield pool


AUTHOR_TYPE = {
    "id": int,
    "email": str,
    "joined": dt.datetime,
    "age": int | None,
    "rating": Decimal | None,
    "born": dt.date | None,
    "active": bool | None,
}
# GraphQL type -> (read model, form); each exposed as <type>s and <type>Page
TYPES = {
    "author": (AUTHOR, "qm"),
    "keyed": (KEYED, "qm"),
    "keyedMv": (KEYED, "mv"),
    "keyedTv": (KEYED, "tv"),
}


@pytest.fixture(scope="module")
def api(pool: Any) -> Iterator[tuple[Any, Any]]:
    fraiseql.reset_registry()

    @MEMBER.graphql_type
    class Member:
        id: int
        email: str
        joined: dt.datetime
        age: int | None

    fraiseql.expose(Member, many="members", connection="membersPage")
    for field, (model, form) in TYPES.items():
        name = field[0].upper() + field[1:]
        cls = model.graphql_type(type(name, (), {"__annotations__": dict(AUTHOR_TYPE)}), form=form)
        fraiseql.expose(cls, many=f"{field}s", connection=f"{field}Page")
    schema = fraiseql.build_schema()
    yield schema, fraiseql.Executor(schema)
    fraiseql.reset_registry()


def both(api: Any, runner: Any, pool: Any, query: str) -> dict:
    """fraiseql's answer (as JSON), after checking graphql-core's is the same bytes."""
    schema, executor = api
    out = json.loads(answered_alike(schema, executor, runner, {"db": pool}, query))
    assert "errors" not in out, out
    return out["data"]


# ---------------------------------------------------------------- plans on 100,000 rows


class Spy:
    """The pool, recording each statement fetch_json sends with its parameters."""

    def __init__(self, db: Any) -> None:
        self.db, self.view_cache, self.sent = db, db.view_cache, []

    async def fetch_json(self, sql: str, *args: Any, **kw: Any) -> Any:
        self.sent.append((sql, args))
        return await self.db.fetch_json(sql, *args, **kw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.db, name)


INDEX_NODES = ("Index Scan", "Index Only Scan", "Bitmap Heap Scan", "Bitmap Index Scan")


def scans(plan: dict) -> Iterator[dict]:
    if "Relation Name" in plan or "Index Name" in plan:
        yield plan
    for child in plan.get("Plans", ()):
        yield from scans(child)


def assert_indexed(api: Any, runner: Any, pool: Any, query: str, most: int) -> None:
    """The statement `query` sends reads qm_member through its indexes only, and at most
    `most` rows of it (rows returned plus rows a filter removed, over every loop)."""
    _, executor = api
    spy = Spy(pool)
    runner.run_until_complete(executor.execute(query, context={"db": spy}))
    ((sql, args),) = spy.sent
    explain = "EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) " + sql
    plan = runner.run_until_complete(pool.fetchval(explain, *args))[0]["Plan"]
    nodes = list(scans(plan))
    assert nodes, plan
    for node in nodes:
        assert node["Node Type"] in INDEX_NODES, (query, node["Node Type"], plan)
        read = node["Actual Rows"] + node.get("Rows Removed by Filter", 0)
        assert read * node["Actual Loops"] <= most, (query, node, plan)


def cursor_at(api: Any, runner: Any, pool: Any, order: str, where: str) -> str:
    """The cursor of the first row of `where` in `order` (a cursor names the view and the
    order, not the filter: it positions an unfiltered walk in the middle of the table)."""
    page = both(
        api,
        runner,
        pool,
        f"{{ membersPage(first: 1{order}, where: {where}) {{ edges {{ cursor }} }} }}",
    )
    return page["membersPage"]["edges"][0]["cursor"]


def test_an_indexed_equality_reads_one_row(api, runner, pool) -> None:
    assert_indexed(
        api, runner, pool, '{ members(where: {email: {eq: "m500@example.com"}}) { id } }', 1
    )


def test_ranges_read_the_rows_in_range(api, runner, pool) -> None:
    hour = '{gte: "2024-02-01T00:00:00Z", lt: "2024-02-01T01:00:00Z"}'
    assert_indexed(api, runner, pool, f"{{ members(where: {{joined: {hour}}}) {{ id }} }}", 180)
    assert_indexed(api, runner, pool, "{ members(where: {age: {gte: 30, lt: 31}}) { id } }", 1200)


def test_an_order_with_a_limit_reads_the_page(api, runner, pool) -> None:
    query = (
        '{ members(where: {joined: {gte: "2024-01-01T00:00:00Z"}}, orderBy: [{joined: DESC}], '
        "limit: 20) { id } }"
    )
    assert_indexed(api, runner, pool, query, 21)


@pytest.mark.parametrize("order", ["", ", orderBy: [{joined: DESC}]", ", orderBy: [{email: ASC}]"])
def test_connection_pages_after_a_cursor_start_at_it(api, runner, pool, order) -> None:
    middle = cursor_at(api, runner, pool, order, "{id: {eq: 50000}}")
    fields = "edges { node { id } } pageInfo { hasNextPage hasPreviousPage }"
    for args in (
        f"first: 20, after: {json.dumps(middle)}",
        f"last: 20, before: {json.dumps(middle)}",
    ):
        query = f"{{ membersPage({args}{order}) {{ {fields} }} }}"
        assert_indexed(api, runner, pool, query, 25)
        page = both(api, runner, pool, query)["membersPage"]
        assert len(page["edges"]) == 20 and 50000 not in [e["node"]["id"] for e in page["edges"]]
        assert page["pageInfo"] == {"hasNextPage": True, "hasPreviousPage": True}


# ---------------------------------------------------------------- the same answers

FILTERS = [
    '{email: {eq: "ada@example.com"}}',
    '{email: {neq: "ada@example.com"}}',
    '{email: {in: ["ada@example.com", "eve@example.com"]}}',
    '{email: {nin: ["ada@example.com"]}}',
    '{email: {startswith: "ada"}}',
    '{email: {istartswith: "ADA"}}',
    '{email: {contains: "_"}}',
    '{email: {icontains: "%@"}}',
    '{email: {endswith: ".org"}}',
    '{email: {like: "a%"}}',
    '{email: {imatches: "^[a-c]"}}',
    '{email: {gte: "b", lt: "d"}}',
    '{joined: {gte: "2024-01-05T10:00:00Z"}}',
    '{joined: {eq: "2024-01-05T11:00:00+01:00"}}',
    '{joined: {lt: "2024-01-05T10:00:00Z"}}',
    "{age: {gt: 10}}",
    "{age: {neq: 36}}",
    "{age: {isnull: true}}",
    "{age: {isnull: false}}",
    "{age: {nin: [36, 2]}}",
    "{age: {eq: null}}",
    "{NOT: {age: {gt: 10}}}",
    '{OR: [{age: {lt: 5}}, {rating: {gte: "14"}}]}',
    '{rating: {eq: "14"}}',
    '{rating: {lte: "9.5"}}',
    '{born: {gt: "1900-01-01"}}',
    "{born: {isnull: true}}",
    "{active: {eq: true}}",
    "{active: {neq: true}}",
    "{active: {isnull: true}}",
]
ORDERS = [
    "[{age: DESC}]",
    "[{age: ASC}]",
    "[{age: ASC_NULLS_FIRST}]",
    "[{age: DESC_NULLS_LAST}]",
    "[{rating: DESC_NULLS_LAST}]",
    "[{rating: ASC}]",
    "[{born: ASC}, {email: DESC}]",
    "[{joined: DESC}]",
    "[{email: ASC}]",
]


def answers(api, runner, pool, args: str) -> list:
    """The ids each form answers `args` with: the model without indexed keys first."""
    return [
        [a["id"] for a in both(api, runner, pool, f"{{ {f}s{args} {{ id }} }}")[f"{f}s"]]
        for f in TYPES
    ]


@pytest.mark.parametrize("where", FILTERS)
def test_indexed_keys_filter_as_the_document_does(api, runner, pool, where) -> None:
    plain, *keyed = answers(api, runner, pool, f"(where: {where})")
    assert keyed == [plain] * 3
    assert plain != [] or where == '{joined: {eq: "2024-01-05T11:00:00+01:00"}}'


@pytest.mark.parametrize("order", ORDERS)
def test_indexed_keys_order_as_the_document_does(api, runner, pool, order) -> None:
    plain, *keyed = answers(api, runner, pool, f"(orderBy: {order})")
    assert keyed == [plain] * 3 and sorted(plain) == [1, 2, 3, 4, 5, 6, 7]
    plain, *keyed = answers(
        api, runner, pool, f"(orderBy: {order}, where: {{age: {{neq: 10}}}}, limit: 3)"
    )
    assert keyed == [plain] * 3 and len(plain) == 3


def walk(api, runner, pool, field: str, order: str, backward: bool) -> list:
    """Every page of 2 of `field`, following cursors forward (or backward) to the end."""
    pages, cursor = [], None
    for _ in range(10):
        bound = f", {'before' if backward else 'after'}: {json.dumps(cursor)}" if cursor else ""
        args = f"{'last' if backward else 'first'}: 2{bound}, orderBy: {order}"
        query = (
            f"{{ {field}Page({args}) {{ edges {{ node {{ id }} }} "
            "pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"
        )
        got = both(api, runner, pool, query)[f"{field}Page"]
        info = got["pageInfo"]
        pages.append(
            ([e["node"]["id"] for e in got["edges"]], info["hasNextPage"], info["hasPreviousPage"])
        )
        if not (info["hasPreviousPage"] if backward else info["hasNextPage"]):
            return pages
        cursor = info["startCursor"] if backward else info["endCursor"]
    raise AssertionError(f"{field} {order}: more pages than rows")


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("backward", [False, True])
def test_indexed_keys_page_as_the_document_does(api, runner, pool, order, backward) -> None:
    plain, *keyed = (walk(api, runner, pool, f, order, backward) for f in TYPES)
    assert keyed == [plain] * 3
    assert sorted(i for ids, _, _ in plain for i in ids) == [1, 2, 3, 4, 5, 6, 7]


# ---------------------------------------------------------------- the declaration


def test_the_generated_tables_have_the_typed_columns_and_indexes(runner, pool) -> None:
    columns = runner.run_until_complete(
        pool.fetch(
            "SELECT attname::text, format_type(atttypid, atttypmod), attnotnull FROM pg_attribute "
            "WHERE attrelid = 'qm_keyed'::regclass AND attnum > 0 ORDER BY attnum"
        )
    )
    assert [tuple(c) for c in columns] == [
        ("id", "integer", True),
        ("version", "bigint", True),
        ("data", "jsonb", True),
        ("email", "text", True),
        ("joined", "timestamp with time zone", True),
        ("age", "integer", False),
        ("rating", "numeric(5,2)", False),
        ("born", "date", False),
        ("active", "boolean", False),
        ("updated_at", "timestamp with time zone", True),
    ]
    definitions = runner.run_until_complete(
        pool.fetch(
            "SELECT indexdef FROM pg_indexes WHERE indexname LIKE 'mv_keyed_by_%' ORDER BY 1"
        )
    )
    assert [d[0].split(" USING ")[1] for d in definitions] == [
        "btree (active, id)",
        "btree (age, id)",
        "btree (born, id)",
        "btree (email, id)",
        "btree (joined DESC, id)",
        "btree (rating DESC NULLS LAST, id)",
    ]
    declared = runner.run_until_complete(
        pool.fetchval(
            "SELECT declaration->'indexed' FROM fraiseql.read_model WHERE name = 'member'"
        )
    )
    assert declared == [["email", False, None], ["joined", True, None], ["age", False, None]]


class Rollback(Exception):
    """Ends a transaction whose changes the test only looks at."""


def test_writes_keep_the_typed_columns(runner, pool) -> None:
    async def change() -> list:
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("UPDATE tb_author SET age = 37, email = 'ada@x.org' WHERE id = 1")
            row = await conn.fetchrow(
                "SELECT age, email, data->>'email' AS doc FROM qm_keyed WHERE id = 1"
            )
            raise Rollback(tuple(row))

    with pytest.raises(Rollback) as caught:
        runner.run_until_complete(change())
    assert caught.value.args[0] == (37, "ada@x.org", "ada@x.org")


@pytest.mark.parametrize(
    ("indexed", "message"),
    [
        (("nope",), "indexed key 'nope' is not a field of the document"),
        (("id",), "is a column every read model has"),
        (("email", "email DESC"), "indexed key 'email' is declared twice"),
        (("email sideways",), "is not 'column [ASC|DESC] [NULLS FIRST|LAST]'"),
    ],
)
def test_bad_indexed_keys_are_declaration_errors(indexed, message) -> None:
    with pytest.raises(DeclarationError, match=re.escape(message)):
        ReadModel("bad", table="tb_member", fields=("id", "email"), indexed=indexed)
