"""fraiseql.statements without a database: a statement rendered for one request binds another
request of the same shape exactly as rendering that request would, checks included, and
requests whose SQL differs never share a shape.

The view is test_where_sql's qm_user with declared document keys; each statement is built as
Repository.find builds one (SQLBuilder's WHERE, ORDER BY and LIMIT).
"""

from __future__ import annotations

import enum
from typing import Any

import pytest
from test_where_sql import declared_view

from fraiseql.statements import Statement, order_key, shape_of
from fraiseql.where import ArgumentError, FilterError, SQLBuilder


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


def build(where: Any, eq: Any = None, limit: Any = None) -> tuple[str, list[Any], Statement]:
    b = SQLBuilder(declared_view())
    sql = b.where(where, eq) + b.limit(limit, None)
    return sql, b.params, Statement(sql, tuple(b.binders))


def values(where: Any, eq: Any = None, limit: Any = None) -> dict[str, Any]:
    return {"where": where, "eq": eq or {}, "limit": limit, "offset": None}


SAME_SHAPE = [  # (a request, another of the same shape)
    ({"first_name": {"eq": "a"}}, {"first_name": {"eq": "b"}}),
    ({"first_name": "a"}, {"first_name": "b"}),
    ({"age": {"gte": 5, "lt": 9}}, {"age": {"gte": 1, "lt": 2}}),
    ({"age": {"eq": 5}}, {"age": {"eq": 6}}),
    ({"age": {"in": [1, 2]}}, {"age": {"in": [3, 4, 5]}}),
    ({"first_name": {"nin": ["a"]}}, {"first_name": {"nin": ["b", "c"]}}),
    ({"first_name": {"contains": "a%"}}, {"first_name": {"contains": "_b\\"}}),
    ({"first_name": {"iendswith": "x"}}, {"first_name": {"iendswith": "y"}}),
    ({"first_name": {"matches": "^a"}}, {"first_name": {"matches": "b$"}}),
    (
        {"or": [{"age": {"eq": 1}}, {"first_name": {"startswith": "x"}}]},
        {"or": [{"age": {"eq": 7}}, {"first_name": {"startswith": "y"}}]},
    ),
    (
        {"not": {"joined": {"lt": "2025-01-01T00:00:00Z"}}},
        {"not": {"joined": {"lt": "2020-01-01T00:00:00Z"}}},
    ),
    ({"author": {"country": {"eq": "PL"}}}, {"author": {"country": {"eq": "DE"}}}),
    ({"posts": {"stars": {"gte": 3}}}, {"posts": {"stars": {"gte": 1}}}),
    ({"labels": {"contains": ["a"]}}, {"labels": {"contains": ["b", "c"]}}),
    ({"labels": {"overlaps": ["a"]}}, {"labels": {"overlaps": ["d"]}}),
    ({"data.x.y": {"eq": 1}}, {"data.x.y": {"eq": 2}}),
    ({"data.x": {"contains": {"a": 1}}}, {"data.x": {"contains": {"a": 2}}}),
    ({"data": {"haskey": "a"}}, {"data": {"haskey": "b"}}),
    ({"tags": {"overlaps": ["a"]}}, {"tags": {"overlaps": ["b", "c"]}}),
    ({"id": {"in": [1]}}, {"id": {"in": [2, 3]}}),
    ({"first_name": {"eq": Colour.RED}}, {"first_name": {"eq": Colour.BLUE}}),
    ({"active": {"eq": True}}, {"active": {"eq": True}}),
]


@pytest.mark.parametrize("first, other", SAME_SHAPE)
def test_a_cached_statement_binds_another_request_as_rendering_it_would(first, other) -> None:
    assert shape_of(first) == shape_of(other)
    sql, _, statement = build(first, {"email": "a@b"}, 20)
    other_sql, other_params, _ = build(other, {"email": "c@d"}, 5)
    assert statement.sql == sql == other_sql
    assert statement.bind(values(other, {"email": "c@d"}, 5)) == other_params


DIFFERENT_SQL = [  # requests whose SQL differs: never one shape
    ({"age": {"isnull": True}}, {"age": {"isnull": False}}),
    ({"age": {"eq": None}}, {"age": {"eq": 1}}),
    ({"data.x": {"eq": 1}}, {"data.x": {"eq": "1"}}),  # a bare path compares by the value's kind
    ({"data.x": {"contains": "a"}}, {"data.x": {"contains": ["a"]}}),
    ({"and": [{"age": 1}]}, {"and": [{"age": 1}, {"age": 2}]}),
    ({"age": {"gte": 1, "lt": 2}}, {"age": {"lt": 2, "gte": 1}}),
    ({"first_name": {"eq": "a"}}, {"first_name": {"neq": "a"}}),
]


@pytest.mark.parametrize("first, other", DIFFERENT_SQL)
def test_requests_whose_sql_differs_have_different_shapes(first, other) -> None:
    assert build(first)[0] != build(other)[0]
    assert shape_of(first) != shape_of(other)


def test_a_cached_statement_checks_each_request_as_rendering_does() -> None:
    _, _, statement = build({"age": {"in": [1]}, "first_name": {"in": ["a"]}}, limit=1)
    too_many = {"age": {"in": list(range(101))}, "first_name": {"in": ["a"]}}
    with pytest.raises(ArgumentError, match="at most 100 values"):
        statement.bind(values(too_many, limit=1))
    with pytest.raises(ArgumentError, match="at most 100 values"):
        build(too_many, limit=1)
    not_text = {"age": {"in": [1]}, "first_name": {"in": [1]}}
    with pytest.raises(FilterError, match="expected a string"):
        statement.bind(values(not_text, limit=1))
    fine = {"age": {"in": [2]}, "first_name": {"in": ["b"]}}
    for bad in (-1, True):
        with pytest.raises(FilterError, match="limit must be a non-negative int"):
            statement.bind(values(fine, limit=bad))


def test_order_keys_name_the_fields_and_refuse_other_forms() -> None:
    assert order_key(None) == order_key([]) == ()
    assert order_key([("age", "desc"), "id"]) == (("age", "desc"), "id")
    assert order_key([["age", "desc"]]) == order_key([("age", "desc")])
    assert order_key([("age", "desc")]) != order_key([("age", "asc")])
    # forms SQLBuilder refuses are never keys (a dict item, a bare string, a non-string)
    assert order_key([{"age": "desc"}]) is None
    assert order_key("age") is None
    assert order_key([("age", 1)]) is None
