"""Repository: reads from read models (qm_/mv_/tv_ views) by filters, safely.

    repo = Repository(info.context["db"], info.context)
    user = await repo.find_one("qm_user", id=1)

Outside GraphQL, results are Python dicts (the stored document's keys). Inside the GraphQL
fast path the executor sets `current_selection` (below) to the field's compiled
`fraiseql.Selection`; then `find_one`/`find` return the raw JSON fragment as bytes,
rewritten in C straight from libpq's buffer (camelCase, selected fields, __typename).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from typing import Any

from fraiseql.db import ContextDB
from fraiseql.where import (
    FilterError,
    SQLBuilder,
    ViewInfo,
    check_count,
    quote_ident,
    quote_relation,
)

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


def _has_none(values: Iterable[Any]) -> bool:
    for v in values:
        if v is None:
            return True
    return False


class Repository:
    """find_one / find / count / exists over a view, for one request.

    db: a fraiseql Pool or Connection (or `pool.with_context(...)`); context: the request's
    context, whose keys named in the pool's `session_settings` (e.g. tenant_id) are applied
    with set_config(..., true) in the same transaction as each query, for row-level security.
    jsonb_column: the document column, "data" by default; a {view: column} dict configures
    it per view. A view without that column is read whole with row_to_json.
    """

    def __init__(
        self,
        db: Any,
        context: Mapping[str, Any] | None = None,
        *,
        jsonb_column: str | Mapping[str, str] = "data",
    ) -> None:
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

    def _cached_view(self, view: str) -> ViewInfo | None:
        column = self._jsonb_column  # the per-request hot path: the db's ViewCache
        return self.db.view_cache.get(
            (view, column if type(column) is str else self._json_column_for(view))
        )

    async def _view(self, view: str) -> ViewInfo:
        info = self._cached_view(view)
        if info is not None:
            return info
        json_column = self._json_column_for(view)
        relation = quote_relation(view)
        quote_ident(json_column, "jsonb column name")
        rows = await self.db.fetch(_CATALOG_SQL, relation)
        if not rows:
            raise FilterError(f"view {view!r} does not exist (or has no columns)")
        columns = {r["name"]: r["type"] for r in rows}
        info = ViewInfo(relation, view, columns)
        if info.is_json(json_column):
            info.json_column = json_column
        self.db.view_cache[(view, json_column)] = info
        return info

    def clear_catalog_cache(self) -> None:
        """Forget the views' columns read through this repository's pool (and its
        connections) or connection, after a migration changed them."""
        self.db.clear_view_cache()

    # -- queries --

    async def _select(
        self, view: str, where: Any, order_by: Any, limit: Any, offset: Any, eq: Mapping[str, Any]
    ) -> tuple[str, list[Any]]:
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
        # Only plain columns bind the value as given (a JSON path's SQL depends on the value);
        # None is matched with IS NULL, not bound.
        if (
            not where
            and not order_by
            and not _has_none(eq.values())
            and not any("." in k for k in eq)
        ):
            info.lookup_sql[(tuple(eq), limit is not None, offset is not None)] = sql + tail
        return sql + tail, b.params

    def _cached_select(
        self, view: str, limit: Any, offset: Any, eq: Mapping[str, Any]
    ) -> tuple[str, list[Any]] | None:
        """The SQL and parameters of an equality lookup (no where, no order_by) whose SQL was
        built before, or None: the per-request hot path, without SQLBuilder or a coroutine."""
        info = self._cached_view(view)
        sql = (
            None
            if info is None
            else info.lookup_sql.get((tuple(eq), limit is not None, offset is not None))
        )
        if sql is None:
            return None
        params = [*eq.values()]
        if _has_none(params):
            return None
        if limit is not None:
            params.append(check_count("limit", limit))
        if offset is not None:
            params.append(check_count("offset", offset))
        return sql, params

    async def find_one(self, view: str, **eq: Any) -> Any:
        """The one document matching column = value for each keyword, or None.
        With a GraphQL selection active: JSON bytes (b"null" when none)."""
        cached = self._cached_select(view, 1, None, eq)
        sql, params = (
            cached if cached is not None else await self._select(view, None, None, 1, None, eq)
        )
        selection = current_selection.get()
        if selection is not None:
            return await self.db.fetch_json(sql, *params, selection=selection, context=self.context)
        return await self.db.fetchval(sql, *params, context=self.context)

    async def find(
        self,
        view: str,
        where: Mapping[str, Any] | None = None,
        order_by: Any = None,
        limit: int | None = None,
        offset: int | None = None,
        **eq: Any,
    ) -> Any:
        """Documents matching `where` and the keyword equalities, as a list of dicts.
        With a GraphQL selection active: one JSON array as bytes."""
        cached = None if where or order_by else self._cached_select(view, limit, offset, eq)
        sql, params = (
            cached
            if cached is not None
            else await self._select(view, where, order_by, limit, offset, eq)
        )
        selection = current_selection.get()
        if selection is not None:
            return await self.db.fetch_json(
                sql, *params, selection=selection, many=True, context=self.context
            )
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
