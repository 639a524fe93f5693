"""Relay connections: the `Connection[T]` return hint, its GraphQL types, and cursors.

A connection page is one JSON document, `{"edges": [{"cursor": ..., "node": <stored
document>}], "page_info": {...}, "total_count": n}`, that C writes from the rows of the page's
statement (fraiseql.repository's `paginate`, src/_fraiseql/page.h), so the rewriter serves it
like any stored document. A cursor is the base64 of a JSON array (as PostgreSQL prints it): a
fingerprint of the view and order it belongs to, then the row's order values and key. It is
opaque to clients and keyset-based (no OFFSET scan); one of another field or order, or not
made by fraiseql, is refused with a clear error. Cursors are positions, not secrets: a client
that forges a well-formed one gets the rows after that position, which it could have asked
for with `where`.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLString,
)

from fraiseql.types import Connection
from fraiseql.where import ArgumentError, SortKey

__all__ = [
    "Connection",
    "ConnectionOf",
    "ConnectionTypes",
    "decode_cursor",
    "fingerprint",
]

# cursor values by the SQL type they are bound as: what a well-formed one must be
_INTS = frozenset({"int2", "int4", "int8"})
_NUMBERS = _INTS | {"numeric", "float4", "float8"}
_TIMES = {"timestamptz": dt.datetime, "timestamp": dt.datetime, "date": dt.date}


def fingerprint(view: str, keys: Sequence[SortKey]) -> str:
    """What ties a cursor to one view and order."""
    spec = json.dumps([view, [(k.name, k.direction) for k in keys]])
    return hashlib.blake2s(spec.encode(), digest_size=6).hexdigest()


def decode_cursor(cursor: Any, argument: str, expected: str, keys: Sequence[SortKey]) -> list[Any]:
    """The order values and key a cursor holds, checked against the field's order."""
    if not isinstance(cursor, str) or len(cursor) > 4096:
        raise ArgumentError(f"{argument}: not a cursor")
    try:
        items = json.loads(base64.b64decode(cursor, validate=True))
    except (binascii.Error, ValueError):
        raise ArgumentError(f"{argument}: malformed cursor {cursor[:40]!r}") from None
    if not isinstance(items, list) or not items or items[0] != expected:
        raise ArgumentError(
            f"{argument}: the cursor is not one of this field with this where/orderBy "
            "(cursors are only valid for the field and order that made them)"
        )
    values = items[1:]
    if len(values) != len(keys):
        raise ArgumentError(f"{argument}: malformed cursor (wrong number of values)")
    for key, value in zip(keys, values, strict=True):
        if not _fits(value, key.sql_type):
            raise ArgumentError(f"{argument}: malformed cursor (bad value for {key.name!r})")
    return values  # dates and times as their text: cast to the key's type in SQL


def _fits(value: Any, sql_type: str | None) -> bool:
    if value is None or sql_type is None:
        return True
    if sql_type in ("bool", "boolean"):
        return isinstance(value, bool)
    if sql_type in _NUMBERS:
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        return number and (sql_type not in _INTS or isinstance(value, int))
    if not isinstance(value, str):
        return False
    try:
        if sql_type in _TIMES:
            _TIMES[sql_type].fromisoformat(value)
        elif sql_type == "uuid":
            uuid.UUID(value)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class ConnectionOf:
    """The `extensions["fraiseql"]` of a connection type: the node type it pages through
    (its TypeDef names the sql_source a Repository call without a view reads)."""

    typedef: Any
    node: GraphQLObjectType


class ConnectionTypes:
    """`TConnection`, `TEdge` and the one `PageInfo` of a schema, each built once. Their
    fields read the keys of the page document; FieldInfo comes from the schema builder."""

    def __init__(self, stored_field: Any) -> None:
        self._field = stored_field  # (GraphQL type, document key) -> GraphQLField
        self._connections: dict[str, GraphQLObjectType] = {}
        self.page_info = GraphQLObjectType(
            "PageInfo",
            lambda: {
                "hasNextPage": self._field(GraphQLNonNull(GraphQLBoolean), "has_next_page"),
                "hasPreviousPage": self._field(GraphQLNonNull(GraphQLBoolean), "has_previous_page"),
                "startCursor": self._field(GraphQLString, "start_cursor"),
                "endCursor": self._field(GraphQLString, "end_cursor"),
            },
            description="Where a connection page is in the whole list.",
        )

    def connection(self, node: GraphQLObjectType, typedef: Any) -> GraphQLObjectType:
        name = f"{node.name}Connection"
        if name not in self._connections:
            edge = GraphQLObjectType(
                f"{node.name}Edge",
                lambda: {
                    "cursor": self._field(GraphQLNonNull(GraphQLString), "cursor"),
                    "node": self._field(GraphQLNonNull(node), "node"),
                },
            )
            self._connections[name] = GraphQLObjectType(
                name,
                lambda: {
                    "edges": self._field(
                        GraphQLNonNull(GraphQLList(GraphQLNonNull(edge))), "edges"
                    ),
                    "pageInfo": self._field(GraphQLNonNull(self.page_info), "page_info"),
                    "totalCount": self._field(GraphQLNonNull(GraphQLInt), "total_count"),
                },
                description=f"A page of {node.name} documents (Relay connection).",
                extensions={"fraiseql": ConnectionOf(typedef, node)},
            )
        return self._connections[name]
