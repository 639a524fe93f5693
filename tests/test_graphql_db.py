"""The seed's GraphQL API (fraiseql.examples.blog_api) on the blog example in PostgreSQL.

Differential: fraiseql.execute (fast path: Repository -> C fetch_json with the compiled
selection) against graphql-core executing build_schema() with the same resolvers (the
Repository then returns Python objects), identical JSON, key order included. Then the
mutation's transaction over HTTP, and a database that is down.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
from collections.abc import Iterator
from typing import Any

import graphql
import httpx
import pytest
from support.graphql_corpus import SEED_SHAPE, generated
from support.graphql_reference import reference
from support.http_server import serve
from support.pgbouncer import PgBouncer
from support.tcp_relay import address, free_port, relay, through

import fraiseql
from fraiseql.demo import setup
from fraiseql.executor import format_response
from fraiseql.repository import Repository

USERS, POSTS = 40, 300
# Both sides word masked errors with this id (a fresh one per request otherwise).
REQUEST_ID = "db-conformance"


def declare_seed_api() -> None:
    """(Re)declare the seed's API in a fresh default registry, plus a query whose SQL fails."""
    fraiseql.reset_registry()
    name = "fraiseql.examples.blog_api"
    if name in sys.modules:
        blog_api = importlib.reload(sys.modules[name])
    else:
        blog_api = importlib.import_module(name)

    async def bad_sql(info: Any, id: int) -> Any:
        # A real database error inside a resolver (division by zero): masked on both paths.
        await info.context["db"].fetchval("SELECT $1::int / 0", id)

    bad_sql.__annotations__["return"] = blog_api.User | None
    fraiseql.query(bad_sql)


@pytest.fixture(scope="module")
def dsn(pg_server: Any, pg_dsn: str) -> str:
    dsn = pg_server.create_database("graphql_blog") if pg_server is not None else pg_dsn
    asyncio.run(setup(dsn, users=USERS, posts=POSTS))
    return dsn


@pytest.fixture(scope="module")
def api(dsn: str, runner: asyncio.AbstractEventLoop) -> Iterator[tuple[Any, Any, Any]]:
    declare_seed_api()

    async def open_pool() -> Any:
        pool = await fraiseql.create_pool(dsn, min_size=1, max_size=4)
        await fraiseql.load_commands(pool)  # the generated createUser, as the app does
        return pool

    pool = runner.run_until_complete(open_pool())
    schema = fraiseql.build_schema()
    yield schema, fraiseql.Executor(schema), pool
    runner.run_until_complete(pool.close())
    fraiseql.reset_registry()


USER_FIELDS = "id firstName lastName email createdAt"
CASES: list[tuple[str, dict[str, Any] | None]] = [
    ("{ user(id: 1) { id } }", None),
    (f"{{ user(id: 2) {{ {USER_FIELDS} userPosts {{ id title content createdAt }} }} }}", None),
    ("query($id: Int!) { user(id: $id) { email userPosts { title } } }", {"id": 7}),
    ("{ user(id: 3) { __typename i: id posts: userPosts { __typename t: title } } }", None),
    (
        "fragment P on Post { id title } { user(id: 4) { ...P @skip(if: true) userPosts { ...P } } }",
        None,
    ),
    ("query($x: Boolean!) { user(id: 5) { id email @include(if: $x) } }", {"x": True}),
    ("query($x: Boolean!) { user(id: 5) { id email @include(if: $x) } }", {"x": False}),
    ("{ a: user(id: 1) { id } b: user(id: 2) { firstName } users(limit: 3) { id } }", None),
    ("{ users { id firstName userPosts { id } } }", None),
    ("{ users(limit: 2) { ... on User { lastName } } }", None),
    ("{ user(id: 100000) { id } }", None),  # no row: null in a non-null root field
    ("{ user(id: 1) { id } missing: user(id: 99999) { id } }", None),
    ("{ user(id: 1) { nope } }", None),
    ("query($id: Int!) { user(id: $id) { id } }", {"id": "x"}),
    ("{ __typename users(limit: 1) { __typename } }", None),
    ("{ user(id: 1) { id } badSql(id: 2) { id } }", None),
    ("{ badSql(id: 1) { firstName userPosts { id } } }", None),
]


# Plus generated selections over the seed's schema (aliases, fragments, directives, typename).
CASES += [(query, variables) for query, variables, _ in generated(120, seed=11, shape=SEED_SHAPE)]


@pytest.mark.parametrize("case", CASES, ids=[f"db{i}" for i in range(len(CASES))])
def test_same_response_as_graphql_core(
    api: Any, runner: asyncio.AbstractEventLoop, case: Any
) -> None:
    schema, executor, pool = api
    query, variables = case
    context = {"db": pool}
    got = runner.run_until_complete(
        executor.execute(query, variables, context=context, request_id=REQUEST_ID)
    )
    result = runner.run_until_complete(
        graphql.graphql(schema, query, variable_values=variables, context_value=context)
    )
    request_error = result.data is None and all(e.path is None for e in result.errors or ())
    expected = format_response(
        result.data, result.errors, with_data=not request_error, request_id=REQUEST_ID
    )
    assert got == expected


def test_fast_path_served_from_the_database(api: Any, runner: asyncio.AbstractEventLoop) -> None:
    _, executor, pool = api
    # the differential cases above ran first, on the same executor: most took the fast path
    assert executor.fast_runs >= 100, (executor.fast_runs, executor.graphql_core_runs)
    before = executor.fast_runs
    body = runner.run_until_complete(
        executor.execute("{ user(id: 6) { id userPosts { id } } }", context={"db": pool})
    )
    assert executor.fast_runs == before + 1
    user = json.loads(body)["data"]["user"]
    assert user["id"] == 6 and len(user["userPosts"]) <= 10


def test_same_responses_through_pgbouncer_without_prepared_statements(
    api: Any, dsn: str, runner: asyncio.AbstractEventLoop
) -> None:
    """PgBouncer in transaction mode, unnamed statements: byte for byte the direct answers,
    mutations (a transaction) included, and the app served over HTTP through it."""
    _, executor, pool = api
    create = (
        'mutation { createUser(input: {firstName: "Bo", lastName: "B", email: "bo@example.com"})'
        " { ... on CreateUserSuccess { user { firstName email userPosts { id } } } } }"
    )

    async def compare(bounced_dsn: str) -> None:
        async with fraiseql.create_pool(
            bounced_dsn, max_size=2, prepared_statements=False
        ) as bounced:
            for query, variables in CASES:
                direct, through = [
                    await executor.execute(
                        query, variables, context={"db": db}, request_id=REQUEST_ID
                    )
                    for db in (pool, bounced)
                ]
                assert through == direct, query
            created = await executor.execute(create, context={"db": bounced})
            assert json.loads(created) == {
                "data": {
                    "createUser": {
                        "user": {"firstName": "Bo", "email": "bo@example.com", "userPosts": []}
                    }
                }
            }

    query = "{ user(id: 3) { id firstName userPosts { title } } }"
    direct = runner.run_until_complete(executor.execute(query, context={"db": pool}))
    with PgBouncer(dsn, {"blog": 2}) as pgb:
        runner.run_until_complete(compare(pgb.dsn("blog")))
        declare_seed_api()
        app = fraiseql.create_app(
            database_url=pgb.dsn("blog"), pool_options={"prepared_statements": False}
        )
        fraiseql.reset_registry()
        with serve(app) as base, httpx.Client(timeout=30) as c:
            r = c.post(base + "/graphql", json={"query": query})
            assert r.status_code == 200 and r.content == direct


CREATE_USER = (
    'mutation($e: String!) { createUser(input: {firstName: "Ada", lastName: "L", email: $e}) '
    "{ __typename ... on CreateUserSuccess { user { id firstName email userPosts { id } } } "
    "... on CreateUserError { code message field } } }"
)


def test_seed_mutation_over_http(api: Any, dsn: str, runner: asyncio.AbstractEventLoop) -> None:
    """The blog's typed createUser over HTTP: the user read back in its transaction, then a
    duplicate email answered as CreateUserError (UNIQUE_VIOLATION on email), nothing
    written, the same bytes as graphql-core's over the same schema."""
    schema, _, pool = api
    declare_seed_api()
    app = fraiseql.create_app(database_url=dsn)
    fraiseql.reset_registry()
    with serve(app) as base, httpx.Client(timeout=30) as c:
        url = base + "/graphql"
        r = c.post(url, json={"query": CREATE_USER, "variables": {"e": "ada@example.com"}})
        assert r.status_code == 200, r.text
        answer = r.json()["data"]["createUser"]
        assert answer["__typename"] == "CreateUserSuccess"
        created = answer["user"]
        # the mutation read its own write back from qm_user, in its transaction
        assert created["firstName"] == "Ada" and created["email"] == "ada@example.com"
        assert created["userPosts"] == []
        r = c.post(
            url,
            json={
                "query": "query($id: Int!) { user(id: $id) { email } }",
                "variables": {"id": created["id"]},
            },
        )
        assert r.json() == {"data": {"user": {"email": "ada@example.com"}}}
        # a duplicate email: the error member, in words for end users; nothing is written
        case = (CREATE_USER, {"e": "ada@example.com"}, None)
        r = c.post(url, json={"query": case[0], "variables": case[1]})
        assert r.json() == {
            "data": {
                "createUser": {
                    "__typename": "CreateUserError",
                    "code": "UNIQUE_VIOLATION",
                    "message": "Email is already taken.",
                    "field": "email",
                }
            }
        }
        assert r.content == runner.run_until_complete(reference(schema, case, "r", {"db": pool}))
        count = c.post(url, json={"query": "{ users(limit: 1000) { email } }"}).json()
        assert [u["email"] for u in count["data"]["users"]].count("ada@example.com") == 1
        r = c.get(base + "/health")
        assert r.status_code == 200 and r.json() == {"status": "ok"}


def test_database_down_then_back(dsn: str) -> None:
    """A database unreachable at startup: 503s with a GraphQL error, then served once it is up
    (a request error too, once the schema has its generated commands)."""
    declare_seed_api()
    port = free_port()
    app = fraiseql.create_app(
        database_url=through(dsn, port),
        pool_options={"connect_timeout": 5},
    )
    fraiseql.reset_registry()
    query = {"query": "{ user(id: 1) { id } }"}
    with serve(app) as base, httpx.Client(timeout=30) as c:
        url = base + "/graphql"
        r = c.post(url, json=query, headers={"accept": "application/graphql-response+json"})
        assert r.status_code == 503
        assert r.json() == {
            "errors": [
                {
                    "message": "Database unavailable: could not open a connection; retry later.",
                    "extensions": {"code": "DATABASE_UNAVAILABLE"},
                }
            ]
        }
        # the driver's message names the database's host and port: not for clients
        assert "127.0.0.1" not in r.text and str(port) not in r.text
        r = c.get(base + "/health")
        assert r.status_code == 503 and r.json() == {"status": "unavailable"}
        # the schema holds the generated createUser, whose input the catalog gives: until
        # the database is back even a document to refuse waits for it (no partial schema)
        r = c.post(url, json={"query": "{ nope }"})
        assert r.status_code == 503 and r.json()["errors"][0]["extensions"]["code"] == (
            "DATABASE_UNAVAILABLE"
        )
        with relay(port, address(dsn)):
            r = c.post(url, json=query)
            assert r.status_code == 200 and r.json() == {"data": {"user": {"id": 1}}}
            r = c.get(base + "/health")
            assert r.status_code == 200 and r.json() == {"status": "ok"}
            r = c.post(url, json={"query": "{ nope }"})
            assert r.status_code == 200 and "Cannot query field 'nope'" in r.text


def test_stored_null_in_non_null_field_reads_once_per_resolver(
    dsn: str, runner: asyncio.AbstractEventLoop
) -> None:
    """A stored document without a non-null field (firstName) needs null propagation: the
    Repository hands graphql-core the documents, so each resolver runs once, and the answer
    is graphql-core's."""
    declare_seed_api()
    calls: list[str] = []
    user_type = sys.modules["fraiseql.examples.blog_api"].User

    async def counted_user(info: Any, id: int) -> Any:
        calls.append(info.path.key)
        return await Repository(info.context["db"], info.context).find_one("qm_user", id=id)

    async def counted_users(info: Any) -> Any:
        calls.append(info.path.key)
        return await Repository(info.context["db"], info.context).find(
            "qm_user", where={"id": {"gte": 900_001}}
        )

    counted_user.__annotations__["return"] = user_type | None
    counted_users.__annotations__["return"] = list[user_type]
    fraiseql.query(counted_user)
    fraiseql.query(counted_users)
    schema = fraiseql.build_schema()
    executor = fraiseql.Executor(schema)

    async def run() -> None:
        async with fraiseql.create_pool(dsn, max_size=2) as pool:
            # the blog's qm_user also holds its indexed keys (email, created_at) as columns
            await pool.execute(
                "INSERT INTO qm_user (id, data, email, created_at) SELECT $1, "
                "data - 'first_name', 'x' || email, created_at FROM qm_user WHERE id = 1",
                900_001,
            )
            try:
                context = {"db": pool}
                for query in (
                    "{ counted: countedUser(id: 900001) { id firstName } user(id: 1) { id } }",
                    "{ countedUsers { id firstName } }",
                ):
                    calls.clear()
                    got = await executor.execute(query, context=context, request_id=REQUEST_ID)
                    assert calls == [query.split()[1].rstrip(":")], calls
                    result = await graphql.graphql(schema, query, context_value=context)
                    expected = format_response(result.data, result.errors, request_id=REQUEST_ID)
                    assert got == expected, (got, expected)
                    assert b"Cannot return null for non-nullable field User.firstName" in got
            finally:
                await pool.execute("DELETE FROM qm_user WHERE id = $1", 900_001)

    try:
        runner.run_until_complete(run())
    finally:
        fraiseql.reset_registry()
