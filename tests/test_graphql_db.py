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
import socket
import sys
from collections.abc import Iterator
from typing import Any

import graphql
import httpx
import pytest
from support.graphql_corpus import SEED_SHAPE, generated
from support.http_server import serve

import fraiseql
from fraiseql.demo import setup
from fraiseql.execute import format_response

USERS, POSTS = 40, 300


def declare_seed_api() -> None:
    """(Re)declare the seed's API in a fresh default registry."""
    fraiseql.reset_registry()
    name = "fraiseql.examples.blog_api"
    if name in sys.modules:
        importlib.reload(sys.modules[name])
    else:
        importlib.import_module(name)


@pytest.fixture(scope="module")
def dsn(pg_server: Any, pg_dsn: str) -> str:
    dsn = pg_server.create_database("graphql_blog") if pg_server is not None else pg_dsn
    asyncio.run(setup(dsn, users=USERS, posts=POSTS))
    return dsn


@pytest.fixture(scope="module")
def api(dsn: str, runner: asyncio.AbstractEventLoop) -> Iterator[tuple[Any, Any, Any]]:
    declare_seed_api()
    schema = fraiseql.build_schema()

    async def open_pool() -> Any:
        return await fraiseql.create_pool(dsn, min_size=1, max_size=4)

    pool = runner.run_until_complete(open_pool())
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
    got = runner.run_until_complete(executor.execute(query, variables, context=context))
    result = runner.run_until_complete(
        graphql.graphql(schema, query, variable_values=variables, context_value=context)
    )
    request_error = result.data is None and all(e.path is None for e in result.errors or ())
    expected = format_response(result.data, result.errors, with_data=not request_error)
    assert json.loads(got, object_pairs_hook=list) == json.loads(expected, object_pairs_hook=list)


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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_seed_mutation_over_http(dsn: str) -> None:
    declare_seed_api()
    app = fraiseql.create_app(database_url=dsn)
    fraiseql.reset_registry()
    create = (
        'mutation($e: String!) { createUser(firstName: "Ada", lastName: "L", email: $e) '
        "{ id firstName email userPosts { id } } }"
    )
    with serve(app) as base, httpx.Client(timeout=30) as c:
        url = base + "/graphql"
        r = c.post(url, json={"query": create, "variables": {"e": "ada@example.com"}})
        assert r.status_code == 200, r.text
        created = r.json()["data"]["createUser"]
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
        # a duplicate email fails: an error naming it, and nothing is written
        r = c.post(url, json={"query": create, "variables": {"e": "ada@example.com"}})
        body = r.json()
        assert r.status_code == 200 and body["data"] is None
        assert "duplicate key" in body["errors"][0]["message"]
        assert body["errors"][0]["path"] == ["createUser"]
        r = c.get(base + "/health")
        assert r.status_code == 200 and r.json() == {"status": "ok"}


def test_database_down(dsn: str) -> None:
    declare_seed_api()
    down = f"postgresql://postgres@127.0.0.1:{free_port()}/nothing"
    app = fraiseql.create_app(database_url=down, pool_options={"connect_timeout": 5})
    fraiseql.reset_registry()
    with serve(app) as base, httpx.Client(timeout=30) as c:
        url = base + "/graphql"
        r = c.post(
            url,
            json={"query": "{ user(id: 1) { id } }"},
            headers={"accept": "application/graphql-response+json"},
        )
        assert r.status_code == 200
        body = r.json()
        assert body["data"] is None and body["errors"][0]["path"] == ["user"]
        assert "connect" in body["errors"][0]["message"].lower()
        r = c.get(base + "/health")
        assert r.status_code == 503 and r.json()["status"] == "unavailable"
        # still serving what needs no database
        r = c.post(url, json={"query": "{ __typename }"})
        assert r.json() == {"data": {"__typename": "Query"}}
