"""fraiseql.requires: declaration errors, predicates that misbehave, resolvers of every kind,
and the whole path: HTTP, the context a `context_getter` builds, the Repository on PostgreSQL.

The differential cases (both paths byte for byte, per caller) are in test_conformance.py.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
from collections.abc import Iterator
from typing import Annotated, Any

import graphql
import httpx
import pytest
from support.blog import blog_database
from support.http_server import serve

import fraiseql
from fraiseql.executor import format_response
from fraiseql.repositories import Repository


@pytest.fixture(autouse=True)
def fresh_registry() -> Iterator[None]:
    fraiseql.reset_registry()
    yield
    fraiseql.reset_registry()


def is_staff(info: Any) -> bool:
    return (info.context or {}).get("role") == "staff"


async def answers_none(info: Any) -> Any:
    return None  # a predicate that forgot to return its answer


def test_requires_takes_a_callable() -> None:
    with pytest.raises(TypeError, match=r"fraiseql.requires expects a predicate\(info\), got 3"):
        fraiseql.requires(3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"decorates a resolver function, got 'x'"):
        fraiseql.requires(is_staff)("x")  # type: ignore[arg-type]


def test_requires_above_the_registering_decorator_is_refused() -> None:
    """Above @fraiseql.query it would wrap a function the registry never calls."""
    with pytest.raises(TypeError, match=r"is above @fraiseql.query on secret: write it below"):

        @fraiseql.requires(is_staff)
        @fraiseql.query
        async def secret(info: Any) -> str:
            return "s"


GUARDED = Annotated[int, fraiseql.requires(is_staff)]


@pytest.mark.parametrize(
    "place, where",
    [
        ("argument", r"Query.find\(id\)"),
        ("root", r"Query.find"),
        ("input", r"Filter.id"),
        ("list item", r"Thing.ids"),
    ],
)
def test_requires_in_a_hint_applies_to_type_fields_only(place: str, where: str) -> None:
    class Filter:
        id: int

    class Thing:
        ids: list[int]

    async def find(info: Any, id: int, where: Filter | None = None) -> Thing:
        return {"ids": [id]}

    # The hints as objects (this module's annotations are strings, resolved later).
    hint = {"argument": (find, "id"), "input": (Filter, "id"), "list item": (Thing, "ids")}
    if place == "root":
        find.__annotations__["return"] = Annotated[Thing, fraiseql.requires(is_staff)]
    else:
        owner, name = hint[place]
        owner.__annotations__[name] = list[GUARDED] if place == "list item" else GUARDED
    fraiseql.input(Filter)
    fraiseql.type(Thing)
    fraiseql.query(find)
    with pytest.raises(TypeError, match=where + r": fraiseql.requires in a type hint applies"):
        fraiseql.build_schema()


def test_other_annotated_metadata_is_ignored() -> None:
    @fraiseql.type
    class Thing:
        id: Annotated[int, "documentation only"]

    @fraiseql.query
    async def thing(info: Any, n: Annotated[int, "n"]) -> Thing:
        return {"id": n}

    body = asyncio.run(fraiseql.execute("{ thing(n: 4) { id } }"))
    assert body == b'{"data":{"thing":{"id":4}}}'


@pytest.mark.parametrize("debug", [False, True])
def test_a_predicate_that_answers_no_bool_is_an_unexpected_error(
    debug: bool, caplog: pytest.LogCaptureFixture
) -> None:
    """Masked like any bug (the log says which predicate and what it answered), and refused."""

    @fraiseql.type
    class Thing:
        id: int
        secret: Annotated[str | None, fraiseql.requires(answers_none)]

    @fraiseql.query
    async def thing(info: Any) -> Thing:
        return {"id": 1, "secret": "hunter2"}

    with caplog.at_level(logging.ERROR, logger="fraiseql"):
        body = asyncio.run(fraiseql.execute("{ thing { id secret } }", debug=debug))
    result = json.loads(body)
    assert result["data"] == {"thing": {"id": 1, "secret": None}}
    [error] = result["errors"]
    assert error["path"] == ["thing", "secret"]
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    named = "fraiseql.requires(answers_none): the predicate returned None, not a bool"
    assert (named in error["message"]) is debug
    assert named in caplog.text and b"hunter2" not in body


def test_every_kind_of_resolver_can_be_guarded() -> None:
    """A sync root function with an async predicate, a computed field (either decorator
    order), a lambda predicate; the function keeps its name, arguments and docs."""

    async def later(info: Any) -> bool:
        await asyncio.sleep(0)
        return is_staff(info)

    @fraiseql.type
    class Thing:
        id: int

        @fraiseql.field
        @fraiseql.requires(lambda info: info.context["role"] == "staff")
        def double(self, info: Any, by: int = 2) -> int:
            return self.id * by

        @fraiseql.requires(later)
        @fraiseql.field
        async def triple(self, info: Any) -> int:
            return self.id * 3

    @fraiseql.query
    @fraiseql.requires(later)
    def thing(info: Any, id: int) -> Thing:
        """A thing, for staff."""
        return {"id": id}

    schema = fraiseql.build_schema()
    field = schema.query_type.fields["thing"]
    assert list(field.args) == ["id"] and field.description == "A thing, for staff."
    query = "{ thing(id: 2) { id double(by: 5) triple } }"
    staff = asyncio.run(fraiseql.execute(query, context={"role": "staff"}))
    assert staff == b'{"data":{"thing":{"id":2,"double":10,"triple":6}}}'
    other = json.loads(asyncio.run(fraiseql.execute(query, context={"role": "guest"})))
    assert other["data"] is None  # a non-null root refused: the whole data is null
    assert [e["message"] for e in other["errors"]] == [
        "Access to field 'Query.thing' is forbidden."
    ]


def test_a_subscription_source_is_guarded_when_it_starts() -> None:
    """An async generator stays one (what a subscription's source is), and asks first."""

    @fraiseql.requires(is_staff)
    async def ticks(root: Any, info: Any, upto: int) -> Any:
        for i in range(upto):
            yield {"ticks": i}

    schema = graphql.GraphQLSchema(
        query=graphql.GraphQLObjectType("Query", {"x": graphql.GraphQLField(graphql.GraphQLInt)}),
        subscription=graphql.GraphQLObjectType(
            "Subscription",
            {
                "ticks": graphql.GraphQLField(
                    graphql.GraphQLInt,
                    args={"upto": graphql.GraphQLArgument(graphql.GraphQLInt)},
                    subscribe=ticks,
                )
            },
        ),
    )

    async def events(role: str) -> list[Any]:
        stream = graphql.subscribe(
            schema, graphql.parse("subscription { ticks(upto: 3) }"), context_value={"role": role}
        )
        if inspect.isawaitable(stream):  # graphql-core 3.2 answers at once, 3.3 may not
            stream = await stream
        return [event.data async for event in stream]

    assert inspect.isasyncgenfunction(ticks)
    assert asyncio.run(events("staff")) == [{"ticks": 0}, {"ticks": 1}, {"ticks": 2}]
    with pytest.raises(graphql.GraphQLError, match="'Subscription.ticks' is forbidden") as exc:
        asyncio.run(events("guest"))
    assert exc.value.extensions == {"code": "FORBIDDEN"}


def test_a_guard_called_without_info_says_so() -> None:
    @fraiseql.requires(is_staff)
    async def plain(x: int) -> int:
        return x

    with pytest.raises(TypeError, match=r"plain was called without a GraphQLResolveInfo"):
        asyncio.run(plain(1))


# ---------------------------------------------------------------- over HTTP, on PostgreSQL


def signed_in_staff(info: Any) -> bool:
    return info.context["role"] == "staff"


async def signed_in(info: Any) -> bool:
    return info.context["user"] is not None


def declare_guarded_blog() -> None:
    """The blog's users with their email for staff only, and a root field for signed-in
    callers, read through the Repository (the C rewriter on the fast path)."""

    @fraiseql.type(sql_source="qm_user")
    class User:
        id: int
        first_name: str
        email: Annotated[str | None, fraiseql.requires(signed_in_staff)]

    @fraiseql.query
    async def user(info: Any, id: int) -> User | None:
        return await Repository(info.context["db"], info.context).find_one("qm_user", id=id)

    @fraiseql.query
    @fraiseql.requires(signed_in)
    async def users(info: Any, limit: int = 3) -> list[User]:
        repo = Repository(info.context["db"], info.context)
        return await repo.find("qm_user", order_by=[("id", "asc")], limit=limit)


def context_of(request: fraiseql.http.Request) -> dict[str, Any]:
    return {"user": request.headers.get("x-user"), "role": request.headers.get("x-role")}


@pytest.fixture(scope="module")
def blog_dsn(pg_server: Any, pg_dsn: str) -> str:
    return blog_database(pg_server, pg_dsn, "permissions_blog")


QUERIES = (
    "{ user(id: 1) { id firstName email } }",
    "{ users { id email } }",
    "{ a: user(id: 2) { id email } b: user(id: 3) { firstName } }",
)
CALLERS = ({}, {"x-user": "7"}, {"x-user": "7", "x-role": "staff"})


def test_over_http_the_caller_decides_and_both_paths_agree(blog_dsn: str) -> None:
    declare_guarded_blog()
    schema = fraiseql.build_schema()
    app = fraiseql.create_app(blog_dsn, schema=schema, context_getter=context_of)

    async def reference(pool: Any, query: str, headers: dict[str, str]) -> bytes:
        context = {"db": pool, "user": headers.get("x-user"), "role": headers.get("x-role")}
        result = await graphql.graphql(schema, query, context_value=context)
        return format_response(result.data, result.errors)

    async def references() -> list[bytes]:
        async with fraiseql.create_pool(blog_dsn) as pool:
            return [await reference(pool, q, h) for h in CALLERS for q in QUERIES]

    expected = asyncio.run(references())
    with serve(app) as base, httpx.Client(timeout=30) as client:
        got = [
            client.post(base + "/graphql", json={"query": q}, headers=h).content
            for h in CALLERS
            for q in QUERIES
        ]
    assert got == expected
    anonymous, signed_in_only, staff = (got[i : i + 3] for i in (0, 3, 6))
    assert all(b"@" not in body for body in anonymous + signed_in_only)  # no email written
    assert json.loads(anonymous[1]) == {
        "errors": [
            {
                "message": "Access to field 'Query.users' is forbidden.",
                "locations": [{"line": 1, "column": 3}],
                "path": ["users"],
                "extensions": {"code": "FORBIDDEN"},
            }
        ],
        "data": None,
    }
    assert all(b"errors" not in body and b"@" in body for body in staff)
    # Staff's three requests took the fast path (the Repository's rewritten fragments); every
    # other request had a refusal, which graphql-core answered.
    assert app.executor.fast_runs == 3
    assert app.executor.graphql_core_runs == 6
