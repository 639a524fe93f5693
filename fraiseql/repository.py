"""Repository: reads from read models (qm_/mv_/tv_ views) by filters, safely.

    repo = Repository(info.context["db"], info.context)
    user = await repo.find_one("qm_user", id=1)
    user = await repo.find_one(id=1)        # inside a resolver of a field returning User:
                                            # User's sql_source (and jsonb_column)
    users = await repo.find(User, where={"email": {"eq": "a@b.c"}})   # or name the type

Outside GraphQL, results are Python dicts (the stored document's keys). Inside the GraphQL
fast path the executor sets `current_field` with the field's compiled `fraiseql.Selection`;
then `find_one`/`find` return the raw JSON fragment as bytes, rewritten in C straight from
libpq's buffer (camelCase, selected fields, __typename). On graphql-core's path (a mutation,
a computed field) they return dicts whose non-integers keep their stored digits
(`fraiseql.scalars.StoredFloat`, a float), so that both paths write a stored `14.00` alike.

Filters name columns of the view, keys of its document declared by its GraphQL type or its
`fraiseql.cqrs` read model ("email"), or JSONB paths ("data.author.name"); any other name
is a FilterError before the query runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from graphql import GraphQLObjectType

from fraiseql._native import native
from fraiseql.current import current_field, current_selection
from fraiseql.db import ContextDB
from fraiseql.scalars import decode_document, for_column
from fraiseql.schema import object_type_of, stored_fields
from fraiseql.sources import DEFAULT_JSONB_COLUMN, read_model_document, relation_columns
from fraiseql.types import TypeDef, get_registry
from fraiseql.where import (
    FilterError,
    SQLBuilder,
    ViewInfo,
    check_count,
    quote_ident,
    quote_relation,
)

__all__ = ["Repository", "current_field", "current_selection", "FilterError"]

View = str | type | None
"""A view name, a `@fraiseql.type` class (its sql_source), or None: the type of the field
being resolved."""


def _has_none(values: Iterable[Any]) -> bool:
    for v in values:
        if v is None:
            return True
    return False


def _typedef(gtype: GraphQLObjectType | None) -> TypeDef | None:
    typedef = (gtype.extensions or {}).get("fraiseql") if gtype is not None else None
    return typedef if isinstance(typedef, TypeDef) else None


def _current_type() -> Any:
    field = current_field.get()
    return None if field is None else field.object_type


def _class_typedef(cls: Any) -> TypeDef | None:
    typedef = get_registry().types.get(cls) if isinstance(cls, type) else None
    if typedef is None or typedef.is_input:
        raise FilterError(f"{cls!r} is neither a view name nor a @fraiseql.type class")
    return typedef


def _object_type(origin: Any) -> GraphQLObjectType | None:
    """The GraphQL object type of a resolved field's type or of a `@fraiseql.type` class."""
    if isinstance(origin, GraphQLObjectType):
        return origin
    # a class named by the caller; else a field returning a scalar: no type to learn from
    return object_type_of(origin) if isinstance(origin, type) else None


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
            return self._jsonb_column.get(view, DEFAULT_JSONB_COLUMN)
        return self._jsonb_column

    def _source(self, view: View) -> tuple[str, str, Any]:
        """(view name, document column, the GraphQL type or class it came from, if any)."""
        if type(view) is str:
            column = self._jsonb_column
            return view, column if type(column) is str else self._json_column_for(view), None
        origin: Any = _current_type() if view is None else view
        if view is None and origin is None:
            raise FilterError(
                "a Repository call without a view name reads the sql_source of the type of "
                "the field being resolved, and no field is; pass the view name or the "
                "@fraiseql.type class"
            )
        typedef = _typedef(origin) if view is None else _class_typedef(view)
        if typedef is None or typedef.sql_source is None:
            name = getattr(origin, "name", None) or getattr(origin, "__name__", repr(origin))
            raise FilterError(
                f"type {name} has no sql_source: declare @fraiseql.type(sql_source=...) "
                "or pass the view name"
            )
        return typedef.sql_source, typedef.jsonb_column or DEFAULT_JSONB_COLUMN, origin

    async def _view(self, view: str, column: str, origin: Any = None) -> ViewInfo:
        info = self.db.view_cache.get((view, column))
        if info is None:
            relation = quote_relation(view)
            quote_ident(column, "jsonb column name")
            columns = await relation_columns(self.db, view)
            if not columns:
                raise FilterError(f"view {view!r} does not exist (or has no columns)")
            info = ViewInfo(relation, view, columns)
            if info.is_json(column):
                info.json_column = column
                document = await read_model_document(self.db, view)
                for key, found in (document or {}).items():
                    info.fields[key] = for_column(found.pg_type)
            self.db.view_cache[(view, column)] = info
        origin = origin if origin is not None else _current_type()
        name = getattr(origin, "name", None) or getattr(origin, "__name__", None)
        if origin is not None and name not in info.declared_by:  # once per type and view
            gtype = _object_type(origin)
            typedef = _typedef(gtype)
            if typedef is not None and typedef.sql_source == view:
                info.fields.update(stored_fields(gtype))  # the GraphQL type names the scalars
            info.declared_by.add(name)
        return info

    def clear_catalog_cache(self) -> None:
        """Forget the views' columns read through this repository's pool (and its
        connections) or connection, after a migration changed them."""
        self.db.clear_view_cache()

    # -- queries --

    async def _select(
        self,
        source: tuple[str, str, Any],
        where: Any,
        order_by: Any,
        limit: Any,
        offset: Any,
        eq: Mapping[str, Any],
    ) -> tuple[str, list[Any]]:
        info = await self._view(*source)
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
        # Only columns bind the value as given (a document key's SQL and parameter depend on
        # the value); None is matched with IS NULL, not bound.
        if (
            not where
            and not order_by
            and not _has_none(eq.values())
            and all(k in info.columns for k in eq)
        ):
            info.lookup_sql[(tuple(eq), limit is not None, offset is not None)] = sql + tail
        return sql + tail, b.params

    def _cached_select(
        self, view: str, column: str, limit: Any, offset: Any, eq: Mapping[str, Any]
    ) -> tuple[str, list[Any]] | None:
        """The SQL and parameters of an equality lookup (no where, no order_by) whose SQL was
        built before, or None: the per-request hot path, without SQLBuilder or a coroutine."""
        info = self.db.view_cache.get((view, column))  # the per-request hot path: a dict get
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

    async def _exact_documents(self, sql: str, params: list[Any], many: bool) -> Any:
        # graphql-core's path: the documents with their numbers' stored digits. Also the
        # fast path's when a document holds a null where the schema forbids one
        #: the executor has graphql-core complete them, which
        # propagates the null, so the resolver runs once (the read is repeated).
        raw = await self.db.fetch_json(sql, *params, many=many, context=self.context)
        return decode_document(raw)

    async def find_one(self, view: View = None, /, **eq: Any) -> Any:
        """The one document matching field = value for each keyword, or None.
        With a GraphQL selection active: JSON bytes (b"null" when none)."""
        column, origin = self._jsonb_column, None  # a view name and one column: inline
        if type(view) is not str or type(column) is not str:
            view, column, origin = self._source(view)
        cached = self._cached_select(view, column, 1, None, eq)
        sql, params = (
            cached
            if cached is not None
            else await self._select((view, column, origin), None, None, 1, None, eq)
        )
        field = current_field.get()
        if field is None:  # outside the executor: a manual selection, or Python data
            selection = current_selection.get()
            if selection is None:
                return await self.db.fetchval(sql, *params, context=self.context)
        else:
            selection = field.selection
            if selection is None:
                return await self._exact_documents(sql, params, False)
        # the fast path: the field's fragment, rewritten in C
        try:
            return await self.db.fetch_json(sql, *params, selection=selection, context=self.context)
        except native.NonNullError:
            if field is None:
                raise
            return await self._exact_documents(sql, params, False)  # see _exact_documents

    async def find(
        self,
        view: View = None,
        /,
        where: Mapping[str, Any] | None = None,
        order_by: Any = None,
        limit: int | None = None,
        offset: int | None = None,
        **eq: Any,
    ) -> Any:
        """Documents matching `where` and the keyword equalities, as a list of dicts.
        With a GraphQL selection active: one JSON array as bytes."""
        column, origin = self._jsonb_column, None  # a view name and one column: inline
        if type(view) is not str or type(column) is not str:
            view, column, origin = self._source(view)
        cached = None if where or order_by else self._cached_select(view, column, limit, offset, eq)
        sql, params = (
            cached
            if cached is not None
            else await self._select((view, column, origin), where, order_by, limit, offset, eq)
        )
        field = current_field.get()
        if field is None:  # outside the executor: a manual selection, or Python data
            selection = current_selection.get()
            if selection is None:
                return [r[0] for r in await self.db.fetch(sql, *params, context=self.context)]
        else:
            selection = field.selection
            if selection is None:
                return await self._exact_documents(sql, params, True)
        # the fast path: the fragments, rewritten in C
        try:
            return await self.db.fetch_json(
                sql, *params, selection=selection, many=True, context=self.context
            )
        except native.NonNullError:
            if field is None:
                raise
            return await self._exact_documents(sql, params, True)  # see _exact_documents

    async def _aggregate(self, view: View, where: Any, eq: Mapping[str, Any], exists: bool) -> Any:
        info = await self._view(*self._source(view))
        b = SQLBuilder(info)
        cond = b.where(where, eq)
        inner = f"FROM {info.relation} AS t" + (f" WHERE {cond}" if cond else "")
        sql = f"SELECT EXISTS (SELECT 1 {inner})" if exists else f"SELECT count(*) {inner}"
        return await self.db.fetchval(sql, *b.params, context=self.context)

    async def count(
        self, view: View = None, /, where: Mapping[str, Any] | None = None, **eq: Any
    ) -> int:
        """Number of rows matching."""
        return await self._aggregate(view, where, eq, exists=False)

    async def exists(
        self, view: View = None, /, where: Mapping[str, Any] | None = None, **eq: Any
    ) -> bool:
        """Whether any row matches."""
        return await self._aggregate(view, where, eq, exists=True)
