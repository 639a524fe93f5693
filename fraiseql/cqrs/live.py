"""Change notification for live queries on tables fraiseql did not generate.

Generated qm_ tables notify the keys each statement changed, and mv_ models notify after
each refresh (sql/0002_live.sql); `enable_live` installs the same statement-level triggers
on a hand-written table of documents, identified by its column `key`. Idempotent.
"""

from __future__ import annotations

from typing import Any

from fraiseql.cqrs.migrations import migrate

__all__ = ["enable_live"]


async def enable_live(conn: Any, relation: str, key: str = "id") -> None:
    """Make `relation` (a table, e.g. "qm_user" or "app.docs") notify fraiseql.live of the
    keys each statement changes; fraiseql's own migrations are applied first if pending.
    Raises the database's error naming the relation when it is not a table or has no `key`."""
    await migrate(conn)
    await conn.execute("SELECT fraiseql.enable_live($1::text::regclass, $2)", relation, key)
