"""Live read models: what `Repository.watch` runs on, one LISTEN connection per pool.

Tables of documents notify the keys each statement changed and mv_ models notify after each
refresh (sql/0002_live.sql; generated qm_ tables have the triggers, other tables get them
from fraiseql.cqrs.enable_live). Watchers of one document under the same settings (the
context's session settings: row-level security, tenants) form a group: a change is read
once per group, with those settings, and rewritten once per distinct selection. Each
watcher keeps only the newest value (a slow client gets the latest document, never a
backlog), so memory is one document per watcher at most. After a lost LISTEN connection
the hub reconnects and re-reads every group once; a group whose document did not change
delivers nothing.

A list watch (`Repository.watch(view, where=...)`) is a group too: the matching documents
as one JSON array, read again when a notification names one of its documents, or a changed
row that now matches its filter. Which changed rows match is asked of PostgreSQL once per
notification for all the lists of one filter shape (the same condition, with other values;
up to MATCH_BATCH lists per statement, as Hasura multiplexes its live queries), each list's
values bound as text and cast to the type PostgreSQL inferred for them. A document that
stops matching is not announced: the list is sent again without it (the newest state wins,
as Hasura's and PostGraphile's live queries resend their result).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import re
import weakref
from collections.abc import Mapping
from typing import Any, NamedTuple

from fraiseql._native import native
from fraiseql.db.adapt import adapt
from fraiseql.errors import InterfaceError, OperationalError, PoolOverloadedError
from fraiseql.scalars import decode_document
from fraiseql.where import quote_ident

__all__ = ["CHANNEL", "LiveError", "hub_of"]

logger = logging.getLogger("fraiseql.live")

CHANNEL = "fraiseql_live"  # the channel of sql/0002_live.sql
# Back-off between attempts to LISTEN again after the connection was lost, and before a
# group re-reads after the database could not answer.
_RETRY_FIRST, _RETRY_MAX = 0.1, 5.0
# What fraiseql.enable_live names its triggers (the key column is their argument), and the
# SQL type of that column (the changed keys arrive as text).
_RELATION_SQL = """
SELECT format('%I.%I', n.nspname, c.relname), c.relkind::text, k.name,
       (SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute AS a
        WHERE a.attrelid = c.oid AND a.attname = k.name AND NOT a.attisdropped)
FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
LEFT JOIN LATERAL (SELECT split_part(encode(t.tgargs, 'escape'), '\\000', 1) AS name
                   FROM pg_trigger AS t
                   WHERE t.tgrelid = c.oid AND t.tgname = 'fq_live_upd') AS k ON true
WHERE c.oid = to_regclass($1)"""
# The types PostgreSQL infers for a filter's parameters: the statement prepared once.
_PARAMETER_TYPES_SQL = "SELECT parameter_types::text[] FROM pg_prepared_statements WHERE name = $1"
# Each shape's statement prepared under a name of its own: concurrent first watches of two
# shapes never meet, and one left prepared by a failure never blocks the next.
_shape_statements = itertools.count()
# Lists of one filter shape whose condition one statement evaluates (Hasura's default batch).
MATCH_BATCH = 100
# A placeholder of a condition fraiseql.where built: the only `$` such SQL holds (its
# identifiers and JSON keys are checked against a pattern without one).
_PLACEHOLDER = re.compile(r"\$(\d+)")
# Errors that say the database could not answer now (the read is tried again), not that
# the read itself is wrong (those reach the watcher, whose generator raises them).
_TRANSIENT = (OperationalError, InterfaceError, PoolOverloadedError)
NOTHING = object()  # no value yet (Watcher.take)


class LiveError(Exception):
    """A relation that cannot be watched: the message says why and what to run."""


class Watcher:
    """One watch: the newest value for its consumer, nothing older."""

    # One per subscription: slots, and a future only while its consumer waits (an
    # asyncio.Event would hold a deque of waiters for each).
    __slots__ = ("group", "selection", "_value", "_waiter", "fresh")

    def __init__(self, group: _Group, selection: Any) -> None:
        self.group = group
        self.selection = selection  # the compiled Selection of its field, or None: Python data
        self._value: Any = NOTHING
        self._waiter: asyncio.Future[None] | None = None
        self.fresh = True  # nothing delivered yet: it gets the document even if unchanged

    def put(self, value: Any) -> None:
        self.fresh = False
        self._value = value  # replaces a value not taken yet: newest state wins
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def take(self) -> Any:
        """The newest value not taken yet (a fragment, Python data, or None when deleted),
        or NOTHING; raises what the read raised when it cannot succeed."""
        value, self._value = self._value, NOTHING
        if isinstance(value, BaseException):
            raise value
        return value

    def wait(self) -> asyncio.Future[None]:
        """Done at the next value: a bare future, no coroutine kept while idle."""
        self._waiter = asyncio.get_running_loop().create_future()
        return self._waiter


class _Group:
    """Watchers of one document (one statement, parameters and settings)."""

    __slots__ = (
        "hub", "key", "doc_key", "sql", "params", "context", "watchers", "raw", "values",
        "_reading", "_again", "_retry",
    )  # fmt: skip

    def __init__(
        self,
        hub: Hub,
        key: tuple[Any, ...],
        doc_key: tuple[str, str | None],
        sql: str,
        params: list[Any],
        context: Any,
    ) -> None:
        self.hub = hub
        self.key = key
        self.doc_key = doc_key  # (relation, document key as text or None), see Hub._by_key
        self.sql = sql
        self.params = params
        self.context = context
        self.watchers: set[Watcher] = set()
        self.raw: bytes | None = None  # the document as last read
        self.values: dict[Any, Any] = {}  # selection (None: Python data) -> raw's value
        self._reading: asyncio.Task[None] | None = None
        self._again = False
        self._retry = _RETRY_FIRST

    @property
    def reading(self) -> bool:
        return self._reading is not None

    def refresh(self) -> None:
        """Read the document again, once, however many changes arrive meanwhile."""
        if self._reading is not None:
            self._again = True
        elif self.watchers:
            self._reading = asyncio.ensure_future(self._read())

    async def _fetch(self) -> bytes:
        return await self.hub.db.fetch_json(self.sql, *self.params, context=self.context)  # type: ignore[no-any-return]

    async def _read(self) -> None:
        try:
            while True:
                self._again = False
                try:
                    raw = await self._fetch()
                    self._retry = _RETRY_FIRST
                    self._deliver(raw, changed=raw != self.raw)
                except _TRANSIENT as exc:
                    logger.warning("fraiseql: live re-read failed (%s); retrying", exc)
                    asyncio.get_running_loop().call_later(self._retry, self.refresh)
                    self._retry = min(self._retry * 2, _RETRY_MAX)
                    return
                except Exception as exc:  # noqa: BLE001 - the watchers' generators raise it
                    for watcher in self.watchers:
                        watcher.put(exc)
                    return
                self.raw = raw
                if not self._again:
                    return
        finally:
            self._reading = None

    def _deliver(self, raw: bytes, *, changed: bool) -> None:
        # Each distinct selection rewrites the document once; Python data is decoded once.
        if changed:
            self.values = {}
        for watcher in self.watchers:
            if changed or watcher.fresh:
                watcher.put(self._shared(raw, watcher.selection))

    def _shared(self, raw: bytes, selection: Any) -> Any:
        # One value per selection for every watcher of the document, those joining later
        # included: each watcher holds the same object, not a copy of its own.
        value = self.values.get(selection, NOTHING)
        if value is NOTHING:
            value = self.values[selection] = self._value(raw, selection)
        return value

    def _value(self, raw: bytes, selection: Any) -> Any:
        if selection is None:
            return decode_document(raw)
        try:
            return native.rewrite(raw, selection)
        except ValueError:  # a null the selection forbids: graphql-core words the error
            return decode_document(raw)

    def welcome(self, watcher: Watcher) -> None:
        """A new watcher: the document as last read, or the read it is waiting for."""
        self.watchers.add(watcher)
        if self.raw is not None and self._reading is None:
            watcher.put(self._shared(self.raw, watcher.selection))
        else:
            self.refresh()


class ListQuery(NamedTuple):
    """What a list watch reads: rows (the key as text, the document as text) of `relation`
    where `condition` holds, its parameters first in `params`."""

    view: str  # as the caller named it
    relation: str  # quoted, as fraiseql.where's SQL names it
    sql: str
    params: list[Any]
    condition: str  # "" for every row
    condition_params: int  # how many of `params` are the condition's


class _Shape:
    """The lists of one relation filtered by one condition, whatever its values: which
    changed rows match is asked for all of them in one statement per batch."""

    __slots__ = ("sql", "groups")

    def __init__(self, sql: str) -> None:
        self.sql = sql  # $1: the lists' values (text[][]), $2: the changed keys (text[])
        self.groups: set[_ListGroup] = set()


class _ListGroup(_Group):
    """Watchers of one list: the documents as one JSON array, with the keys it holds."""

    __slots__ = ("shape", "condition_values", "members")

    def __init__(self, hub: Hub, key: tuple[Any, ...], query: ListQuery, context: Any) -> None:
        super().__init__(hub, key, (key[0], None), query.sql, query.params, context)
        self.shape: _Shape | None = None  # set when the relation has keys to match
        # The condition's values as text, as the driver sends them (cast back in the
        # batched match); one pad so that a condition without values still has a row.
        self.condition_values = [adapt(v) for v in query.params[: query.condition_params]]
        self.condition_values.append("")
        self.members: frozenset[str] = frozenset()  # the keys of the list as last read

    async def _fetch(self) -> bytes:
        rows = await self.hub.db.fetch(self.sql, *self.params, context=self.context)
        self.members = frozenset(row[0] for row in rows)
        return ("[" + ",".join(row[1] for row in rows) + "]").encode()


class Hub:
    """The LISTEN connection of one pool (or connection) and the groups watching through it."""

    def __init__(self, db: Any) -> None:
        self.db = db
        self.groups: dict[tuple[Any, ...], _Group] = {}
        # (relation, key as text) -> groups of that document; (relation, None) -> groups
        # watching by other columns, read again on any change of the relation.
        self._by_key: dict[tuple[str, str | None], set[_Group]] = {}
        self._relations: dict[str, Relation] = {}  # by the view's name as watched
        self._lists: dict[str, set[_ListGroup]] = {}  # relation -> its list groups
        self._shapes: dict[tuple[str, str], _Shape] = {}  # (relation, condition) -> shape
        self.match_statements = 0  # batched matches sent (observability, the tests' evidence)
        self._conn: Any = None
        self._opening: asyncio.Task[None] | None = None
        self._closed_on_purpose = False
        self._retry = _RETRY_FIRST

    # ------------------------------------------------------------ watching

    async def watch(
        self,
        view: str,
        sql: str,
        params: list[Any],
        context: Mapping[str, Any] | None,
        eq: Mapping[str, Any],
        selection: Any,
    ) -> Watcher:
        """A watcher of the document `sql` reads; LISTENing before it is first read, so that
        no change after that read is missed."""
        relation, key_column, _ = await self.relation(view)
        await self._listening()
        settings = self._settings(context)
        key = (relation, sql, tuple(params), tuple(settings.items()))
        group = self.groups.get(key)
        if group is None:
            by_key = key_column is not None and set(eq) == {key_column}
            doc_key = (relation, str(eq[key_column]) if by_key else None)
            group = self.groups[key] = _Group(self, key, doc_key, sql, params, settings)
            self._by_key.setdefault(doc_key, set()).add(group)
        watcher = Watcher(group, selection)
        group.welcome(watcher)
        return watcher

    async def watch_list(
        self, query: ListQuery, context: Mapping[str, Any] | None, selection: Any
    ) -> Watcher:
        """A watcher of the list `query` reads (see Hub.watch)."""
        relation = await self.relation(query.view)
        shape = None
        if relation.key is not None:  # else every notification names no keys: re-read all
            shape = await self._shape(relation, query)
        await self._listening()
        settings = self._settings(context)
        key = (relation.name, query.sql, tuple(query.params), tuple(settings.items()))
        group = self.groups.get(key)
        if group is None:
            group = _ListGroup(self, key, query, settings)
            self.groups[key] = group
            group.shape = shape
            if shape is not None:
                shape.groups.add(group)
            self._lists.setdefault(relation.name, set()).add(group)
        watcher = Watcher(group, selection)
        group.welcome(watcher)
        return watcher

    async def _shape(self, relation: Relation, query: ListQuery) -> _Shape:
        """The shape of a list's condition: its batched match, built once per condition."""
        found = self._shapes.get((relation.name, query.condition))
        if found is not None:
            return found
        types = await self._parameter_types(query) if query.condition_params else []

        def typed(placeholder: re.Match[str]) -> str:
            n = int(placeholder.group(1))
            return f"(($1::text[])[g.n][{n}])::{types[n - 1]}"

        condition = _PLACEHOLDER.sub(typed, query.condition) if query.condition else "TRUE"
        sql = (
            "SELECT g.n FROM generate_subscripts($1::text[], 1) AS g(n) WHERE EXISTS "
            f"(SELECT 1 FROM {query.relation} AS t WHERE t.{quote_ident(relation.key)} = "
            f"ANY($2::text[]::{relation.key_type}[]) AND ({condition}))"
        )
        # Built again by a concurrent first watch of the same shape: either is the same.
        return self._shapes.setdefault((relation.name, query.condition), _Shape(sql))

    async def _parameter_types(self, query: ListQuery) -> list[str]:
        """The SQL types PostgreSQL infers for the condition's parameters, as it names them."""
        statement = f"SELECT 1 FROM {query.relation} AS t WHERE {query.condition}"
        name = f"fq_live_shape_{next(_shape_statements)}"
        async with _one_connection(self.db) as conn, conn.transaction():
            await conn.execute(f"PREPARE {name} AS {statement}")
            types = await conn.fetchval(_PARAMETER_TYPES_SQL, name)
            await conn.execute(f"DEALLOCATE {name}")
        return list(types)

    def unwatch(self, watcher: Watcher) -> None:
        group = watcher.group
        group.watchers.discard(watcher)
        if group.watchers or self.groups.get(group.key) is not group:
            return
        del self.groups[group.key]
        if isinstance(group, _ListGroup):
            relation = group.doc_key[0]
            lists = self._lists[relation]
            lists.discard(group)
            if not lists:
                del self._lists[relation]
            if group.shape is not None:
                group.shape.groups.discard(group)
        else:
            members = self._by_key.get(group.doc_key)
            if members is not None:
                members.discard(group)
                if not members:
                    del self._by_key[group.doc_key]
        if not self.groups:
            self.close()

    def _settings(self, context: Mapping[str, Any] | None) -> dict[str, Any]:
        # Only what the database sees of the context decides whom a read may be shared with.
        names = getattr(self.db, "session_settings", {})
        return {k: context[k] for k in names if context and context.get(k) is not None}

    async def relation(self, view: str) -> Relation:
        """The relation a view name stands for, and its documents' key column (None: an mv_,
        whose notifications name no rows); raises LiveError when it cannot be watched."""
        found = self._relations.get(view)
        if found is None:
            row = await self.db.fetchrow(_RELATION_SQL, view)
            if row is None:
                raise LiveError(f"cannot watch {view!r}: no such table or view")
            relation, kind, key, key_type = row
            if kind == "m":  # notified after each fraiseql.refresh(), any row
                found = Relation(relation, None, None)
            elif kind in ("r", "p") and key is not None:
                found = Relation(relation, key, key_type)
            elif kind in ("r", "p"):
                raise LiveError(
                    f"{relation} sends no change notifications: run `fraiseql live {relation}` "
                    f"or fraiseql.cqrs.enable_live(conn, {relation!r}) (its key column: --key)"
                )
            else:
                raise LiveError(
                    f"cannot watch {relation}: a view cannot say when its rows change; "
                    "watch its qm_ table or mv_ materialized view"
                )
            self._relations[view] = found
        return found

    # ------------------------------------------------------------ the LISTEN connection

    async def _listening(self) -> None:
        if self._conn is not None and not self._conn.is_closed:
            return
        if self._opening is None:
            self._opening = asyncio.ensure_future(self._listen())
        await asyncio.shield(self._opening)

    async def _listen(self) -> None:
        try:
            async with _one_connection(self.db) as conn:
                listener = await conn.sibling(on_close=self._lost)
            self._closed_on_purpose = False
            await listener.add_listener(CHANNEL, self._notified)
            self._conn = listener
        finally:
            self._opening = None

    def _lost(self, conn: Any) -> None:
        if self._conn is not conn and self._conn is not None:
            return
        self._conn = None
        if not self._closed_on_purpose and self.groups:
            logger.warning("fraiseql: the live LISTEN connection was lost; reconnecting")
            asyncio.ensure_future(self._reconnect())

    async def _reconnect(self) -> None:
        delay = _RETRY_FIRST
        while self.groups and not self._closed_on_purpose:
            try:
                await self._listening()
            except Exception as exc:  # noqa: BLE001 - the database is still away: wait, retry
                logger.debug("live: LISTEN again failed (%s)", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, _RETRY_MAX)
                continue
            logger.info("fraiseql: live LISTEN connection restored; re-reading watched documents")
            for group in list(self.groups.values()):  # a change during the outage is not missed
                group.refresh()
            return

    def _notified(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            change = json.loads(payload)
            relation, keys = change["relation"], change["keys"]
        except (ValueError, KeyError, TypeError):
            logger.warning("fraiseql: ignoring a malformed %s notification %r", CHANNEL, payload)
            return
        if keys is None:
            due = [
                g for (rel, _), groups in self._by_key.items() if rel == relation for g in groups
            ]
        else:
            due = list(self._by_key.get((relation, None), ()))
            for key in keys:
                due += self._by_key.get((relation, key), ())
        for group in due:
            group.refresh()
        lists = self._lists.get(relation)
        if lists:
            self._lists_notified(lists, keys)

    def _lists_notified(self, lists: set[_ListGroup], keys: list[str] | None) -> None:
        # A list holding a changed key is read again (the document changed, went, or may
        # no longer match), so is one being read (what it holds is not known yet); the
        # others only if a changed row now matches their filter, asked in batches.
        if keys is None:
            for group in lists:
                group.refresh()
            return
        changed = frozenset(keys)
        ask: dict[tuple[_Shape, tuple[Any, ...]], list[_ListGroup]] = {}
        for group in lists:
            if group.shape is None or group.reading or not changed.isdisjoint(group.members):
                group.refresh()
            else:
                ask.setdefault((group.shape, group.key[3]), []).append(group)
        for (shape, _), groups in ask.items():
            for start in range(0, len(groups), MATCH_BATCH):
                batch = groups[start : start + MATCH_BATCH]
                asyncio.ensure_future(self._match(shape, batch, keys))

    async def _match(self, shape: _Shape, groups: list[_ListGroup], keys: list[str]) -> None:
        """Read again the lists (of one shape and settings) a changed row now matches."""
        self.match_statements += 1
        try:
            rows = await self.db.fetch(
                shape.sql, [g.condition_values for g in groups], keys, context=groups[0].context
            )
        except Exception as exc:  # noqa: BLE001 - unknown which match: each list reads again
            logger.warning("fraiseql: live match failed (%s); re-reading the lists", exc)
            due = groups
        else:
            due = [groups[row[0] - 1] for row in rows]
        for group in due:
            group.refresh()

    def close(self) -> None:
        """Stop listening (the last watcher left, or the app shuts down)."""
        self._closed_on_purpose = True
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.terminate()


class Relation(NamedTuple):
    """A watched relation: its name as notifications carry it, its key column and type."""

    name: str
    key: str | None
    key_type: str | None


def _one_connection(db: Any) -> Any:
    """`async with`: a connection of the pool `db` for one task, or the connection `db`."""
    return db.acquire() if hasattr(db, "acquire") else contextlib.nullcontext(db)


_hubs: weakref.WeakKeyDictionary[Any, Hub] = weakref.WeakKeyDictionary()


def hub_of(db: Any) -> Hub:
    """The hub of a pool or connection, made on first use."""
    hub = _hubs.get(db)
    if hub is None:
        hub = _hubs[db] = Hub(db)
    return hub
