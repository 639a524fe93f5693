"""Filters and orderings -> parameterized SQL for one view.

Every identifier is checked against a strict pattern and quoted; a field name is a column
of the view, a key of its document declared by the view's GraphQL type or read model
("email" for data->'email'), or a JSONB path from a json/jsonb column ("data.author.name");
every value is a bind parameter. Nothing the caller passes is pasted into SQL unchecked.
A declared field compares as its scalar says (scalars.py: numbers numerically, dates
chronologically); a bare path by the Python type of the value.

    where = {"or": [{"id": {"in": [1, 2]}}, {"data.first_name": {"ilike": "a%"}}],
             "not": {"email": {"isnull": True}}}
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fraiseql.scalars import Scalar, for_value, leaf_text

__all__ = ["FilterError", "ViewInfo", "SQLBuilder", "quote_ident", "quote_relation", "OPERATORS"]

IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
OPERATORS = (
    "eq",
    "neq",
    "gt",
    "gte",
    "lt",
    "lte",
    "in",
    "nin",
    "like",
    "ilike",
    "contains",
    "isnull",
)
_COMPARE = {"eq": "=", "neq": "IS DISTINCT FROM", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
MAX_DEPTH = 32


class FilterError(ValueError):
    """A filter, ordering, view or field name that cannot be turned into safe SQL."""


def quote_ident(name: Any, what: str = "identifier") -> str:
    if not isinstance(name, str) or not IDENT.match(name):
        raise FilterError(
            f"invalid {what} {name!r}: expected letters, digits and underscores, "
            "not starting with a digit, at most 63 characters"
        )
    return f'"{name}"'


def quote_relation(name: Any) -> str:
    """'view' or 'schema.view', validated and quoted."""
    if not isinstance(name, str):
        raise FilterError(f"invalid view name {name!r}")
    parts = name.split(".")
    if len(parts) > 2:
        raise FilterError(f"invalid view name {name!r}: at most schema.view")
    return ".".join(quote_ident(p, "view name") for p in parts)


@dataclass
class ViewInfo:
    """A view's columns as read once from the catalog: name -> type name (pg_type.typname)."""

    relation: str  # quoted, e.g. "public"."qm_user"
    name: str
    columns: dict[str, str]
    json_column: str | None = None  # the JSONB document column, or None: row_to_json
    # Keys of the document declared by the view's GraphQL type or read model -> their scalar
    # (None: an embedded object or list, or a computed value of unknown type).
    fields: dict[str, Scalar | None] = field(default_factory=dict)
    declared_by: set[str] = field(default_factory=set)  # GraphQL types whose fields are in
    # Equality lookups (no where, no order_by): (keys, has limit, has offset) -> SQL, built once.
    lookup_sql: dict[tuple[tuple[str, ...], bool, bool], str] = field(
        default_factory=dict, repr=False
    )
    _json_types: frozenset = field(default=frozenset({"json", "jsonb"}), repr=False)

    def is_json(self, column: str) -> bool:
        return self.columns.get(column) in self._json_types


def _json_text(value: Any, where: str) -> str:
    try:
        return json.dumps(value, default=_json_default)
    except (TypeError, ValueError) as exc:
        raise FilterError(f"{where}: value {value!r} is not JSON-serializable ({exc})") from None


def _json_default(value: Any) -> Any:
    text = leaf_text(value)
    if text is None:
        raise TypeError(f"{type(value).__name__} is not JSON-serializable")
    return text


def check_count(word: str, value: Any) -> int:
    """A LIMIT or OFFSET value, checked: a non-negative int."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise FilterError(f"{word} must be a non-negative int, got {value!r}")
    return value


class _Field:
    """A column (t."col"), a declared document key or a path into a JSON column
    (t."data"->'a'->'b'), with the scalar it compares as when that is declared."""

    def __init__(self, view: ViewInfo, name: Any) -> None:
        if not isinstance(name, str):
            raise FilterError(f"field names must be strings, got {name!r}")
        parts = name.split(".")
        column = parts[0]
        quote_ident(column, "field name")
        self.scalar: Scalar | None = None
        if column not in view.columns:
            if column not in view.fields or view.json_column is None:
                declared = sorted(view.fields) if view.json_column else []
                raise FilterError(
                    f"field {column!r} does not exist in view {view.name!r}: neither a column "
                    f"(columns: {', '.join(sorted(view.columns))}) nor a declared field of its "
                    f"document (fields: {', '.join(declared) or 'none declared'})"
                )
            if len(parts) == 1:
                self.scalar = view.fields[column]
            parts = [view.json_column, *parts]
            column = view.json_column
        self.name = name
        self.column_type = view.columns[column]
        self.path = parts[1:]
        col = f"t.{quote_ident(column)}"
        if not self.path:
            self.sql = col
            return
        if not view.is_json(column):
            raise FilterError(
                f"field {name!r}: column {column!r} of view {view.name!r} is "
                f"{self.column_type}, not json/jsonb, so it has no path"
            )
        for key in self.path:
            quote_ident(key, f"JSON key in field {name!r}")  # validated: safe inside '...'
        base = f"{col}::jsonb" if self.column_type == "json" else col
        head = "".join(f"->'{k}'" for k in self.path[:-1])
        self.json = f"{base}{head}->'{self.path[-1]}'"
        self.text = f"{base}{head}->>'{self.path[-1]}'"
        self.sql = self.json

    @property
    def is_path(self) -> bool:
        return bool(self.path)

    def typed(self, scalar: Scalar) -> str:
        """The path's value as `scalar` compares it: its text, cast to the scalar's SQL type."""
        return self.text if scalar.sql_type == "text" else f"({self.text})::{scalar.sql_type}"


def _sort_key(f: _Field) -> str:
    # A declared key sorts as its scalar (dates chronologically, whatever their offsets);
    # a bare path as jsonb orders values.
    if f.scalar is None or not f.is_path:
        return f.sql
    if not f.scalar.ordered:
        raise FilterError(f"field {f.name!r} is {f.scalar.name}, which has no order")
    return f.typed(f.scalar)


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise FilterError(f"{where}: expected a string, got {value!r}")
    return value


class SQLBuilder:
    """Collects bind parameters while rendering WHERE and ORDER BY for one view."""

    def __init__(self, view: ViewInfo) -> None:
        self.view = view
        self.params: list[Any] = []

    def param(self, value: Any) -> str:
        self.params.append(value)
        return f"${len(self.params)}"

    # -- WHERE --

    def where(self, where: Mapping[str, Any] | None, eq: Mapping[str, Any] | None = None) -> str:
        """The condition (without the WHERE keyword), or '' when there is none."""
        parts = []
        if where:
            parts.append(self._node(where, 0))
        for name, value in (eq or {}).items():
            parts.append(self._condition(_Field(self.view, name), "eq", value))
        return " AND ".join(parts)

    def _node(self, node: Any, depth: int) -> str:
        if depth > MAX_DEPTH:
            raise FilterError(f"filter nested deeper than {MAX_DEPTH} levels")
        if not isinstance(node, Mapping) or not node:
            raise FilterError(f"a filter must be a non-empty dict, got {node!r}")
        parts = []
        for key, value in node.items():
            if key in ("and", "or"):
                if not isinstance(value, Sequence) or isinstance(value, (str, bytes)) or not value:
                    raise FilterError(f"'{key}' takes a non-empty list of filters, got {value!r}")
                joined = f" {key.upper()} ".join(self._node(v, depth + 1) for v in value)
                parts.append(f"({joined})")
            elif key == "not":
                parts.append(f"NOT ({self._node(value, depth + 1)})")
            else:
                f = _Field(self.view, key)
                if isinstance(value, Mapping):
                    if not value:
                        raise FilterError(f"field {key!r}: empty operator dict")
                    for op, operand in value.items():
                        parts.append(self._condition(f, op, operand))
                else:
                    parts.append(self._condition(f, "eq", value))
        return parts[0] if len(parts) == 1 else "(" + " AND ".join(parts) + ")"

    def _condition(self, f: _Field, op: Any, value: Any) -> str:
        if op not in OPERATORS:
            raise FilterError(
                f"unknown operator {op!r} on field {f.name!r}; expected one of "
                f"{', '.join(OPERATORS)}"
            )
        where = f"field {f.name!r} operator {op!r}"
        if op == "isnull":
            if not isinstance(value, bool):
                raise FilterError(f"{where} takes true or false, got {value!r}")
            if f.is_path:
                test = f"coalesce({f.json}, 'null'::jsonb) = 'null'::jsonb"
                return test if value else f"NOT ({test})"
            return f"{f.sql} IS {'' if value else 'NOT '}NULL"
        if value is None and op in ("eq", "neq"):
            return self._condition(f, "isnull", op == "eq")
        if value is None:
            raise FilterError(f"{where} needs a value, got None")
        if op in ("in", "nin"):
            if isinstance(value, (str, bytes, Mapping)) or not isinstance(
                value, (Sequence, set, frozenset)
            ):
                raise FilterError(f"{where} takes a list of values, got {value!r}")
            values = list(value)
            scalar = f.scalar
            if f.is_path and (scalar is None or scalar.json_equality):
                p = self.param([_json_text(v, where) for v in values])
                test = f"{f.json} = ANY({p}::jsonb[])"
            elif f.is_path and scalar is not None:  # a declared key: compared as its scalar
                if scalar.sql_type == "text":
                    values = [_text(v, where) for v in values]
                test = f"{f.typed(scalar)} = ANY({self.param(values)}::{scalar.sql_type}[])"
            else:
                test = f"{f.sql} = ANY({self.param(values)})"
            return test if op == "in" else f"NOT coalesce({test}, false)"
        if op in ("like", "ilike"):
            if not isinstance(value, str):
                raise FilterError(f"{where} takes a string pattern, got {value!r}")
            target = f.text if f.is_path else f.sql
            return f"{target} {op.upper()} {self.param(value)}"
        if op == "contains":
            if f.is_path or f.column_type == "jsonb":
                return f"{f.sql} @> {self.param(_json_text(value, where))}::jsonb"
            if f.column_type.startswith("_"):  # an array column
                if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
                    raise FilterError(f"{where} on array column takes a list, got {value!r}")
                return f"{f.sql} @> {self.param(list(value))}"
            if not isinstance(value, str):
                raise FilterError(f"{where} on a text column takes a string, got {value!r}")
            return f"strpos({f.sql}, {self.param(value)}) > 0"
        sql_op = _COMPARE[op]
        if not f.is_path:
            return f"{f.sql} {sql_op} {self.param(value)}"
        return self._path_compare(f, op, sql_op, value, where)

    def _path_compare(self, f: _Field, op: str, sql_op: str, value: Any, where: str) -> str:
        scalar = f.scalar or for_value(value)
        if scalar is None and op not in ("eq", "neq"):
            raise FilterError(f"{where}: cannot compare a JSON value with {type(value).__name__}")
        if scalar is not None and op not in ("eq", "neq") and not scalar.ordered:
            raise FilterError(f"{where}: {scalar.name} values can only be compared with eq/neq")
        if scalar is None or (op in ("eq", "neq") and scalar.json_equality):
            return f"{f.json} {sql_op} {self.param(_json_text(value, where))}::jsonb"
        if scalar.sql_type == "text":
            return f"{f.text} {sql_op} {self.param(_text(value, where))}"
        return f"{f.typed(scalar)} {sql_op} {self.param(value)}::{scalar.sql_type}"

    # -- ORDER BY --

    def order_by(self, order_by: Any) -> str:
        """'' or the ORDER BY list (without the keywords)."""
        if not order_by:
            return ""
        if isinstance(order_by, (str, Mapping)) or not isinstance(order_by, Sequence):
            raise FilterError(f"order_by takes a list of (field, 'asc'|'desc'), got {order_by!r}")
        items = []
        for item in order_by:
            if isinstance(item, str):
                name, direction = item, "asc"
            elif isinstance(item, Sequence) and len(item) == 2:
                name, direction = item
            else:
                raise FilterError(
                    f"order_by item must be a field or (field, 'asc'|'desc'), got {item!r}"
                )
            if not isinstance(direction, str) or direction.lower() not in ("asc", "desc"):
                raise FilterError(
                    f"order_by direction for {name!r} must be 'asc' or 'desc', got {direction!r}"
                )
            items.append(f"{_sort_key(_Field(self.view, name))} {direction.upper()}")
        return ", ".join(items)

    def limit(self, limit: Any, offset: Any) -> str:
        out = ""
        for word, value in (("LIMIT", limit), ("OFFSET", offset)):
            if value is not None:
                out += f" {word} {self.param(check_count(word.lower(), value))}"
        return out
