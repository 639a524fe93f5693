"""Unions and interfaces: fraiseql's executor against graphql-core executing the same schema.

Every case runs on both (fresh copies of the same values) and must answer the same bytes,
errors included; the fast path serves the cases it can (instances, dicts and documents
naming their type by a discriminator, in roots and nested in documents), graphql-core the
rest. Start-up errors of bad declarations are checked at the end.
"""

from __future__ import annotations

import asyncio
import copy
import json
from typing import Any

import pytest
from support.graphql_reference import assert_same_as_graphql_core

import fraiseql
from fraiseql.documents import Document

REQUEST_ID = "unions"

FEED = {
    "id": 1,
    "items": [
        {"kind": "post", "id": 1, "title": "Hello", "score": 1.50},
        {"kind": "note", "id": 2, "body": "Remember"},
        {"id": 3, "kind": "post", "title": "Again", "score": 2},
    ],
    "pinned": {"kind": "note", "id": 2, "body": "Remember"},
    "nodes": [{"kind": "post", "id": 1, "title": "Hello"}, {"kind": "note", "id": 9, "body": "x"}],
}


class Store:
    """The values resolvers answer from, reset before each run."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.feed = copy.deepcopy(FEED)


def declare(store: Store) -> None:
    @fraiseql.interface(discriminator="kind")
    class Node:
        id: int

    @fraiseql.type(tag="post")
    class Post(Node):
        title: str
        score: float | None = None

    @fraiseql.type(tag="note")
    class Note(Node):
        body: str

    # hints are resolved in this module's namespace when the schema is built
    globals()["Item"] = fraiseql.union("Item", Post, Note, discriminator="kind")

    @fraiseql.type(sql_source="qm_feed")
    class Feed:
        id: int
        items: list[Item]  # noqa: F821
        pinned: Item | None  # noqa: F821
        nodes: list[Node]

    @fraiseql.error
    class Refused:
        code: str
        message: str
        field: str | None = None
        current_version: int | None = None

    @fraiseql.query
    async def feed(info) -> Feed:
        return store.feed

    @fraiseql.query
    async def search(info, broken: bool = False) -> list[Post | Note]:
        found: list[Any] = [Post(id=1, title="a"), Note(id=2, body="b"), Post(id=3, title="c")]
        if broken:
            found.append(Note(id=4, body=None))  # a null in a non-null field
        return found

    @fraiseql.query
    async def by_dict(info, kind: str = "note") -> Post | Note | None:
        return {
            "__typename": {"note": "Note", "post": "Post"}.get(kind, kind),
            "id": 5,
            "body": "d",
            "title": "t",
        }

    @fraiseql.query
    async def stored(info, typename: str | None = "Post") -> Item | None:  # noqa: F821
        return Document(b'{"id": 7, "title": "kept", "score": 14.00, "kind": "post"}', typename)

    @fraiseql.query
    async def node(info, id: int) -> Node | None:
        return next((n for n in store.feed["nodes"] if n["id"] == id), None)

    @fraiseql.query
    async def thing(info) -> Post | Note:
        return 42  # resolves to no member: graphql-core's error

    @fraiseql.mutation
    async def publish(info, title: str, refuse: str | None = None) -> Post | Refused:
        if refuse == "conflict":
            raise fraiseql.CommandError("CONFLICT", "Someone changed it.", currentVersion=3)
        if refuse == "returned":
            return Refused(code="NOPE", message="No.", field="title")
        return Post(id=10, title=title)

    @fraiseql.mutation
    async def plain(info, refuse: bool = True) -> Post:
        if refuse:
            raise fraiseql.CommandError("LOCKED", "The post is locked.", field="title")
        return Post(id=11, title="p")


CASES = [
    ("{ feed { id items { __typename ... on Post { id title score } ... on Note { body } } } }",),
    ("{ feed { items { ... on Node { id } ... on Post { title } } pinned { __typename } } }",),
    ("{ feed { nodes { __typename id ... on Note { body } ... on Post { title } } } }",),
    (
        "{ feed { items { ...P ...N } } } fragment P on Post { t: title } fragment N on Note { b: body }",
    ),
    (
        "query($n: Boolean!) { feed { items { ... on Post @include(if: $n) { title } ... on Note { id } } } }",
        {"n": False},
    ),
    ("{ feed { pinned { ... on Post { title } } } }",),
    ("{ search { __typename ... on Post { id title } ... on Note { id body } } }",),
    ("{ search(broken: true) { ... on Note { body } } }",),
    ("{ byDict { __typename ... on Note { id body } ... on Post { title } } }",),
    ('{ byDict(kind: "post") { __typename ... on Post { title } } }',),
    ('{ byDict(kind: "poll") { __typename } }',),
    ("{ stored { __typename ... on Post { id title score } } }",),
    ("{ stored(typename: null) { __typename ... on Post { title score } } }",),
    ('{ stored(typename: "Note") { __typename } }',),
    ("{ node(id: 9) { id __typename ... on Note { body } } }",),
    ("{ node(id: 1) { ... on Post { title } } n: node(id: 4) { id } }",),
    ("{ thing { __typename } }",),
    (
        'mutation { publish(title: "x") { __typename ... on Post { id title } '
        "... on Refused { code message field } } }",
    ),
    (
        'mutation { publish(title: "x", refuse: "conflict") { ... on Refused { code message field currentVersion } } }',
    ),
    (
        'mutation { publish(title: "x", refuse: "returned") { __typename ... on Refused { code field } } }',
    ),
    ("mutation { plain { id } }",),
]


@pytest.fixture(scope="module")
def model() -> Any:
    fraiseql.reset_registry()
    store = Store()
    declare(store)
    schema = fraiseql.build_schema()
    yield store, schema, fraiseql.Executor(schema)
    fraiseql.reset_registry()


def _case(case: tuple[Any, ...]) -> tuple[str, Any, None]:
    return case[0], case[1] if len(case) > 1 else None, None


@pytest.mark.parametrize("case", CASES, ids=[f"u{i}" for i in range(len(CASES))])
def test_same_response_as_graphql_core(model: Any, case: tuple[Any, ...]) -> None:
    assert_same_as_graphql_core(model, _case(case), REQUEST_ID)


def test_fast_path_serves_unions(model: Any) -> None:
    """Stored unions and interfaces, instances, dicts and Documents: no graphql-core run."""
    _, _, executor = model
    for case in (CASES[0], CASES[2], CASES[3], CASES[6], CASES[8], CASES[11], CASES[12]):
        before = executor.graphql_core_runs
        asyncio.run(executor.execute(*_case(case)))
        assert executor.graphql_core_runs == before, case


def test_refusals_answer_as_the_error_member(model: Any) -> None:
    _, _, executor = model
    body = asyncio.run(executor.execute(CASES[18][0]))
    assert json.loads(body) == {
        "data": {
            "publish": {
                "code": "CONFLICT",
                "message": "Someone changed it.",
                "field": None,
                "currentVersion": 3,
            }
        }
    }
    # without an error member: a GraphQL error keeping the code and the message
    error = json.loads(asyncio.run(executor.execute(CASES[20][0])))["errors"][0]
    assert error["message"] == "The post is locked."
    assert error["extensions"] == {"code": "LOCKED", "field": "title"}


def test_keyword_construction() -> None:
    fraiseql.reset_registry()

    @fraiseql.type
    class Point:
        x: int
        y: int = 0

    assert vars(Point(x=1)) == {"x": 1}
    assert Point(x=1).y == 0
    with pytest.raises(TypeError, match=r"Point\(\) got unknown field\(s\) z"):
        Point(x=1, z=2)
    with pytest.raises(TypeError, match=r"Point\(\) is missing field\(s\) x"):
        Point()
    fraiseql.reset_registry()


# ---------------------------------------------------------------- start-up errors


def _build(declare_bad: Any) -> str:
    fraiseql.reset_registry()
    try:
        declare_bad()
        with pytest.raises(TypeError) as info:
            fraiseql.build_schema()
        return str(info.value)
    finally:
        fraiseql.reset_registry()


def _types() -> tuple[Any, Any]:
    @fraiseql.type
    class A:
        a: int

    @fraiseql.type
    class B:
        b: int

    return A, B


def test_union_of_non_object_types_is_refused() -> None:
    def bad() -> None:
        @fraiseql.query
        async def q(info) -> int | str: ...

    message = _build(bad)
    assert "Query.q: the union intOrstr has the member <class 'int'>" in message


def test_union_as_an_argument_is_refused() -> None:
    def bad() -> None:
        A, B = _types()

        @fraiseql.query
        async def q(info, x: A | B) -> int: ...  # type: ignore[valid-type]

    assert "Query.q(x)" in _build(bad) and "output fields" in _build(bad)


def test_stored_union_without_discriminator_is_refused() -> None:
    def bad() -> None:
        A, B = _types()

        @fraiseql.type(sql_source="qm_c")
        class C:
            id: int
            either: A | B  # type: ignore[valid-type]

        @fraiseql.query
        async def c(info) -> C: ...

    message = _build(bad)
    assert "C.either" in message and "AOrB" in message and "discriminator" in message


def test_stored_interface_without_discriminator_is_refused() -> None:
    def bad() -> None:
        @fraiseql.interface
        class Named:
            name: str

        @fraiseql.type
        class Dog(Named):
            barks: bool

        @fraiseql.type(sql_source="qm_owner")
        class Owner:
            id: int
            pet: Named

        @fraiseql.query
        async def owner(info) -> Owner: ...

    message = _build(bad)
    assert "Owner.pet" in message and "interface Named" in message


def test_two_members_with_one_tag_are_refused() -> None:
    def bad() -> None:
        @fraiseql.type(tag="x")
        class A:
            a: int

        @fraiseql.type(tag="x")
        class B:
            b: int

        globals()["AB"] = fraiseql.union("AB", A, B, discriminator="kind")

        @fraiseql.query
        async def q(info) -> AB: ...  # noqa: F821

    message = _build(bad)
    assert "AB: A and B have the same tag 'x'" in message


def test_error_type_with_a_field_a_refusal_cannot_fill_is_refused() -> None:
    def bad() -> None:
        A, _ = _types()

        @fraiseql.error
        class Conflict:
            code: str
            message: str
            current_version: int

        @fraiseql.query
        async def q(info) -> int: ...

        @fraiseql.mutation
        async def m(info) -> A | Conflict: ...  # type: ignore[valid-type]

    message = _build(bad)
    assert "Conflict" in message and "currentVersion" in message and "None = None" in message


def test_error_type_needs_code_and_message() -> None:
    fraiseql.reset_registry()
    with pytest.raises(TypeError, match="fraiseql.error Oops needs the field.s. code: str"):

        @fraiseql.error
        class Oops:
            message: str

    fraiseql.reset_registry()


def test_two_error_members_are_refused() -> None:
    def bad() -> None:
        @fraiseql.error
        class E1:
            code: str
            message: str

        @fraiseql.error
        class E2:
            code: str
            message: str

        @fraiseql.query
        async def q(info) -> int: ...

        @fraiseql.mutation
        async def m(info) -> E1 | E2: ...  # type: ignore[valid-type]

    message = _build(bad)
    assert "Mutation.m" in message and "E1, E2" in message


def test_union_helper_refuses_bad_arguments() -> None:
    with pytest.raises(TypeError, match="two or more"):
        fraiseql.union("Lonely", int)
    with pytest.raises(TypeError, match="GraphQL name"):
        fraiseql.union("not a name", int, str)
