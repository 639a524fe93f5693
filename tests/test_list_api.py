"""The generated read API against a real PostgreSQL: where/orderBy/limit/offset on list
fields, Relay connections, fraiseql.expose, with FraiseQL v1's names.

Every answer is fraiseql's fast path (asserted by the executor's counters where it must be)
compared byte for byte with graphql-core executing build_schema() with the same resolvers.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import enum
import json
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import graphql
import pytest
from support.databases import database_with, pool_on
from support.graphql_reference import answered_alike

import fraiseql
from fraiseql.cqrs import Many, ReadModel
from fraiseql.repository import Repository

SCHEMA_SQL = """
CREATE TABLE tb_author (
    id      serial PRIMARY KEY,
    name    text NOT NULL,
    email   text NOT NULL UNIQUE,
    born    date,
    rating  numeric(5, 2),
    joined  timestamptz NOT NULL,
    age     int,
    active  boolean NOT NULL,
    tags    text[] NOT NULL DEFAULT '{}'
);
CREATE TABLE tb_book (
    id        serial PRIMARY KEY,
    author_id int NOT NULL REFERENCES tb_author (id),
    title     text NOT NULL,
    price     numeric(8, 2) NOT NULL
);
CREATE INDEX ON tb_book (author_id);
INSERT INTO tb_author (name, email, born, rating, joined, age, active, tags) VALUES
  ('Ada', 'ada@example.com', '1815-12-10', 14.00, '2024-01-05 10:00:00+00', 36, true, '{math,poet}'),
  ('Bob', 'bob@example.org', NULL, 3.50, '2024-01-05 12:00:00+02', 10, false, '{}'),
  ('Cy', 'cy_1@example.com', '1990-01-01', NULL, '2023-06-01 00:00:00+00', NULL, true, '{math}'),
  ('Di', 'di%@example.net', '1990-01-01', 9.00, '2025-03-01 00:00:00+00', 36, true, '{poet}'),
  ('Al', 'ada2@example.com', '2000-02-29', 9.00, '2025-03-01 00:00:00+00', 2, false, '{x}'),
  ('Eve', 'eve@example.com', NULL, 100.00, '2022-12-31 23:59:59+00', 99, true, '{}');
-- a document table no read model declares: its keys are known from the GraphQL type
CREATE TABLE qm_thing (id int PRIMARY KEY, data jsonb NOT NULL);
INSERT INTO qm_thing VALUES
  (1, '{"id": 1, "uid": "00000000-0000-0000-0000-000000000001", "score": 1.5, "kind": "big",
        "meta": {"a": 1}, "day": "2024-02-29"}'),
  (2, '{"id": 2, "uid": "00000000-0000-0000-0000-000000000002", "score": 100, "kind": "small",
        "meta": {"b": [1, 2]}, "day": "2024-03-01"}'),
  (3, '{"id": 3, "uid": "00000000-0000-0000-0000-00000000000a", "score": -2.25e1, "kind": "big",
        "meta": null, "day": null}');
-- documents whose values are not of their fields' JSON kinds: graphql-core coerces or refuses
CREATE TABLE qm_odd (id int PRIMARY KEY, data jsonb NOT NULL);
INSERT INTO qm_odd VALUES
  (1, '{"id": 1, "n": 5000000000, "s": 7, "f": "1.5", "b": 1, "when": 20240101, "ns": [1, "2"]}'),
  (2, '{"id": 2, "n": -2147483648, "s": true, "f": 2, "b": "yes", "when": "x", "ns": []}'),
  (3, '{"id": 3, "n": 7.0, "s": "ok", "f": 1e2, "b": false, "when": null, "ns": [3.5]}');
INSERT INTO tb_book (author_id, title, price) VALUES
  (1, 'Notes', 14.00), (1, 'Engines', 0.50), (2, 'Bits', 1234.56), (4, 'Hi_there', 3.00),
  (6, 'Apples', 2.00);
"""

AUTHOR = ReadModel(
    "author",
    table="tb_author",
    fields=("id", "name", "email", "born", "rating", "joined", "age", "active", "tags"),
    embed={
        "books": Many("tb_book", fk="author_id", fields=("id", "title", "price"), order_by="id")
    },
    forms=("qm",),
)
IDS = [1, 2, 3, 4, 5, 6]


def run(coro: Any) -> Any:
    return asyncio.run(coro)


@pytest.fixture(scope="module")
def dsn(pg_server: Any, pg_dsn: str) -> str:
    return database_with(pg_server, pg_dsn, "list_api", SCHEMA_SQL, [AUTHOR])


@pytest.fixture(scope="module")
def pool(dsn: str, runner: asyncio.AbstractEventLoop) -> Iterator[Any]:
    with pool_on(runner, dsn) as pool:
        yield pool


def declare_api() -> None:
    fraiseql.reset_registry()

    @fraiseql.type
    class Book:
        id: int
        title: str
        price: Decimal

    @fraiseql.type(sql_source="qm_author")
    class Author:
        id: int
        name: str
        email: str
        born: dt.date | None
        rating: Decimal | None
        joined: dt.datetime
        age: int | None
        active: bool
        tags: list[str]
        books: list[Book]

    @fraiseql.enum
    class Kind(enum.Enum):
        BIG = "big"
        SMALL = "small"

    @fraiseql.type(sql_source="qm_thing")
    class Thing:
        id: fraiseql.ID
        uid: uuid.UUID
        score: float
        kind: Kind
        meta: fraiseql.JSON | None
        day: dt.date | None

    @fraiseql.type(sql_source="qm_odd")
    class Odd:
        id: int
        n: int | None
        s: str | None
        f: float | None
        b: bool | None
        when: dt.datetime | None
        ns: list[int] | None

    @fraiseql.query
    async def odd(info, id: int) -> Odd | None:
        return await Repository(info.context["db"], info.context).find_one(id=id)

    @fraiseql.query
    async def things(info) -> list[Thing]:
        return await Repository(info.context["db"], info.context).find()

    @fraiseql.query
    async def things_page(info) -> fraiseql.Connection[Thing]:
        return await Repository(info.context["db"], info.context).paginate()

    @fraiseql.query
    async def authors(info) -> list[Author]:
        return await Repository(info.context["db"], info.context).find()

    @fraiseql.query
    async def active_authors(info, limit: int = 3) -> list[Author]:
        # its own limit, where and order_by combined with the client's arguments
        repo = Repository(info.context["db"], info.context)
        return await repo.find(where={"active": True}, order_by=[("name", "desc")], limit=limit)

    @fraiseql.query
    async def authors_page(info) -> fraiseql.Connection[Author]:
        return await Repository(info.context["db"], info.context).paginate()

    fraiseql.expose(Author, one="author", many="allAuthors", connection="authorsConnection")


@pytest.fixture(scope="module")
def api(pool: Any) -> Iterator[tuple[Any, Any]]:
    declare_api()
    schema = fraiseql.build_schema(max_limit=50)
    yield schema, fraiseql.Executor(schema)
    fraiseql.reset_registry()


def both(api: Any, runner: Any, pool: Any, query: str, variables: Any = None) -> dict:
    """fraiseql's answer (as JSON), after checking graphql-core's is the same bytes."""
    schema, executor = api
    return json.loads(answered_alike(schema, executor, runner, {"db": pool}, query, variables))


def ids(api: Any, runner: Any, pool: Any, args: str, variables: Any = None, field: str = "authors"):
    query = f"query Q{_vars(variables)} {{ {field}{args} {{ id }} }}"
    out = both(api, runner, pool, query, variables)
    assert "errors" not in out, out
    return [a["id"] for a in out["data"][field]]


def _vars(variables: Any) -> str:
    if not variables:
        return ""
    kinds = {"w": "AuthorWhereInput", "o": "[AuthorOrderByInput!]", "n": "Int", "c": "String"}
    return "(" + ", ".join(f"${k}: {kinds[k]}" for k in variables) + ")"


# ---------------------------------------------------------------- the schema


def test_list_fields_get_v1s_arguments_and_types(api) -> None:
    schema, _ = api
    sdl = graphql.print_schema(schema)
    assert (
        "authors(where: AuthorWhereInput, orderBy: [AuthorOrderByInput!], limit: Int, "
        "offset: Int): [Author!]!" in sdl
    )
    # a parameter the function declares itself is not generated again
    assert "activeAuthors(limit: Int! = 3, where: AuthorWhereInput, orderBy:" in sdl
    assert (
        "activeAuthors(limit: Int! = 3, where: AuthorWhereInput, orderBy: [AuthorOrderByInput!], offset: Int)"
        in sdl
    )
    assert (
        "authorsPage(first: Int, after: String, last: Int, before: String, "
        "where: AuthorWhereInput, orderBy: [AuthorOrderByInput!]): AuthorConnection!" in sdl
    )
    where = schema.type_map["AuthorWhereInput"].fields
    assert list(where) == [
        *("id", "name", "email", "born", "rating", "joined", "age", "active", "tags", "books"),
        *("AND", "OR", "NOT"),
    ]
    assert str(where["email"].type) == "StringFilter"
    assert str(where["rating"].type) == "DecimalFilter"
    assert str(where["tags"].type) == "StringListFilter"
    assert str(where["books"].type) == "BookWhereInput"  # some element matches
    string_ops = set(schema.type_map["StringFilter"].fields)
    assert string_ops == {
        *("eq", "neq", "in", "nin", "isnull", "gt", "gte", "lt", "lte"),
        *("contains", "icontains", "startswith", "istartswith", "endswith", "iendswith"),
        *("like", "ilike", "matches", "imatches"),
    }
    assert set(schema.type_map["BooleanFilter"].fields) == {"eq", "neq", "in", "nin", "isnull"}
    order = schema.type_map["AuthorOrderByInput"].fields
    assert list(order) == ["id", "name", "email", "born", "rating", "joined", "age"]
    assert list(schema.type_map["OrderDirection"].values) == [
        *("ASC", "DESC", "ASC_NULLS_FIRST", "ASC_NULLS_LAST", "DESC_NULLS_FIRST"),
        "DESC_NULLS_LAST",
    ]
    page_info = schema.type_map["PageInfo"].fields
    assert list(page_info) == ["hasNextPage", "hasPreviousPage", "startCursor", "endCursor"]


# ---------------------------------------------------------------- where


@pytest.mark.parametrize(
    "where, expected",
    [
        ("{}", IDS),
        ("{id: {eq: 2}}", [2]),
        ("{id: {neq: 2}}", [1, 3, 4, 5, 6]),
        ("{id: {in: [1, 3, 99]}}", [1, 3]),
        ("{id: {nin: [1, 3]}}", [2, 4, 5, 6]),
        ("{age: {gt: 10}}", [1, 4, 6]),
        ("{age: {gte: 10, lt: 99}}", [1, 2, 4]),
        ("{age: {lte: 2}}", [5]),
        ("{age: {isnull: true}}", [3]),
        ("{age: {isnull: false}}", [1, 2, 4, 5, 6]),
        # neq and nin keep the nulls: they are the complement of eq and in
        ("{age: {neq: 36}}", [2, 3, 5, 6]),
        ("{age: {nin: [36, 10]}}", [3, 5, 6]),
        ("{age: {eq: null}}", [3]),
        # numbers compare numerically, decimals too (9.00 = 9)
        ('{rating: {eq: "9"}}', [4, 5]),
        ('{rating: {gt: "9.5"}}', [1, 6]),
        ('{rating: {lt: "10"}}', [2, 4, 5]),
        # dates and times chronologically, whatever their offsets
        ('{born: {gte: "1990-01-01"}}', [3, 4, 5]),
        ('{born: {lt: "1900-01-01"}}', [1]),
        ('{joined: {gt: "2024-01-05T11:00:00+00:00"}}', [4, 5]),  # Bob: 10:00 UTC
        ('{joined: {lte: "2024-01-05T10:00:00Z"}}', [1, 2, 3, 6]),
        ('{joined: {eq: "2024-01-05T12:00:00+02:00"}}', [1, 2]),  # the same instant
        ("{active: {eq: false}}", [2, 5]),
        # strings: literal operators do not treat % and _ as wildcards
        ('{email: {endswith: "@example.com"}}', [1, 3, 5, 6]),
        ('{email: {contains: "_"}}', [3]),
        ('{email: {contains: "%"}}', [4]),
        ('{email: {startswith: "ada"}}', [1, 5]),
        ('{name: {istartswith: "A"}}', [1, 5]),
        ('{name: {startswith: "a"}}', []),
        ('{name: {icontains: "V"}}', [6]),
        ('{name: {iendswith: "A"}}', [1]),
        ('{email: {like: "%@example.___"}}', [1, 2, 3, 4, 5, 6]),
        ('{email: {ilike: "ADA%"}}', [1, 5]),
        ('{name: {matches: "^[A-C]"}}', [1, 2, 3, 5]),
        ('{name: {imatches: "^a"}}', [1, 5]),
        ('{name: {gt: "Cy"}}', [4, 6]),
        ('{name: {in: ["Ada", "Eve"]}}', [1, 6]),
        # lists of values
        ('{tags: {contains: ["math"]}}', [1, 3]),
        ('{tags: {contains: ["math", "poet"]}}', [1]),
        ('{tags: {overlaps: ["poet", "x"]}}', [1, 4, 5]),
        ("{tags: {eq: []}}", [2, 6]),
        # a list of embedded objects: some element matches
        ('{books: {title: {eq: "Bits"}}}', [2]),
        ('{books: {price: {lt: "1"}}}', [1]),
        ('{books: {title: {contains: "_"}}}', [4]),
        ('{books: {title: {startswith: "A"}, price: {gte: "2"}}}', [6]),
        # and / or / not; not is the complement, nulls included
        ("{AND: [{active: {eq: true}}, {age: {gt: 35}}]}", [1, 4, 6]),
        ('{OR: [{id: {eq: 1}}, {name: {eq: "Eve"}}]}', [1, 6]),
        ("{NOT: {age: {gt: 10}}}", [2, 3, 5]),
        ('{NOT: {rating: {eq: "9"}}}', [1, 2, 3, 6]),
        ("{OR: []}", []),
        ("{AND: []}", IDS),
        ("{active: {eq: true}, OR: [{age: {eq: 36}}, {born: {isnull: true}}]}", [1, 4, 6]),
        ("{NOT: {OR: [{id: {eq: 1}}, {NOT: {id: {lt: 3}}}]}}", [2]),
    ],
)
def test_every_operator_filters_alike_on_both_paths(api, runner, pool, where, expected) -> None:
    assert ids(api, runner, pool, f"(where: {where})") == expected


def test_where_in_variables_and_the_fast_path(api, runner, pool) -> None:
    _, executor = api
    before = executor.fast_runs
    where = {"email": {"endswith": "@example.com"}, "joined": {"gte": "2023-01-01T00:00:00Z"}}
    assert ids(api, runner, pool, "(where: $w)", {"w": where}) == [1, 3, 5]
    assert executor.fast_runs == before + 1  # rewritten in C from libpq, no Python per row
    assert ids(api, runner, pool, "(where: $w)", {"w": None}) == IDS


def test_a_resolvers_own_arguments_are_anded_with_the_clients(api, runner, pool) -> None:
    # active_authors: where active, order by name desc, limit 3 (its own), then the client's
    q = "activeAuthors"
    assert ids(api, runner, pool, "", field=q) == [6, 4, 3]
    assert ids(api, runner, pool, "(where: {age: {eq: 36}})", field=q) == [4, 1]
    assert ids(api, runner, pool, "(offset: 1)", field=q) == [4, 3]  # inside its window
    assert ids(api, runner, pool, "(limit: 2, offset: 1)", field=q) == [4]  # limit is its own
    assert ids(api, runner, pool, "(orderBy: [{age: DESC}])", field=q) == [3, 6, 4]


# ---------------------------------------------------------------- orderBy, limit, offset


@pytest.mark.parametrize(
    "args, expected",
    [
        ("", IDS),  # by the key when no orderBy is given
        ("(orderBy: [{id: DESC}])", [6, 5, 4, 3, 2, 1]),
        ("(orderBy: {age: ASC})", [5, 2, 1, 4, 6, 3]),  # one entry without brackets; ties by id
        ("(orderBy: [{age: DESC}])", [3, 6, 1, 4, 2, 5]),  # DESC puts nulls first
        ("(orderBy: [{age: DESC_NULLS_LAST}])", [6, 1, 4, 2, 5, 3]),
        ("(orderBy: [{age: ASC_NULLS_FIRST}])", [3, 5, 2, 1, 4, 6]),
        ("(orderBy: [{rating: ASC}, {joined: DESC}])", [2, 4, 5, 1, 6, 3]),
        ("(orderBy: [{born: ASC}, {name: DESC}])", [1, 4, 3, 5, 6, 2]),
        ("(orderBy: [{joined: ASC}])", [6, 3, 1, 2, 4, 5]),  # chronologically
        ("(limit: 2)", [1, 2]),
        ("(limit: 2, offset: 4)", [5, 6]),
        ("(offset: 5)", [6]),
        ("(limit: 0)", []),
        ("(orderBy: [{name: DESC}], limit: 2, offset: 1)", [4, 3]),
    ],
)
def test_ordering_and_windows_are_stable_and_typed(api, runner, pool, args, expected) -> None:
    assert ids(api, runner, pool, args) == expected


@pytest.mark.parametrize(
    "args, message",
    [
        ("(limit: -1)", "limit must be between 0 and 50, got -1"),
        ("(limit: 51)", "limit must be between 0 and 50, got 51"),
        ("(offset: -3)", "offset must be at least 0, got -3"),
        ("(orderBy: [{age: ASC, name: DESC}])", "each orderBy entry names exactly one field"),
        ("(orderBy: [{}])", "each orderBy entry names exactly one field (got none)"),
        ("(where: {id: {in: [" + ", ".join(map(str, range(101))) + "]}})", "at most 100 values"),
        ('(where: {name: {matches: "("}})', "where: invalid regular expression"),
    ],
)
def test_bad_arguments_are_graphql_errors_naming_the_problem(
    api, runner, pool, args, message
) -> None:
    out = both(api, runner, pool, f"{{ authors{args} {{ id }} }}")
    assert out["data"] is None
    [error] = out["errors"]
    assert message in error["message"], error
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}
    assert error["path"] == ["authors"]


@pytest.mark.parametrize(
    "args, message",
    [
        ("(where: {nick: {eq: 1}})", ("'AuthorWhereInput'", "'nick'")),
        (
            '(where: {age: {startswith: "1"}})',
            ("'IntFilter'", "'startswith'"),
        ),
        ('(where: {age: {eq: "x"}})', "Int cannot represent non-integer value"),
        ("(where: {active: {gt: true}})", ("'BooleanFilter'", "'gt'")),
        ("(orderBy: [{tags: ASC}])", ("'AuthorOrderByInput'", "'tags'")),
        ("(orderBy: [{age: UP}])", "Value 'UP' does not exist in 'OrderDirection' enum"),
        ('(limit: "5")', "Int cannot represent non-integer value"),
    ],
)
def test_unknown_fields_and_operators_fail_validation_before_any_sql(
    api, runner, pool, args, message
) -> None:
    out = both(api, runner, pool, f"{{ authors{args} {{ id }} }}")
    # graphql-core 3.2 and 3.3 word these differently: both name the type and the field
    words = message if isinstance(message, tuple) else (message,)
    assert "data" not in out and all(w in out["errors"][0]["message"] for w in words), out


def test_deep_nesting_is_refused(api, runner, pool) -> None:
    where: dict = {"id": {"eq": 1}}
    for _ in range(40):
        where = {"NOT": where}
    out = both(
        api,
        runner,
        pool,
        "query Q($w: AuthorWhereInput) { authors(where: $w) { id } }",
        {"w": where},
    )
    assert "nested deeper than 32 levels" in out["errors"][0]["message"]


def test_hostile_values_are_only_parameters(api, runner, pool) -> None:
    for hostile in ["x' OR '1'='1", "'; DROP TABLE tb_author; --", "$1", "\\"]:
        variables = {"w": {"name": {"eq": hostile}, "OR": [{"email": {"contains": hostile}}]}}
        assert ids(api, runner, pool, "(where: $w)", variables) == []
    assert ids(api, runner, pool, "") == IDS  # still there


# ---------------------------------------------------------------- connections


PAGE = "edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"


def page(api, runner, pool, args: str, field: str = "authorsPage", extra: str = "") -> dict:
    out = both(api, runner, pool, f"{{ {field}{args} {{ {PAGE} {extra} }} }}")
    assert "errors" not in out, out
    return out["data"][field]


def walk(api, runner, pool, order: str, backward: bool = False, where: str = "") -> list[int]:
    """Every page of 2, following the cursors forward (or backward) to the end."""
    seen: list[int] = []
    cursor = None
    for _ in range(10):
        if backward:
            args = f"(last: 2{f', before: {json.dumps(cursor)}' if cursor else ''}{order}{where})"
        else:
            args = f"(first: 2{f', after: {json.dumps(cursor)}' if cursor else ''}{order}{where})"
        got = page(api, runner, pool, args)
        nodes = [e["node"]["id"] for e in got["edges"]]
        info = got["pageInfo"]
        if got["edges"]:
            assert info["startCursor"] == got["edges"][0]["cursor"]
            assert info["endCursor"] == got["edges"][-1]["cursor"]
        if backward:
            seen = nodes + seen
            assert info["hasNextPage"] is (cursor is not None)
            if not info["hasPreviousPage"]:
                return seen
            cursor = info["startCursor"]
        else:
            seen += nodes
            assert info["hasPreviousPage"] is (cursor is not None)
            if not info["hasNextPage"]:
                return seen
            cursor = info["endCursor"]
    raise AssertionError("no last page")


@pytest.mark.parametrize(
    "order, expected",
    [
        ("", IDS),
        (", orderBy: [{age: DESC}]", [3, 6, 1, 4, 2, 5]),
        (", orderBy: [{rating: ASC}, {joined: DESC}]", [2, 4, 5, 1, 6, 3]),
        (", orderBy: [{born: ASC_NULLS_FIRST}, {name: DESC}]", [6, 2, 1, 4, 3, 5]),
        (", orderBy: [{name: ASC}]", [1, 5, 2, 3, 4, 6]),
    ],
)
def test_walking_all_pages_yields_every_row_once_in_order(
    api, runner, pool, order, expected
) -> None:
    assert walk(api, runner, pool, order) == expected
    assert walk(api, runner, pool, order, backward=True) == expected
    where = ", where: {active: {eq: true}}"
    active = [i for i in expected if i in (1, 3, 4, 6)]
    assert walk(api, runner, pool, order, where=where) == active
    assert walk(api, runner, pool, order, backward=True, where=where) == active


def test_total_count_only_when_selected(api, runner, pool, dsn) -> None:
    got = page(api, runner, pool, "(first: 1, where: {active: {eq: true}})", extra="totalCount")
    assert got["totalCount"] == 4 and [e["node"]["id"] for e in got["edges"]] == [1]
    schema, executor = api
    out = runner.run_until_complete(
        executor.execute("{ authorsPage(first: 1) { totalCount } }", context={"db": pool})
    )
    assert json.loads(out) == {"data": {"authorsPage": {"totalCount": 6}}}
    # without totalCount the SQL counts nothing: the statement holds no count(*) subquery
    calls: list[str] = []

    class Spy:
        def __init__(self, db: Any) -> None:
            self.db, self.view_cache = db, db.view_cache

        async def fetch_json(self, sql: str, *args: Any, **kw: Any) -> Any:
            calls.append(sql)
            return await self.db.fetch_json(sql, *args, **kw)

        def __getattr__(self, name: str) -> Any:
            return getattr(self.db, name)

    for query in (
        "{ authorsPage(first: 1) { edges { cursor } } }",
        "{ authorsPage { totalCount } }",
    ):
        runner.run_until_complete(executor.execute(query, context={"db": Spy(pool)}))
    assert "count(*) FROM" not in calls[0] and "count(*) FROM" in calls[1]


def test_cursors_are_stable_under_inserts_elsewhere(api, runner, pool) -> None:
    first = page(api, runner, pool, "(first: 2, orderBy: [{joined: DESC}])")
    cursor = first["pageInfo"]["endCursor"]
    run_sql(
        runner,
        pool,
        "INSERT INTO tb_author (name, email, joined, active) VALUES "
        "('Zed', 'zed@example.com', '2030-01-01', true)",
    )
    try:
        nxt = page(
            api,
            runner,
            pool,
            f"(first: 2, after: {json.dumps(cursor)}, orderBy: [{{joined: DESC}}])",
        )
        assert [e["node"]["id"] for e in nxt["edges"]] == [1, 2]  # not shifted by the new row
    finally:
        run_sql(runner, pool, "DELETE FROM tb_author WHERE name = 'Zed'")


def run_sql(runner: Any, pool: Any, sql: str) -> None:
    runner.run_until_complete(pool.execute(sql))


def test_bad_cursors_and_windows_are_clear_errors(api, runner, pool) -> None:
    good = page(api, runner, pool, "(first: 1)")["pageInfo"]["endCursor"]
    other = page(api, runner, pool, "(first: 1, orderBy: [{age: ASC}])")["pageInfo"]["endCursor"]
    payload = json.loads(base64.b64decode(good))
    tampered = base64.b64encode(json.dumps([payload[0], "not-an-int"]).encode()).decode()
    cases = [
        ("(first: 1, last: 1)", "first and last cannot be used together"),
        ("(first: -1)", "first must be between 0 and 50, got -1"),
        ("(last: 51)", "last must be between 0 and 50, got 51"),
        ('(after: "%%%")', "after: malformed cursor"),
        ('(after: "bm90IGpzb24=")', "after: malformed cursor"),
        (
            f"(after: {json.dumps(other)})",
            "the cursor is not one of this field with this where/orderBy",
        ),
        (f"(before: {json.dumps(tampered)})", "before: malformed cursor (bad value for 'id')"),
        (
            f"(first: 1, after: {json.dumps(good)}, orderBy: [{{name: ASC}}])",
            "not one of this field",
        ),
    ]
    for args, message in cases:
        out = both(api, runner, pool, f"{{ authorsPage{args} {{ edges {{ cursor }} }} }}")
        assert out["data"] is None and message in out["errors"][0]["message"], (args, out)
        assert out["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT"}


def test_empty_and_exact_pages(api, runner, pool) -> None:
    got = page(api, runner, pool, "(first: 0)")
    assert got["edges"] == [] and got["pageInfo"]["hasNextPage"] is True
    assert got["pageInfo"]["startCursor"] is None
    got = page(api, runner, pool, "(first: 6)")
    assert len(got["edges"]) == 6 and got["pageInfo"]["hasNextPage"] is False
    got = page(api, runner, pool, "(where: {id: {gt: 100}})")
    assert got["edges"] == [] and got["pageInfo"]["hasNextPage"] is False


# ---------------------------------------------------------------- expose


def test_expose_generates_by_key_list_and_connection_fields(api, runner, pool) -> None:
    schema, _ = api
    sdl = graphql.print_schema(schema)
    assert "author(id: Int!): Author" in sdl
    assert (
        "allAuthors(where: AuthorWhereInput, orderBy: [AuthorOrderByInput!], limit: Int, offset: Int): [Author!]!"
        in sdl
    )
    assert "authorsConnection(first: Int, after: String, last: Int, before: String" in sdl
    out = both(api, runner, pool, "{ author(id: 4) { name books { title price } } }")
    assert out == {
        "data": {"author": {"name": "Di", "books": [{"title": "Hi_there", "price": "3.00"}]}}
    }
    assert both(api, runner, pool, "{ author(id: 99) { name } }") == {"data": {"author": None}}
    assert ids(api, runner, pool, "(where: {age: {eq: 36}})", field="allAuthors") == [1, 4]
    got = page(api, runner, pool, "(last: 1)", field="authorsConnection", extra="totalCount")
    assert [e["node"]["id"] for e in got["edges"]] == [6] and got["totalCount"] == 6


def test_expose_refuses_a_type_without_sql_source() -> None:
    fraiseql.reset_registry()
    try:

        @fraiseql.type
        class Loose:
            id: int

        with pytest.raises(TypeError, match="needs a @fraiseql.type with a sql_source"):
            fraiseql.expose(Loose, many="looses")
    finally:
        fraiseql.reset_registry()


@pytest.mark.parametrize(
    "where, expected",
    [
        ('{id: {eq: "2"}}', ["2"]),
        ('{id: {in: ["1", "3"]}}', ["1", "3"]),
        ('{uid: {eq: "00000000-0000-0000-0000-00000000000A"}}', ["3"]),  # as a UUID, any case
        ('{uid: {in: ["00000000-0000-0000-0000-000000000002"]}}', ["2"]),
        ("{score: {gt: 1.5}}", ["2"]),
        ("{score: {eq: 100}}", ["2"]),
        ("{score: {lte: -22.5}}", ["3"]),
        ("{kind: {eq: BIG}}", ["1", "3"]),
        ("{kind: {nin: [BIG]}}", ["2"]),
        ('{meta: {haskey: "b"}}', ["2"]),
        ("{meta: {contains: {a: 1}}}", ["1"]),
        ("{meta: {isnull: true}}", ["3"]),
        ('{day: {gt: "2024-02-29"}}', ["2"]),
    ],
)
def test_every_scalar_filters_as_its_type(api, runner, pool, where, expected) -> None:
    out = both(api, runner, pool, f"{{ things(where: {where}) {{ id uid score kind meta day }} }}")
    assert [t["id"] for t in out["data"]["things"]] == expected, out


def test_scalars_order_and_page_as_their_type(api, runner, pool) -> None:
    out = both(api, runner, pool, "{ things(orderBy: [{score: DESC}]) { id score } }")
    assert out["data"]["things"] == [
        {"id": "2", "score": 100},
        {"id": "1", "score": 1.5},
        {"id": "3", "score": -2.25e1},
    ]
    seen, cursor = [], None
    for _ in range(4):
        after = f", after: {json.dumps(cursor)}" if cursor else ""
        got = both(
            api,
            runner,
            pool,
            f"{{ thingsPage(first: 1{after}, orderBy: [{{day: DESC}}]) {{ totalCount "
            f"edges {{ node {{ id day }} }} pageInfo {{ hasNextPage endCursor }} }} }}",
        )["data"]["thingsPage"]
        assert got["totalCount"] == 3
        seen += [e["node"]["id"] for e in got["edges"]]
        if not got["pageInfo"]["hasNextPage"]:
            break
        cursor = got["pageInfo"]["endCursor"]
    assert seen == ["3", "2", "1"]  # DESC: the null day first


def test_filters_and_pages_over_http(api, dsn: str) -> None:
    """A real client against the app under uvicorn: variables, a page and the next one."""
    import httpx
    from support.http_server import serve

    schema, _ = api
    app = fraiseql.create_app(dsn, schema=schema)
    query = (
        "query($w: AuthorWhereInput, $after: String) { authorsConnection(first: 2, "
        "after: $after, where: $w, orderBy: [{joined: DESC}]) { totalCount "
        "edges { node { id name } } pageInfo { hasNextPage endCursor } } }"
    )
    with serve(app) as base, httpx.Client(timeout=30) as client:
        variables: dict[str, Any] = {"w": {"active": {"eq": True}}}
        got = client.post(f"{base}/graphql", json={"query": query, "variables": variables})
        assert got.status_code == 200
        assert got.json().get("data"), got.json()
        first = got.json()["data"]["authorsConnection"]
        assert [e["node"]["id"] for e in first["edges"]] == [4, 1]
        assert first["totalCount"] == 4 and first["pageInfo"]["hasNextPage"] is True
        variables["after"] = first["pageInfo"]["endCursor"]
        nxt = client.post(f"{base}/graphql", json={"query": query, "variables": variables})
        assert [e["node"]["id"] for e in nxt.json()["data"]["authorsConnection"]["edges"]] == [3, 6]
        bad = client.post(
            f"{base}/graphql",
            json={"query": "{ allAuthors(limit: 5000) { id } }"},
            headers={"accept": "application/graphql-response+json"},
        )
        assert bad.status_code == 200  # a field error: the request itself was fine
        assert bad.json()["errors"][0]["message"] == "limit must be between 0 and 50, got 5000"


@pytest.mark.parametrize("field", ["n", "s", "f", "b", "when", "ns"])
@pytest.mark.parametrize("id", [1, 2, 3])
def test_values_of_another_kind_are_answered_as_graphql_core_answers(
    api, runner, pool, field, id
) -> None:
    # The rewriter writes a value as stored only when it is of the field's JSON kind (an Int
    # within 32 bits, a String a JSON string, ...); any other goes to graphql-core.
    both(api, runner, pool, f"{{ odd(id: {id}) {{ id {field} }} }}")
    both(api, runner, pool, f"{{ odds: odd(id: {id}) {{ {field} }} n: odd(id: 3) {{ n }} }}")


def test_a_list_without_limit_holds_at_most_max_limit(runner, pool) -> None:
    declare_api()
    try:
        executor = fraiseql.Executor(fraiseql.build_schema(max_limit=4))
    finally:
        fraiseql.reset_registry()
    out = runner.run_until_complete(executor.execute("{ authors { id } }", context={"db": pool}))
    assert json.loads(out) == {"data": {"authors": [{"id": i} for i in (1, 2, 3, 4)]}}


def test_literals_holding_variables_are_filled_in_as_graphql_core_coerces(
    api, runner, pool
) -> None:
    _, executor = api
    query = (
        "query Q($e: String, $n: [Int!]) { authors(where: {email: {eq: $e}, id: {in: $n}}) { id } }"
    )
    for variables, expected in (
        ({"e": "ada@example.com"}, [1]),
        ({}, IDS),  # unset variables leave their input fields out
        ({"e": None}, []),  # a null one is there: eq null is isnull
        ({"n": [2, 3]}, [2, 3]),
    ):
        before = executor.fast_runs
        out = both(api, runner, pool, query, variables)
        assert [a["id"] for a in out["data"]["authors"]] == expected, variables
        assert executor.fast_runs == before + 1  # no graphql-core coercion of the argument
    plan = executor.plan(query, None)
    (variant,) = plan.variants.values()
    assert [name for name, _ in variant.roots[0].args.templates] == ["where"]


# ---------------------------------------------------------------- enums and lists in filters

# Enum membership and lists where a scalar goes (and scalars where a list goes), as literals,
# variables, variables inside literals (the plan's argument templates) and whole-`where`
# variables: each answered by the fast path as graphql-core answers it, errors included,
# twice (the second from the cached plan and statement).
COERCIONS = [
    ("things", "", "{kind: {in: [BIG, SMALL]}}", None),
    ("things", "", "{kind: {in: BIG}}", None),  # one value where a list goes: a list of it
    ("things", "", "{kind: {in: [BIG, NOPE]}}", None),
    ("things", "", '{kind: {in: ["big"]}}', None),
    ("things", "", "{kind: {in: [null]}}", None),
    ("things", "", "{kind: {in: null}}", None),
    ("things", "($k: [Kind!])", "{kind: {in: $k}}", {"k": ["BIG"]}),
    ("things", "($k: [Kind!])", "{kind: {in: $k}}", {"k": "SMALL"}),
    ("things", "($k: [Kind!])", "{kind: {in: $k}}", {"k": ["NOPE"]}),
    ("things", "($k: [Kind!])", "{kind: {in: $k}}", {"k": ["big"]}),
    ("things", "($k: [Kind!])", "{kind: {in: $k}}", {"k": [None]}),
    ("things", "($k: [Kind!])", "{kind: {in: $k}}", {}),
    ("things", "($k: Kind)", "{kind: {in: [BIG, $k]}}", {}),
    ("things", "($k: Kind)", "{kind: {in: [$k]}}", {"k": None}),
    ("things", "($k: Kind)", "{kind: {in: $k}}", {"k": "BIG"}),
    ("things", "($k: Kind)", "{kind: {eq: $k}}", {"k": ["BIG"]}),
    ("things", "($w: ThingWhereInput)", "$w", {"w": {"kind": {"in": "BIG"}}}),
    ("things", "($w: ThingWhereInput)", "$w", {"w": {"kind": {"in": ["NOPE"]}}}),
    ("things", "($w: ThingWhereInput)", "$w", {"w": {"kind": {"eq": ["BIG"]}}}),
    ("things", "($w: ThingWhereInput)", "$w", {"w": {"id": {"eq": [1, 2]}}}),
    ("things", "($w: ThingWhereInput)", "$w", {"w": {"score": {"in": [1.5, None]}}}),
    ("things", "", "{score: {eq: [1.5]}}", None),
    ("things", "", "{score: {in: 100}}", None),
    ("things", "($s: Float)", "{score: {in: [1.5, $s]}}", {}),
    ("things", "($s: Float)", "{score: {in: [1.5, $s]}}", {"s": 100}),
    ("things", "($s: [Float!])", "{score: {in: $s}}", {"s": [[1.5]]}),
    ("things", "($i: [ID!])", "{id: {in: $i}}", {"i": 1}),
    ("things", "($i: [ID!])", "{id: {in: $i}}", {"i": [1.5]}),
    ("things", "($m: JSON)", "{meta: {contains: $m}}", {"m": [1]}),
    ("things", "", '{meta: {haskey: ["b"]}}', None),
    ("things", "", "{kind: {isnull: [true]}}", None),
    ("things", "", "{AND: [{kind: {in: SMALL}}, {score: {in: 100}}]}", None),
    ("authors", "", '{tags: {contains: "math"}}', None),
    ("authors", "", '{tags: {eq: [["math"]]}}', None),
    ("authors", "($t: [String!])", "{tags: {contains: $t}}", {"t": "math"}),
    ("authors", "($t: String)", "{tags: {contains: [$t]}}", {}),
    ("authors", "", "{books: {id: {in: 1}}}", None),
    ("authors", "", '{name: {in: ["Ada", 1]}}', None),
    ("authors", "", "{age: {in: [36.5]}}", None),
    ("authors", "", '{born: {in: ["1990-01-01", "x"]}}', None),
    ("authors", "($w: AuthorWhereInput)", "$w", {"w": {"age": {"in": ["36"]}}}),
    ("authors", "($w: AuthorWhereInput)", "$w", {"w": {"books": [{"id": {"in": 1}}]}}),
    ("authors", "($w: AuthorWhereInput)", "$w", {"w": {"NOT": [{"age": {"eq": 36}}]}}),
]


@pytest.mark.parametrize("field, variables_sdl, where, variables", COERCIONS)
def test_enums_and_lists_in_filters_are_coerced_as_graphql_core_coerces_them(
    api, runner, pool, field, variables_sdl, where, variables
) -> None:
    query = f"query Q{variables_sdl} {{ {field}(where: {where}) {{ id }} }}"
    for _ in range(2):
        both(api, runner, pool, query, variables)


def test_containment_under_the_document_is_served_by_its_gin_index(runner, pool) -> None:
    # `contains` on a document key is asked of the whole document, which gin(data) serves
    # (six rows: the planner is told to prefer an index, as it would at 100,000 rows)
    async def explain(where: dict) -> str:
        repo = Repository(pool)
        sql, params = await repo._select(("qm_author", "data", None), where, None, None, None, {})
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("SET LOCAL enable_seqscan = off")
            return "\n".join(r[0] for r in await conn.fetch("EXPLAIN " + sql, *params))

    for where in ({"tags": {"contains": ["math"]}}, {"data.books": {"contains": [{"id": 1}]}}):
        plan = runner.run_until_complete(explain(where))
        assert "Bitmap Index Scan on qm_author_data_gin" in plan, plan
