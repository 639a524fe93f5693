"""What the executor tells the Repository about the field being resolved (context variables).

Each asyncio task sees its own values (context variables are copied into tasks), so
concurrent resolvers do not interfere.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any, NamedTuple

__all__ = ["Field", "current_field", "current_selection"]

current_selection: ContextVar[Any] = ContextVar("fraiseql_current_selection", default=None)
"""A hook for code that drives the rewriter itself (fraiseql's executor sets `current_field`).

Set it to the compiled `fraiseql.Selection` of the field being resolved (and reset it
afterwards, e.g. `token = current_selection.set(sel); try: ... finally:
current_selection.reset(token)`). While it is set, `Repository.find_one` returns the
rewritten object as JSON bytes (b"null" when there is no row) and `Repository.find` one
JSON array as bytes: ready to be spliced into the response without parsing. `count` and
`exists` are unaffected.
"""


class Field(NamedTuple):
    """The field being resolved, as the executor sets it (one context variable per call)."""

    selection: Any  # its compiled Selection on the fast path; None on graphql-core's
    object_type: Any  # the named graphql-core type it returns
    # the values of its generated list/connection arguments (fraiseql.arguments), if any
    arguments: Any = None


current_field: ContextVar[Field | None] = ContextVar("fraiseql_current_field", default=None)
"""The field being resolved, set by the executor on both paths.

A Repository call without a view reads the `sql_source` of its `object_type`; with its
`selection` set, find/find_one return the rewritten JSON (as with `current_selection`);
with none, documents are decoded for graphql-core with their numbers' stored digits
(`fraiseql.scalars.decode_document`).
"""
