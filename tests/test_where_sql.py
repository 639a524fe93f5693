"""fraiseql.where without a database: the SQL and bind parameters built for each filter, and
the refusals (bad identifiers, injection attempts, bad operands) raised before any SQL exists.

The view's columns are given as a literal catalog (`ViewInfo`), as the repository would read
them once from pg_catalog.
"""

from __future__ import annotations

import datetime
import json
import re
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from fraiseql.scalars import by_name
from fraiseql.where import (
    MAX_DEPTH,
    OPERATORS,
    FilterError,
    Shape,
    SQLBuilder,
    ViewInfo,
    quote_ident,
    quote_relation,
)

COLUMNS = {
    "id": "int4",
    "email": "text",
    "tags": "_text",  # an array column
    "data": "jsonb",
    "legacy": "json",
}


def view() -> ViewInfo:
    return ViewInfo('"public"."qm_user"', "qm_user", dict(COLUMNS), json_column="data")


def where_sql(where: Any, eq: dict[str, Any] | None = None) -> tuple[str, list[Any]]:
    builder = SQLBuilder(view())
    return builder.where(where, eq), builder.params


# ---------------------------------------------------------------- operators on columns


@pytest.mark.parametrize(
    "op, sql",
    [
        ("eq", 't."id" = $1'),
        ("neq", 't."id" IS DISTINCT FROM $1'),  # null-safe: rows whose id is NULL match
        ("gt", 't."id" > $1'),
        ("gte", 't."id" >= $1'),
        ("lt", 't."id" < $1'),
        ("lte", 't."id" <= $1'),
    ],
)
def test_comparisons_on_a_column_bind_the_value(op: str, sql: str) -> None:
    assert where_sql({"id": {op: 7}}) == (sql, [7])


def test_a_bare_value_means_eq() -> None:
    assert where_sql({"id": 7}) == where_sql({"id": {"eq": 7}})


@pytest.mark.parametrize(
    "where, sql, params",
    [
        ({"id": {"in": [1, 2]}}, 't."id" = ANY($1)', [[1, 2]]),
        ({"id": {"in": (1, 2)}}, 't."id" = ANY($1)', [[1, 2]]),  # any sequence: bound as a list
        ({"id": {"in": []}}, 't."id" = ANY($1)', [[]]),
        ({"id": {"nin": [3]}}, 'NOT coalesce(t."id" = ANY($1), false)', [[3]]),
        ({"email": {"like": "a%"}}, 't."email" LIKE $1', ["a%"]),
        ({"email": {"ilike": "A%"}}, 't."email" ILIKE $1', ["A%"]),
        ({"email": {"contains": "@x"}}, 't."email" LIKE $1', ["%@x%"]),
        ({"tags": {"contains": ["a", "b"]}}, 't."tags" @> $1', [["a", "b"]]),
        ({"data": {"contains": {"a": [1]}}}, 't."data" @> $1::jsonb', ['{"a": [1]}']),
        ({"email": {"isnull": True}}, 't."email" IS NULL', []),
        ({"email": {"isnull": False}}, 't."email" IS NOT NULL', []),
        ({"email": None}, 't."email" IS NULL', []),
        ({"email": {"neq": None}}, 't."email" IS NOT NULL', []),
    ],
)
def test_list_pattern_contains_and_null_operators_on_columns(
    where: dict, sql: str, params: list
) -> None:
    assert where_sql(where) == (sql, params)


# ---------------------------------------------------------------- JSONB paths


@pytest.mark.parametrize(
    "where, sql, params",
    [
        # strings compare as text (->>), other JSON values as jsonb (->)
        ({"data.a.b": {"eq": "x"}}, "t.\"data\"->'a'->>'b' = $1", ["x"]),
        ({"data.a.b": {"neq": "x"}}, "t.\"data\"->'a'->>'b' IS DISTINCT FROM $1", ["x"]),
        ({"data.a": {"eq": 5}}, "t.\"data\"->'a' = $1::jsonb", ["5"]),
        ({"data.a": {"eq": True}}, "t.\"data\"->'a' = $1::jsonb", ["true"]),
        (
            {"data.a": {"neq": [1, None]}},
            "t.\"data\"->'a' IS DISTINCT FROM $1::jsonb",
            ["[1, null]"],
        ),
        # dates and times compare chronologically, equality too (not as JSON text)
        (
            {"data.a": {"eq": datetime.date(2024, 1, 5)}},
            "(t.\"data\"->>'a')::date = $1::date",
            [datetime.date(2024, 1, 5)],
        ),
        # ordering comparisons cast the text to the operand's type
        ({"data.n": {"gt": 5}}, "(t.\"data\"->>'n')::numeric > $1::numeric", [5]),
        ({"data.n": {"gte": 1.5}}, "(t.\"data\"->>'n')::numeric >= $1::numeric", [1.5]),
        (
            {"data.n": {"lt": Decimal("2.5")}},
            "(t.\"data\"->>'n')::numeric < $1::numeric",
            [Decimal("2.5")],
        ),
        (
            {"data.at": {"lte": datetime.datetime(2024, 1, 5, 12, 0)}},
            "(t.\"data\"->>'at')::timestamptz <= $1::timestamptz",
            [datetime.datetime(2024, 1, 5, 12, 0)],
        ),
        (
            {"data.on": {"gt": datetime.date(2024, 1, 5)}},
            "(t.\"data\"->>'on')::date > $1::date",
            [datetime.date(2024, 1, 5)],
        ),
        ({"data.s": {"gt": "m"}}, "t.\"data\"->>'s' > $1", ["m"]),
        # lists are bound as one jsonb[] of JSON texts
        (
            {"data.a.b": {"in": ["x", 1]}},
            "t.\"data\"->'a'->'b' = ANY($1::jsonb[])",
            [['"x"', "1"]],
        ),
        (
            {"data.a": {"nin": [1]}},
            "NOT coalesce(t.\"data\"->'a' = ANY($1::jsonb[]), false)",
            [["1"]],
        ),
        ({"data.name": {"like": "A%"}}, "t.\"data\"->>'name' LIKE $1", ["A%"]),
        ({"data.name": {"ilike": "a%"}}, "t.\"data\"->>'name' ILIKE $1", ["a%"]),
        # containment under the document: as containment of the whole document (its GIN
        # index serves that); a scalar is also contained by an array holding it
        ({"data.tags": {"contains": ["b"]}}, 't."data" @> $1::jsonb', ['{"tags":["b"]}']),
        ({"data.a.b": {"contains": {"c": 1}}}, 't."data" @> $1::jsonb', ['{"a":{"b":{"c": 1}}}']),
        (
            {"data.tags": {"contains": 2}},
            '(t."data" @> $1::jsonb OR t."data" @> $2::jsonb)',
            ['{"tags":2}', '{"tags":[2]}'],
        ),
        # a json (not jsonb) column has no GIN index to serve it: the value itself
        ({"legacy.a": {"contains": [1]}}, "t.\"legacy\"::jsonb->'a' @> $1::jsonb", ["[1]"]),
        # a missing key and a JSON null are both null
        (
            {"data.a": {"isnull": True}},
            "coalesce(t.\"data\"->'a', 'null'::jsonb) = 'null'::jsonb",
            [],
        ),
        (
            {"data.a": {"isnull": False}},
            "NOT (coalesce(t.\"data\"->'a', 'null'::jsonb) = 'null'::jsonb)",
            [],
        ),
        ({"data.a": None}, "coalesce(t.\"data\"->'a', 'null'::jsonb) = 'null'::jsonb", []),
        # a json (not jsonb) column is cast first
        ({"legacy.a": {"eq": "x"}}, "t.\"legacy\"::jsonb->>'a' = $1", ["x"]),
    ],
)
def test_operators_on_jsonb_paths(where: dict, sql: str, params: list) -> None:
    assert where_sql(where) == (sql, params)


# ---------------------------------------------------------------- and / or / not


@pytest.mark.parametrize(
    "where, sql, params",
    [
        ({"id": 1, "email": "a"}, '(t."id" = $1 AND t."email" = $2)', [1, "a"]),
        ({"id": {"gt": 1, "lt": 9}}, '(t."id" > $1 AND t."id" < $2)', [1, 9]),
        ({"or": [{"id": 1}, {"email": "a"}]}, '(t."id" = $1 OR t."email" = $2)', [1, "a"]),
        ({"and": [{"id": 1}, {"email": "a"}]}, '(t."id" = $1 AND t."email" = $2)', [1, "a"]),
        ({"not": {"id": 1}}, 'NOT coalesce(t."id" = $1, false)', [1]),
        (
            {"or": [{"id": 1}, {"not": {"and": [{"id": 2}, {"data.a": "x"}]}}]},
            '(t."id" = $1 OR NOT coalesce((t."id" = $2 AND t."data"->>\'a\' = $3), false))',
            [1, 2, "x"],
        ),
        (
            {"or": [{"id": 1}], "not": {"email": None}},
            '((t."id" = $1) AND NOT coalesce(t."email" IS NULL, false))',
            [1],
        ),
    ],
)
def test_and_or_not_nest_with_parameters_numbered_in_order(
    where: dict, sql: str, params: list
) -> None:
    assert where_sql(where) == (sql, params)


def test_keyword_equalities_follow_the_filter() -> None:
    assert where_sql(None) == ("", []) and where_sql({}) == ("", [])  # no filter at all
    assert where_sql(None, {"id": 1}) == ('t."id" = $1', [1])
    assert where_sql({"email": "a"}, {"id": 1, "data.a": 2}) == (
        't."email" = $1 AND t."id" = $2 AND t."data"->\'a\' = $3::jsonb',
        ["a", 1, "2"],
    )


def test_order_by_limit_and_offset_continue_the_numbering() -> None:
    builder = SQLBuilder(view())
    assert builder.where({"id": {"gt": 1}}) == 't."id" > $1'
    assert builder.order_by([("id", "desc"), "email", ("data.a.b", "ASC")]) == (
        't."id" DESC, t."email" ASC, t."data"->\'a\'->\'b\' ASC'
    )
    assert builder.limit(10, 5) == " LIMIT $2 OFFSET $3"
    assert builder.params == [1, 10, 5]
    assert builder.order_by(None) == "" and builder.order_by([]) == ""
    assert builder.limit(None, None) == "" and builder.limit(None, 0) == " OFFSET $4"


def test_hostile_values_only_ever_become_parameters() -> None:
    for hostile in ["1 OR 1=1", "'; DROP TABLE qm_user; --", "x' OR 'x'='x", "$9", "\\'"]:
        for where, params in (
            ({"email": hostile}, [hostile]),
            ({"data.a": {"eq": hostile}}, [hostile]),
            ({"email": {"like": hostile}}, [hostile]),
            ({"data.a": {"in": [hostile]}}, [[json.dumps(hostile)]]),
        ):
            sql, bound = where_sql(where)
            assert hostile not in sql and bound == params


# ---------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    "name, message",
    [
        ("id; DROP TABLE qm_user", "invalid field name 'id; DROP TABLE qm_user'"),
        ('id" OR 1=1 --', "invalid field name 'id\" OR 1=1 --'"),
        ("1id", "invalid field name '1id'"),
        ("", "invalid field name ''"),
        ("naïve", "invalid field name 'naïve'"),
        ("x" * 64, "at most 63 characters"),
        ("data.first_name' OR '1'='1", "invalid JSON key in field"),
        ("data.a-b", "invalid JSON key in field 'data.a-b'"),
        ("data..a", "invalid JSON key in field 'data..a'"),
        ("data.a.", "invalid JSON key in field 'data.a.'"),
        (
            "nosuch",
            "field 'nosuch' does not exist in view 'qm_user': neither a column (columns: data, email,",
        ),
        ("id.x", "column 'id' of view 'qm_user' is int4, not json/jsonb, so it has no path"),
        ("email.x", "is text, not json/jsonb"),
    ],
)
def test_bad_field_names_are_refused_naming_the_input(name: str, message: str) -> None:
    for call in (
        lambda b: b.where({name: 1}),
        lambda b: b.where(None, {name: 1}),
        lambda b: b.order_by([(name, "asc")]),
    ):
        builder = SQLBuilder(view())
        with pytest.raises(FilterError, match=re.escape(message)):
            call(builder)
        assert builder.params == []


def test_non_string_field_names_are_refused() -> None:
    with pytest.raises(FilterError, match="field names must be strings, got 1"):
        where_sql({1: 2})


@pytest.mark.parametrize(
    "where, message",
    [
        ({"id": {"eq; DROP TABLE qm_user": 1}}, "unknown operator 'eq; DROP TABLE qm_user'"),
        ({"id": {"=": 1}}, "unknown operator '=' on field 'id'; expected one of eq, neq,"),
        ({"id": {"in": "1,2"}}, "operator 'in' takes a list of values, got '1,2'"),
        ({"id": {"nin": {"a": 1}}}, "operator 'nin' takes a list of values"),
        ({"id": {"in": 5}}, "operator 'in' takes a list of values, got 5"),
        ({"id": {"isnull": "yes"}}, "operator 'isnull' takes true or false, got 'yes'"),
        ({"email": {"like": 5}}, "operator 'like' takes a string pattern, got 5"),
        ({"email": {"contains": 5}}, "field 'email' operator 'contains' takes a string, got 5"),
        ({"tags": {"contains": "a"}}, "on array column takes a list of values, got 'a'"),
        ({"id": {"gt": None}}, "operator 'gt' needs a value, got None"),
        ({"data.a": {"gt": True}}, "Boolean values can only be compared with eq/neq"),
        ({"data.a": {"lt": [1]}}, "JSON values can only be compared with eq/neq"),
        ({"data.a": {"eq": object()}}, "is not JSON-serializable"),
        ({"data.a": {"in": [{1, 2}]}}, "is not JSON-serializable"),
        ([{"id": 1}], "a filter must be a dict, got [{'id': 1}]"),
        ({"or": {"id": 1}}, "'or' takes a list of filters, got {'id': 1}"),
        ({"or": "id"}, "'or' takes a list of filters, got 'id'"),
        ({"not": 1}, "a filter must be a dict, got 1"),
        ({"email": {"in": list(range(101))}}, "takes at most 100 values, got 101"),
        ({"email": {"matches": 5}}, "operator 'matches' takes a string pattern, got 5"),
        ({"id": {"haskey": "a"}}, "operator 'haskey' applies to lists and JSON values only"),
        ({"data.a": {"startswith": 1}}, "operator 'startswith' takes a string, got 1"),
    ],
)
def test_bad_operators_operands_and_structures_are_refused(where: Any, message: str) -> None:
    with pytest.raises(FilterError, match=re.escape(message)):
        where_sql(where)


def test_every_operator_the_module_lists_is_accepted() -> None:
    operands = {"in": [1], "nin": [1], "isnull": True, "overlaps": [1], "haskey": "k"}
    text = {"contains", "icontains", "startswith", "istartswith", "endswith", "iendswith"}
    text |= {"like", "ilike", "matches", "imatches"}
    for op in OPERATORS:
        sql, _ = where_sql({"data.a": {op: "a" if op in text else operands.get(op, 1)}})
        assert sql.startswith(("t.", "(t.", "NOT", "coalesce", "EXISTS"))


def test_nesting_is_bounded() -> None:
    nested: dict = {"id": 1}
    for _ in range(MAX_DEPTH):
        nested = {"not": nested}
    assert where_sql(nested)[0].count("NOT coalesce(") == MAX_DEPTH
    with pytest.raises(FilterError, match=f"nested deeper than {MAX_DEPTH} levels"):
        where_sql({"not": nested})


@pytest.mark.parametrize(
    "order_by, message",
    [
        ("id", "order_by takes a list of (field, 'asc'|'desc'), got 'id'"),
        ({"id": "asc"}, "order_by takes a list of"),
        ([("id", "up")], "direction for 'id' must be 'asc' or 'desc', got 'up'"),
        ([("id", "asc; DROP TABLE qm_user")], "must be 'asc' or 'desc'"),
        ([("id", 1)], "must be 'asc' or 'desc', got 1"),
        ([("id", "asc", "x")], "order_by item must be a field or (field, 'asc'|'desc')"),
        ([("id) ; DROP TABLE qm_user --", "asc")], "invalid field name"),
    ],
)
def test_bad_orderings_are_refused(order_by: Any, message: str) -> None:
    with pytest.raises(FilterError, match=re.escape(message)):
        SQLBuilder(view()).order_by(order_by)


@pytest.mark.parametrize(
    "limit, offset, message",
    [
        (-1, None, "limit must be a non-negative int, got -1"),
        ("1; DROP TABLE qm_user", None, "limit must be a non-negative int, got '1; DROP"),
        (True, None, "limit must be a non-negative int, got True"),
        (1.5, None, "limit must be a non-negative int, got 1.5"),
        (None, -2, "offset must be a non-negative int, got -2"),
    ],
)
def test_bad_limits_are_refused(limit: Any, offset: Any, message: str) -> None:
    builder = SQLBuilder(view())
    with pytest.raises(FilterError, match=re.escape(message)):
        builder.limit(limit, offset)


def test_identifiers_and_relations_are_checked_then_quoted() -> None:
    assert quote_ident("qm_user") == '"qm_user"' and quote_ident("_x9") == '"_x9"'
    assert quote_ident("x" * 63) == '"' + "x" * 63 + '"'
    assert quote_relation("qm_user") == '"qm_user"'
    assert quote_relation("app.qm_user") == '"app"."qm_user"'
    for bad, message in [
        ("a.b.c", "invalid view name 'a.b.c': at most schema.view"),
        ("qm_user; DROP TABLE qm_user", "invalid view name 'qm_user; DROP TABLE qm_user'"),
        ('qm_user" --', "invalid view name 'qm_user\" --'"),
        ("app.", "invalid view name ''"),
        (5, "invalid view name 5"),
    ]:
        with pytest.raises(FilterError, match=re.escape(message)):
            quote_relation(bad)
    with pytest.raises(FilterError, match="invalid identifier 'x-y'"):
        quote_ident("x-y")


# ---------------------------------------------------------------- declared document keys


def declared_view() -> ViewInfo:
    """qm_user whose document keys a GraphQL type or read model declared."""
    info = view()
    info.fields = {
        "first_name": Shape(by_name("String")),
        "age": Shape(by_name("Int")),
        "joined": Shape(by_name("DateTime")),
        "active": Shape(by_name("Boolean")),
        "labels": Shape(by_name("String"), many=True),
        "author": Shape(fields={"country": Shape(by_name("String"))}),
        "posts": Shape(
            fields={"title": Shape(by_name("String")), "stars": Shape(by_name("Int"))}, many=True
        ),
    }
    return info


@pytest.mark.parametrize(
    "where, sql, params",
    [
        ({"first_name": {"eq": "x"}}, "t.\"data\"->>'first_name' = $1", ["x"]),
        ({"first_name": "x"}, "t.\"data\"->>'first_name' = $1", ["x"]),
        # numbers: equality of JSON values, order numerically
        ({"age": {"eq": 5}}, "t.\"data\"->'age' = $1::jsonb", ["5"]),
        ({"age": {"gte": 5}}, "(t.\"data\"->>'age')::numeric >= $1::numeric", [5]),
        # a declared DateTime compares chronologically, even given as text
        (
            {"joined": {"lt": "2025-01-01T00:00:00Z"}},
            "(t.\"data\"->>'joined')::timestamptz < $1::timestamptz",
            ["2025-01-01T00:00:00Z"],
        ),
        (
            {"joined": {"in": ["2025-01-01T00:00:00Z"]}},
            "(t.\"data\"->>'joined')::timestamptz = ANY($1::timestamptz[])",
            [["2025-01-01T00:00:00Z"]],
        ),
        (
            {"first_name": {"nin": ["a", "b"]}},
            "NOT coalesce(t.\"data\"->>'first_name' = ANY($1::text[]), false)",
            [["a", "b"]],
        ),
        ({"active": {"eq": True}}, "t.\"data\"->'active' = $1::jsonb", ["true"]),
        # an embedded key filters by path under it
        ({"posts.title": {"eq": "x"}}, "t.\"data\"->'posts'->>'title' = $1", ["x"]),
        # a column still wins over a document key
        ({"email": {"eq": "x"}}, 't."email" = $1', ["x"]),
    ],
)
def test_declared_document_keys_compare_as_their_scalar(
    where: dict, sql: str, params: list
) -> None:
    builder = SQLBuilder(declared_view())
    assert (builder.where(where), builder.params) == (sql, params)


def test_declared_keys_order_as_their_scalar() -> None:
    builder = SQLBuilder(declared_view())
    assert builder.order_by([("joined", "desc"), "age", "first_name"]) == (
        "(t.\"data\"->>'joined')::timestamptz DESC, (t.\"data\"->>'age')::numeric ASC, "
        "t.\"data\"->>'first_name' ASC"
    )
    with pytest.raises(FilterError, match="field 'active' is Boolean, which has no order"):
        builder.order_by(["active"])


@pytest.mark.parametrize(
    "where, message",
    [
        ({"nick": {"eq": "x"}}, "fields: active, age, author, first_name, joined, labels, posts"),
        ({"first_name": {"eq": 5}}, "expected a string, got 5"),
        ({"active": {"gt": True}}, "Boolean values can only be compared with eq/neq"),
    ],
)
def test_declared_keys_refuse_what_they_cannot_compare(where: dict, message: str) -> None:
    builder = SQLBuilder(declared_view())
    with pytest.raises(FilterError, match=re.escape(message)):
        builder.where(where)


@pytest.mark.parametrize(
    "where, sql, params",
    [
        # literal text operators: the value's own %, _ and \ are not wildcards
        (
            {"first_name": {"contains": "a%_\\"}},
            "t.\"data\"->>'first_name' LIKE $1",
            ["%a\\%\\_\\\\%"],
        ),
        ({"first_name": {"icontains": "x"}}, "t.\"data\"->>'first_name' ILIKE $1", ["%x%"]),
        ({"first_name": {"startswith": "A_"}}, "t.\"data\"->>'first_name' LIKE $1", ["A\\_%"]),
        ({"first_name": {"istartswith": "a"}}, "t.\"data\"->>'first_name' ILIKE $1", ["a%"]),
        ({"first_name": {"endswith": "%"}}, "t.\"data\"->>'first_name' LIKE $1", ["%\\%"]),
        ({"first_name": {"iendswith": "z"}}, "t.\"data\"->>'first_name' ILIKE $1", ["%z"]),
        # patterns are the caller's
        ({"first_name": {"like": "A%"}}, "t.\"data\"->>'first_name' LIKE $1", ["A%"]),
        ({"first_name": {"matches": "^A.*"}}, "t.\"data\"->>'first_name' ~ $1", ["^A.*"]),
        ({"first_name": {"imatches": "^a"}}, "t.\"data\"->>'first_name' ~* $1", ["^a"]),
        # an embedded object filters through its keys, a list of objects by some element
        ({"author": {"country": {"eq": "PL"}}}, "t.\"data\"->'author'->>'country' = $1", ["PL"]),
        (
            {"posts": {"title": {"startswith": "Hi"}, "stars": {"gte": 4}}},
            "EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof(t.\"data\"->'posts')"
            " = 'array' THEN t.\"data\"->'posts' END) AS e1(v) WHERE (e1.v->>'title' LIKE $1 AND "
            "(e1.v->>'stars')::numeric >= $2::numeric))",
            ["Hi%", 4],
        ),
        # a list of values: containment and overlap as JSON values
        ({"labels": {"contains": ["a"]}}, 't."data" @> $1::jsonb', ['{"labels":["a"]}']),
        (
            {"labels": {"overlaps": ["a"]}},
            "EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof(t.\"data\"->'labels')"
            " = 'array' THEN t.\"data\"->'labels' END) AS e(v) WHERE e.v = ANY($1::jsonb[]))",
            [['"a"']],
        ),
        # empty filters: all of nothing holds, any of nothing does not
        ({"and": []}, "TRUE", []),
        ({"or": []}, "FALSE", []),
        ({"first_name": {}}, "TRUE", []),
        ({"not": {}}, "NOT coalesce(TRUE, false)", []),
        ({"email": {"in": list(range(100))}}, 't."email" = ANY($1)', [list(range(100))]),
    ],
)
def test_text_list_and_embedded_operators(where: dict, sql: str, params: list) -> None:
    builder = SQLBuilder(declared_view())
    assert (builder.where(where), builder.params) == (sql, params)


def test_sort_keys_name_directions_nulls_and_end_with_the_key() -> None:
    builder = SQLBuilder(declared_view())
    keys = builder.sort_keys([("joined", "desc"), ("first_name", "asc_nulls_first")], key="id")
    assert [(k.name, k.direction, k.nulls_first, k.sql_type) for k in keys] == [
        ("joined", "DESC", True, "timestamptz"),
        ("first_name", "ASC NULLS FIRST", True, "text"),
        ("id", "ASC", False, "int4"),
    ]
    assert builder.order_by([("id", "desc")], key="id") == 't."id" DESC'  # no second id
    assert [k.direction for k in (k.reversed() for k in keys)] == [
        "ASC NULLS LAST",
        "DESC NULLS LAST",
        "DESC NULLS FIRST",
    ]


def test_keyset_positions_compare_key_by_key_with_nulls_where_the_order_puts_them() -> None:
    builder = SQLBuilder(declared_view())
    keys = builder.sort_keys([("age", "desc")], key="id")
    # led by the bound the first key's value implies, which an index on it starts a scan at
    assert builder.after(keys, [30, 7]) == (
        "(t.\"data\"->>'age')::numeric <= $4::numeric AND "
        "((t.\"data\"->>'age')::numeric < $1::numeric OR "
        '(t."data"->>\'age\')::numeric = $2::numeric AND (t."id" > $3::int4 OR t."id" IS NULL))'
    )
    assert builder.params == [30, 30, 7, 30]
    # a NOT NULL column has no null branch, so ASC too is led by its bound
    strict = SQLBuilder(replace(declared_view(), not_null=frozenset({"id", "email"})))
    by_email = strict.sort_keys([("email", "asc")], key="id")
    assert strict.after(by_email, ["a@b", 7]) == (
        't."email" >= $4::text AND (t."email" > $1::text OR t."email" = $2::text AND t."id" > $3::int4)'
    )
    assert strict.after(by_email, ["a@b", 7], at=True).endswith(
        ' OR t."email" = $8::text AND t."id" = $9::int4)'
    )
    # DESC puts nulls first: after a null age come the ages, and the nulls with a greater id
    builder = SQLBuilder(declared_view())
    assert builder.after(keys, [None, 7]) == (
        "((t.\"data\"->>'age')::numeric IS NOT NULL OR "
        '(t."data"->>\'age\')::numeric IS NULL AND (t."id" > $1::int4 OR t."id" IS NULL))'
    )
    # ASC puts nulls last: nothing but other nulls comes after a null
    builder = SQLBuilder(declared_view())
    keys = builder.sort_keys([("age", "asc")], key="id")
    assert builder.after(keys, [None, 7]) == (
        '((t."data"->>\'age\')::numeric IS NULL AND (t."id" > $1::int4 OR t."id" IS NULL))'
    )
