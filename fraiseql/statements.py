"""SQL statements cached by the shape of a request: built once, then only bound.

A filtered read's SQL depends on the names and operators of its filter, its ordering, the
kinds of its values (a None is matched with IS NULL, a string and a number compare
differently on a bare path, true and false of `isnull` read differently), never on the
values themselves otherwise. `shape_of` gives that key; a `Statement` keeps the SQL and, for
each parameter, where its operand sits in the request's values and how SQLBuilder computed
it (`fraiseql.where.Binder`), so that `bind` gives another request of that shape its
parameters, checked as the first one was, without rendering any SQL.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from enum import Enum
from typing import Any, NamedTuple

from fraiseql.where import Binder

__all__ = ["MAX_STATEMENTS", "Statement", "order_key", "shape_of"]

MAX_STATEMENTS = 256  # per view: shapes are few per application; clients cannot grow it
_LEAF_TYPES = frozenset({str, int, float, type(None)})  # the common leaves, tested first
_LEAVES = "leaves"  # a list holding no list or object: its length and items bind, never render


def shape_of(value: Any) -> Hashable:
    """The part of a filter value its SQL depends on: objects by keys, lists of lists or
    objects item by item, other lists as one operand, leaves by type (bools by value)."""
    kind = type(value)
    if kind in _LEAF_TYPES:
        return kind
    if kind is bool:
        return value
    if kind is dict or isinstance(value, Mapping):
        return (Mapping, tuple([(k, _leaf_or_shape(v)) for k, v in value.items()]))
    if isinstance(value, (Sequence, set, frozenset)) and not isinstance(value, (str, bytes)):
        if any(_is_container(v) for v in value):
            return (kind, tuple(shape_of(v) for v in value))
        return (kind, _LEAVES)
    if isinstance(value, Enum):  # it filters as its value
        return (kind, shape_of(value.value))
    return kind


def _leaf_or_shape(value: Any) -> Hashable:
    kind = type(value)
    return kind if kind in _LEAF_TYPES else shape_of(value)


def _is_container(value: Any) -> bool:
    return isinstance(value, (Mapping, Sequence, set, frozenset)) and not isinstance(
        value, (str, bytes)
    )


def order_key(order_by: Any) -> Hashable | None:
    """Order items [(field, direction) or field] as a key (their names decide the SQL), or
    None when they are not of those forms (then not cached: SQLBuilder words the error)."""
    if not order_by:
        return ()
    if type(order_by) not in (list, tuple):
        return None
    out = []
    for item in order_by:
        if type(item) is str:
            out.append(item)
        elif type(item) in (list, tuple) and all(type(part) is str for part in item):
            out.append(tuple(item))
        else:
            return None
    return tuple(out)


class Statement(NamedTuple):
    """A statement's SQL and how each of its parameters is computed from a request."""

    sql: str
    binders: tuple[Binder, ...]

    def bind(self, values: Mapping[str, Any]) -> list[Any]:
        """The parameters for `values` (a request of this statement's shape); the checks
        SQLBuilder made on the values (list bounds, strings) raise as they did."""
        params = []
        for path, convert in self.binders:
            operand: Any = values
            for step in path:
                operand = operand[step]
            if type(operand) not in _LEAF_TYPES and isinstance(operand, Enum):
                operand = operand.value  # as SQLBuilder's operands: enums by their values
            params.append(operand if convert is None else convert(operand))
        return params
