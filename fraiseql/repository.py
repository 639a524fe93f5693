"""Repository: reads from read models (qm_/mv_/tv_ views) by filters, safely.

    repo = Repository(info.context["db"], info.context)
    user = await repo.find_one("qm_user", id=1)

Outside GraphQL, results are Python dicts (the stored document's keys). Inside the GraphQL
fast path the executor sets `current_selection` (below) to the field's compiled
`fraiseql.Selection`; then `find_one`/`find` return the raw JSON fragment as bytes,
rewritten in C straight from libpq's buffer (camelCase, selected fields, __typename).
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any

from fraiseql.db import ContextDB
from fraiseql.where import FilterError, SQLBuilder, ViewInfo, quote_ident, quote_relation

__all__ = ["Repository", "current_selection", "FilterError"]

current_selection: ContextVar[Any] = ContextVar("fraiseql_current_selection", default=None)
"""The hook for the GraphQL executor.

Set it to the compiled `fraiseql.Selection` of the field being resolved (and reset it
afterwards, e.g. `token = current_selection.set(sel); try: ... finally:
current_selection.reset(token)`). While it is set, `Repository.find_one` returns the
rewritten object as JSON bytes (b"null" when there is no row) and `Repository.find` one
JSON array as bytes: ready to be spliced into the response without parsing. `count` and
`exists` are unaffected. Each asyncio task sees its own value (context variables are
copied into tasks), so concurrent resolvers do not interfere.
"""

_CATALOG_SQL = """
SELECT a.attname::text AS name, t.typname::text AS type
FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""

# Per database object (pool or connection): view name -> ViewInfo, read once from the catalog.
_catalogs: weakref.WeakKeyDictionary[Any, dict[tuple[str, str | None], ViewInfo]] = weakref.WeakKeyDictionary()


class Repository:
    """find_one / find / count / exists over a view, for one request.

    db: a fraiseql Pool or Connection (or `pool.with_context(...)`); context: the request's
    context, whose keys named in the pool's `session_settings` (e.g. tenant_id) are applied
    with set_config(..., true) in the same transaction as each query, for row-level security.
    jsonb_column: the document column, "data" by default; a {view: column} dict configures
    it per view. A view without that column is read whole with row_to_json.
    """

    def __init__(self, db: Any, context: Mapping[str, Any] | None = None, *,
                 jsonb_column: str | Mapping[str, str] = "data") -> None:
        if isinstance(db, ContextDB):
            context = {**db.context, **(context or {})}
            db = db.db
        self.db = db
        self.context = context
        self._jsonb_column = jsonb_column

    # -- catalog --

    def _json_column_for(self, view: str) -> str:
        if isinstance(self._jsonb_column, Mapping):
            return self._jsonb_column.get(view, "data")
        return self._jsonb_column

    async def _view(self, view: str) -> ViewInfo:
        json_column = self._json_column_for(view)
        cache = _catalogs.setdefault(self.db, {})
        info = cache.get((view, json_column))
        if info is not None:
            return info
        relation = quote_relation(view)
        quote_ident(json_column, "jsonb column name")
        rows = await self.db.fetch(_CATALOG_SQL, relation)
        if not rows:
            raise FilterError(f"view {view!r} does not exist (or has no columns)")
        columns = {r["name"]: r["type"] for r in rows}
        info = ViewInfo(relation, view, columns)
        if info.is_json(json_column):
            info.json_column = json_column
        cache[(view, json_column)] = info
        return info

    @staticmethod
    def clear_catalog_cache() -> None:
        """Forget the views' columns (after a migration changed them)."""
        _catalogs.clear()

    # -- queries --

    async def _select(self, view: str, where: Any, order_by: Any, limit: Any, offset: Any,
                      eq: Mapping[str, Any]) -> tuple[str, list[Any]]:
        info = await self._view(view)
        b = SQLBuilder(info)
        cond = b.where(where, eq)
        order = b.order_by(order_by)
        tail = b.limit(limit, offset)
        doc = f"t.{quote_ident(info.json_column)}" if info.json_column else "row_to_json(t)"
        sql = f"SELECT {doc} FROM {info.relation} AS t"
        if cond:
            sql += f" WHERE {cond}"
        if order:
            sql += f" ORDER BY {order}"
        return sql + tail, b.params

    async def find_one(self, view: str, **eq: Any) -> Any:
        """The one document matching column = value for each keyword, or None.
        With a GraphQL selection active: JSON bytes (b"null" when none)."""
        info = await self._view(view)
        key = tuple(eq)
        sql = info.lookup_sql.get(key)  # the hot path: built and validated once per key set
        if sql is None or any(v is None for v in eq.values()):
            sql, params = await self._select(view, None, None, 1, None, eq)
            if not any(v is None for v in eq.values()):
                info.lookup_sql[key] = sql
        else:
            params = [*eq.values(), 1]
        selection = current_selection.get()
        if selection is not None:
            return await self.db.fetch_json(sql, *params, selection=selection, context=self.context)
        return await self.db.fetchval(sql, *params, context=self.context)

    async def find(self, view: str, where: Mapping[str, Any] | None = None, order_by: Any = None,
                   limit: int | None = None, offset: int | None = None, **eq: Any) -> Any:
        """Documents matching `where` and the keyword equalities, as a list of dicts.
        With a GraphQL selection active: one JSON array as bytes."""
        sql, params = await self._select(view, where, order_by, limit, offset, eq)
        selection = current_selection.get()
        if selection is not None:
            return await self.db.fetch_json(sql, *params, selection=selection, many=True,
                                            context=self.context)
        rows = await self.db.fetch(sql, *params, context=self.context)
        return [r[0] for r in rows]

    async def _aggregate(self, view: str, where: Any, eq: Mapping[str, Any], exists: bool) -> Any:
        info = await self._view(view)
        b = SQLBuilder(info)
        cond = b.where(where, eq)
        inner = f"FROM {info.relation} AS t" + (f" WHERE {cond}" if cond else "")
        sql = f"SELECT EXISTS (SELECT 1 {inner})" if exists else f"SELECT count(*) {inner}"
        return await self.db.fetchval(sql, *b.params, context=self.context)

    async def count(self, view: str, where: Mapping[str, Any] | None = None, **eq: Any) -> int:
        """Number of rows matching."""
        return await self._aggregate(view, where, eq, exists=False)

    async def exists(self, view: str, where: Mapping[str, Any] | None = None, **eq: Any) -> bool:
        """Whether any row matches."""
        return await self._aggregate(view, where, eq, exists=True)
