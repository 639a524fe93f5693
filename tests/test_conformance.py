"""Differential conformance: fraiseql.execute against graphql-core executing build_schema().

Both run every case of the corpus on fresh copies of the same documents; the JSON must be
identical, key order included. A second test checks the compiled selections on their own:
applying each compiled tuple tree to the resolver's documents must give graphql-core's data.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
import json
import uuid
from decimal import Decimal
from typing import Any

import graphql
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from support.graphql_corpus import CORPUS, HAND_WRITTEN, PERMISSION_CORPUS, Case
from support.graphql_model import ANONYMOUS, ASKED, SIGNED_IN, STAFF, Store, declare
from support.graphql_reference import assert_same_as_graphql_core, reference

import fraiseql
from fraiseql import FIELD_ID, FIELD_INT, ITEMS_NON_NULL, NON_NULL, graphql_compat, tracing
from fraiseql.plan import Limits, build_plan, compile_roots
from fraiseql.schema import plain_value


@pytest.fixture(scope="module")
def model() -> Any:
    fraiseql.reset_registry()
    store = Store()
    declare(store)
    yield store, fraiseql.build_schema(), fraiseql.Executor(fraiseql.build_schema())
    fraiseql.reset_registry()


# Both sides word masked errors with this id (a fresh one per request otherwise).
REQUEST_ID = "conformance"


def ordered(body: bytes) -> Any:
    """JSON with key order kept (objects become lists of pairs)."""
    return json.loads(body, object_pairs_hook=list)


def test_corpus_is_large_and_varied() -> None:
    assert len(CORPUS) >= 200
    text = " ".join(q for q, _, _ in CORPUS)
    for feature in ("fragment ", "... on", "@include", "@skip", "__typename", "mutation", "$"):
        assert feature in text


@pytest.mark.parametrize("case", CORPUS, ids=[f"q{i}" for i in range(len(CORPUS))])
def test_same_response_as_graphql_core(model: Any, case: Case) -> None:
    assert_same_as_graphql_core(model, case, REQUEST_ID)


def test_same_response_when_traced(model: Any) -> None:
    """Tracing changes no byte: every case traced (spans on both paths, each root field's
    through graphql-core's middleware on its side) answers as graphql-core does untraced."""
    store, schema, _ = model
    executor = fraiseql.Executor(schema)
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("conformance")

    async def traced(case: Case) -> bytes:
        token = tracing.current.set(tracer)  # as the app sets it for a traced request
        try:
            return await executor.execute(*case, request_id=REQUEST_ID)
        finally:
            tracing.current.reset(token)

    for case in CORPUS:
        store.reset()
        expected = asyncio.run(reference(schema, case, REQUEST_ID))
        store.reset()
        assert asyncio.run(traced(case)) == expected, case
    paths = {span.attributes.get("fraiseql.path") for span in exporter.get_finished_spans()}
    assert {"fast", "graphql-core"} <= paths


def test_fast_path_served_most_of_the_corpus(model: Any) -> None:
    """Runs after the differential test (same module executor): counts the paths taken."""
    _, _, executor = model
    assert executor.graphql_core_runs >= 40  # errors, mutations, computed fields, introspection
    assert executor.fast_runs >= 300, (executor.fast_runs, executor.graphql_core_runs)


CONTEXTS = {"anonymous": ANONYMOUS, "signed_in": SIGNED_IN, "staff": STAFF}


@pytest.mark.parametrize("who", CONTEXTS)
@pytest.mark.parametrize(
    "case", PERMISSION_CORPUS, ids=[f"p{i}" for i in range(len(PERMISSION_CORPUS))]
)
def test_permissions_answer_as_graphql_core(model: Any, case: Case, who: str) -> None:
    """Fields and root fields behind fraiseql.requires, for each kind of caller: refused
    ones null with FORBIDDEN errors (null propagation included), the same bytes on both paths."""
    body = assert_same_as_graphql_core(model, case, REQUEST_ID, CONTEXTS[who])
    if who == "anonymous":
        assert b"+33" not in body and b"draft " not in body  # no guarded value written


def test_permissions_are_asked_before_the_fast_path_runs(model: Any) -> None:
    """Allowed: the fast path answers, the predicate asked once for the field with the real
    info of its first occurrence. Refused: graphql-core answers, asking it per object."""
    store, schema, _ = model
    executor = fraiseql.Executor(schema)
    query = "{ users(limit: 2) { id userPosts { draftNotes } } }"
    store.reset()
    body = asyncio.run(executor.execute(query, context=SIGNED_IN))
    assert (executor.fast_runs, executor.graphql_core_runs) == (1, 0)
    assert b'"draftNotes":"draft 0 of 1"' in body
    [info] = ASKED
    assert isinstance(info, graphql.GraphQLResolveInfo)
    assert info.context is SIGNED_IN and info.field_name == "draftNotes"
    assert info.parent_type.name == "Post" and str(info.return_type) == "String"
    assert info.path.as_list() == ["users", 0, "userPosts", 0, "draftNotes"]
    assert info.operation.operation == graphql.OperationType.QUERY

    store.reset()
    body = asyncio.run(executor.execute(query, context=ANONYMOUS))
    assert (executor.fast_runs, executor.graphql_core_runs) == (1, 1)
    assert b"draft " not in body and body.count(b'"FORBIDDEN"') == 3  # posts of users 1 and 2
    paths = [info.path.as_list() for info in ASKED]
    assert paths[0] == ["users", 0, "userPosts", 0, "draftNotes"]  # the fast path's question
    assert sorted(paths[1:]) == [
        ["users", 0, "userPosts", 0, "draftNotes"],
        ["users", 1, "userPosts", 0, "draftNotes"],
        ["users", 1, "userPosts", 1, "draftNotes"],
    ]


def test_no_requirement_no_guard(model: Any) -> None:
    """A selection without guarded fields compiles to a root with nothing to ask."""
    _, schema, _ = model
    for query, guarded in (
        ("{ users { id userPosts { title } } }", []),
        ("{ users { id phone userPosts { draftNotes } } }", ["phone", "draftNotes"]),
    ):
        plan = build_plan(schema, query, None, Limits())
        [root] = compile_roots(schema, plan, {}).roots
        assert [g.info_before[0] for g in root.guards] == guarded  # field_name comes first


def python_rewrite(value: Any, tree: Any) -> Any:
    """What the rewriter does, in Python: the oracle for compiled trees."""
    if value is None:
        return None
    if isinstance(value, list):
        return [python_rewrite(v, tree) for v in value]
    typename, fields = tree
    out = {}
    for out_key, src_key, child, flags in fields:
        if src_key is None:
            out[out_key] = typename
            continue
        v = value.get(src_key)
        if child is not None:
            v = python_rewrite(v, child)
        elif flags & FIELD_ID and isinstance(v, (int, float, Decimal)) and not isinstance(v, bool):
            v = str(v)
        out[out_key] = v
    return out


def test_compiled_trees_select_what_graphql_core_selects(model: Any) -> None:
    store, schema, _ = model
    compiled = 0
    for case in CORPUS:
        query, variables, operation_name = case
        if "mutation" in query:
            continue
        plan = build_plan(schema, query, operation_name, Limits())
        if plan.errors:
            continue
        store.reset()
        result = asyncio.run(
            graphql.graphql(schema, query, variable_values=variables, operation_name=operation_name)
        )
        if result.errors:
            continue  # null propagation and resolver errors are graphql-core's job
        values = graphql.execution.values.get_variable_values(
            schema, plan.operation.variable_definitions or (), variables or {}
        )
        coerced = values.coerced if graphql_compat.WRAPPED_VARIABLES else values
        variant = compile_roots(schema, plan, coerced)
        if variant is None or variant.core_document is not None:
            continue
        data = {}
        for root in variant.roots:
            if root.fn is None:
                data[root.key] = "Query"
                continue
            store.reset()
            args = root.args.values(coerced) if root.args else None
            if args is None:
                args = graphql.execution.values.get_argument_values(
                    root.field_def, root.nodes[0], values
                )
            value = plain_value(asyncio.run(root.fn(None, **args)))  # stored text decoded
            data[root.key] = python_rewrite(value, root.tree)
        assert list(data.items()) == list(result.data.items()), query
        compiled += 1
    # Most of the corpus must take the fast path.
    assert compiled >= 150


def test_fast_path_decisions(model: Any) -> None:
    _, schema, _ = model

    def roots(query: str) -> Any:
        plan = build_plan(schema, query, None, Limits())
        assert not plan.errors, plan.errors
        variant = compile_roots(schema, plan, {})
        return variant and [root.key for root in variant.roots if not root.core]

    assert roots("{ user(id: 1) { id } }") == ["user"]
    assert roots("{ user(id: 1) { fullName } }") is None  # computed field
    assert roots("{ user(id: 1) { role } }") is None  # enum stored as values
    assert roots("{ user(id: 1) { status } }") == ["user"]  # enum stored as names
    assert roots("{ greeting }") is None  # scalar root field
    assert roots("{ __schema { queryType { name } } }") is None
    assert roots("mutation { deleteUser(id: 1) }") is None
    # Mixed: the stored roots take the fast path, graphql-core answers the others.
    assert roots("{ a: user(id: 1) { id } greeting b: user(id: 2) { fullName } }") == ["a"]
    plan = build_plan(
        schema, "{ u: user(id: 1) { i: id code userPosts { __typename } } }", None, Limits()
    )
    tree = compile_roots(schema, plan, {}).roots[0].tree
    assert tree == (
        "User",
        (
            ("i", "id", None, NON_NULL | FIELD_INT),
            ("code", "code", None, NON_NULL | FIELD_ID),
            (
                "userPosts",
                "user_posts",
                ("Post", (("__typename", None, None, NON_NULL),)),
                ITEMS_NON_NULL,
            ),
        ),
    )


def test_hand_written_cases_cover_errors() -> None:
    messages = " ".join(q for q, _, _ in HAND_WRITTEN)
    assert "failing" in messages and "brokenUser" in messages


def test_stored_decimal_keeps_its_scale(model: Any) -> None:
    """A Decimal stored as 20.50 is "20.50" on the fast path and through graphql-core (it was
    "20.5" there), with or without a computed field in the query."""
    store, schema, executor = model
    for query in (
        "{ storedUser(id: 2) { balance score } }",
        "{ storedUser(id: 2) { balance score fullName } }",
    ):
        store.reset()
        got = asyncio.run(executor.execute(query, request_id=REQUEST_ID))
        assert got == asyncio.run(reference(schema, (query, None, None), REQUEST_ID))
        assert got.startswith(b'{"data":{"storedUser":{"balance":"20.50","score":3'), got


def test_python_values_in_resolver_data() -> None:
    """Resolvers returning Python objects (a row as a dict): the fast path serializes them
    the way the schema's scalars do."""
    fraiseql.reset_registry()
    try:

        @fraiseql.enum
        class Mood(enum.Enum):
            HAPPY = "HAPPY"

        @fraiseql.type(sql_source="v_thing")
        class Thing:
            when: dt.datetime
            day: dt.date
            uid: uuid.UUID
            amount: Decimal
            mood: Mood
            key: fraiseql.ID

        @fraiseql.query
        async def thing(info) -> Thing:
            return {
                "when": dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.timezone.utc),
                "day": dt.date(2024, 5, 6),
                "uid": uuid.UUID(int=7),
                "amount": Decimal("12.50"),
                "mood": Mood.HAPPY,
                "key": 42,
            }

        schema = fraiseql.build_schema()
        executor = fraiseql.Executor(schema)
        query = "{ thing { when day uid amount mood key } }"
        got = asyncio.run(executor.execute(query))
        assert executor.fast_runs == 1
        expected = asyncio.run(reference(schema, (query, None, None), REQUEST_ID))
        assert ordered(got) == ordered(expected)
        assert json.loads(got)["data"]["thing"]["amount"] == "12.50"
    finally:
        fraiseql.reset_registry()


def test_failing_roots_run_once_and_answer_as_graphql_core() -> None:
    """A root that raises, or whose value needs null propagation, is answered from what its
    resolver did: each resolver runs once per field and request, and the response (errors,
    their order, paths, locations, null propagation) is graphql-core's, byte for byte."""
    fraiseql.reset_registry()
    calls: dict[str, int] = {}

    def called(info: Any) -> None:
        calls[info.path.key] = calls.get(info.path.key, 0) + 1

    try:

        @fraiseql.type(sql_source="v_item")
        class Item:
            id: int
            name: str

            @fraiseql.field
            def label(self, info) -> str:
                return f"item {self['id']}"

        @fraiseql.query
        async def item(info, id: int) -> Item | None:
            called(info)
            return {"id": id, "name": f"n{id}"}

        @fraiseql.query
        async def required_item(info, id: int) -> Item:
            called(info)
            return {"id": id, "name": f"n{id}"}

        @fraiseql.query
        async def failing(info, id: int) -> Item | None:
            called(info)
            raise ValueError(f"no item {id}")

        @fraiseql.query
        async def failing_later(info, id: int) -> Item | None:
            called(info)
            await asyncio.sleep(0)
            raise graphql.GraphQLError(f"item {id} is not yours")

        @fraiseql.query
        async def failing_required(info) -> Item:
            called(info)
            raise RuntimeError("required item failed")

        @fraiseql.query
        def failing_at_call(info) -> Item | None:
            called(info)
            raise graphql.GraphQLError("refused at the call")

        @fraiseql.query
        async def missing_required(info) -> Item:
            called(info)
            return None

        @fraiseql.query
        async def no_document(info) -> Item:
            called(info)
            return b"null"  # what the Repository's fast path returns for no row

        @fraiseql.query
        async def broken(info) -> Item | None:
            called(info)
            return {"id": 7, "name": None}  # a null in a non-null field

        @fraiseql.query
        async def items(info) -> list[Item]:
            called(info)
            return [{"id": 1, "name": "a"}, {"id": 2, "name": None}]

        schema = fraiseql.build_schema()
        executor = fraiseql.Executor(schema)
        cases = [
            "{ failing(id: 1) { id } }",
            "{ failingRequired { id } }",
            "{ missingRequired { id } }",
            "{ noDocument { id } item(id: 1) { id } }",
            "{ broken { id name } }",
            "{ a: item(id: 1) { id } f: failing(id: 2) { id } b: item(id: 3) { name } }",
            "{ a: item(id: 1) { id } f: failingRequired { id } b: item(id: 3) { id } }",
            "{ f: failing(id: 1) { id } g: failing(id: 2) { id } r: failingRequired { id } }",
            "{ l: failingLater(id: 1) { id } f: failing(id: 2) { id } s: failingAtCall { id } }",
            "{ item(id: 1) { id } broken { id name } items { id name } }",
            "{ r: requiredItem(id: 1) { id } m: missingRequired { id } i: item(id: 2) { id } }",
            "{ __typename failing(id: 4) { id } item(id: 5) { id } }",
            # next to roots graphql-core answers (a computed field): both sides' errors merged
            "{ f: failing(id: 1) { id } c: item(id: 2) { label } b: broken { id name } }",
            "{ c: item(id: 2) { label } f: failingRequired { id } i: item(id: 3) { id } }",
            "{ i: item(id: 1) { id } c: requiredItem(id: 2) { label } }",
            # a non-null root of graphql-core's nulls the data: its error comes last
            "{ m: missingRequired { label } b: broken { id name } f: failing(id: 1) { id } }",
            "{ b: broken { id name } m: missingRequired { id } c: item(id: 1) { label } }",
            "query Q($id: Int!) { failing(id: $id) { id } item(id: $id) { id } }",
        ]
        for query in cases:
            variables = {"id": 9} if "$id" in query else None
            expected = asyncio.run(reference(schema, (query, variables, None), REQUEST_ID))
            for _ in range(2):  # the second from the plan cache
                calls.clear()
                got = asyncio.run(executor.execute(query, variables, request_id=REQUEST_ID))
                assert got == expected, (query, got, expected)
                assert calls and set(calls.values()) == {1}, (query, calls)
        assert b'"errors"' in expected and executor.fast_runs == 0
    finally:
        fraiseql.reset_registry()
