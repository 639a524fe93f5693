"""The generated arguments of list and connection root fields, and what they ask for.

A root query returning `list[T]` (T a `@fraiseql.type` with a `sql_source`) gets `where`,
`orderBy`, `limit` and `offset`; one returning `fraiseql.Connection[T]` gets `first`,
`after`, `last`, `before`, `where` and `orderBy` -- each unless the function declares a
parameter of that name itself. Their values are not passed to the function: the executor
(both paths) hands them to the Repository through `fraiseql.current.Field.arguments`, and
`Repository.find`/`paginate` on T's `sql_source` apply them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from fraiseql.where import ArgumentError

__all__ = ["DEFAULT_MAX_LIMIT", "Generated", "FieldArguments", "LIST", "CONNECTION", "Window"]

DEFAULT_MAX_LIMIT = 1000
LIST = "list"
CONNECTION = "connection"
# Python names of the arguments each kind generates (GraphQL names are their camelCase)
GENERATED_NAMES = {
    LIST: ("where", "order_by", "limit", "offset"),
    CONNECTION: ("first", "after", "last", "before", "where", "order_by"),
}


@dataclass(frozen=True)
class Generated:
    """What a root field generates: its kind, the argument names it got (those the function
    did not declare), the type whose sql_source they filter, and the bound of a page."""

    kind: str
    names: tuple[str, ...]
    typedef: Any  # fraiseql.types.TypeDef of T
    max_limit: int


class FieldArguments(NamedTuple):
    """The generated arguments' values of the field being resolved (Python names)."""

    generated: Generated
    values: Mapping[str, Any]
    total: bool = False  # a connection's totalCount is selected


class Window(NamedTuple):
    """A connection page as asked: `count` rows forward (first) or backward (last) from
    the `after`/`before` cursors."""

    count: int
    backward: bool
    after: str | None
    before: str | None


def _bounded(name: str, value: Any, max_limit: int) -> int | None:
    if value is None:
        return None
    if not 0 <= value <= max_limit:
        raise ArgumentError(f"{name} must be between 0 and {max_limit}, got {value}")
    return value  # type: ignore[no-any-return]


def order_items(order_by: Any) -> list[tuple[str, str]]:
    """`orderBy` entries ({"created_at": "desc"}, one field each) as (key, direction)."""
    items = []
    for entry in order_by or ():
        if len(entry) != 1:
            names = ", ".join(entry) or "none"
            raise ArgumentError(
                f"each orderBy entry names exactly one field (got {names}): "
                "write [{a: ASC}, {b: DESC}]"
            )
        items.extend(entry.items())
    return items


def combined_where(given: Any, own: Any) -> Any:
    """The field's `where` AND the one the resolver passed."""
    if not given:
        return own
    return given if not own else {"and": [own, given]}


def list_window(
    args: FieldArguments, limit: int | None, offset: int | None
) -> tuple[int | None, int | None]:
    """LIMIT and OFFSET: the client's window inside the one the resolver passed."""
    values, bound = args.values, args.generated.max_limit
    client_limit = _bounded("limit", values.get("limit"), bound)
    client_offset = values.get("offset")
    if client_offset is not None and client_offset < 0:
        raise ArgumentError(f"offset must be at least 0, got {client_offset}")
    if offset is not None or client_offset is not None:
        offset = (offset or 0) + (client_offset or 0)
    if limit is not None and client_offset:
        limit = max(limit - client_offset, 0)
    if client_limit is not None:
        limit = client_limit if limit is None else min(limit, client_limit)
    return (bound if limit is None else limit), offset  # a list never holds more than the bound


def list_request(
    args: FieldArguments, where: Any, order_by: Any, limit: int | None, offset: int | None
) -> tuple[Any, list[Any], int | None, int | None]:
    """A list field's where, order_by, limit and offset: the client's generated arguments
    combined with those its resolver passed (the client's window inside the resolver's)."""
    limit, offset = list_window(args, limit, offset)
    order = [*order_items(args.values.get("order_by")), *(order_by or ())]
    return combined_where(args.values.get("where"), where), order, limit, offset


def connection_window(args: FieldArguments) -> Window:
    values, bound = args.values, args.generated.max_limit
    first = _bounded("first", values.get("first"), bound)
    last = _bounded("last", values.get("last"), bound)
    if first is not None and last is not None:
        raise ArgumentError("first and last cannot be used together: page one way at a time")
    count = bound if first is None and last is None else first if last is None else last
    return Window(count, last is not None, values.get("after"), values.get("before"))  # type: ignore[arg-type]
