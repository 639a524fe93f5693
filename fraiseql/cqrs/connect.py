"""The one place the CQRS tools open a database connection.

The code in fraiseql.cqrs uses only asyncpg-style methods (execute, fetch, fetchrow, fetchval,
transaction(), add_listener for the debounced refresher), so switching to fraiseql's own
driver is a change of this function.
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["connect", "resolve_dsn"]


def resolve_dsn(dsn: str | None) -> str:
    """`dsn`, else $DATABASE_URL, else a ValueError saying how to give one."""
    found = dsn or os.environ.get("DATABASE_URL")
    if not found:
        raise ValueError("no database given: pass --dsn postgresql://... or set DATABASE_URL")
    return found


async def connect(dsn: str | None = None) -> Any:
    """An open connection to `dsn` (or $DATABASE_URL)."""
    import asyncpg  # imported here: the rest of fraiseql does not need it

    return await asyncpg.connect(resolve_dsn(dsn))
