"""The scalar registry: every GraphQL scalar fraiseql maps, and what each layer needs of it.

One `Scalar` per GraphQL scalar (and one built per enum): its GraphQL type and the Python
hints that map to it (schema.py), how the response writes a stored value (the rewriter
flags the planner compiles, and graphql-core's `serialize` on the other path), how a filter
value is bound and compared in SQL (where.py), the text a Python value is sent as
(db/adapt.py) and written as in a response (execute.dumps), whether it is ordered, and which
column types a stored value of it may come from (the start-up check).

Numbers keep their stored text on both paths: the rewriter copies a JSON number verbatim,
and the Repository decodes documents for graphql-core with every non-integer as a
`StoredFloat` (`decode_document`): a float to Python code, whose digits the Decimal scalar
writes back as they are (`14.00` stays `"14.00"`: the database's scale is data), and a
Float field or a JSON value as a number with those digits (`100` stays `100`).
"""

from __future__ import annotations

import builtins
import datetime as dt
import enum as py_enum
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLError,
    GraphQLFloat,
    GraphQLID,
    GraphQLInt,
    GraphQLScalarType,
    GraphQLString,
    value_from_ast_untyped,
)

from fraiseql._native import native
from fraiseql.types import ID, JSON
from fraiseql.values import decimal_text, leaf_text

__all__ = [
    "Scalar",
    "SCALARS",
    "BY_HINT",
    "by_name",
    "enum_scalar",
    "for_column",
    "for_value",
    "decode_document",
    "leaf_text",
    "stored_float",
    "StoredFloat",
]

# The rewriter's flag writing a stored JSON number as a string (fraiseql.FIELD_ID), and
# those of the JSON kind a stored value must have to be written as it is: any other value
# (a string in an Int field, an Int beyond 32 bits) goes to graphql-core, which coerces or
# refuses it as the scalar says, so both paths answer alike whatever a document holds.
_NUMBER_AS_STRING: int = native.ID
_STRING: int = native.STRING
_INT: int = native.INT
_NUMBER: int = native.NUMBER
_BOOL: int = native.BOOL

# GraphQL's Int is 32-bit: an int8 column holds values it cannot represent (use ID or Float).
_INT_TYPES = frozenset({"int2", "int4"})
_INTEGER_TYPES = _INT_TYPES | {"int8"}
_NUMBER_TYPES = _INTEGER_TYPES | {"float4", "float8", "numeric"}
_TEXT_TYPES = frozenset({"text", "varchar", "bpchar", "name", "citext"})
# A pg enum type has its own name: the start-up check reports it under this one.
PG_ENUM = "enum"


@dataclass(frozen=True)
class Scalar:
    """Everything fraiseql knows about one scalar; each layer reads its part."""

    name: str
    graphql: Any  # GraphQLScalarType (or the GraphQLEnumType of an enum)
    python: tuple[Any, ...]  # the type hints that map to it
    # rewriter flags of a stored leaf, so that it writes what `serialize` writes
    flags: int = 0
    sql_type: str = "text"  # a filter value is bound as this; a JSONB path's text cast to it
    # eq/neq/in on a JSONB path compare JSON values (`->` as jsonb), not the path's text
    json_equality: bool = False
    ordered: bool = False  # gt/gte/lt/lte and ORDER BY make sense
    # column types (pg_type.typname) its stored values may come from; None: any
    pg_types: frozenset[str] | None = None


# ---------------------------------------------------------------- writing values


class StoredFloat(float):
    """A number with the digits it was stored with (`text`): a float to Python code (its
    arithmetic gives plain floats), written back as `text` by both paths, not as Python's
    repr (`14.00`, not `14.0`; `100`, not `100.0`). graphql-core's Float passes float
    instances through; `execute.exact_numbers` then turns them into their digits."""

    __slots__ = ("text",)

    def __new__(cls, text: str) -> StoredFloat:
        out = super().__new__(cls, text)
        out.text = text
        return out

    def __repr__(self) -> str:
        return self.text

    __str__ = __repr__

    def __reduce__(self) -> tuple[Any, ...]:
        return StoredFloat, (self.text,)


def stored_float(value: Any) -> Any:
    """A Float field's value with its digits kept (an int or Decimal given by a resolver
    too); other values unchanged."""
    if isinstance(value, StoredFloat) or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return StoredFloat(str(value))
    if isinstance(value, Decimal) and value.is_finite():
        return StoredFloat(decimal_text(value))
    return value


def _keep_stored_floats() -> None:
    """graphql-core 3.3's Float makes every float a plain float (3.2 passes float instances
    through), which would write a stored `3` as `3.0` where the fast path copies `3`. Float
    is a reserved name that no schema may redefine, so its output coercion lets our own
    StoredFloat through, as 3.2 does; every other value still goes through graphql-core's."""
    coerce = getattr(GraphQLFloat, "coerce_output_value", None)
    if coerce is None or getattr(coerce, "keeps_stored_floats", False):
        return

    def coerce_output_value(value: Any) -> Any:
        return value if type(value) is StoredFloat else coerce(value)

    coerce_output_value.keeps_stored_floats = True  # type: ignore[attr-defined]
    GraphQLFloat.coerce_output_value = coerce_output_value  # type: ignore[method-assign]


_keep_stored_floats()


def decode_document(raw: bytes) -> Any:
    """A stored document as Python data for graphql-core, each non-integer a StoredFloat."""
    return json.loads(raw, parse_float=StoredFloat)


# ---------------------------------------------------------------- custom scalars


def _iso_serialize(kind: builtins.type, name: str) -> Callable[[Any], str]:
    def serialize(value: Any) -> str:
        if isinstance(value, str):  # already ISO text, as stored in JSON
            return value
        if isinstance(value, kind):
            return value.isoformat()
        raise GraphQLError(f"{name} cannot represent value: {value!r}")

    return serialize


def _iso_parse(kind: Any, name: str) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        if not isinstance(value, str):
            raise GraphQLError(f"{name} expects an ISO 8601 string, got {value!r}")
        try:
            return kind.fromisoformat(value)
        except ValueError as exc:
            raise GraphQLError(f"{name} cannot parse {value!r}: {exc}") from None

    return parse


def _literal(parse_value: Callable[[Any], Any]) -> Callable[..., Any]:
    return lambda node, variables=None: parse_value(value_from_ast_untyped(node, variables))


def _uuid_serialize(value: Any) -> str:
    if isinstance(value, (str, uuid.UUID)):
        return str(value)
    raise GraphQLError(f"UUID cannot represent value: {value!r}")


def _uuid_parse(value: Any) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise GraphQLError(f"UUID cannot parse {value!r}") from None


def _decimal_serialize(value: Any) -> str:
    # The stored number's digits, as the rewriter's FIELD_ID flag writes them.
    if isinstance(value, str):
        return value
    if isinstance(value, StoredFloat):
        return value.text
    if isinstance(value, Decimal) and value.is_finite():
        return decimal_text(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise GraphQLError(f"Decimal cannot represent value: {value!r}")


def _decimal_parse(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise GraphQLError(f"Decimal expects a number or a numeric string, got {value!r}")
    try:
        return Decimal(str(value))
    except ArithmeticError:
        raise GraphQLError(f"Decimal cannot parse {value!r}") from None


def _identity(value: Any) -> Any:
    return value


def _custom(
    name: str, description: str, serialize: Callable[[Any], Any], parse: Callable[[Any], Any]
) -> GraphQLScalarType:
    return GraphQLScalarType(
        name,
        description=description,
        serialize=serialize,
        parse_value=parse,
        parse_literal=_literal(parse),
    )


DateTimeScalar = _custom(
    "DateTime",
    "ISO 8601 date and time.",
    _iso_serialize(dt.datetime, "DateTime"),
    _iso_parse(dt.datetime, "DateTime"),
)
DateScalar = _custom(
    "Date", "ISO 8601 date.", _iso_serialize(dt.date, "Date"), _iso_parse(dt.date, "Date")
)
UUIDScalar = _custom("UUID", "A UUID in its canonical text form.", _uuid_serialize, _uuid_parse)
DecimalScalar = _custom(
    "Decimal", "Exact decimal number, as a string.", _decimal_serialize, _decimal_parse
)
JSONScalar = GraphQLScalarType(
    "JSON",
    description="Any JSON value, as stored.",
    serialize=_identity,
    parse_value=_identity,
    parse_literal=value_from_ast_untyped,
)

# ---------------------------------------------------------------- the registry

_NUMERIC = {"sql_type": "numeric", "json_equality": True, "ordered": True}

SCALARS: tuple[Scalar, ...] = (
    Scalar("Int", GraphQLInt, (int,), flags=_INT, pg_types=_INT_TYPES, **_NUMERIC),
    Scalar("Float", GraphQLFloat, (float,), flags=_NUMBER, pg_types=_NUMBER_TYPES, **_NUMERIC),
    Scalar(
        "String",
        GraphQLString,
        (str,),
        flags=_STRING,
        sql_type="text",
        ordered=True,
        pg_types=_TEXT_TYPES,
    ),
    Scalar(
        "Boolean",
        GraphQLBoolean,
        (bool,),
        flags=_BOOL,
        sql_type="boolean",
        json_equality=True,
        pg_types=frozenset({"bool"}),
    ),
    Scalar(
        "ID",
        GraphQLID,
        (ID,),
        flags=_NUMBER_AS_STRING,
        sql_type="text",
        pg_types=_INTEGER_TYPES | _TEXT_TYPES | {"uuid"},
    ),
    Scalar(
        "UUID",
        UUIDScalar,
        (uuid.UUID,),
        flags=_STRING,
        sql_type="uuid",
        pg_types=frozenset({"uuid"}),
    ),
    Scalar(
        "DateTime",
        DateTimeScalar,
        (dt.datetime,),
        flags=_STRING,
        sql_type="timestamptz",
        ordered=True,
        pg_types=frozenset({"timestamptz", "timestamp"}),
    ),
    Scalar(
        "Date",
        DateScalar,
        (dt.date,),
        flags=_STRING,
        sql_type="date",
        ordered=True,
        pg_types=frozenset({"date"}),
    ),
    Scalar(
        "Decimal",
        DecimalScalar,
        (Decimal,),
        flags=_NUMBER_AS_STRING,
        pg_types=_NUMBER_TYPES,
        **_NUMERIC,
    ),
    Scalar("JSON", JSONScalar, (dict, JSON), sql_type="jsonb", json_equality=True, pg_types=None),
)

BY_HINT: dict[Any, Scalar] = {hint: s for s in SCALARS for hint in s.python}
_BY_NAME: dict[str, Scalar] = {s.name: s for s in SCALARS}
# A column type -> the first scalar accepting it (ID is a naming convention, not a storage
# type): how a read model's value filters when no GraphQL type declares it.
_BY_COLUMN: dict[str, Scalar] = {
    t: s for s in reversed(SCALARS) if s.name != "ID" for t in s.pg_types or ()
} | {"json": _BY_NAME["JSON"], "jsonb": _BY_NAME["JSON"]}


def for_column(pg_type: str | None) -> Scalar | None:
    """The scalar a stored value of a column of this type (pg_type.typname) compares as."""
    return _BY_COLUMN.get(pg_type) if pg_type else None


def by_name(name: str) -> Scalar | None:
    """The registered scalar of a GraphQL name (enums are built per class: `enum_scalar`)."""
    return _BY_NAME.get(name)


def enum_scalar(gql_enum: Any) -> Scalar:
    """The entry of a GraphQL enum: stored as its values' text, compared as text, unordered."""
    return Scalar(
        gql_enum.name,
        gql_enum,
        (getattr(gql_enum, "py_enum", None),),
        pg_types=_TEXT_TYPES | {PG_ENUM},
    )


def for_value(value: Any) -> Scalar | None:
    """The scalar a Python filter value compares as, when the field's own is not known."""
    if isinstance(value, py_enum.Enum):
        value = value.value
    if isinstance(value, bool):
        return _BY_NAME["Boolean"]
    if isinstance(value, (int, float, Decimal)):
        return _BY_NAME["Float"]
    if isinstance(value, str):
        return _BY_NAME["String"]
    if isinstance(value, dt.datetime):
        return _BY_NAME["DateTime"]
    if isinstance(value, dt.date):
        return _BY_NAME["Date"]
    if isinstance(value, uuid.UUID):
        return _BY_NAME["UUID"]
    if isinstance(value, (dict, list)):
        return _BY_NAME["JSON"]
    return None
