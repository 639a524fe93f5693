"""Filters, orderings and keyset positions -> parameterized SQL for one view.

Every identifier is checked against a strict pattern and quoted; a field name is a column
of the view, a key of its document declared by the view's GraphQL type or read model
("email" for data->'email'), or a JSONB path from a json/jsonb column ("data.author.name");
every value is a bind parameter. Nothing the caller passes is pasted into SQL unchecked.
A declared field compares as its scalar says (scalars.py: numbers numerically, dates
chronologically); a bare path by the Python type of the value. A declared embedded object
filters through its own keys ({"author": {"country": "PL"}}), a declared list of objects by
"some element matches".

    where = {"or": [{"id": {"in": [1, 2]}}, {"data.first_name": {"ilike": "a%"}}],
             "not": {"email": {"isnull": True}}}

Null: `neq` and `nin` match rows whose value is null or missing (they are the complement of
`eq` and `in`), and `not` is the complement of what its filter matches, null rows included.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import Enum
from functools import partial
from typing import Any

from graphql import GraphQLError

from fraiseql.scalars import Scalar, for_value, leaf_text
from fraiseql.values import decimal_text

__all__ = [
    "ArgumentError",
    "FilterError",
    "Shape",
    "ViewInfo",
    "SQLBuilder",
    "SortKey",
    "quote_ident",
    "quote_relation",
    "OPERATORS",
    "DIRECTIONS",
    "MAX_DEPTH",
    "MAX_IN_VALUES",
]

IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_COMPARE = {"eq": "=", "neq": "IS DISTINCT FROM", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
# literal text operators -> (LIKE or ILIKE, pattern around the escaped value)
_LITERAL = {
    "contains": ("LIKE", "%{}%"),
    "icontains": ("ILIKE", "%{}%"),
    "startswith": ("LIKE", "{}%"),
    "istartswith": ("ILIKE", "{}%"),
    "endswith": ("LIKE", "%{}"),
    "iendswith": ("ILIKE", "%{}"),
}
_PATTERN = {"like": "LIKE", "ilike": "ILIKE", "matches": "~", "imatches": "~*"}
OPERATORS = (
    *_COMPARE,
    "in",
    "nin",
    "isnull",
    *_LITERAL,
    *_PATTERN,
    "overlaps",
    "haskey",
)
# order direction -> (SQL, nulls first): PostgreSQL's defaults when the nulls are not named
DIRECTIONS = {
    "asc": ("ASC", False),
    "desc": ("DESC", True),
    "asc_nulls_first": ("ASC NULLS FIRST", True),
    "asc_nulls_last": ("ASC", False),
    "desc_nulls_first": ("DESC", True),
    "desc_nulls_last": ("DESC NULLS LAST", False),
}
MAX_DEPTH = 32
_KEY_SCALARS = ("ID", "UUID")  # unordered, but keys: they break ties and make cursors
MAX_IN_VALUES = 100  # `in`/`nin` values: one array parameter, bounded like every other input
BAD_INPUT_CODE = "BAD_USER_INPUT"

Path = tuple[Any, ...]  # keys and indexes from the request's values to one operand
# A parameter: convert(the operand at the path), or the operand itself when convert is None.
Binder = tuple[Path, Callable[[Any], Any] | None]


class FilterError(ValueError):
    """A filter, ordering, view or field name that cannot be turned into safe SQL."""


class ArgumentError(FilterError, GraphQLError):
    """A client's argument that cannot be served (a bound exceeded, a bad cursor): a GraphQL
    error with `extensions.code` BAD_USER_INPUT, which clients see as it is worded."""

    def __init__(self, message: str) -> None:
        GraphQLError.__init__(self, message, extensions={"code": BAD_INPUT_CODE})


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


@dataclass(frozen=True)
class Shape:
    """What a document key holds, as filters see it: a value of `scalar` (None: a JSON value
    of unknown type), or an embedded object whose keys are `fields`; `many`: a list of them."""

    scalar: Scalar | None = None
    fields: Mapping[str, Shape] | None = None
    many: bool = False


VALUE = Shape()  # a key whose type nothing declares


@dataclass
class ViewInfo:
    """A view's columns as read once from the catalog: name -> type name (pg_type.typname)."""

    relation: str  # quoted, e.g. "public"."qm_user"
    name: str
    columns: dict[str, str]
    json_column: str | None = None  # the JSONB document column, or None: row_to_json
    not_null: frozenset[str] = frozenset()  # columns declared NOT NULL (keyset bounds need it)
    # Keys of the document declared by the view's GraphQL type or read model -> their shape.
    fields: dict[str, Shape] = field(default_factory=dict)
    declared_by: set[str] = field(default_factory=set)  # GraphQL types whose fields are in
    # Statements read from it, by shape (fraiseql.statements): built once, then only bound.
    statements: dict[Any, Any] = field(default_factory=dict, repr=False)
    _json_types: frozenset = field(default=frozenset({"json", "jsonb"}), repr=False)

    def is_json(self, column: str) -> bool:
        return self.columns.get(column) in self._json_types


def _json_text(value: Any, where: str) -> str:
    if isinstance(value, Decimal) and value.is_finite():
        return decimal_text(value)  # a JSON number: jsonb compares it numerically
    try:
        return json.dumps(value, default=_json_default)
    except (TypeError, ValueError) as exc:
        raise FilterError(f"{where}: value {value!r} is not JSON-serializable ({exc})") from None


def _json_default(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    text = leaf_text(value)
    if text is None:
        raise TypeError(f"{type(value).__name__} is not JSON-serializable")
    return text


def _plain(value: Any) -> Any:
    """An enum member as its stored value; other values as they are."""
    return value.value if isinstance(value, Enum) else value


def check_count(word: str, value: Any) -> int:
    """A LIMIT or OFFSET value, checked: a non-negative int."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise FilterError(f"{word} must be a non-negative int, got {value!r}")
    return value


def _like_literal(text: str) -> str:
    # LIKE's escape character is the backslash: the value's own %, _ and \ match themselves.
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class _Field:
    """A value to filter or sort by: a column (t."col"), or a JSON value under a jsonb
    expression (t."data"->'a'->'b', e1.v->'x'), with the shape declared for it if any."""

    __slots__ = ("name", "sql", "json", "text", "column_type", "shape", "document")

    def __init__(
        self,
        name: str,
        sql: str,
        shape: Shape = VALUE,
        column_type: str | None = None,
        text: str | None = None,
        document: tuple[str, Sequence[str]] | None = None,
    ) -> None:
        self.name = name
        self.sql = sql  # a column, or the jsonb value
        self.json = None if column_type else sql
        self.text = text  # the JSON value as text (->>), for paths
        self.column_type = column_type
        self.shape = shape
        # (the view's jsonb column, the keys to this value) for a path from that column
        self.document = document

    @property
    def scalar(self) -> Scalar | None:
        return self.shape.scalar

    @property
    def is_path(self) -> bool:
        return self.column_type is None

    def typed(self, scalar: Scalar) -> str:
        """The path's value as `scalar` compares it: its text, cast to the scalar's SQL type."""
        return self.text if scalar.sql_type == "text" else f"({self.text})::{scalar.sql_type}"


def _under(
    base: str, keys: Sequence[str], name: str, shape: Shape = VALUE, column: bool = False
) -> _Field:
    """The JSON value at `keys` under the jsonb expression `base` (`column`: a jsonb column
    of the view, whose GIN index can serve containment of the whole document)."""
    for key in keys:
        quote_ident(key, f"JSON key in field {name!r}")  # validated: safe inside '...'
    head = "".join(f"->'{k}'" for k in keys[:-1])
    return _Field(
        name,
        f"{base}{head}->'{keys[-1]}'",
        shape,
        text=f"{base}{head}->>'{keys[-1]}'",
        document=(base, keys) if column else None,
    )


def _resolve(view: ViewInfo, name: Any) -> _Field:
    """A top-level field name: a column, a column's JSON path, or a declared document key."""
    if not isinstance(name, str):
        raise FilterError(f"field names must be strings, got {name!r}")
    parts = name.split(".")
    column = parts[0]
    quote_ident(column, "field name")
    shape = VALUE
    if column not in view.columns:
        if column not in view.fields or view.json_column is None:
            declared = sorted(view.fields) if view.json_column else []
            raise FilterError(
                f"field {column!r} does not exist in view {view.name!r}: neither a column "
                f"(columns: {', '.join(sorted(view.columns))}) nor a declared field of its "
                f"document (fields: {', '.join(declared) or 'none declared'})"
            )
        if len(parts) == 1:
            shape = view.fields[column]
        parts = [view.json_column, *parts]
        column = view.json_column
    column_type = view.columns[column]
    col = f"t.{quote_ident(column)}"
    if len(parts) == 1:
        return _Field(name, col, shape, column_type=column_type)
    if not view.is_json(column):
        raise FilterError(
            f"field {name!r}: column {column!r} of view {view.name!r} is "
            f"{column_type}, not json/jsonb, so it has no path"
        )
    base = f"{col}::jsonb" if column_type == "json" else col
    return _under(base, parts[1:], name, shape, column=column_type == "jsonb")


@dataclass(frozen=True)
class SortKey:
    """One ORDER BY item: its SQL value, direction, where its nulls go, and the SQL type its
    cursor value is bound as (None: jsonb)."""

    name: str
    sql: str
    direction: str  # "ASC" / "DESC ..." as written in ORDER BY
    descending: bool
    nulls_first: bool
    sql_type: str | None
    nullable: bool = True  # False for a NOT NULL column: no null branch in keyset bounds

    def reversed(self) -> SortKey:
        # the same order read backwards: the direction and the nulls' side both flip
        flipped = "DESC" if not self.descending else "ASC"
        nulls = " NULLS FIRST" if not self.nulls_first else " NULLS LAST"
        return SortKey(
            self.name,
            self.sql,
            flipped + nulls,
            not self.descending,
            not self.nulls_first,
            self.sql_type,
            self.nullable,
        )


class SQLBuilder:
    """Collects bind parameters while rendering WHERE and ORDER BY for one view, and how
    each is computed from the request's values (`binders`), so that a statement cached by
    its shape (fraiseql.statements) binds another request's values without being rebuilt."""

    def __init__(self, view: ViewInfo) -> None:
        self.view = view
        self.params: list[Any] = []
        self.binders: list[Binder] = []
        self._aliases = 0
        self._at: Path = ()  # where the operand being rendered sits in the request's values

    def param(self, value: Any) -> str:
        """A parameter the statement's shape fixes (the same for every request of it)."""
        return self._push(value, ((), lambda _: value))

    def bind(self, value: Any, convert: Callable[[Any], Any] | None = None) -> str:
        """The parameter `convert(value)` (or `value`), `value` being the operand being
        rendered: a request of the same shape binds `convert` of its own operand there."""
        return self._push(value if convert is None else convert(value), (self._at, convert))

    def request_value(
        self, name: str, value: Any, convert: Callable[[Any], Any] | None = None
    ) -> str:
        """The parameter `convert(value)` of the request's value `name` (a limit, a count)."""
        self._at = (name,)
        return self.bind(value, convert)

    def _push(self, value: Any, binder: Binder) -> str:
        self.params.append(value)
        self.binders.append(binder)
        return f"${len(self.params)}"

    # -- WHERE --

    def where(self, where: Mapping[str, Any] | None, eq: Mapping[str, Any] | None = None) -> str:
        """The condition (without the WHERE keyword), or '' when there is none."""
        parts = []
        if where:
            parts.append(self._node(where, 0, None, ("where",)))
        for name, value in (eq or {}).items():
            parts.append(self._condition(_resolve(self.view, name), "eq", value, ("eq", name)))
        return " AND ".join(parts)

    def _node(
        self, node: Any, depth: int, scope: tuple[str, Mapping[str, Shape]] | None, at: Path
    ) -> str:
        """One filter object; `scope` (jsonb expression, its declared keys) inside an
        embedded object, None at the view's top level."""
        if depth > MAX_DEPTH:
            raise ArgumentError(f"filter nested deeper than {MAX_DEPTH} levels")
        if not isinstance(node, Mapping):
            raise FilterError(f"a filter must be a dict, got {node!r}")
        parts = []
        for key, value in node.items():
            if key in ("and", "or"):
                if not isinstance(value, Sequence) or isinstance(value, (str, bytes)):
                    raise FilterError(f"'{key}' takes a list of filters, got {value!r}")
                items = [
                    self._node(v, depth + 1, scope, (*at, key, i)) for i, v in enumerate(value)
                ]
                if not items:  # all of nothing holds; any of nothing does not
                    parts.append("TRUE" if key == "and" else "FALSE")
                else:
                    parts.append(f"({f' {key.upper()} '.join(items)})")
            elif key == "not":
                inner = self._node(value, depth + 1, scope, (*at, key))
                parts.append(f"NOT coalesce({inner}, false)")
            else:
                parts.append(self._field_filter(self._field(key, scope), value, depth, (*at, key)))
        if not parts:
            return "TRUE"
        return parts[0] if len(parts) == 1 else "(" + " AND ".join(parts) + ")"

    def _field(self, key: Any, scope: tuple[str, Mapping[str, Shape]] | None) -> _Field:
        if scope is None:
            return _resolve(self.view, key)
        base, fields = scope
        if key not in fields:
            raise FilterError(
                f"field {key!r} is not a field of the embedded object "
                f"(fields: {', '.join(sorted(fields)) or 'none'})"
            )
        return _under(base, [key], key, fields[key])

    def _field_filter(self, f: _Field, value: Any, depth: int, at: Path) -> str:
        shape = f.shape
        if shape.fields is not None and isinstance(value, Mapping):  # an embedded object
            if not shape.many:
                return self._node(value, depth + 1, (f.json, shape.fields), at)  # type: ignore[arg-type]
            self._aliases += 1
            alias = f"e{self._aliases}"
            inner = self._node(value, depth + 1, (f"{alias}.v", shape.fields), at)
            return (
                f"EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof({f.json}) "
                f"= 'array' THEN {f.json} END) AS {alias}(v) WHERE {inner})"
            )
        if not isinstance(value, Mapping):
            return self._condition(f, "eq", value, at)
        parts = [self._condition(f, op, operand, (*at, op)) for op, operand in value.items()]
        if not parts:
            return "TRUE"
        return parts[0] if len(parts) == 1 else "(" + " AND ".join(parts) + ")"

    def _condition(self, f: _Field, op: Any, value: Any, at: Path) -> str:
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
            return self._condition(f, "isnull", op == "eq", at)
        if value is None:
            raise FilterError(f"{where} needs a value, got None")
        value = _plain(value)
        self._at = at
        if f.shape.many:
            return self._list_condition(f, op, value, where)
        if op in ("in", "nin"):
            return self._membership(f, op, value, where)
        if op in _LITERAL or op in _PATTERN:
            return self._text_match(f, op, value, where)
        if op in ("overlaps", "haskey"):
            return self._json_operator(f, op, value, where)
        sql_op = _COMPARE[op]
        if not f.is_path:
            return f"{f.sql} {sql_op} {self.bind(value)}"
        return self._path_compare(f, op, sql_op, value, where)

    def _is_text(self, f: _Field, value: Any) -> bool:
        """Whether `contains` on this field means a substring (else JSON/array containment)."""
        if not f.is_path:
            return f.column_type != "jsonb" and not (f.column_type or "").startswith("_")
        scalar = f.scalar or for_value(value)
        return scalar is not None and scalar.sql_type == "text" and isinstance(value, str)

    def _membership(self, f: _Field, op: str, value: Any, where: str) -> str:
        scalar = f.scalar

        def values(v: Any) -> list[Any]:
            return _values(v, where)

        if f.is_path and (scalar is None or scalar.json_equality):
            p = self.bind(value, lambda v: [_json_text(x, where) for x in values(v)])
            test = f"{f.json} = ANY({p}::jsonb[])"
        elif f.is_path and scalar is not None:  # a declared key: compared as its scalar
            if scalar.sql_type == "text":
                p = self.bind(value, lambda v: [_text(x, where) for x in values(v)])
            else:
                p = self.bind(value, values)
            test = f"{f.typed(scalar)} = ANY({p}::{scalar.sql_type}[])"
        else:
            test = f"{f.sql} = ANY({self.bind(value, values)})"
        return test if op == "in" else f"NOT coalesce({test}, false)"

    def _text_match(self, f: _Field, op: str, value: Any, where: str) -> str:
        if op == "contains" and not self._is_text(f, value):
            return self._json_operator(f, op, value, where)
        if not isinstance(value, str):
            kind = "a string pattern" if op in _PATTERN else "a string"
            raise FilterError(f"{where} takes {kind}, got {value!r}")
        if f.is_path and f.scalar is not None and f.scalar.sql_type != "text":
            raise FilterError(f"{where}: {f.scalar.name} fields have no text operators")
        target = f.text if f.is_path else f.sql
        if op in _PATTERN:
            return f"{target} {_PATTERN[op]} {self.bind(value)}"
        sql_op, pattern = _LITERAL[op]
        return f"{target} {sql_op} {self.bind(value, lambda v: pattern.format(_like_literal(v)))}"

    def _json_operator(self, f: _Field, op: str, value: Any, where: str) -> str:
        if not f.is_path and f.column_type is not None and f.column_type.startswith("_"):
            if op not in ("contains", "overlaps"):
                raise FilterError(f"{where} does not apply to an array column")
            sql_op = "@>" if op == "contains" else "&&"
            p = self.bind(value, lambda v: _values(v, where, "on array column"))
            return f"{f.sql} {sql_op} {p}"
        if f.is_path and op == "overlaps":
            return self._overlaps(f, value, where)
        if f.is_path or f.column_type == "jsonb":
            if op == "haskey":
                return f"{f.sql} ? {self.bind(value, lambda v: _text(v, where))}"
            if op == "contains":
                return self._containment(f, value, lambda v: _json_text(v, where))
        if op == "contains":
            raise FilterError(f"{where} on a text column takes a string, got {value!r}")
        raise FilterError(f"{where} applies to lists and JSON values only")

    def _list_condition(self, f: _Field, op: str, value: Any, where: str) -> str:
        # A declared list of values, compared element by element as JSON values.
        if op in ("eq", "neq"):
            p = self.bind(value, lambda v: _json_text(v, where))
            return f"{f.json} {_COMPARE[op]} {p}::jsonb"
        if op == "contains":
            return self._containment(f, value, lambda v: _json_text(_values(v, where), where))
        if op == "overlaps":
            return self._overlaps(f, value, where)
        raise FilterError(f"{where}: a list field takes eq, neq, contains, overlaps or isnull")

    def _containment(self, f: _Field, value: Any, text: Callable[[Any], str]) -> str:
        """`f`'s JSON value contains the operand (`text` gives its JSON text). A path from a
        jsonb column is tested as containment of the column's whole document, which a GIN
        index on the column serves: {"a": {"b": v}} is contained exactly when a.b contains
        v, but for a scalar v, which a.b also contains when it is an array holding v."""
        if f.document is None:
            return f"{f.sql} @> {self.bind(value, text)}::jsonb"
        column, keys = f.document
        head = "".join(f'{{"{k}":' for k in keys)  # keys are identifiers: nothing to escape
        tail = "}" * len(keys)
        p = self.bind(value, lambda v: f"{head}{text(v)}{tail}")
        if isinstance(value, (Mapping, list, tuple, set, frozenset)):
            return f"{column} @> {p}::jsonb"
        q = self.bind(value, lambda v: f"{head}[{text(v)}]{tail}")
        return f"({column} @> {p}::jsonb OR {column} @> {q}::jsonb)"

    def _overlaps(self, f: _Field, value: Any, where: str) -> str:
        # some element of the JSON array equals one of the values (JSON equality)
        p = self.bind(value, lambda v: [_json_text(x, where) for x in _values(v, where)])
        return (
            f"EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof({f.json}) "
            f"= 'array' THEN {f.json} END) AS e(v) WHERE e.v = ANY({p}::jsonb[]))"
        )

    def _path_compare(self, f: _Field, op: str, sql_op: str, value: Any, where: str) -> str:
        scalar = f.scalar or for_value(value)
        if scalar is None and op not in ("eq", "neq"):
            raise FilterError(f"{where}: cannot compare a JSON value with {type(value).__name__}")
        if scalar is not None and op not in ("eq", "neq") and not scalar.ordered:
            raise FilterError(f"{where}: {scalar.name} values can only be compared with eq/neq")
        if scalar is None or (op in ("eq", "neq") and scalar.json_equality):
            return f"{f.json} {sql_op} {self.bind(value, lambda v: _json_text(v, where))}::jsonb"
        if scalar.sql_type == "text":
            return f"{f.text} {sql_op} {self.bind(value, lambda v: _text(v, where))}"
        return f"{f.typed(scalar)} {sql_op} {self.bind(value)}::{scalar.sql_type}"

    # -- ORDER BY --

    def sort_keys(self, order_by: Any, key: str | None = None) -> list[SortKey]:
        """The ORDER BY items of `order_by` [(field, direction), ...], then `key` ascending
        (the tie-breaker that makes the order total) unless it is ordered by already."""
        if not order_by:
            order_by = []
        elif isinstance(order_by, (str, Mapping)) or not isinstance(order_by, Sequence):
            raise FilterError(f"order_by takes a list of (field, 'asc'|'desc'), got {order_by!r}")
        keys = []
        for item in order_by:
            if isinstance(item, str):
                name, direction = item, "asc"
            elif isinstance(item, Sequence) and len(item) == 2:
                name, direction = item
            else:
                raise FilterError(
                    f"order_by item must be a field or (field, 'asc'|'desc'), got {item!r}"
                )
            spec = DIRECTIONS.get(direction.lower()) if isinstance(direction, str) else None
            if spec is None:
                raise FilterError(
                    f"order_by direction for {name!r} must be 'asc' or 'desc', got {direction!r}"
                )
            keys.append(self._sort_key(name, spec))
        if key is not None and all(k.name != key for k in keys):
            keys.append(self._sort_key(key, DIRECTIONS["asc"]))
        return keys

    def _sort_key(self, name: Any, spec: tuple[str, bool]) -> SortKey:
        key = _sort_key(_resolve(self.view, name), *spec)
        return replace(key, nullable=False) if name in self.view.not_null else key

    def order_by(self, order_by: Any, key: str | None = None) -> str:
        """'' or the ORDER BY list (without the keywords)."""
        return render_order(self.sort_keys(order_by, key))

    def after(
        self,
        keys: Sequence[SortKey],
        values: Sequence[Any],
        at: bool = False,
        source: str = "after",
    ) -> str:
        """Rows strictly after the position `values` (one per key; the request's values under
        `source`) in the order of `keys` (`at`: or at it): for each key, the keys before it
        equal and this one after (nulls where the order puts them)."""
        alternatives = []
        for i, k in enumerate(keys):
            terms = [self._same(keys[j], values[j], (source, j)) for j in range(i)]
            beyond = self._beyond(k, values[i], (source, i))
            if beyond is not None:
                alternatives.append(" AND ".join([*terms, beyond]))
        if at:
            alternatives.append(
                " AND ".join(self._same(k, values[i], (source, i)) for i, k in enumerate(keys))
            )
        if not alternatives:
            return "FALSE"
        test = "(" + " OR ".join(alternatives) + ")"
        first, value = keys[0], values[0]
        if len(alternatives) == 1 or value is None or (first.nullable and not first.nulls_first):
            return test
        # Implied by the test, and a range an index on the first key starts the scan at.
        bound = self._bound(first, value, (source, 0))
        return f"{first.sql} {'<=' if first.descending else '>='} {bound} AND {test}"

    def _bound(self, k: SortKey, value: Any, at: Path) -> str:
        self._at = at
        if k.sql_type is None:
            return f"{self.bind(value, lambda v: _json_text(v, k.name))}::jsonb"
        return f"{self.bind(value)}::{k.sql_type}"

    def _same(self, k: SortKey, value: Any, at: Path) -> str:
        if value is None:
            return f"{k.sql} IS NULL"
        return f"{k.sql} = {self._bound(k, value, at)}"

    def _beyond(self, k: SortKey, value: Any, at: Path) -> str | None:
        if value is None:  # past the nulls: the values when nulls come first, else nothing
            return f"{k.sql} IS NOT NULL" if k.nulls_first else None
        test = f"{k.sql} {'<' if k.descending else '>'} {self._bound(k, value, at)}"
        return test if k.nulls_first or not k.nullable else f"({test} OR {k.sql} IS NULL)"

    def limit(self, limit: Any, offset: Any) -> str:
        """' LIMIT $n OFFSET $m' for the values given (the request's `limit` and `offset`)."""
        out = ""
        for word, value in (("LIMIT", limit), ("OFFSET", offset)):
            if value is not None:
                name = word.lower()
                p = self.request_value(name, value, partial(check_count, name))
                out += f" {word} {p}"
        return out


def render_order(keys: Sequence[SortKey]) -> str:
    return ", ".join(f"{k.sql} {k.direction}" for k in keys)


def _sort_key(f: _Field, direction: str, nulls_first: bool) -> SortKey:
    # A declared key sorts as its scalar (dates chronologically, whatever their offsets);
    # a bare path as jsonb orders values; a column as itself.
    descending = direction.startswith("DESC")
    if not f.is_path:
        return SortKey(f.name, f.sql, direction, descending, nulls_first, _column_sql_type(f))
    if f.scalar is None:
        return SortKey(f.name, f.sql, direction, descending, nulls_first, None)
    if not f.scalar.ordered and f.scalar.name not in _KEY_SCALARS:
        raise FilterError(f"field {f.name!r} is {f.scalar.name}, which has no order")
    if f.shape.many:
        raise FilterError(f"field {f.name!r} is a list, which has no order")
    return SortKey(f.name, f.typed(f.scalar), direction, descending, nulls_first, f.scalar.sql_type)


def _column_sql_type(f: _Field) -> str | None:
    # a cursor value of a column is bound as the column's own type
    return None if f.column_type in ("json", "jsonb") else f.column_type


def _values(value: Any, where: str, on: str = "") -> list[Any]:
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(
        value, (Sequence, set, frozenset)
    ):
        raise FilterError(f"{where}{' ' + on if on else ''} takes a list of values, got {value!r}")
    if len(value) > MAX_IN_VALUES:
        raise ArgumentError(
            f"{where} takes at most {MAX_IN_VALUES} values, got {len(value)}: "
            "filter by a range or a key instead"
        )
    return [_plain(v) for v in value]


def _text(value: Any, where: str) -> str:
    value = _plain(value)
    if not isinstance(value, str):
        raise FilterError(f"{where}: expected a string, got {value!r}")
    return value
