"""The one place the CQRS tools open database connections.

The code in fraiseql.cqrs uses only asyncpg-style methods (execute, fetch, fetchrow, fetchval,
transaction()), which fraiseql's own driver provides. LISTEN, which the debounced refresher
needs, is not in fraiseql's driver yet: `listen_connection` opens an asyncpg connection for
it (asyncpg is in the `test` and `bench` extras), the one place to change when it is.
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["connect", "listen_connection", "resolve_dsn"]


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


async def listen_connection(dsn: str | None = None) -> Any:
    """A connection with `add_listener(channel, callback)` for LISTEN/NOTIFY."""
    try:
        import asyncpg
    except ImportError:
        raise RuntimeError("the debounced refresher listens with asyncpg until fraiseql's driver "
                           "supports LISTEN: pip install asyncpg") from None
    return await asyncpg.connect(resolve_dsn(dsn))
