"""asyncio driver over the C libpq state machine, and the connection pool.

The C side (`_fraiseql.PGConn`) never blocks: it sends, reads and parses; this module only
waits on the socket (`loop.add_reader`/`add_writer`) and hands the C side a bare Future per
request, which the C side settles with rows, a value or JSON bytes.

Pool-level reads outside a transaction share connections: they are pipelined (each
request with its own sync, so one failure aborts nothing else), a few deep pipelines rather
than one connection held per round trip; see Pool.
"""

from __future__ import annotations

import asyncio
import datetime
import decimal
import enum
import json
import logging
import re
import time
import uuid
from collections import deque
from collections.abc import Callable, Generator, Iterable, Mapping
from typing import Any

from fraiseql._native import native
from fraiseql.errors import (
    DatabaseError,
    InterfaceError,
    NotSupportedError,
    OperationalError,
    PoolTimeoutError,
    ProgrammingError,
    make_error,
)

__all__ = ["Connection", "Pool", "Record", "Transaction", "connect", "create_pool"]

Record = native.Record

_READ, _WRITE = native.WANT_READ, native.WANT_WRITE
_CONNECTING, _READY, _BROKEN, _CLOSED = (
    native.STATE_CONNECTING,
    native.STATE_READY,
    native.STATE_BROKEN,
    native.STATE_CLOSED,
)
_ROWS, _ROW, _VAL, _STATUS = native.MODE_ROWS, native.MODE_ROW, native.MODE_VAL, native.MODE_STATUS
_JSON, _JSON_MANY, _SCRIPT = native.MODE_JSON, native.MODE_JSON_MANY, native.MODE_SCRIPT
_TRANS_IDLE = native.TRANS_IDLE
_STALE_STATEMENT = ("26000", "0A000")

# Output formats the C decoder parses; set on every connection.
_FORCED_SETTINGS = {
    "DateStyle": "ISO",
    "IntervalStyle": "postgres",
    "bytea_output": "hex",
    "client_encoding": "UTF8",
}
_GUC_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")
_PREFIX_SQL: dict[tuple[int, bool], str] = {}
# Inside an explicit transaction set_config(..., true) would outlive the call: the prefix
# keeps the values it replaces (as the server has them) here, and this restores them.
_SAVED_GUC = "fraiseql.saved_settings"
_RESTORE_SQL = (
    f"SELECT set_config(key, value, true) FROM "
    f"json_each_text(nullif(current_setting('{_SAVED_GUC}', true), '')::json)"
)
_log = logging.getLogger("fraiseql")

# Back-off between attempts to restore min_size while the server refuses connections.
_REFILL_FIRST_DELAY, _REFILL_MAX_DELAY = 0.1, 5.0


def _prefix_sql(n: int, saving: bool) -> str:
    """One statement applying n settings transaction-locally (names are bind parameters too);
    when saving, it first stores the values they replace for _RESTORE_SQL (a materialized CTE
    runs before the outer select list)."""
    sql = _PREFIX_SQL.get((n, saving))
    if sql is None:
        calls = ", ".join(f"set_config(${2 * i + 1}, ${2 * i + 2}, true)" for i in range(n))
        sql = f"SELECT {calls}"
        if saving:
            old = ", ".join(
                f"${2 * i + 1}::text, current_setting(${2 * i + 1}, true)" for i in range(n)
            )
            sql = (
                f"WITH saved AS MATERIALIZED (SELECT set_config('{_SAVED_GUC}', "
                f"json_build_object({old})::text, true)) {sql} FROM saved"
            )
        _PREFIX_SQL[(n, saving)] = sql
    return sql


# -- parameters ---------------------------------------------------------------------------


def _array_literal(values: Iterable[Any]) -> str:
    parts = []
    for v in values:
        if isinstance(v, (list, tuple)):
            parts.append(_array_literal(v))
            continue
        text = _adapt(v)
        if text is None:
            parts.append("NULL")
        else:
            parts.append('"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"')
    return "{" + ",".join(parts) + "}"


def _adapt(value: Any) -> str | None:
    """Text form of a parameter the C side does not convert itself (str/int/float/bool/None)."""
    if value is None:
        return None
    if isinstance(value, enum.Enum):  # before str/int: str() of a mixed-in enum is its name
        return _adapt(value.value)
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (str, int, float)):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "\\x" + bytes(value).hex()
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return f"{value.days} days {value.seconds} seconds {value.microseconds} microseconds"
    if isinstance(value, (list, tuple)):
        return _array_literal(value)
    if isinstance(value, dict):
        return json.dumps(value)
    raise InterfaceError(
        f"cannot send a parameter of type {type(value).__name__}; "
        "pass str, int, float, bool, bytes, Decimal, UUID, date/time, "
        "list (array) or dict (json)"
    )


def _quote_channel(channel: Any) -> str:
    """A LISTEN channel is an identifier: any text without NUL, quoted."""
    if (
        not isinstance(channel, str)
        or not channel
        or "\x00" in channel
        or len(channel.encode()) > 63
    ):
        raise InterfaceError(f"invalid LISTEN channel {channel!r}: 1 to 63 bytes of text, no NUL")
    return '"' + channel.replace('"', '""') + '"'


def _options(settings: Mapping[str, str]) -> str:
    def esc(v: str) -> str:
        return str(v).replace("\\", "\\\\").replace(" ", "\\ ")

    return " ".join(f"-c {esc(k)}={esc(v)}" for k, v in settings.items())


def _timeout_ms(timeout: float) -> str:
    if timeout <= 0:
        raise InterfaceError(f"timeout must be positive, got {timeout!r}")
    return str(max(1, int(timeout * 1000)))


async def _wait_fd(loop: asyncio.AbstractEventLoop, fd: int, want: int) -> None:
    fut = loop.create_future()

    def ready() -> None:
        if not fut.done():
            fut.set_result(None)

    if want & _READ:
        loop.add_reader(fd, ready)
    if want & _WRITE:
        loop.add_writer(fd, ready)
    try:
        await fut
    finally:
        if want & _READ:
            loop.remove_reader(fd)
        if want & _WRITE:
            loop.remove_writer(fd)


# -- connection ---------------------------------------------------------------------------


class Connection:
    """One PostgreSQL connection: asyncpg-style methods plus `fetch_json`."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        *,
        session_settings: Mapping[str, str],
        on_close: Callable[[Connection], None] | None = None,
    ) -> None:
        self._loop = loop
        self._pg: Any = None
        self._fd = -1
        self._writing = False
        self._settings = dict(session_settings)
        self._on_close = on_close
        self._drain_waiters: list[asyncio.Future[None]] = []
        self._cancelling: asyncio.Future[Any] | None = None
        self._tx_depth = 0
        self._savepoint_seq = 0
        self._listeners: dict[str, list[Callable[..., Any]]] = {}
        self._progress_at = 0.0  # last time the socket moved while requests were in flight
        self.created_at = time.monotonic()
        self.host: str | None = None
        self.port: str | None = None

    # -- connect / close --

    async def _connect(
        self,
        dsn: str,
        *,
        connect_timeout: float | None,
        statement_timeout: float | None,
        server_settings: Mapping[str, str] | None,
        max_statements: int,
    ) -> None:
        settings = {**(server_settings or {}), **_FORCED_SETTINGS}
        if statement_timeout is not None:
            settings["statement_timeout"] = _timeout_ms(statement_timeout)
        client_encoding = settings.pop("client_encoding")
        keys = ("dbname", "client_encoding", "options", "application_name")
        values = (dsn, client_encoding, _options(settings), "fraiseql")
        self._pg = native.PGConn(keys, values, self._error, _adapt, max_statements)
        try:
            await asyncio.wait_for(self._handshake(), connect_timeout)
        except asyncio.TimeoutError:
            self._fail_connect(f"timeout after {connect_timeout}s")
        except BaseException:
            self._pg.close()
            raise
        if self._pg.state != _READY:
            self._fail_connect(self._pg.error)
        self.host, self.port = self._pg.host, self._pg.port
        self._fd = self._pg.fileno()
        self._loop.add_reader(self._fd, self._on_ready)

    async def _handshake(self) -> None:
        want = _WRITE  # libpq: wait for the socket to be writable before the first poll
        while self._pg.state == _CONNECTING:
            await _wait_fd(self._loop, self._pg.fileno(), want)
            want = self._pg.connect_poll()

    def _fail_connect(self, reason: str) -> None:
        host, port = self._pg.host, self._pg.port
        self._pg.close()
        raise OperationalError(f"cannot connect to PostgreSQL at {host}:{port}: {reason}")

    @property
    def is_closed(self) -> bool:
        return self._pg is None or self._pg.state != _READY

    async def close(self) -> None:
        """Close the connection; requests in flight fail with OperationalError."""
        self._teardown()

    def terminate(self) -> None:
        self._teardown()

    def _teardown(self) -> None:
        if self._fd >= 0:
            self._loop.remove_reader(self._fd)
            if self._writing:
                self._loop.remove_writer(self._fd)
            self._fd = -1
            self._writing = False
        if self._pg is not None:
            self._pg.close()
        self._wake_drain()
        if self._on_close is not None:
            on_close, self._on_close = self._on_close, None
            on_close(self)

    # -- the event loop side --

    def _on_ready(self) -> None:
        self._progress_at = time.monotonic()
        self._after(self._pg.step())

    def _after(self, want: int) -> None:
        if want & _WRITE:
            if not self._writing:
                self._loop.add_writer(self._fd, self._on_ready)
                self._writing = True
        elif self._writing:
            self._loop.remove_writer(self._fd)
            self._writing = False
        if want == 0:  # broken: the C side has already failed every pending request
            self._teardown()
        elif self._drain_waiters and self._pg.inflight == 0:
            self._wake_drain()

    def _wake_drain(self) -> None:
        waiters, self._drain_waiters = self._drain_waiters, []
        for w in waiters:
            if not w.done():
                w.set_result(None)

    async def _drain(self) -> None:
        """Wait until nothing is in flight (results of cancelled requests included)."""
        while self._pg is not None and self._pg.inflight and not self.is_closed:
            fut = self._loop.create_future()
            self._drain_waiters.append(fut)
            await fut

    @property
    def inflight(self) -> int:
        return self._pg.inflight if self._pg is not None else 0

    def _error(
        self,
        kind: str,
        sqlstate: str | None,
        message: str,
        detail: str | None,
        hint: str | None,
        fields: dict[str, str] | None,
    ) -> DatabaseError:
        state = sqlstate or ""
        lost = (
            kind == "connection"
            or state.startswith("57P")
            or (state.startswith("08") and state != "08P01")
        )
        if lost and self._pg is not None and self._pg.state != _CONNECTING:
            message = f"connection to {self.host}:{self.port} lost: {message}"
        return make_error(kind, sqlstate, message, detail, hint, fields)

    # -- requests --

    def _prefix(
        self, timeout: float | None, context: Mapping[str, Any] | None, saving: bool = False
    ) -> tuple[str | None, tuple]:
        args: list[str] = []
        if context and self._settings:
            for key, guc in self._settings.items():
                value = context.get(key)
                if value is not None:
                    args += (guc, str(value))
        if timeout is not None:
            args += ("statement_timeout", _timeout_ms(timeout))
        if not args:
            return None, ()
        return _prefix_sql(len(args) // 2, saving), tuple(args)

    async def _request(
        self,
        mode: int,
        sql: str,
        args: tuple,
        selection: Any = None,
        timeout: float | None = None,
        context: Mapping[str, Any] | None = None,
        shared: bool = False,
    ) -> Any:
        if self._cancelling is not None:
            await self._cancelling
        if asyncio.get_running_loop() is not self._loop:
            raise InterfaceError(
                "this connection belongs to another event loop (its socket is "
                "watched there); create pools and connections in the loop using them"
            )
        pg = self._pg
        if pg is None or pg.state != _READY:
            raise InterfaceError(
                f"connection to {self.host}:{self.port} is closed"
                + (f": {pg.error}" if pg is not None else "")
            )
        prefix_sql, prefix_args, restore_sql = None, (), None
        if timeout is not None or context is not None:
            # In a transaction block the settings are restored after the query, in the same
            # request. Requests in flight hide the block's state (ACTIVE): restore then too,
            # harmless outside a block; shared pool connections never hold one.
            in_block = not shared and (self._tx_depth > 0 or self.transaction_status != _TRANS_IDLE)
            prefix_sql, prefix_args = self._prefix(timeout, context, saving=in_block)
            if prefix_sql is not None and in_block:
                restore_sql = _RESTORE_SQL
        if not pg.inflight:
            self._progress_at = time.monotonic()
        for attempt in (0, 1):
            fut = self._loop.create_future()
            want = pg.send(fut, mode, sql, args, prefix_sql, prefix_args, restore_sql, selection)
            if want & _WRITE:
                self._after(want)
            try:
                return await fut
            except (ProgrammingError, NotSupportedError) as exc:
                # A cached statement went stale (DDL changed its result type, DEALLOCATE ALL):
                # the C side forgot it; outside a transaction block the request can be repeated.
                if (
                    attempt
                    or exc.sqlstate not in _STALE_STATEMENT
                    or self._tx_depth
                    or self.transaction_status != _TRANS_IDLE
                ):
                    raise
            except asyncio.CancelledError:
                if not shared and not self.is_closed and pg.inflight:
                    self._cancel_on_server()
                raise
            except OperationalError:
                if pg.state != _READY:
                    self._teardown()
                raise
        raise AssertionError("unreachable")

    def _cancel_on_server(self) -> None:
        """PQcancel blocks: run it in a thread; later requests wait for it (see _request)."""

        async def cancel() -> None:
            try:
                await self._loop.run_in_executor(None, self._pg.cancel)
            finally:
                self._cancelling = None

        self._cancelling = asyncio.ensure_future(cancel())

    # -- public API --

    async def fetch(
        self,
        sql: str,
        *args: Any,
        timeout: float | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> list[Record]:
        """All rows; each indexable by position and by column name."""
        return await self._request(_ROWS, sql, args, None, timeout, context)

    async def fetchrow(
        self,
        sql: str,
        *args: Any,
        timeout: float | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> Record | None:
        """The first row, or None."""
        return await self._request(_ROW, sql, args, None, timeout, context)

    async def fetchval(
        self,
        sql: str,
        *args: Any,
        timeout: float | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> Any:
        """The first column of the first row, or None."""
        return await self._request(_VAL, sql, args, None, timeout, context)

    async def execute(
        self,
        sql: str,
        *args: Any,
        timeout: float | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> str:
        """Run a command; returns its status ("INSERT 0 1"). Without arguments, timeout or
        context the text may hold several statements (simple protocol)."""
        if not args and timeout is None and not context:
            await self._drain()
            return await self._request(_SCRIPT, sql, ())
        return await self._request(_STATUS, sql, args, None, timeout, context)

    async def fetch_json(
        self,
        sql: str,
        *args: Any,
        selection: Any = None,
        many: bool = False,
        timeout: float | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> bytes:
        """The query's single JSON column as bytes, built in C: the first row (b"null" when
        none) or, with many=True, one JSON array of all rows; rewritten through `selection`."""
        return await self._request(
            _JSON_MANY if many else _JSON, sql, args, selection, timeout, context
        )

    async def add_listener(
        self, channel: str, callback: Callable[[Connection, int, str, str], Any]
    ) -> None:
        """LISTEN on `channel`; `callback(connection, pid, channel, payload)` runs in the loop
        for each notification (asyncpg's signature)."""
        if channel not in self._listeners:
            await self.execute(f"LISTEN {_quote_channel(channel)}")
            self._listeners[channel] = []
            self._pg.notify_handler = self._on_notify
        self._listeners[channel].append(callback)

    async def remove_listener(self, channel: str, callback: Callable[..., Any]) -> None:
        """Stop calling `callback`; UNLISTEN once the channel has no callback left."""
        callbacks = self._listeners.get(channel)
        if not callbacks or callback not in callbacks:
            return
        callbacks.remove(callback)
        if not callbacks:
            del self._listeners[channel]
            if not self.is_closed:
                await self.execute(f"UNLISTEN {_quote_channel(channel)}")

    def _on_notify(self, channel: str, pid: int, payload: str) -> None:
        for callback in self._listeners.get(channel, ()):
            self._loop.call_soon(callback, self, pid, channel, payload)

    def transaction(self, *, isolation: str | None = None, readonly: bool = False) -> Transaction:
        """`async with conn.transaction():` commits, or rolls back on exception; nests as savepoints."""
        return Transaction(self, isolation, readonly)

    @property
    def transaction_status(self) -> int:
        return self._pg.transaction_status if self._pg is not None else 4

    @property
    def backend_pid(self) -> int:
        return self._pg.backend_pid

    @property
    def prepared_statements(self) -> int:
        return self._pg.statements


_ISOLATION = {
    "read committed": "READ COMMITTED",
    "repeatable read": "REPEATABLE READ",
    "serializable": "SERIALIZABLE",
}


class Transaction:
    """Async context manager: BEGIN/COMMIT/ROLLBACK, or SAVEPOINT when nested."""

    def __init__(self, conn: Connection, isolation: str | None, readonly: bool) -> None:
        if isolation is not None and isolation.lower() not in _ISOLATION:
            raise InterfaceError(
                f"unknown isolation level {isolation!r}; use one of {sorted(_ISOLATION)}"
            )
        self._conn = conn
        self._isolation = isolation
        self._readonly = readonly
        self._savepoint: str | None = None

    async def __aenter__(self) -> Connection:
        conn = self._conn
        if conn._tx_depth == 0:
            sql = "BEGIN"
            if self._isolation:
                sql += f" ISOLATION LEVEL {_ISOLATION[self._isolation.lower()]}"
            if self._readonly:
                sql += " READ ONLY"
            await conn._request(_STATUS, sql, ())
        else:
            conn._savepoint_seq += 1
            self._savepoint = f"fq_sp_{conn._savepoint_seq}"
            await conn._request(_STATUS, f"SAVEPOINT {self._savepoint}", ())
        conn._tx_depth += 1
        return conn

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        conn = self._conn
        conn._tx_depth -= 1
        if conn.is_closed:
            return
        if exc_type is None:
            sql = f"RELEASE SAVEPOINT {self._savepoint}" if self._savepoint else "COMMIT"
            await conn._request(_STATUS, sql, ())
            return
        if self._savepoint:
            await conn._request(_STATUS, f"ROLLBACK TO SAVEPOINT {self._savepoint}", ())
            await conn._request(_STATUS, f"RELEASE SAVEPOINT {self._savepoint}", ())
        else:
            await conn._request(_STATUS, "ROLLBACK", ())


async def connect(
    dsn: str,
    *,
    connect_timeout: float | None = 30.0,
    statement_timeout: float | None = None,
    server_settings: Mapping[str, str] | None = None,
    session_settings: Mapping[str, str] | None = None,
    max_statements: int = 256,
) -> Connection:
    """Open one connection (a libpq DSN or URI)."""
    conn = Connection(
        asyncio.get_running_loop(), session_settings=_check_settings(session_settings)
    )
    await conn._connect(
        dsn,
        connect_timeout=connect_timeout,
        statement_timeout=statement_timeout,
        server_settings=server_settings,
        max_statements=max_statements,
    )
    return conn


def _check_settings(session_settings: Mapping[str, str] | None) -> dict[str, str]:
    out = dict(session_settings or {})
    for key, guc in out.items():
        if not isinstance(guc, str) or not _GUC_NAME.match(guc):
            raise InterfaceError(
                f"session setting for {key!r} must be a setting name like "
                f"'app.tenant_id', got {guc!r}"
            )
    return out


# -- pool ---------------------------------------------------------------------------------


class Pool:
    """Connections to one database; `await create_pool(...)` or `async with create_pool(...)`.

    Reads through the pool (`fetch*`, `fetch_json`, `execute` with arguments) are pipelined:
    up to pipeline_depth requests queue on one connection before the next is used, and a
    connection stalled behind a slow query (no progress for pipeline_stall seconds) gets no
    new ones; `acquire()` and `transaction()` give one connection to one task. Broken
    connections are noticed when the server closes them (the socket is always watched) or
    when a request fails: no health-check round trip per checkout. Connections lost below
    min_size are replaced by one background task (see _refill); beyond it, on demand.
    """

    def __init__(
        self,
        dsn: str,
        *,
        min_size: int = 1,
        max_size: int = 10,
        acquire_timeout: float = 30.0,
        max_lifetime: float | None = 3600.0,
        statement_timeout: float | None = None,
        connect_timeout: float | None = 30.0,
        session_settings: Mapping[str, str] | None = None,
        server_settings: Mapping[str, str] | None = None,
        max_statements: int = 256,
        pipeline_depth: int = 32,
        pipeline_stall: float = 0.005,
    ) -> None:
        if pipeline_depth < 1 or pipeline_stall <= 0:
            raise InterfaceError(
                f"need pipeline_depth >= 1 and pipeline_stall > 0, got "
                f"{pipeline_depth}, {pipeline_stall}"
            )
        if not 0 <= min_size <= max_size or max_size < 1:
            raise InterfaceError(
                f"need 0 <= min_size <= max_size and max_size >= 1, got {min_size}, {max_size}"
            )
        self._dsn = dsn
        self.min_size, self.max_size = min_size, max_size
        self.acquire_timeout = acquire_timeout
        self.max_lifetime = max_lifetime
        self._connect_kw = dict(
            connect_timeout=connect_timeout,
            statement_timeout=statement_timeout,
            server_settings=server_settings,
            max_statements=max_statements,
        )
        self._settings = _check_settings(session_settings)
        self.pipeline_depth = pipeline_depth
        self.pipeline_stall = pipeline_stall
        self._shared: list[Connection] = []  # open and not held by a task
        self._held: set[Connection] = set()
        self._size = 0  # open + opening
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._closed = False
        self._initialized = False
        self._refill_task: asyncio.Task[None] | None = None

    # -- lifecycle --

    async def _init(self) -> Pool:
        if not self._initialized:
            self._initialized = True
            conns = await asyncio.gather(
                *(self._open() for _ in range(self.min_size)), return_exceptions=True
            )
            errors = [c for c in conns if isinstance(c, BaseException)]
            for c in conns:
                if isinstance(c, Connection):
                    self._shared.append(c)
            if errors:
                await self.close()
                raise errors[0]
        return self

    def __await__(self) -> Generator[Any, None, Pool]:
        return self._init().__await__()

    async def __aenter__(self) -> Pool:
        return await self._init()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close every connection; later calls raise InterfaceError."""
        self._closed = True
        refill, self._refill_task = self._refill_task, None
        if refill is not None:
            refill.cancel()
            await asyncio.gather(refill, return_exceptions=True)
        for conn in [*self._shared, *self._held]:
            conn.terminate()
        for w in self._waiters:
            if not w.done():
                w.set_result(None)

    async def _open(self) -> Connection:
        self._size += 1
        try:
            conn = Connection(
                asyncio.get_running_loop(), session_settings=self._settings, on_close=self._forget
            )
            await conn._connect(self._dsn, **self._connect_kw)
        except BaseException:
            self._size -= 1
            self._wake()
            raise
        return conn

    def _forget(self, conn: Connection) -> None:
        """A connection closed (broken, expired or released broken): it leaves the pool."""
        if conn in self._shared:
            self._shared.remove(conn)
        self._held.discard(conn)
        self._size -= 1
        self._wake()
        if self._size < self.min_size and self._refill_task is None and not self._closed:
            self._refill_task = asyncio.ensure_future(self._refill())

    async def _refill(self) -> None:
        """Open connections until min_size again, in the background.

        Callers never wait for it and never see its errors: while the server refuses, it
        retries with a doubling delay (0.1 s up to 5 s), logs one warning per outage on the
        "fraiseql" logger (each retry at debug level) and stops when the pool closes."""
        delay, failing = _REFILL_FIRST_DELAY, False
        try:
            while not self._closed and self._size < self.min_size:
                try:
                    conn = await self._open()
                except Exception as exc:
                    level = logging.DEBUG if failing else logging.WARNING
                    _log.log(
                        level,
                        "pool cannot restore min_size=%d connections (%d open): %s; "
                        "retrying in %.1fs",
                        self.min_size,
                        self._size,
                        exc,
                        delay,
                    )
                    failing = True
                    await asyncio.sleep(delay)
                    delay = min(2 * delay, _REFILL_MAX_DELAY)
                    continue
                if failing:
                    _log.info(
                        "pool connects again (%d of min_size=%d open)", self._size, self.min_size
                    )
                delay, failing = _REFILL_FIRST_DELAY, False
                self._shared.append(conn)
                self._wake()
        finally:
            self._refill_task = None

    def _wake(self) -> None:
        while self._waiters:
            w = self._waiters.popleft()
            if not w.done():
                w.set_result(None)
                return

    def _expired(self, conn: Connection) -> bool:
        return (
            self.max_lifetime is not None and time.monotonic() - conn.created_at > self.max_lifetime
        )

    def _retire(self, conn: Connection) -> None:
        """Stop routing to an old connection; close it once its pipeline is empty."""
        self._shared.remove(conn)
        self._held.add(conn)

        async def close_when_drained() -> None:
            await conn._drain()
            conn.terminate()

        asyncio.ensure_future(close_when_drained())

    async def _wait(self, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise PoolTimeoutError(
                f"no connection free within {self.acquire_timeout}s "
                f"(pool max_size={self.max_size}, all in use)"
            )
        fut = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        try:
            await asyncio.wait_for(fut, remaining)
        except asyncio.TimeoutError:
            raise PoolTimeoutError(
                f"no connection free within {self.acquire_timeout}s "
                f"(pool max_size={self.max_size}, all in use)"
            ) from None

    def _check_open(self) -> None:
        if self._closed:
            raise InterfaceError("the pool is closed")

    # -- shared (pipelined) requests --

    def _idle_shared(self) -> Connection | None:
        """Fast path: the busiest shared connection whose pipeline is below pipeline_depth and
        moving. A few deep pipelines serve more requests per second than many shallow ones
        (fewer wake-ups and syscalls per request: see benchmarks/RESULTS.md); a connection that
        made no progress for pipeline_stall seconds (a slow query at its head) gets no more."""
        if self._closed:
            return None
        now = time.monotonic()
        depth, stall = self.pipeline_depth, self.pipeline_stall
        best, most = None, -1
        for conn in self._shared:
            n = conn.inflight
            if (
                most < n < depth
                and (n == 0 or now - conn._progress_at < stall)
                and not self._expired(conn)
            ):
                best, most = conn, n
        return best

    async def _shared_conn(self) -> Connection:
        """Slow path: every connection is full, stalled or expired; grow, or share the least loaded."""
        self._check_open()
        deadline = time.monotonic() + self.acquire_timeout
        while True:
            now = time.monotonic()
            for conn in [c for c in self._shared if c.inflight == 0 and self._expired(c)]:
                self._retire(conn)
            moving = [
                c
                for c in self._shared
                if c.inflight == 0 or now - c._progress_at < self.pipeline_stall
            ]
            if moving:
                best = min(moving, key=lambda c: c.inflight)
                if best.inflight >= self.pipeline_depth and self._size < self.max_size:
                    asyncio.ensure_future(self._grow())
                return best
            if self._size < self.max_size:  # all stalled behind slow queries: a new one now
                conn = await self._open()
                self._shared.append(conn)
                return conn
            if self._shared:
                # The one stalled the shortest: under load a busy connection can look stalled
                # only because the loop has not read it yet; a slow query's stays behind.
                return max(self._shared, key=lambda c: c._progress_at)
            await self._wait(deadline)
            self._check_open()

    async def _grow(self) -> None:
        """Open one more shared connection in the background (errors surface on use)."""
        if self._size >= self.max_size or self._closed:
            return
        try:
            conn = await self._open()
        except DatabaseError:
            return
        if self._closed:
            conn.terminate()
        else:
            self._shared.append(conn)
            self._wake()

    async def _shared_request(
        self,
        mode: int,
        sql: str,
        args: tuple,
        selection: Any,
        timeout: float | None,
        context: Mapping[str, Any] | None,
    ) -> Any:
        conn = self._idle_shared() or await self._shared_conn()
        return await conn._request(mode, sql, args, selection, timeout, context, shared=True)

    async def fetch(
        self,
        sql: str,
        *args: Any,
        timeout: float | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> list[Record]:
        return await self._shared_request(_ROWS, sql, args, None, timeout, context)

    async def fetchrow(
        self,
        sql: str,
        *args: Any,
        timeout: float | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> Record | None:
        return await self._shared_request(_ROW, sql, args, None, timeout, context)

    async def fetchval(
        self,
        sql: str,
        *args: Any,
        timeout: float | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> Any:
        return await self._shared_request(_VAL, sql, args, None, timeout, context)

    async def execute(
        self,
        sql: str,
        *args: Any,
        timeout: float | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> str:
        if not args and timeout is None and not context:
            async with self.acquire() as conn:  # a script needs the simple protocol
                return await conn.execute(sql)
        return await self._shared_request(_STATUS, sql, args, None, timeout, context)

    async def fetch_json(
        self,
        sql: str,
        *args: Any,
        selection: Any = None,
        many: bool = False,
        timeout: float | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> bytes:
        return await self._shared_request(
            _JSON_MANY if many else _JSON, sql, args, selection, timeout, context
        )

    # -- exclusive connections --

    def acquire(self, *, timeout: float | None = None) -> _Acquire:
        """`async with pool.acquire() as conn:` one connection for this task alone."""
        return _Acquire(self, timeout)

    async def _acquire(self, timeout: float | None) -> Connection:
        self._check_open()
        deadline = time.monotonic() + (self.acquire_timeout if timeout is None else timeout)
        while True:
            idle = [c for c in self._shared if c.inflight == 0 and not self._expired(c)]
            if idle or self._shared and self._size >= self.max_size:
                conn = idle[0] if idle else min(self._shared, key=lambda c: c.inflight)
                self._shared.remove(conn)
                self._held.add(conn)
                await conn._drain()  # shared reads sent before the handover finish first
                if conn.is_closed:
                    continue
                return conn
            if self._size < self.max_size:
                conn = await self._open()
                self._held.add(conn)
                return conn
            await self._wait(deadline)
            self._check_open()

    async def release(self, conn: Connection) -> None:
        """Give a connection back: drained, rolled back if a transaction was left open."""
        if conn not in self._held:
            return
        if not conn.is_closed:
            try:
                await asyncio.wait_for(conn._drain(), 10.0)
                if conn.transaction_status != _TRANS_IDLE:
                    await conn._request(_STATUS, "ROLLBACK", ())
                conn._tx_depth = 0
                if conn._listeners:  # the next holder must not get this one's notifications
                    conn._listeners.clear()
                    await conn.execute("UNLISTEN *")
            except (DatabaseError, asyncio.TimeoutError):
                conn.terminate()
                return
        if conn.is_closed:
            return
        if self._expired(conn) or self._closed:
            conn.terminate()
            return
        self._held.discard(conn)
        self._shared.append(conn)
        self._wake()

    def transaction(
        self,
        *,
        isolation: str | None = None,
        readonly: bool = False,
        context: Mapping[str, Any] | None = None,
    ) -> _PoolTransaction:
        """`async with pool.transaction() as conn:` a connection inside BEGIN ... COMMIT."""
        return _PoolTransaction(self, isolation, readonly, context)

    # -- introspection --

    @property
    def size(self) -> int:
        return self._size

    def with_context(self, context: Mapping[str, Any]) -> ContextDB:
        """A view of the pool that applies `context` to every request (row-level security)."""
        return ContextDB(self, context)


class _Acquire:
    def __init__(self, pool: Pool, timeout: float | None) -> None:
        self._pool, self._timeout, self._conn = pool, timeout, None

    def __await__(self) -> Generator[Any, None, Connection]:
        return self._pool._acquire(self._timeout).__await__()

    async def __aenter__(self) -> Connection:
        self._conn = await self._pool._acquire(self._timeout)
        return self._conn

    async def __aexit__(self, *exc: object) -> None:
        await self._pool.release(self._conn)


class _PoolTransaction:
    def __init__(
        self, pool: Pool, isolation: str | None, readonly: bool, context: Mapping[str, Any] | None
    ) -> None:
        self._pool, self._context = pool, context
        self._args = (isolation, readonly)
        self._conn: Connection | None = None
        self._tx: Transaction | None = None

    async def __aenter__(self) -> Connection:
        self._conn = await self._pool._acquire(None)
        try:
            self._tx = self._conn.transaction(isolation=self._args[0], readonly=self._args[1])
            await self._tx.__aenter__()
            if self._context:
                prefix, args = self._conn._prefix(None, self._context)
                if prefix:
                    await self._conn._request(_STATUS, prefix, args)
        except BaseException:
            await self._pool.release(self._conn)
            raise
        return self._conn

    async def __aexit__(self, *exc: Any) -> None:
        try:
            await self._tx.__aexit__(*exc)
        finally:
            await self._pool.release(self._conn)


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
    ) -> bytes:
        return await self.db.fetch_json(
            sql, *args, selection=selection, many=many, timeout=timeout, context=self.context
        )


def create_pool(
    dsn: str,
    *,
    min_size: int = 1,
    max_size: int = 10,
    acquire_timeout: float = 30.0,
    max_lifetime: float | None = 3600.0,
    statement_timeout: float | None = None,
    connect_timeout: float | None = 30.0,
    session_settings: Mapping[str, str] | None = None,
    server_settings: Mapping[str, str] | None = None,
    max_statements: int = 256,
    pipeline_depth: int = 32,
    pipeline_stall: float = 0.005,
) -> Pool:
    """A connection pool: `pool = await create_pool(dsn)` or `async with create_pool(dsn) as pool`.

    session_settings maps context keys to PostgreSQL settings, e.g. {"tenant_id": "app.tenant_id"}:
    calls given `context=` (the Repository passes its context) apply them with
    set_config(..., true) in the same transaction, for row-level security policies; inside
    a transaction block they are set back after the call.
    Reads through the pool queue up to pipeline_depth requests on one connection before
    using the next; a connection without progress for pipeline_stall seconds gets no more.
    min_size connections stay open: lost ones are reopened in the background, with back-off
    while the server refuses (one warning per outage on the "fraiseql" logger).
    """
    return Pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        acquire_timeout=acquire_timeout,
        max_lifetime=max_lifetime,
        statement_timeout=statement_timeout,
        connect_timeout=connect_timeout,
        session_settings=session_settings,
        server_settings=server_settings,
        max_statements=max_statements,
        pipeline_depth=pipeline_depth,
        pipeline_stall=pipeline_stall,
    )
