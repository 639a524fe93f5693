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

from collections.abc import AsyncIterator, Awaitable, Mapping
from typing import Any

from graphql import GraphQLObjectType, is_abstract_type

from fraiseql import relay
from fraiseql._native import native
from fraiseql.arguments import (
    CONNECTION,
    LIST,
    FieldArguments,
    combined_where,
    connection_window,
    list_request,
    order_items,
)
from fraiseql.current import current_field, current_selection
from fraiseql.db import ContextDB
from fraiseql.documents import STORED, Document
from fraiseql.errors import DatabaseError
from fraiseql.scalars import decode_document, for_column
from fraiseql.schema import object_type_of, stored_fields
from fraiseql.sources import (
    DEFAULT_JSONB_COLUMN,
    DocField,
    not_null_columns,
    read_model_document,
    relation_columns,
)
from fraiseql.statements import MAX_STATEMENTS, Statement, order_key, shape_of
from fraiseql.types import TypeDef, get_registry
from fraiseql.where import (
    ArgumentError,
    FilterError,
    Shape,
    SQLBuilder,
    ViewInfo,
    quote_ident,
    quote_relation,
    render_order,
)

__all__ = ["Repository", "current_field", "current_selection", "FilterError", "ArgumentError"]

INVALID_REGEX = "2201B"  # a `matches` pattern PostgreSQL cannot compile: the client's error

View = str | type | None
"""A view name, a `@fraiseql.type` class (its sql_source), or None: the type of the field
being resolved."""


def _doc_shape(found: DocField) -> Shape:
    """How a read model's stored key filters: its column's scalar, or its embedded keys."""
    if found.kind != "value":
        fields = {k: _doc_shape(v) for k, v in found.fields.items()}
        return Shape(fields=fields, many=found.kind == "many")
    pg_type = found.pg_type or ""
    if pg_type.startswith("_"):  # an array column: a list of values
        return Shape(for_column(pg_type[1:]), many=True)
    return Shape(for_column(pg_type))


def _document_sql(info: ViewInfo) -> str:
    """The SQL of a row's document: its JSON column, or the whole row."""
    return f"t.{quote_ident(info.json_column)}" if info.json_column else "row_to_json(t)"


def _keep(info: ViewInfo, shape: Any, sql: str, b: SQLBuilder) -> None:
    """Cache the statement `b` built for `shape` (None: a shape that cannot be a key)."""
    if shape is not None and len(info.statements) < MAX_STATEMENTS:
        info.statements[shape] = Statement(sql, tuple(b.binders))


def _find_sql(
    info: ViewInfo,
    where: Any,
    order_by: Any,
    limit: Any,
    offset: Any,
    eq: Mapping[str, Any],
    key: str | None,
) -> tuple[str, list[Any]]:
    """The SELECT of a find over `info` and its parameters: rendered once per shape of the
    request, then only bound (values are always parameters, whatever the cache holds)."""
    values = {"where": where, "eq": eq, "limit": limit, "offset": offset}
    # An equality lookup on columns (find_one by key: the hot path) renders the same SQL
    # for any values but None (IS NULL): its names are its shape.
    lookup = None
    if where is None and not order_by and not _has_none(eq.values()):
        lookup = (tuple(eq), limit is None, offset is None, key)
        found = info.statements.get(lookup)
        if found is not None:
            return found.sql, found.bind(values)
        if not all(name in info.columns for name in eq):
            lookup = None  # document keys compare as the values' types say
    order = order_key(order_by) if order_by else ()
    shape = lookup
    if shape is None and order is not None:
        where_shape = None if where is None else shape_of(where)
        shape = (where_shape, order, shape_of(eq), limit is None, offset is None, key)
    found = None if shape is None else info.statements.get(shape)
    if found is not None:
        return found.sql, found.bind(values)
    b = SQLBuilder(info)
    cond = b.where(where, eq)
    order_sql = b.order_by(order_by, key)
    tail = b.limit(limit, offset)
    sql = f"SELECT {_document_sql(info)} FROM {info.relation} AS t"
    if cond:
        sql += f" WHERE {cond}"
    if order_sql:
        sql += f" ORDER BY {order_sql}"
    _keep(info, shape, sql + tail, b)
    return sql + tail, b.params


def _has_none(values: Any) -> bool:
    for v in values:
        if v is None:
            return True
    return False


def _type_name(origin: Any) -> str | None:
    return getattr(origin, "name", None) or getattr(origin, "__name__", None)


def _field_arguments(kind: str, view: str) -> FieldArguments | None:
    """The generated arguments of the field being resolved, when they filter `view`."""
    field = current_field.get()
    args = None if field is None else field.arguments
    if args is None or args.generated.kind != kind or args.generated.typedef.sql_source != view:
        return None
    return args  # type: ignore[no-any-return]


def _typedef(gtype: GraphQLObjectType | None) -> TypeDef | None:
    typedef = (gtype.extensions or {}).get("fraiseql") if gtype is not None else None
    return typedef if isinstance(typedef, TypeDef) else None


def _current_type() -> Any:
    field = current_field.get()
    return None if field is None else field.object_type


def _stored_documents(field: Any) -> bool:
    """Whether the field being resolved takes Documents: its type is a union or interface
    (the executor rewrites them per member, graphql-core decodes them)."""
    return field.selection is STORED or is_abstract_type(field.object_type)


def _model_type(view: str, origin: Any) -> str | None:
    """The GraphQL type of the documents of `view`: the type or class they were asked for,
    else the one type declaring it its sql_source."""
    name = getattr(origin, "name", None) or getattr(origin, "__name__", None)
    if name is not None:
        return name  # type: ignore[no-any-return]
    names = [td.name for td in get_registry().types.values() if td.sql_source == view]
    return names[0] if len(names) == 1 else None


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
        paged = (getattr(origin, "extensions", None) or {}).get("fraiseql")
        if isinstance(paged, relay.ConnectionOf):  # a connection field: its node type's
            origin = paged.node
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
            info = ViewInfo(relation, view, columns, not_null=await not_null_columns(self.db, view))
            if info.is_json(column):
                info.json_column = column
                document = await read_model_document(self.db, view)
                for key, found in (document or {}).items():
                    info.fields[key] = _doc_shape(found)
            self.db.view_cache[(view, column)] = info
        origin = origin if origin is not None else _current_type()
        name = _type_name(origin)
        if origin is not None and name not in info.declared_by:  # once per type and view
            gtype = _object_type(origin)
            typedef = _typedef(gtype)
            if typedef is not None and typedef.sql_source == view:
                info.fields.update(stored_fields(gtype))  # the GraphQL type names the scalars
                info.statements.clear()  # rendered before these declarations
            info.declared_by.add(name)
        return info

    def _known_view(self, view: str, column: str, origin: Any) -> ViewInfo | None:
        """The view's catalog when `_view` has read it for this type: the per-request hot
        path, without a coroutine."""
        info = self.db.view_cache.get((view, column))
        if info is None:
            return None
        origin = origin if origin is not None else _current_type()
        return info if origin is None or _type_name(origin) in info.declared_by else None

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
        key: str | None = None,
    ) -> tuple[str, list[Any]]:
        info = await self._view(*source)
        return _find_sql(info, where, order_by, limit, offset, eq, key)

    def _cached_select(
        self,
        source: tuple[str, str, Any],
        where: Any,
        order_by: Any,
        limit: Any,
        offset: Any,
        eq: Mapping[str, Any],
        key: str | None = None,
    ) -> tuple[str, list[Any]] | None:
        """`_select` without a coroutine when the view is known (None: it is not yet)."""
        info = self._known_view(*source)
        if info is None:
            return None
        return _find_sql(info, where, order_by, limit, offset, eq, key)

    async def _exact_documents(
        self, sql: str, params: list[Any], many: bool, page: bool = False
    ) -> Any:
        # graphql-core's path: the documents with their numbers' stored digits. Also the
        # fast path's when a document does not fit the selection (_rewritten): the executor
        # has graphql-core complete them, so the resolver runs once (the read is repeated).
        raw = await self.db.fetch_json(sql, *params, many=many, context=self.context, page=page)
        return decode_document(raw)

    async def _rewritten(
        self,
        sql: str,
        params: list[Any],
        selection: Any,
        many: bool,
        field: Any,
        page: bool = False,
    ) -> Any:
        """The documents rewritten in C for `selection`; inside the executor, when one does
        not fit it (a null where the schema forbids one, a value of another JSON kind), the
        documents themselves, which graphql-core then completes (see _exact_documents)."""
        try:
            return await self.db.fetch_json(
                sql, *params, selection=selection, many=many, context=self.context, page=page
            )
        except (native.NonNullError, native.JSONError):
            if field is None:
                raise
            return await self._exact_documents(sql, params, many, page)

    async def _filtered(self, sql: str, params: list[Any], many: bool, page: bool = False) -> Any:
        """Documents of a query built from a client's filters: JSON bytes on the fast path,
        decoded documents on graphql-core's; a regex PostgreSQL refuses is the client's."""
        field = current_field.get()
        try:
            if field is not None and field.selection is not None:
                return await self._rewritten(sql, params, field.selection, many, field, page)
            return await self._exact_documents(sql, params, many, page)
        except DatabaseError as exc:
            if exc.sqlstate == INVALID_REGEX:
                raise ArgumentError(f"where: {exc.message}") from None
            raise

    def _answer(
        self, sql: str, params: list[Any], many: bool, view: str, origin: Any
    ) -> Awaitable[Any]:
        """What find_one (one document) and find (`many`) answer for their statement: the
        field's fragment rewritten in C, stored Documents for a union or interface field,
        decoded documents for graphql-core or outside the executor. Not a coroutine: the
        read it returns is the one awaited (no frame more on the point lookup)."""
        field = current_field.get()
        if field is None:  # outside the executor: a manual selection, or Python data
            selection = current_selection.get()
            if selection is None:
                return self._plain(sql, params, many)
        else:
            selection = field.selection
            if _stored_documents(field):
                return self._stored(sql, params, many, _model_type(view, origin))
            if selection is None:
                return self._exact_documents(sql, params, many)
        return self._rewritten(sql, params, selection, many, field)

    async def _plain(self, sql: str, params: list[Any], many: bool) -> Any:
        if many:
            return [r[0] for r in await self.db.fetch(sql, *params, context=self.context)]
        return await self.db.fetchval(sql, *params, context=self.context)

    async def _stored(self, sql: str, params: list[Any], many: bool, typename: Any) -> Document:
        raw = await self.db.fetch_json(sql, *params, many=many, context=self.context)
        return Document(raw, typename)

    async def find_one(self, view: View = None, /, **eq: Any) -> Any:
        """The one document matching field = value for each keyword, or None.
        With a GraphQL selection active: JSON bytes (b"null" when none)."""
        column, origin = self._jsonb_column, None  # a view name and one column: inline
        if type(view) is not str or type(column) is not str:
            view, column, origin = self._source(view)
        source = (view, column, origin)
        cached = self._cached_select(source, None, None, 1, None, eq)
        sql, params = (
            cached if cached is not None else await self._select(source, None, None, 1, None, eq)
        )
        return await self._answer(sql, params, False, view, origin)

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
        source = (view, column, origin)
        args = _field_arguments(LIST, view) if current_field.get() is not None else None
        if args is not None:  # the client's where/orderBy/limit/offset of a list field
            where, order_by, limit, offset = list_request(args, where, order_by, limit, offset)
            key = args.generated.typedef.key
            cached = self._cached_select(source, where, order_by, limit, offset, eq, key)
            if cached is None:
                cached = await self._select(source, where, order_by, limit, offset, eq, key)
            return await self._filtered(*cached, True)
        cached = self._cached_select(source, where, order_by, limit, offset, eq)
        sql, params = (
            cached
            if cached is not None
            else await self._select(source, where, order_by, limit, offset, eq)
        )
        return await self._answer(sql, params, True, view, origin)

    async def watch(
        self,
        view: View = None,
        /,
        where: Mapping[str, Any] | None = None,
        order_by: Any = None,
        limit: int | None = None,
        offset: int | None = None,
        **eq: Any,
    ) -> AsyncIterator[Any]:
        """The document `find_one(view, **eq)` reads, then the new one after each change
        of it (None once it is deleted): as bytes rewritten for the field's selection inside
        a subscription's fast path, else as Python data.

        With `where`, `order_by`, `limit` or `offset`, or inside a subscription field that
        generates them (`-> AsyncIterator[list[T]]`), what `find` reads instead: the
        matching list, then the list again each time it changes (a document of it changes
        or goes, one starts matching, or stops: then the list comes without it; there is
        no removal event). Ordered by `order_by`, then by the key the view notifies (qm_
        and enable_live tables) or the field's type declares; an mv_ list read outside a
        field needs an `order_by` to keep its order from one read to the next.

        The view must notify its changes (qm_ tables generated by fraiseql.cqrs, mv_
        models, or fraiseql.cqrs.enable_live); see fraiseql.live for sharing, batching,
        ordering and reconnects."""
        from fraiseql.live import NOTHING, ListQuery, hub_of

        source = self._source(view)
        field = current_field.get()
        selection = current_selection.get() if field is None else field.selection
        args = _field_arguments(LIST, source[0]) if field is not None else None
        hub = hub_of(self.db)
        if args is None and where is None and order_by is None and limit is None and offset is None:
            sql, params = await self._select(source, None, None, 1, None, eq)
            watcher = await hub.watch(source[0], sql, params, self.context, eq, selection)
        else:
            if args is not None:  # the client's where/orderBy/limit/offset
                where, order_by, limit, offset = list_request(args, where, order_by, limit, offset)
            key = (await hub.relation(source[0])).key  # None for an mv_: the type's key
            sort_key = key or (args.generated.typedef.key if args is not None else None)
            info = await self._view(*source)
            b = SQLBuilder(info)
            cond = b.where(where, eq)
            count = len(b.params)  # the condition's parameters come first
            order = b.order_by(order_by, sort_key)
            tail = b.limit(limit, offset)
            key_sql = f"t.{quote_ident(key)}::text" if key is not None else "''"
            sql = (
                f"SELECT {key_sql}, coalesce(({_document_sql(info)})::text, 'null') "
                f"FROM {info.relation} AS t{f' WHERE {cond}' if cond else ''}"
                f"{f' ORDER BY {order}' if order else ''}{tail}"
            )
            query = ListQuery(source[0], info.relation, sql, b.params, cond, count)
            watcher = await hub.watch_list(query, self.context, selection)
        try:
            while True:
                value = watcher.take()
                if value is NOTHING:
                    await watcher.wait()
                else:
                    yield value
        finally:
            hub.unwatch(watcher)

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

    async def paginate(
        self,
        view: View = None,
        /,
        where: Mapping[str, Any] | None = None,
        order_by: Any = None,
        **eq: Any,
    ) -> Any:
        """A Relay connection page of the field being resolved (its first/after/last/before,
        where and orderBy arguments, AND `where`/`eq` given here), one JSON document: edges
        (cursor, node), page_info and, when selected, total_count, built in C from the
        page's rows (fetch_json's page mode)."""
        view, column, origin = self._source(view)
        args = _field_arguments(CONNECTION, view)
        if args is None:
            raise FilterError(
                "paginate() serves a field returning fraiseql.Connection[T] over T's "
                f"sql_source ({view!r} is not the sql_source of the field being resolved)"
            )
        info = await self._view(view, column, origin)
        sql, params = _page_sql(info, args, where, order_by, eq)
        return await self._filtered(sql, params, False, page=True)


def _nulls(values: list[Any] | None) -> tuple[bool, ...] | None:
    # which cursor values are null: those render IS NULL, the others bind
    return None if values is None else tuple(v is None for v in values)


def _page_sql(
    info: ViewInfo, args: FieldArguments, where: Any, order_by: Any, eq: Mapping[str, Any]
) -> tuple[str, list[Any]]:
    """One connection page's statement (see fraiseql.relay): its rows, in walk order, and the
    page's facts; rendered once per shape of the request (its cursors' nulls included),
    then bound."""
    window = connection_window(args)
    where = combined_where(args.values.get("where"), where)
    order = [*order_items(args.values.get("order_by")), *(order_by or ())]
    key = args.generated.typedef.key
    ordered = order_key(order)
    keys_tag = None if ordered is None else info.statements.get(("page order", ordered, key))
    if keys_tag is None:
        keys = SQLBuilder(info).sort_keys(order, key)
        keys_tag = keys, relay.fingerprint(info.name, keys)
        if ordered is not None and len(info.statements) < MAX_STATEMENTS:
            info.statements[("page order", ordered, key)] = keys_tag
    keys, tag = keys_tag
    # rows strictly after `after` and before `before`, in the order of `keys`
    after = before = None
    if window.after is not None:
        after = relay.decode_cursor(window.after, "after", tag, keys)
    if window.before is not None:
        before = relay.decode_cursor(window.before, "before", tag, keys)
    values = {"where": where, "eq": eq, "after": after, "before": before, "count": window.count}
    shape = (
        None
        if ordered is None
        else (
            "page",
            shape_of(where),
            ordered,
            shape_of(eq),
            key,
            _nulls(after),
            _nulls(before),
            window.backward,
            args.total,
        )
    )
    found = None if shape is None else info.statements.get(shape)
    if found is not None:
        return found.sql, found.bind(values)
    b = SQLBuilder(info)
    cond = b.where(where, eq) or "TRUE"
    bounds = []
    if after is not None:
        bounds.append(b.after(keys, after, source="after"))
    if before is not None:
        bounds.append(b.after([k.reversed() for k in keys], before, source="before"))
    walk = [k.reversed() for k in keys] if window.backward else keys
    inside = " AND ".join([cond, *bounds])
    position = f"json_build_array({b.param(tag)}::text, {', '.join(k.sql for k in keys)})"
    count = b.request_value("count", window.count)
    # one row beyond the page tells whether the walk goes on; row_number keeps their order
    # through the join
    page = (
        f"SELECT {_document_sql(info)} AS node, ({position})::text AS pos, "
        f"row_number() OVER (ORDER BY {render_order(walk)}) AS rn "
        f"FROM {info.relation} AS t WHERE {inside} ORDER BY {render_order(walk)} "
        f"LIMIT {count}::int8 + 1"
    )
    # the other side: rows of the filtered set outside the page's bound on that side
    if window.backward:
        other = _beyond_bound(b, info, cond, keys, before, "before", forward=True)
    else:
        other = _beyond_bound(b, info, cond, keys, after, "after", forward=False)
    total = f"(SELECT count(*) FROM {info.relation} AS t WHERE {cond})" if args.total else "NULL"
    # The rows as the rewriter's page mode reads them (src/_fraiseql/page.h): each with the
    # page's other side, total, count and direction; an empty page is one row of those.
    sql = (
        "SELECT p.node, p.pos, o.other, o.total, o.count, o.backward FROM (SELECT "
        f"{other} AS other, {total}::int8 AS total, {count}::int8 AS count, "
        f"{'true' if window.backward else 'false'} AS backward) AS o "
        f"LEFT JOIN ({page}) AS p ON true ORDER BY p.rn"
    )
    _keep(info, shape, sql, b)
    return sql, b.params


def _beyond_bound(
    b: SQLBuilder,
    info: ViewInfo,
    cond: str,
    keys: list[Any],
    values: list[Any] | None,
    source: str,
    *,
    forward: bool,
) -> str:
    """Whether rows exist on the far side of a cursor (at it included; `values` the
    cursor's, the request's `source`): the page's neighbour in that direction; false when
    no cursor bounds that side."""
    if values is None:
        return "false"
    walk = keys if forward else [k.reversed() for k in keys]
    # the nearest row at or beyond the cursor in the walking direction: one row of the
    # order's index (EXISTS would let the planner pick a sequential scan instead)
    return (
        f"coalesce((SELECT true FROM {info.relation} AS t WHERE {cond} AND "
        f"{b.after(walk, values, at=True, source=source)} ORDER BY {render_order(walk)} "
        "LIMIT 1), false)"
    )
