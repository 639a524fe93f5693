"""Subscriptions, differential: fraiseql's stream of each case against graphql-core's own
subscribe() of build_schema(), byte for byte, errors included; the fast path's share."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from graphql import GraphQLError
from support.graphql_model import Store, declare
from support.graphql_reference import assert_stream_same_as_graphql_core

import fraiseql
from fraiseql.current import current_field

REQUEST_ID = "subscriptions"
FAST: list[str] = []  # values the fast path's generator produced as rewritten fragments


@pytest.fixture(scope="module")
def model() -> Any:
    fraiseql.reset_registry()
    store = Store()
    declare(store)  # User and friends; the hints below name them (resolved by the registry)

    @fraiseql.subscription
    async def user_changes(info, ids: list[int]) -> AsyncIterator[User | None]:  # noqa: F821
        for id in ids:
            yield store.user(id)

    @fraiseql.subscription
    async def required_user(info, ids: list[int]) -> AsyncIterator[User]:  # noqa: F821
        for id in ids:
            yield store.user(id)

    @fraiseql.subscription
    async def stored_changes(info, ids: list[int]) -> AsyncIterator[User | None]:  # noqa: F821
        for id in ids:
            # What Repository.watch yields: the fragment rewritten for the selection.
            field = current_field.get()
            doc = store.document(id)
            if field is not None and field.selection is not None:
                FAST.append(str(id))
                yield fraiseql.rewrite(doc, field.selection)
            else:
                yield doc

    @fraiseql.subscription
    async def broken_stream(info) -> AsyncIterator[User | None]:  # noqa: F821
        yield store.user(1)
        yield {"id": 99, "first_name": None, "user_posts": [{"id": 1, "title": None}]}
        yield store.user(2)

    @fraiseql.subscription
    async def failing_stream(info) -> AsyncIterator[User | None]:  # noqa: F821
        yield store.user(1)
        raise ValueError("the source went away")

    @fraiseql.subscription
    def refused_now(info, id: int) -> AsyncIterator[User]:  # noqa: F821
        raise GraphQLError(f"user {id} is not yours", extensions={"code": "FORBIDDEN"})

    @fraiseql.subscription
    def not_a_stream(info) -> AsyncIterator[User]:  # noqa: F821
        return 5  # type: ignore[return-value]

    schema = fraiseql.build_schema()
    yield store, schema, fraiseql.Executor(schema)
    fraiseql.reset_registry()


SELECTION = "{ id firstName tags __typename userPosts { id title comments { likes } } }"
CASES = [
    (f"subscription {{ userChanges(ids: [1, 2, 77, 3]) {SELECTION} }}", None, None),
    ("subscription S($ids: [Int!]!) { u: userChanges(ids: $ids) { ...F } } "
     "fragment F on User { email status role score balance code externalId }",
     {"ids": [2, 1]}, "S"),
    ("subscription { userChanges(ids: [1]) { firstName @skip(if: true) lastName } }", None, None),
    (f"subscription {{ requiredUser(ids: [1, 77, 2]) {SELECTION} }}", None, None),
    (f"subscription {{ storedChanges(ids: [1, 77, 2, 3]) {SELECTION} }}", None, None),
    ("subscription { storedChanges(ids: [2]) { score balance createdAt birthday } }", None, None),
    ("subscription { brokenStream { id firstName userPosts { title } } }", None, None),
    ("subscription { brokenStream { id } }", None, None),
    ("subscription { failingStream { id } }", None, None),
    ("subscription { refusedNow(id: 3) { id } }", None, None),
    ("subscription { notAStream { id } }", None, None),
    ("subscription { userChanges(ids: [1]) { nope } }", None, None),
    ("subscription { userChanges(ids: [1]) { id } refusedNow(id: 1) { id } }", None, None),
    ("subscription S($ids: [Int!]!) { userChanges(ids: $ids) { id } }", {"ids": "x"}, None),
    ("subscription { userChanges(ids: [1]) { id }", None, None),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[f"s{i}" for i in range(len(CASES))])
def test_same_stream_as_graphql_core(model: Any, case: Any) -> None:
    assert_stream_same_as_graphql_core(model, case, REQUEST_ID)


def test_stored_fragments_take_the_fast_path(model: Any) -> None:
    FAST.clear()
    assert_stream_same_as_graphql_core(model, CASES[4], REQUEST_ID)
    assert FAST == ["1", "77", "2", "3"] * 2  # each fraiseql run rewrote every value in C
