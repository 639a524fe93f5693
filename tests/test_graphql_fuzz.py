"""Generated GraphQL documents: fraiseql.execute and graphql-core give the same bytes.

hypothesis builds documents from the test schema itself (fields, arguments as literals and
variables, aliases, inline and named fragments, @include/@skip, __typename, introspection,
mutations), then sometimes breaks them (unknown fields, wrong argument types, missing or
ill-typed variables, syntax errors). Both sides run on fresh copies of the same documents
and must answer byte for byte the same, errors included. The default run is derandomized
(the same examples every time, for CI); FRAISEQL_FUZZ_EXAMPLES=N explores N fresh ones.
"""

from __future__ import annotations

import json
import os
from typing import Any

import graphql
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.graphql_model import Store, declare
from support.graphql_reference import assert_same_as_graphql_core

import fraiseql
from fraiseql.plan import Limits

REQUEST_ID = "fuzz"
EXAMPLES = os.environ.get("FRAISEQL_FUZZ_EXAMPLES")
MAX_DEPTH = 3  # nesting of selections below a root field
MAX_FIELDS = 4  # selections drawn per level

STRINGS = ["", "a", 'quo"te', "back\\slash", "\u00e9\u4e2d", "line\nbreak", "ACTIVE"]
INTS = [0, 1, 2, 3, 5, 1, 2, 3, -1, 2**31 - 1, 2**31]  # 2**31 is not an Int: an error
# Root fields whose resolvers raise or return broken documents: drawn one time in four.
FAILING = {"failing", "failingRequired", "refused", "conflicting", "brokenUser", "failingMutation"}


@pytest.fixture(scope="module")
def model() -> Any:
    fraiseql.reset_registry()
    store = Store()
    declare(store)
    schema = fraiseql.build_schema()
    # The cost limit is fraiseql's own (graphql-core has none, and drawn sizes reach 2**31):
    # off here, where both sides execute what they are sent; tests/test_plan.py prices.
    yield store, schema, fraiseql.Executor(schema, limits=Limits(max_cost=None))
    fraiseql.reset_registry()


class Doc:
    """What a document being drawn has accumulated besides its text."""

    def __init__(self) -> None:
        self.var_defs: list[str] = []
        self.variables: dict[str, Any] = {}
        self.fragments: list[str] = []
        self.keys: set[str] = set()  # response keys so far: a repeated one gets a fresh alias


def value_of(draw: Any, type_: graphql.GraphQLInputType) -> Any:
    """A JSON value for an input type (valid, or null for a nullable one)."""
    if isinstance(type_, graphql.GraphQLNonNull):
        return value_of_named(draw, type_.of_type)
    if draw(st.integers(0, 5)) == 0:
        return None
    return value_of_named(draw, type_)


def value_of_named(draw: Any, type_: Any) -> Any:
    if isinstance(type_, graphql.GraphQLList):
        return [value_of(draw, type_.of_type) for _ in range(draw(st.integers(0, 2)))]
    if isinstance(type_, graphql.GraphQLEnumType):
        return draw(st.sampled_from(sorted(type_.values)))
    if isinstance(type_, graphql.GraphQLInputObjectType):
        out = {}
        for name, field in type_.fields.items():
            required = graphql.is_required_input_field(field)
            if required or draw(st.booleans()):
                out[name] = value_of(draw, field.type)
        return out
    name = type_.name
    if name == "Int":
        return draw(st.sampled_from(INTS))
    if name == "Boolean":
        return draw(st.booleans())
    if name == "Float":
        return draw(st.sampled_from([0.5, 1, -2.25]))
    return draw(st.sampled_from(STRINGS))


def literal(value: Any, type_: Any) -> str:
    """The GraphQL literal of a JSON value of `type_` (enums bare, input objects unquoted)."""
    named = graphql.get_nullable_type(type_)
    if value is None:
        return "null"
    if isinstance(named, graphql.GraphQLList):
        return "[" + ", ".join(literal(v, named.of_type) for v in value) + "]"
    if isinstance(named, graphql.GraphQLEnumType):
        return value
    if isinstance(named, graphql.GraphQLInputObjectType):
        fields = (f"{k}: {literal(v, named.fields[k].type)}" for k, v in value.items())
        return "{" + ", ".join(fields) + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)  # numbers, and strings (JSON escapes are GraphQL escapes)


def argument_text(draw: Any, doc: Doc, type_: Any) -> str:
    """A literal, or a variable declared with the argument's type and given a value."""
    value = value_of(draw, type_)
    if draw(st.booleans()):
        return literal(value, type_)
    name = f"v{len(doc.var_defs)}"
    doc.var_defs.append(f"${name}: {type_}")
    doc.variables[name] = value
    return f"${name}"


def directives(draw: Any, doc: Doc) -> str:
    kind = draw(st.sampled_from(["", "", "", "@include", "@skip"]))
    if not kind:
        return ""
    if draw(st.booleans()):
        cond = draw(st.sampled_from(["true", "false"]))
    else:
        cond = f"$v{len(doc.var_defs)}"
        doc.var_defs.append(f"{cond}: Boolean!")
        doc.variables[cond[1:]] = draw(st.booleans())
    return f" {kind}(if: {cond})"


def field_text(draw: Any, doc: Doc, name: str, field: graphql.GraphQLField, depth: int) -> str:
    # Mostly distinct response keys (a reused one with other arguments is a conflict, which
    # validation refuses: drawn now and then, through the fixed alias "a").
    alias = draw(st.sampled_from(["", "", "", "", "", "", "", "a: ", f"{name}: "]))
    key = alias[:-2] or name
    if key in doc.keys and alias != "a: ":
        alias = f"k{len(doc.keys)}: "
    doc.keys.add(alias[:-2] or name)
    args = []
    for arg_name, arg in field.args.items():
        if graphql.is_required_argument(arg) or draw(st.booleans()):
            args.append(f"{arg_name}: {argument_text(draw, doc, arg.type)}")
    text = alias + name + (f"({', '.join(args)})" if args else "") + directives(draw, doc)
    named = graphql.get_named_type(field.type)
    if isinstance(named, graphql.GraphQLObjectType):
        text += " " + selection_set(draw, doc, named, depth + 1)
    return text


def selection_set(draw: Any, doc: Doc, type_: graphql.GraphQLObjectType, depth: int) -> str:
    """`{ ... }` over a type: fields, __typename, fragments; leaves only at the depth bound."""
    names = sorted(type_.fields)
    if depth >= MAX_DEPTH:
        names = [
            n for n in names if graphql.is_leaf_type(graphql.get_named_type(type_.fields[n].type))
        ]
    parts = []
    for _ in range(draw(st.integers(1, MAX_FIELDS))):
        kind = draw(st.sampled_from(["field", "field", "field", "typename", "inline", "named"]))
        if kind == "typename":
            parts.append("__typename")
        elif kind in ("inline", "named") and depth < MAX_DEPTH:
            inner = selection_set(draw, doc, type_, depth + 1)
            if kind == "inline":
                on = draw(st.sampled_from(["", f" on {type_.name}"]))
                parts.append(f"...{on}{directives(draw, doc)} {inner}")
            else:
                frag = f"F{len(doc.fragments)}"
                doc.fragments.append(f"fragment {frag} on {type_.name} {inner}")
                parts.append(f"...{frag}{directives(draw, doc)}")
        else:
            name = draw(st.sampled_from(names))
            parts.append(field_text(draw, doc, name, type_.fields[name], depth))
    return "{ " + " ".join(parts) + " }"


INTROSPECTION = [
    "__schema { queryType { name } mutationType { name } }",
    '__type(name: "User") { name kind fields { name type { name kind ofType { name } } } }',
    '__type(name: "Status") { enumValues { name } }',
    '__type(name: "Nope") { name }',
]


@st.composite
def valid_documents(draw: Any, schema: graphql.GraphQLSchema) -> tuple[str, dict, str | None]:
    doc = Doc()
    mutation = draw(st.integers(0, 5)) == 0
    root = schema.mutation_type if mutation else schema.query_type
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        if not mutation and draw(st.integers(0, 7)) == 0:
            parts.append(draw(st.sampled_from(INTROSPECTION)))
            continue
        failing = draw(st.integers(0, 3)) == 0
        names = sorted(n for n in root.fields if (n in FAILING) == failing)
        name = draw(st.sampled_from(names))
        parts.append(field_text(draw, doc, name, root.fields[name], 0))
    if draw(st.integers(0, 4)) == 0:
        parts.append("__typename")
    op_name = draw(st.sampled_from([None, "Op"]))
    head = "mutation" if mutation else "query"
    if op_name:
        head += f" {op_name}"
    if doc.var_defs:
        head += f"({', '.join(doc.var_defs)})"
    if head == "query" and draw(st.booleans()):
        head = ""  # the shorthand form
    text = " ".join([head, "{ " + " ".join(parts) + " }", *doc.fragments]).strip()
    return text, doc.variables, op_name


def broken(draw: Any, case: tuple[str, dict, str | None]) -> tuple[str, Any, str | None]:
    """The same document made invalid in one of the ways clients get wrong."""
    text, variables, op_name = case
    how = draw(st.sampled_from(["field", "arg", "drop_var", "bad_var", "syntax", "op_name"]))
    if how == "field":
        at = draw(st.sampled_from([i for i, c in enumerate(text) if c == "{"]))
        text = text[: at + 1] + " nope " + text[at + 1 :]
    elif how == "arg" and "(id: " in text:
        text = (
            text.replace("(id: ", '(id: "x", zz: ', 1)
            if draw(st.booleans())
            else text.replace("(id: ", '(id: "one"', 1).replace('"one"', '"one" ', 1)
        )
    elif how == "drop_var" and variables:
        variables = dict(variables)
        variables.pop(draw(st.sampled_from(sorted(variables))))
    elif how == "bad_var" and variables:
        variables = dict(variables)
        key = draw(st.sampled_from(sorted(variables)))
        variables[key] = draw(st.sampled_from([{"x": 1}, "str", 1.5, [[]], None, True]))
    elif how == "op_name":
        op_name = draw(st.sampled_from(["Missing", None]))
    else:
        cut = draw(st.integers(0, len(text)))
        text = (
            text[:cut]
            + draw(st.sampled_from(["", "}", "{", "$", "(", '"', "..."]))
            + text[cut + 1 :]
        )
    return text, variables, op_name


SEEN: list[str] = []  # the valid documents drawn, for the coverage check that follows
FEATURES = (
    "fragment F",
    "... on",
    "... {",
    "@include(if: $",
    "@skip(if: ",
    "__typename",
    "mutation",
    "__schema",
    "__type",
    "a: ",
    "$v",
    "query Op",
    '{"',
)

FUZZ_SETTINGS = settings(
    max_examples=int(EXAMPLES or 400),
    derandomize=EXAMPLES is None,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@FUZZ_SETTINGS
@given(data=st.data())
def test_generated_documents_match_graphql_core(model: Any, data: Any) -> None:
    case = data.draw(valid_documents(model[1]))
    SEEN.append(case[0] + " " + json.dumps(case[1]))
    if data.draw(st.integers(0, 3)) == 0:
        case = broken(data.draw, case)
    assert_same_as_graphql_core(model, case, REQUEST_ID)


def test_generator_covered_the_language() -> None:
    """Runs after the fuzz test (same module): its documents reached every construct."""
    seen = " ".join(SEEN)
    for feature in FEATURES:
        assert feature in seen, feature
