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
"""

from __future__ import annotations

import asyncio
import json
import logging
import weakref
from collections.abc import Mapping
from typing import Any

from fraiseql._native import native
from fraiseql.errors import InterfaceError, OperationalError, PoolOverloadedError
from fraiseql.scalars import decode_document

__all__ = ["CHANNEL", "LiveError", "hub_of"]

logger = logging.getLogger("fraiseql.live")

CHANNEL = "fraiseql_live"  # the channel of sql/0002_live.sql
# Back-off between attempts to LISTEN again after the connection was lost, and before a
# group re-reads after the database could not answer.
_RETRY_FIRST, _RETRY_MAX = 0.1, 5.0
# What fraiseql.enable_live names its triggers (the key column is their argument).
_RELATION_SQL = """
SELECT format('%I.%I', n.nspname, c.relname), c.relkind::text,
       (SELECT encode(t.tgargs, 'escape') FROM pg_trigger AS t
        WHERE t.tgrelid = c.oid AND t.tgname = 'fq_live_upd')
FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE c.oid = to_regclass($1)"""
# Errors that say the database could not answer now (the read is tried again), not that
# the read itself is wrong (those reach the watcher, whose generator raises them).
_TRANSIENT = (OperationalError, InterfaceError, PoolOverloadedError)
_NOTHING = object()


class LiveError(Exception):
    """A relation that cannot be watched: the message says why and what to run."""


class Watcher:
    """One watch: the newest value for its consumer, nothing older."""

    __slots__ = ("group", "selection", "_value", "_event", "fresh")

    def __init__(self, group: _Group, selection: Any) -> None:
        self.group = group
        self.selection = selection  # the compiled Selection of its field, or None: Python data
        self._value: Any = _NOTHING
        self._event = asyncio.Event()
        self.fresh = True  # nothing delivered yet: it gets the document even if unchanged

    def put(self, value: Any) -> None:
        self.fresh = False
        self._value = value  # replaces a value not taken yet: newest state wins
        self._event.set()

    async def next(self) -> Any:
        """The newest value (a fragment, Python data, or None when deleted); raises what the
        read raised when it cannot succeed."""
        await self._event.wait()
        self._event.clear()
        value, self._value = self._value, _NOTHING
        if isinstance(value, BaseException):
            raise value
        return value


class _Group:
    """Watchers of one document (one statement, parameters and settings)."""

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
        self._reading: asyncio.Task[None] | None = None
        self._again = False
        self._retry = _RETRY_FIRST

    def refresh(self) -> None:
        """Read the document again, once, however many changes arrive meanwhile."""
        if self._reading is not None:
            self._again = True
        elif self.watchers:
            self._reading = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        try:
            while True:
                self._again = False
                try:
                    raw = await self.hub.db.fetch_json(self.sql, *self.params, context=self.context)
                except _TRANSIENT as exc:
                    logger.warning("fraiseql: live re-read failed (%s); retrying", exc)
                    asyncio.get_running_loop().call_later(self._retry, self.refresh)
                    self._retry = min(self._retry * 2, _RETRY_MAX)
                    return
                except Exception as exc:  # noqa: BLE001 - the watchers' generators raise it
                    for watcher in self.watchers:
                        watcher.put(exc)
                    return
                self._retry = _RETRY_FIRST
                self._deliver(raw, changed=raw != self.raw)
                self.raw = raw
                if not self._again:
                    return
        finally:
            self._reading = None

    def _deliver(self, raw: bytes, *, changed: bool) -> None:
        # Each distinct selection rewrites the document once; Python data is decoded once.
        rewritten: dict[int, Any] = {}
        for watcher in self.watchers:
            if not (changed or watcher.fresh):
                continue
            selection = watcher.selection
            value = rewritten.get(id(selection), _NOTHING)
            if value is _NOTHING:
                value = rewritten[id(selection)] = self._value(raw, selection)
            watcher.put(value)

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
            watcher.put(self._value(self.raw, watcher.selection))
        else:
            self.refresh()


class Hub:
    """The LISTEN connection of one pool (or connection) and the groups watching through it."""

    def __init__(self, db: Any) -> None:
        self.db = db
        self.groups: dict[tuple[Any, ...], _Group] = {}
        # (relation, key as text) -> groups of that document; (relation, None) -> groups
        # watching by other columns, read again on any change of the relation.
        self._by_key: dict[tuple[str, str | None], set[_Group]] = {}
        self._relations: dict[str, tuple[str, str | None]] = {}  # view -> (relation, key column)
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
        relation, key_column = await self._relation(view)
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

    def unwatch(self, watcher: Watcher) -> None:
        group = watcher.group
        group.watchers.discard(watcher)
        if group.watchers or self.groups.get(group.key) is not group:
            return
        del self.groups[group.key]
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

    async def _relation(self, view: str) -> tuple[str, str | None]:
        found = self._relations.get(view)
        if found is None:
            row = await self.db.fetchrow(_RELATION_SQL, view)
            if row is None:
                raise LiveError(f"cannot watch {view!r}: no such table or view")
            relation, kind, args = row
            if kind == "m":  # notified after each fraiseql.refresh(), any row
                found = (relation, None)
            elif kind in ("r", "p") and args is not None:
                found = (relation, args.split("\\000")[0])
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
            if hasattr(self.db, "acquire"):
                async with self.db.acquire() as conn:
                    listener = await conn.sibling(on_close=self._lost)
            else:
                listener = await self.db.sibling(on_close=self._lost)
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

    def close(self) -> None:
        """Stop listening (the last watcher left, or the app shuts down)."""
        self._closed_on_purpose = True
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.terminate()


_hubs: weakref.WeakKeyDictionary[Any, Hub] = weakref.WeakKeyDictionary()


def hub_of(db: Any) -> Hub:
    """The hub of a pool or connection, made on first use."""
    hub = _hubs.get(db)
    if hub is None:
        hub = _hubs[db] = Hub(db)
    return hub
