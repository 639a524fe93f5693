"""Plans keyed by shape (fraiseql.plan_cache): documents that differ only in their literals
(values, layout, comments) share one plan, and each is answered byte for byte as
graphql-core answers it as sent, errors and their locations included.

The differential test draws documents over the test schema (tests/test_graphql_fuzz.py's
generator), then sends each as drawn, with other literal values (same shape, or another
kind where a literal becomes invalid) and with another layout, for three kinds of callers
(permissions); the bad input of issue 15 follows, case by case.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import graphql
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.graphql_model import ANONYMOUS, SIGNED_IN, STAFF, Store, declare
from support.graphql_reference import assert_same_as_graphql_core, reference
from support.http_server import serve
from test_graphql_fuzz import EXAMPLES, INTS, STRINGS, valid_documents

import fraiseql
from fraiseql._native import native
from fraiseql.executor import format_response
from fraiseql.lru import LRUCache
from fraiseql.plan import Limits
from fraiseql.plan_cache import plan_bytes

REQUEST_ID = "shapes"
CONTEXTS = {"anonymous": ANONYMOUS, "signed_in": SIGNED_IN, "staff": STAFF}


def declare_more() -> None:
    """Positions the main test schema lacks: Float, a list of input objects, JSON."""

    @fraiseql.input
    class Sort:
        field: str
        desc: bool = False

    @fraiseql.query
    def half(info, x: float) -> float:
        return x / 2

    @fraiseql.query
    def sorted_by(info, by: list[Sort]) -> list[str]:
        return [f"{s.field}:{s.desc}" for s in by]

    @fraiseql.query
    def echo(info, value: dict) -> dict:
        return value


@pytest.fixture(scope="module")
def model() -> Any:
    fraiseql.reset_registry()
    store = Store()
    declare(store)
    declare_more()
    schema = fraiseql.build_schema()
    # No cost limit: graphql-core has none, and drawn list sizes reach 2**31 (test_plan prices).
    yield store, schema, fraiseql.Executor(schema, limits=Limits(max_cost=None))
    fraiseql.reset_registry()


def fresh(model: Any, **options: Any) -> tuple[Any, Any, fraiseql.Executor]:
    """The model's store (its data as declared) and schema, with a new executor."""
    store, schema, _ = model
    store.reset()
    return store, schema, fraiseql.Executor(schema, **options)


# ---------------------------------------------------------------- differential


def enum_names(schema: graphql.GraphQLSchema) -> list[str]:
    names = {"NOPE"}
    for type_ in schema.type_map.values():
        if isinstance(type_, graphql.GraphQLEnumType) and not type_.name.startswith("__"):
            names.update(type_.values)
    return sorted(names)


def relit(draw: Any, schema: graphql.GraphQLSchema, text: str) -> str:
    """`text` with other literal values: mostly of the same kind (the same shape), now and
    then of another kind (a string where an enum or an Int stands)."""
    _tokens, literals = native.gql_tokens(text)
    replacements = {
        native.GQL_INT: [str(i) for i in INTS] + ['"5"'],
        native.GQL_FLOAT: ["0.5", "-2.25", "1e3", "1.5e400", "3"],
        native.GQL_STRING: [json.dumps(s) for s in STRINGS] + ['"""\n  block\n   text"""', "X"],
        native.GQL_BLOCK_STRING: ['"""b"""', '"s"'],
        native.GQL_BOOLEAN: ["true", "false", '"true"'],
        native.GQL_ENUM: enum_names(schema) + ['"ACTIVE"'],
    }
    out = text.encode()
    for kind, start, end in reversed(literals):
        new = draw(st.sampled_from(replacements[kind]))
        out = out[:start] + new.encode() + out[end:]
    return out.decode()


LAYOUT = ["", "", "", " ", "\n", "\n\n  ", ",", "\t", "\n# a comment, with {braces}\n"]


def relayout(draw: Any, text: str) -> str:
    """`text` with other whitespace, commas and comments between its tokens."""
    tokens, _literals = native.gql_tokens(text)
    data = text.encode()
    pieces, last = [], 0
    for start in tokens:
        pieces += (data[last:start], draw(st.sampled_from(LAYOUT)).encode())
        last = start
    pieces.append(data[last:])
    return b"".join(pieces).decode()


SETTINGS = settings(  # FRAISEQL_FUZZ_EXAMPLES=N: N fresh examples, as in test_graphql_fuzz
    max_examples=int(EXAMPLES or 150),
    derandomize=EXAMPLES is None,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@SETTINGS
@given(data=st.data())
def test_documents_of_a_shape_answer_as_graphql_core(model: Any, data: Any) -> None:
    schema = model[1]
    text, variables, op_name = data.draw(valid_documents(schema))
    context = CONTEXTS[data.draw(st.sampled_from(sorted(CONTEXTS)))]
    for query in (text, relit(data.draw, schema, text), relayout(data.draw, text)):
        assert_same_as_graphql_core(model, (query, variables, op_name), REQUEST_ID, context)
        plan, binding = model[2].bind(query, op_name)
        if binding is not None:  # the rules skipped for it (see plan_cache) pass on it too
            assert graphql.validate(schema, plan.document) == [], query


def test_the_differential_test_went_through_shapes(model: Any) -> None:
    """Runs after it (same module): most documents were answered by the plan of a shape."""
    stats = model[2].cache_stats()["shapes"]
    assert stats.hits >= 100 and stats.entries >= 40, stats


# ---------------------------------------------------------------- the shape route


def run(executor: fraiseql.Executor, query: str, variables: Any = None, context: Any = None) -> Any:
    return json.loads(asyncio.run(executor.execute(query, variables, context=context)))


def test_later_documents_of_a_shape_only_bind(model: Any) -> None:
    store, schema, executor = fresh(model)
    for i in range(1, 6):
        query = f'{{ user(id: {i}) {{ id firstName }} greeting(name: "n{i}") }}'
        assert run(executor, query)["data"]["greeting"] == f"hello n{i}"
        assert run(executor, query)["data"]["user"]["id"] == i
    assert executor.plan_misses == 1  # one plan for the shape, none by text
    stats = executor.cache_stats()
    assert stats["shapes"].entries == 1 and stats["shapes"].hits == 4
    assert stats["plans"].entries == 0
    assert executor.fast_runs == 0 or executor.fast_runs >= 5


def test_include_and_skip_literals_pick_the_variant(model: Any) -> None:
    store, schema, executor = fresh(model)
    for flag in ("true", "false", "true", "false"):
        case = (
            f"{{ user(id: 1) {{ id firstName @include(if: {flag}) email @skip(if: {flag}) }} }}",
        )
        body = assert_same_as_graphql_core((store, schema, executor), (*case, None, None), "r")
        assert (b'"firstName"' in body) == (flag == "true")
    assert executor.plan_misses == 1
    assert len(executor.bind(case[0], None)[0].variants) == 2


def test_inline_literals_and_variables_give_the_same_data(model: Any) -> None:
    store, schema, executor = fresh(model)
    inline = run(executor, "{ users(limit: 2, offset: 1) { id firstName } }")
    given = run(
        executor,
        "query($l: Int, $o: Int) { users(limit: $l, offset: $o) { id firstName } }",
        {"l": 2, "o": 1},
    )
    assert inline == given and len(inline["data"]["users"]) == 2


def test_failing_resolvers_run_once_and_errors_point_into_the_document_sent(model: Any) -> None:
    store, schema, executor = fresh(model)
    first = "{ failing(id: 1) { id } }"
    moved = "# é moves nothing but bytes\n{\n    failing(\n id: 2) { id }\n}"
    for query in (first, moved):
        store.reset()
        body = assert_same_as_graphql_core((store, schema, executor), (query, None, None), "r")
        error = json.loads(body)["errors"][0]
        line, column = error["locations"][0]["line"], error["locations"][0]["column"]
        assert query.splitlines()[line - 1][column - 1 :].startswith("failing")
    assert executor.cache_stats()["shapes"].hits == 1  # the second document bound


def test_mutations_with_inline_literals(model: Any) -> None:
    store, schema, executor = fresh(model)
    for name in ("Ada", "Grace"):
        query = (
            f'mutation {{ createUser(input: {{firstName: "{name}", lastName: "L", '
            f'email: "{name}@x.org", tags: ["a", "b"]}}) {{ firstName }} }}'
        )
        assert_same_as_graphql_core((store, schema, executor), (query, None, None), "r")
    assert executor.cache_stats()["shapes"].hits >= 1


# ---------------------------------------------------------------- bad input (issue 15)

# (a document that plans the shape, then documents of that shape or close to it)
BAD_INPUT = {
    "tokenizes, does not parse": ["{ user(id: 1) { id } } extra", "{ user(id: 2) { id } } extra"],
    "tokenizes, two values": ["{ user(id: 1 2) { id } }", "{ user(id: 3 4) { id } }"],
    "unterminated string": ["{ user(id: 1) { id } }", '{ greeting(name: "abc) }'],
    "unterminated block string": ['{ greeting(name: "x") }', '{ greeting(name: """abc) }'],
    "invalid escape": ['{ greeting(name: "x") }', '{ greeting(name: "a\\qb") }'],
    "variable-width escape": ['{ greeting(name: "x") }', '{ greeting(name: "\\u{41}") }'],
    "lone surrogate": ['{ greeting(name: "x") }', '{ greeting(name: "\\ud800") }'],
    "escapes decoded": [
        '{ greeting(name: "x") }',
        '{ greeting(name: "\\u00e9\\ud83d\\ude00\\n") }',
    ],
    "control character": ['{ greeting(name: "x") }', '{ greeting(name: "a\x01b") }'],
    "Int beyond 32 bits": ["{ user(id: 1) { id } }", "{ user(id: 2147483648) { id } }"],
    "Int below 32 bits": ["{ user(id: 1) { id } }", "{ user(id: -2147483649) { id } }"],
    "huge list size": [
        "{ users(limit: 1) { id } }",
        "{ users(limit: 99999999999999999999) { id } }",
    ],
    "Float beyond a double": ["{ half(x: 1.5) }", "{ half(x: 1e400) }", "{ half(x: 3) }"],
    "enum where a string is expected": ['{ greeting(name: "x") }', "{ greeting(name: ACTIVE) }"],
    "string where an enum is expected": [
        "{ usersByStatus(status: ACTIVE) { id } }",
        '{ usersByStatus(status: "ACTIVE") { id } }',
        "{ usersByStatus(status: NOPE) { id } }",
        "{ usersByStatus(status: BANNED) { id } }",
    ],
    "boolean where a string is expected": ['{ greeting(name: "x") }', "{ greeting(name: true) }"],
    "number where a string is expected": ['{ greeting(name: "x") }', "{ greeting(name: 5) }"],
    "list of objects": [
        '{ sortedBy(by: [{field: "a"}, {field: "b", desc: true}]) }',
        '{ sortedBy(by: [{field: "c"}, {field: "d", desc: false}]) }',
        '{ sortedBy(by: [{field: "c"}, {field: 5, desc: false}]) }',
        '{ sortedBy(by: {field: "single"}) }',
        '{ sortedBy(by: [{field: "a"}, {nope: "b"}]) }',
    ],
    "objects inside a JSON literal": [
        '{ echo(value: {a: [1, {b: "x"}]}) }',
        "{ echo(value: {a: [2]}) }",
    ],
    "block strings": [
        '{ greeting(name: """  a\n    b""") }',
        '{ greeting(name: """\n  c\n d  """) }',
    ],
    "non-ASCII": [
        '{ greeting(name: "é") }',
        '{ greeting(name: "中文") }',
        '# ü\n{ greeting(name: "x") }',
    ],
    "same literal twice under one key": [
        "{ a: user(id: 1) { id } a: user(id: 1) { firstName } }",
        "{ a: user(id: 1) { id } a: user(id: 2) { firstName } }",
    ],
    "variable defaults": [
        "query($n: Int = 2) { users(limit: $n) { id } }",
        "query($n: Int = 3) { users(limit: $n) { id } }",
    ],
    "a variable named like a hoisted one": [
        "query($__fq0: Int!) { user(id: $__fq0) { id } users(limit: 1) { id } }"
    ],
    "null literals": ["{ search(filter: null) { id } }", "{ user(id: null) { id } }"],
    "required argument missing": ["{ user(id: 1) { id } }", "{ user { id } }"],
}


@pytest.mark.parametrize("documents", BAD_INPUT.values(), ids=list(BAD_INPUT))
def test_bad_input_answers_as_graphql_core(model: Any, documents: list[str]) -> None:
    store, schema, executor = fresh(model)
    for query in documents:
        assert_same_as_graphql_core((store, schema, executor), (query, None, None), REQUEST_ID)


def test_cost_refusal_is_the_same_with_literals(model: Any) -> None:
    """With the cost limit on: a list size from a literal is priced per request, and the
    refusal is worded as the plan of the document's own text words it."""
    store, schema, executor = fresh(model)
    for limit in (1, 100000, 2, 50000):
        query = f"{{ users(limit: {limit}) {{ id userPosts {{ id title }} }} }}"
        ours = asyncio.run(executor.execute(query, request_id="r"))
        by_text = fraiseql.Executor(schema).plan(query, None)
        if by_text.errors:
            assert ours == format_response(None, by_text.errors, with_data=False)
        else:
            assert ours == asyncio.run(reference(schema, (query, None, None), "r"))
    assert executor.cache_stats()["shapes"].hits == 3


def test_operation_names_and_several_operations(model: Any) -> None:
    store, schema, executor = fresh(model)
    two = "query A { user(id: 1) { id } } query B { user(id: 2) { firstName } }"
    for op in ("A", "B", None, "C"):
        assert_same_as_graphql_core((store, schema, executor), (two, None, op), REQUEST_ID)
    named = "query A { user(id: 3) { id } }"
    for op in ("A", None, "B"):
        assert_same_as_graphql_core((store, schema, executor), (named, None, op), REQUEST_ID)


def test_variables_sent_with_inline_literals(model: Any) -> None:
    store, schema, executor = fresh(model)
    query = "query($n: String!) { user(id: 1) { id } greeting(name: $n) }"
    for variables in ({"n": "a"}, {}, {"n": 5}, {"n": "b", "__fq0": "ignored"}):
        assert_same_as_graphql_core((store, schema, executor), (query, variables, None), "r")


def test_ten_thousand_shapes_stay_within_the_bounds(model: Any) -> None:
    """10,000 distinct shapes in a row (each planned: bound, not all run, to keep the test
    short): both caches stay within their entries and bytes, and a shape in use meanwhile
    stays planned (its documents keep binding to it)."""
    store, schema, executor = fresh(model, cache_size=50, cache_bytes=300_000)
    assert run(executor, '{ greeting(name: "known") }')["data"]["greeting"] == "hello known"
    for i in range(10_000):
        query = f'{{ k{i}: greeting(name: "x") }}'
        if i % 100 == 0:
            assert run(executor, query)["data"] == {f"k{i}": "hello x"}
        else:
            assert executor.bind(query, None)[1] is not None
        if i % 10 == 0:
            hits = executor.cache_stats()["shapes"].hits
            known = run(executor, f'{{ greeting(name: "v{i}") }}')
            assert known["data"]["greeting"] == f"hello v{i}"
            assert executor.cache_stats()["shapes"].hits == hits + 1
        for cache in executor.cache_stats().values():
            assert cache.bytes <= 300_000 and cache.entries <= 50
    assert executor.cache_stats()["shapes"].evictions >= 9_900


# ---------------------------------------------------------------- the caches


def test_lru_cache_bounds_bytes_and_counts() -> None:
    cache = LRUCache(3, max_bytes=100)
    cache.put("a", 1, 40)
    cache.put("b", 2, 40)
    assert cache.get("a") == 1  # now the most recent
    cache.put("c", 3, 40)  # 120 bytes: "b" goes
    assert cache.get("b") is None and cache.bytes == 80 and len(cache) == 2
    cache.put("d", 4, 500)  # larger than the bound alone: not kept, nor anything else
    assert len(cache) == 0 and cache.bytes == 0
    cache.put("e", 5, 10)
    cache.put("e", 6, 20)  # replaced: its size counts once
    assert cache.bytes == 20 and cache.get("e") == 6
    assert cache.stats() == (2, 1, 4, 1, 20)
    with pytest.raises(ValueError, match="cache bytes must be at least 1"):
        LRUCache(3, max_bytes=0)


def test_plan_size_estimate_bounds_what_plans_hold(model: Any) -> None:
    """The estimate is above what tracemalloc sees each new document's plan keep, on
    average over documents of one form (after a warm-up: graphql-core's own caches; the
    least of three batches, since other tests' tasks may allocate meanwhile)."""
    import gc
    import tracemalloc

    store, schema, executor = fresh(model)
    forms = [
        "{{ a{}: user(id: 1) {{ id }} }}",
        "{{ b{}: user(id: 1) {{ id firstName email userPosts {{ id title }} bestPost {{ id }} }} }}",
        "{{ c{}: users(limit: 3) {{ id firstName lastName email createdAt status role score tags "
        "profile externalId balance code userPosts {{ id title content comments {{ id body }} }} }} }}",
    ]
    for form in forms:
        run(executor, form.format("warm"))
    for form in forms:
        measured = []
        for batch in range(3):  # the least of three: what else the process allocated meanwhile
            gc.collect()
            tracemalloc.start()
            before = tracemalloc.get_traced_memory()[0]
            for i in range(50):
                run(executor, form.format(f"{batch}_{i}"))
            gc.collect()
            measured.append((tracemalloc.get_traced_memory()[0] - before) / 50)
            tracemalloc.stop()
        held = min(measured)
        assert 0 < held <= plan_bytes(form.format(0)), (form, measured)


# ---------------------------------------------------------------- over HTTP


def test_http_inline_literals_and_persisted_queries_use_shapes(model: Any) -> None:
    store, schema, _ = model
    app = fraiseql.create_app(schema=schema)
    with serve(app) as base, httpx.Client(timeout=30) as client:
        url = base + "/graphql"
        for i in (1, 2, 3):
            r = client.post(url, json={"query": f"{{ user(id: {i}) {{ id }} }}"})
            assert r.json() == {"data": {"user": {"id": i}}}
        assert app.executor.cache_stats()["shapes"].hits == 2
        import hashlib

        for i in (4, 5):
            query = f"{{ user(id: {i}) {{ firstName }} }}"
            digest = hashlib.sha256(query.encode()).hexdigest()
            ext = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
            assert client.post(url, json={"extensions": ext}).json()["errors"][0]["message"] == (
                "PersistedQueryNotFound"
            )
            r = client.post(url, json={"query": query, "extensions": ext})
            again = client.post(url, json={"extensions": ext})
            expected = asyncio.run(reference(schema, (query, None, None), "r"))
            assert r.content == again.content == expected
        assert app.executor.cache_stats()["shapes"].hits == 3
        r = client.get(url, params={"query": "mutation { deleteUser(id: 1) }"})
        assert r.status_code == 405
