"""What the executor tells the Repository about the field being resolved (context variables).

Each asyncio task sees its own values (context variables are copied into tasks), so
concurrent resolvers do not interfere.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

__all__ = ["current_selection", "current_type"]

current_selection: ContextVar[Any] = ContextVar("fraiseql_current_selection", default=None)
"""The hook for the GraphQL executor's fast path.

Set it to the compiled `fraiseql.Selection` of the field being resolved (and reset it
afterwards, e.g. `token = current_selection.set(sel); try: ... finally:
current_selection.reset(token)`). While it is set, `Repository.find_one` returns the
rewritten object as JSON bytes (b"null" when there is no row) and `Repository.find` one
JSON array as bytes: ready to be spliced into the response without parsing. `count` and
`exists` are unaffected.
"""

current_type: ContextVar[Any] = ContextVar("fraiseql_current_type", default=None)
"""The graphql-core object type the field being resolved returns (on both paths).

A Repository call without a view reads that type's `sql_source`; while it is set and no
selection is, documents are decoded for graphql-core with their numbers' stored digits
(`fraiseql.scalars.decode_document`).
"""
