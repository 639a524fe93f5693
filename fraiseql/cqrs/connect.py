"""The one place the CQRS tools open database connections.

The code in fraiseql.cqrs uses only asyncpg-style methods (execute, fetch, fetchrow, fetchval,
transaction(), add_listener()), which fraiseql's own driver provides; tests also pass asyncpg
connections, so the tools work with either.
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
    """An open fraiseql connection to `dsn` (or $DATABASE_URL)."""
    from fraiseql.db import connect as fraiseql_connect

    return await fraiseql_connect(resolve_dsn(dsn))
