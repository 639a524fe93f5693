"""ContextDB: a pool or connection bound to one request's context (row-level security)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fraiseql.db.connection import Connection, Record
    from fraiseql.db.pool import Pool


class ContextDB:
    """A pool or connection bound to a request context: every call applies the pool's
    session settings (e.g. tenant_id -> app.tenant_id) in the same transaction."""

    def __init__(self, db: Pool | Connection, context: Mapping[str, Any]) -> None:
        self.db, self.context = db, context

    async def fetch(self, sql: str, *args: Any, timeout: float | None = None) -> list[Record]:
        return await self.db.fetch(sql, *args, timeout=timeout, context=self.context)

    async def fetchrow(self, sql: str, *args: Any, timeout: float | None = None) -> Record | None:
        return await self.db.fetchrow(sql, *args, timeout=timeout, context=self.context)

    async def fetchval(self, sql: str, *args: Any, timeout: float | None = None) -> Any:
        return await self.db.fetchval(sql, *args, timeout=timeout, context=self.context)

    async def execute(self, sql: str, *args: Any, timeout: float | None = None) -> str:
        return await self.db.execute(sql, *args, timeout=timeout, context=self.context)

    async def fetch_json(
        self,
        sql: str,
        *args: Any,
        selection: Any = None,
        many: bool = False,
        timeout: float | None = None,
        page: bool = False,
    ) -> bytes:
        return await self.db.fetch_json(
            sql,
            *args,
            selection=selection,
            many=many,
            timeout=timeout,
            context=self.context,
            page=page,
        )
