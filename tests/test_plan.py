"""Plans: limits, the LRU cache, operation selection and the @include/@skip variants."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from graphql import get_introspection_query, parse
from support.graphql_model import Store, declare

import fraiseql
from fraiseql.lru import LRUCache
from fraiseql.plan import Limits, build_plan, check_limits, directive_variables


@pytest.fixture(scope="module")
def schema() -> Any:
    fraiseql.reset_registry()
    declare(Store())
    yield fraiseql.build_schema()
    fraiseql.reset_registry()


def messages(query: str, limits: Limits) -> list[str]:
    return [e.message for e in check_limits(parse(query), limits)]


def test_depth_limit() -> None:
    query = "{ user(id: 1) { userPosts { comments { id } } } }"
    assert messages(query, Limits(max_depth=4)) == []
    assert messages(query, Limits(max_depth=3)) == [
        "The operation exceeds the maximum query depth: 4 > 3."
    ]


def test_depth_counts_through_fragments() -> None:
    query = (
        "query Deep { user(id: 1) { ...A } } fragment A on User { userPosts { ...B } }"
        " fragment B on Post { comments { id } }"
    )
    assert messages(query, Limits(max_depth=3)) == [
        "Operation 'Deep' exceeds the maximum query depth: 4 > 3."
    ]


def test_alias_limit() -> None:
    query = "{ a: user(id: 1) { b: id c: email } }"
    assert messages(query, Limits(max_aliases=3)) == []
    assert messages(query, Limits(max_aliases=2)) == [
        "The operation exceeds the maximum query number of aliases: 3 > 2."
    ]


def test_field_limit_expands_fragments_without_blowing_up() -> None:
    # Each fragment doubles the previous one: 2**30 fields if expanded naively.
    frags = ["fragment F0 on User { id email }"]
    for i in range(1, 31):
        frags.append(f"fragment F{i} on User {{ ...F{i - 1} ...F{i - 1} }}")
    query = "{ user(id: 1) { ...F30 } } " + " ".join(frags)
    (message,) = messages(query, Limits(max_fields=500))
    assert message.startswith("The operation exceeds the maximum query number of fields: ")
    assert message.endswith(" > 500.")


def test_cyclic_fragments_are_left_to_validation(schema: Any) -> None:
    query = "{ user(id: 1) { ...A } } fragment A on User { ...B } fragment B on User { ...A }"
    assert messages(query, Limits()) == []
    plan = build_plan(schema, query, None, Limits())
    assert plan.errors and "Cannot spread fragment 'A' within itself" in plan.errors[0].message


def test_default_limits_admit_the_introspection_query(schema: Any) -> None:
    plan = build_plan(schema, get_introspection_query(), None, Limits())
    assert plan.errors is None


def test_introspection_can_be_turned_off(schema: Any) -> None:
    plan = build_plan(schema, "{ __schema { types { name } } }", None, Limits(introspection=False))
    assert plan.errors and "introspection" in plan.errors[0].message
    assert build_plan(schema, "{ __typename }", None, Limits(introspection=False)).errors is None


def test_token_limit(schema: Any) -> None:
    query = "{ " + " ".join(f"a{i}: __typename" for i in range(400)) + " }"
    plan = build_plan(schema, query, None, Limits(max_tokens=100, max_aliases=None))
    assert plan.errors and "more than 100 tokens" in plan.errors[0].message


def test_lru_cache_evicts_least_recently_used() -> None:
    cache = LRUCache(2)
    a, b, c = (object() for _ in range(3))
    cache.put(("a", None), a)
    cache.put(("b", None), b)
    assert cache.get(("a", None)) is a  # a is now the most recent
    cache.put(("c", None), c)
    assert cache.get(("b", None)) is None
    assert cache.get(("a", None)) is a and cache.get(("c", None)) is c
    assert len(cache) == 2
    with pytest.raises(ValueError, match="at least 1"):
        LRUCache(0)


def test_executor_plans_once_per_document_and_operation(schema: Any) -> None:
    executor = fraiseql.Executor(schema, cache_size=10)
    query = "query A { user(id: 1) { id } } query B { user(id: 2) { id } }"
    for _ in range(3):
        assert (
            asyncio.run(executor.execute(query, operation_name="A"))
            == b'{"data":{"user":{"id":1}}}'
        )
        assert (
            asyncio.run(executor.execute(query, operation_name="B"))
            == b'{"data":{"user":{"id":2}}}'
        )
    assert len(executor.plans) == 2
    assert executor.plan(query, "A") is executor.plan(query, "A")


def test_directive_variables() -> None:
    doc = parse(
        "query($a: Boolean!, $b: Boolean!, $c: Int) { x @include(if: $b) { y @skip(if: $a) z(n: $c) "
        "... on T @include(if: true) { w } } } fragment F on T { v @skip(if: $a) }"
    )
    assert directive_variables(doc) == ("a", "b")


def test_variants_are_compiled_per_directive_values(schema: Any) -> None:
    executor = fraiseql.Executor(schema)
    query = "query($x: Boolean!) { user(id: 1) { id email @include(if: $x) } }"
    with_email = asyncio.run(executor.execute(query, {"x": True}))
    without = asyncio.run(executor.execute(query, {"x": False}))
    assert with_email == b'{"data":{"user":{"id":1,"email":"user1@example.com"}}}'
    assert without == b'{"data":{"user":{"id":1}}}'
    assert asyncio.run(executor.execute(query, {"x": True})) == with_email


def test_variants_per_plan_are_bounded(schema: Any) -> None:
    from fraiseql.executor import MAX_VARIANTS

    names = [f"v{i}" for i in range(6)]
    query = (
        "query("
        + ", ".join(f"${n}: Boolean!" for n in names)
        + ") { user(id: 1) { id "
        + " ".join(f"{n}: email @include(if: ${n})" for n in names)
        + " } }"
    )
    executor = fraiseql.Executor(schema, limits=Limits(max_aliases=None))
    for combo in range(2 ** len(names)):
        values = {n: bool(combo >> i & 1) for i, n in enumerate(names)}
        body = asyncio.run(executor.execute(query, values))
        assert body.count(b"user1@example.com") == sum(values.values())
    assert len(executor.bind(query, None)[0].variants) == MAX_VARIANTS


def test_executor_alternating_documents_keep_their_own_plans(schema: Any) -> None:
    # The executor remembers its last plan: a different text or operation name must not reuse it.
    executor = fraiseql.Executor(schema, cache_size=1)
    one, two = "{ user(id: 1) { id } }", "{ user(id: 2) { id } }"
    for _ in range(2):
        assert asyncio.run(executor.execute(one)) == b'{"data":{"user":{"id":1}}}'
        assert asyncio.run(executor.execute(two)) == b'{"data":{"user":{"id":2}}}'
        assert asyncio.run(executor.execute(one, operation_name="X")).startswith(b'{"errors":')
    assert len(executor.plans) == 1


def cost_error(schema: Any, query: str, variables: Any = None, **limits: Any) -> str | None:
    """The cost error of `query` (priced with the plan, or per request from `variables`)."""
    plan = build_plan(schema, query, None, Limits(**limits))
    if plan.errors:
        return plan.errors[0].message
    error = plan.cost.check(variables or {}) if plan.cost is not None else None
    return error.message if error is not None else None


def cost_of(schema: Any, query: str, variables: Any = None) -> int:
    """The price of `query`: the bound at which it is refused, found by the error's text."""
    message = cost_error(schema, query, variables, max_cost=0)
    if message is None:
        return 0
    return int(message.split("maximum query cost: ")[1].split(" > ")[0])


def test_cost_multiplies_by_list_sizes(schema: Any) -> None:
    # users(limit) is a list: its size times (itself + its selection); userPosts, a list
    # without limit/first, counts 10; comments inside it 10 more.
    assert cost_of(schema, "{ user(id: 1) { id } }") == 2
    assert cost_of(schema, "{ users(limit: 3) { id } }") == 3 * 2
    assert cost_of(schema, "{ users { id } }") == 10 * 2  # the argument's default (10)
    assert cost_of(schema, "{ users(limit: 1000) { id userPosts { id title } } }") == 1000 * (
        1 + 1 + 10 * 3
    )
    assert cost_of(schema, "{ user(id: 1) { userPosts { comments { id } } } }") == 1 + 10 * (
        1 + 10 * 2
    )
    # fragments and inline fragments count their fields where they are spread
    fragment = "fragment F on User { id email } { users(limit: 2) { ...F ... on User { id } } }"
    assert cost_of(schema, fragment) == 2 * (1 + 3)
    # introspection costs nothing: its size is the schema's
    assert cost_of(schema, get_introspection_query()) == 0
    assert cost_of(schema, "{ __typename __schema { types { name } } }") == 1


def test_cost_limit_refuses_before_running(schema: Any) -> None:
    query = "{ users(limit: 1000) { id userPosts { id title } } }"
    assert cost_error(schema, query) == (
        "The operation exceeds the maximum query cost: 32000 > 20000 (each field counts once "
        "per item of the lists it is in: a list counts its `limit` or `first` argument, else 10 "
        "items; ask for fewer)."
    )
    assert cost_error(schema, query, max_cost=None) is None  # off
    assert cost_error(schema, query, max_cost=32_000) is None
    assert "else 3 items" in cost_error(
        schema, "{ user(id: 1) { userPosts { id } } }", None, max_cost=1, default_list_size=3
    )


def test_cost_from_variables_is_priced_per_request(schema: Any) -> None:
    query = "query Q($n: Int = 5) { users(limit: $n) { id userPosts { id } } }"
    plan = build_plan(schema, query, None, Limits())
    assert plan.cost is not None and not plan.errors  # priced per request, not cached
    assert cost_of(schema, query, {"n": 5}) == 5 * (1 + 1 + 10 * 2)
    assert cost_error(schema, query, {"n": 1000}) == (
        "Operation 'Q' exceeds the maximum query cost: 22000 > 20000 (each field counts once "
        "per item of the lists it is in: a list counts its `limit` or `first` argument, else 10 "
        "items; ask for fewer)."
    )
    # a plan whose sizes are literals is priced once: nothing is left to check per request
    assert build_plan(schema, "{ users(limit: 2) { id } }", None, Limits()).cost is None


def test_cost_limit_in_the_executor(schema: Any) -> None:
    executor = fraiseql.Executor(schema)
    query = "query($n: Int!) { users(limit: $n) { id userPosts { id } } }"
    ok = asyncio.run(executor.execute(query, {"n": 1}))
    assert b'"errors"' not in ok
    refused = asyncio.run(executor.execute(query, {"n": 10_000}))
    assert (
        refused.startswith(
            b'{"errors":[{"message":"The operation exceeds the maximum query cost: 220000 > 20000'
        )
        and b'"data"' not in refused
    )
