"""One PostgreSQL connection: the asyncio driver of the C libpq state machine.

The C side (`native.PGConn`) never blocks: it sends, reads and parses; this module only
waits on the socket (`loop.add_reader`/`add_writer`) and hands the C side a bare Future per
request, which the C side settles with rows, a value or JSON bytes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fraiseql import tracing
from fraiseql._native import native
from fraiseql.db.adapt import adapt
from fraiseql.db.constants import (
    MODE_ROW,
    MODE_ROWS,
    MODE_SCRIPT,
    MODE_STATUS,
    MODE_VAL,
    STATE_CONNECTING,
    STATE_READY,
    TRANS_IDLE,
    TRANS_INERROR,
    TRANS_INTRANS,
    WANT_READ,
    WANT_WRITE,
    json_mode,
)
from fraiseql.db.settings import (
    call_settings,
    check_session_settings,
    connection_settings,
    startup_options,
    transaction_settings,
)
from fraiseql.db.transaction import Transaction
from fraiseql.db.view_cache import ViewCache
from fraiseql.errors import (
    DatabaseError,
    InterfaceError,
    NotSupportedError,
    OperationalError,
    ProgrammingError,
    QueryCanceledError,
    make_error,
)

Record = native.Record

# SQLSTATEs of a cached statement gone stale: invalid statement name, cached plan changed.
_STALE_STATEMENT = ("26000", "0A000")
_SERVICE_WEIGHT = 0.2  # of the newest answer in service_time: a few requests move it
_UNPACED_ANSWERS = 16  # a new connection's first answers include PREPAREs: not its pace
_IN_BLOCK = (TRANS_INTRANS, TRANS_INERROR)
# PgBouncer's answer to the `options` startup parameter (unless ignore_startup_parameters).
_OPTIONS_REFUSED = "unsupported startup parameter: options"
_MISROUTED = (
    "a prepared statement of this connection is missing on the server: a pooler in "
    "transaction mode (PgBouncer before 1.21, or without max_prepared_statements) runs each "
    "transaction on any server connection; connect with prepared_statements=False"
)


class Connection:
    """One PostgreSQL connection: asyncpg-style methods plus `fetch_json`.

    Pool and Transaction use it through its public API, the `progress_at` and
    `service_time` attributes and the
    methods under "for the pool and transactions" (open, request, drain, transaction_depth,
    enter_transaction/leave_transaction, new_savepoint, apply_context, reset), never through
    its underscore fields. `view_cache` is the Repository's (fraiseql.repository).
    """

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
        self._cancelling: list[asyncio.Future[None]] = []  # PQcancel calls not returned yet
        # Cancels sent and cancels the server has taken (PQcancel returned): a request sent
        # while some were not taken may be hit by one meant for another (see request).
        self._cancels_sent = self._cancels_taken = 0
        self._abandoned: list[asyncio.Future[Any]] = []  # cancelled shared, still queued
        self._tx_depth = 0
        self._savepoint_seq = 0
        self._listeners: dict[str, list[Callable[..., Any]]] = {}
        self._prepared = True
        self._tx_settings: tuple[str, ...] = ()  # applied to each transaction (no prepared)
        self.progress_at = 0.0  # last time the socket moved while requests were in flight
        # Seconds per request answered while its pipeline was busy (a moving average): what
        # a request sent now waits per request ahead of it, so the pool spreads slow ones.
        self.service_time = 0.0
        self._answered_at = 0.0  # the last answer, or when the pipeline last became busy
        self._unpaced = _UNPACED_ANSWERS
        self.view_cache = ViewCache()
        self.created_at = time.monotonic()
        self.host: str | None = None
        self.port: str | None = None
        self._open_args: tuple[str, dict[str, Any]] = ("", {})  # for sibling()

    # -- connect / close --

    async def _connect(
        self,
        dsn: str,
        *,
        connect_timeout: float | None,
        statement_timeout: float | None,
        server_settings: Mapping[str, str] | None,
        max_statements: int,
        prepared_statements: bool,
    ) -> None:
        if max_statements < 1:
            raise InterfaceError(f"max_statements must be at least 1, got {max_statements!r}")
        settings = connection_settings(server_settings, statement_timeout)
        client_encoding, options = startup_options(settings)
        if prepared_statements:
            keys = ("dbname", "client_encoding", "options", "application_name")
            values = (dsn, client_encoding, options, "fraiseql")
        else:  # PgBouncer refuses startup options: the settings go with each transaction
            keys = ("dbname", "client_encoding", "application_name")
            values = (dsn, client_encoding, "fraiseql")
            self._tx_settings = transaction_settings(settings)
            max_statements = 0  # the C core then sends every statement unnamed
        self._prepared = prepared_statements
        self._pg = native.PGConn(keys, values, self._error, adapt, max_statements)
        try:
            await asyncio.wait_for(self._handshake(), connect_timeout)
        except asyncio.TimeoutError:
            self._fail_connect(f"timeout after {connect_timeout}s")
        except BaseException:
            self._pg.close()
            raise
        if self._pg.state != STATE_READY:
            reason = self._pg.error
            if _OPTIONS_REFUSED in reason:
                reason += (
                    " (a pooler such as PgBouncer is in between: connect with "
                    "prepared_statements=False, which needs no startup options)"
                )
            self._fail_connect(reason)
        self.host, self.port = self._pg.host, self._pg.port
        self._fd = self._pg.fileno()
        self._loop.add_reader(self._fd, self._on_ready)

    async def _handshake(self) -> None:
        want = WANT_WRITE  # libpq: wait for the socket to be writable before the first poll
        while self._pg.state == STATE_CONNECTING:
            await _wait_fd(self._loop, self._pg.fileno(), want)
            want = self._pg.connect_poll()

    def _fail_connect(self, reason: str) -> None:
        host, port = self._pg.host, self._pg.port
        self._pg.close()
        raise OperationalError(f"cannot connect to PostgreSQL at {host}:{port}: {reason}")

    @property
    def is_closed(self) -> bool:
        return self._pg is None or self._pg.state != STATE_READY

    async def close(self) -> None:
        """Close the connection; requests in flight fail with OperationalError."""
        self._teardown()

    def terminate(self) -> None:
        self._teardown()

    def _teardown(self) -> None:
        """Out of the event loop, closed, every pending request failed, the owner told."""
        if self._fd >= 0:  # before close(), which closes the descriptor the loop watches
            self._loop.remove_reader(self._fd)
            if self._writing:
                self._loop.remove_writer(self._fd)
            self._fd = -1
            self._writing = False
        try:
            if self._pg is not None:
                self._pg.close()  # fails every pending request (the others first, if one cannot)
        finally:
            self._abandoned.clear()
            self._wake_drain()
            if self._on_close is not None:
                on_close, self._on_close = self._on_close, None
                on_close(self)

    # -- the event loop side --

    def _on_ready(self) -> None:
        self.progress_at = now = time.monotonic()
        pending = self._pg.inflight
        try:
            want = self._pg.step()
        except BaseException:  # a future it could not settle: fail the others, leave the pool
            self._teardown()
            raise
        answered = pending - self._pg.inflight
        if answered > 0:
            if self._unpaced > 0:
                self._unpaced -= answered
            else:
                per_request = (now - self._answered_at) / answered
                self.service_time += (per_request - self.service_time) * _SERVICE_WEIGHT
            self._answered_at = now
        self._after(want)
        if self._abandoned:
            self._cancel_abandoned()

    def _after(self, want: int) -> None:
        if want & WANT_WRITE:
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
        if lost and self._pg is not None and self._pg.state != STATE_CONNECTING:
            message = f"connection to {self.host}:{self.port} lost: {message}"
        return make_error(kind, sqlstate, message, detail, hint, fields)

    def _cancel_on_server(self) -> None:
        """PQcancel blocks: run it in a thread; later requests wait for it (see request).

        PQcancel returns once the server has taken the cancel: from then on it can only hit
        what the backend was running (PostgreSQL drops a cancel that finds it reading the
        next command), so a request sent afterwards is safe from it."""
        self._cancels_sent += 1

        async def cancel() -> None:
            try:
                await self._loop.run_in_executor(None, self._pg.cancel)
            finally:
                self._cancels_taken += 1
                self._cancelling.remove(task)

        task = asyncio.ensure_future(cancel())
        self._cancelling.append(task)

    def _cancel_shared(self, fut: asyncio.Future[Any]) -> None:
        """A shared request was cancelled: cancel it on the server when it is the one running
        there, else when it comes to run (requests ahead of it are other callers')."""
        position = self._pg.position(fut)
        if position == 0:
            self._cancel_on_server()
        elif position > 0:
            self._abandoned.append(fut)

    def _cancel_abandoned(self) -> None:
        """Cancel on the server the abandoned request that has come to run; forget done ones."""
        queued = []
        for fut in self._abandoned:
            position = self._pg.position(fut)
            if position == 0:
                self._cancel_on_server()
            elif position > 0:
                queued.append(fut)
        self._abandoned = queued

    async def _cancels_taken_all(self) -> None:
        """Wait until the server has taken every cancel sent so far. asyncio.wait, not
        gather or await: a waiter cancelled meanwhile must not cancel the cancels."""
        while self._cancelling:
            await asyncio.wait(self._cancelling)

    # -- for the pool and transactions --

    @classmethod
    async def open(
        cls,
        dsn: str,
        *,
        session_settings: Mapping[str, str],
        on_close: Callable[[Connection], None] | None = None,
        connect_timeout: float | None,
        statement_timeout: float | None,
        server_settings: Mapping[str, str] | None,
        max_statements: int,
        prepared_statements: bool,
    ) -> Connection:
        """A connected Connection, for connect() and the pool: session_settings already
        checked; on_close(conn) runs once when the connection closes, whatever the reason."""
        conn = cls(asyncio.get_running_loop(), session_settings=session_settings, on_close=on_close)
        conn._open_args = (
            dsn,
            {
                "session_settings": session_settings,
                "connect_timeout": connect_timeout,
                "statement_timeout": statement_timeout,
                "server_settings": server_settings,
                "max_statements": max_statements,
                "prepared_statements": prepared_statements,
            },
        )
        await conn._connect(
            dsn,
            connect_timeout=connect_timeout,
            statement_timeout=statement_timeout,
            server_settings=server_settings,
            max_statements=max_statements,
            prepared_statements=prepared_statements,
        )
        return conn

    async def sibling(self, on_close: Callable[[Connection], None] | None = None) -> Connection:
        """A new connection opened as this one was (outside any pool): the transaction
        asks it what became of a COMMIT this one lost, live queries LISTEN on it."""
        dsn, kw = self._open_args
        return await Connection.open(dsn, on_close=on_close, **kw)

    @property
    def session_settings(self) -> Mapping[str, str]:
        """Context key -> setting applied with each call's `context=` (row-level security)."""
        return self._settings

    def request(self, mode: int, sql: str, *rest: Any, **options: Any) -> Awaitable[Any]:
        """`_request(mode, sql, args, ...)`'s awaitable; in a span of its own when traced."""
        running = self._request(mode, sql, *rest, **options)
        tracer = tracing.current.get()
        return running if tracer is None else tracing.statement_span(tracer, sql, running)

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
        """Send one request and wait for its result, shaped by mode (constants.MODE_*).
        shared: a pool connection several tasks pipeline on, never inside a transaction
        block. A cancelled request is cancelled on the server when it runs there; a shared
        request hit instead by such a cancel (meant for the one before it) is sent again."""
        if self._cancelling:
            await self._cancels_taken_all()
        if asyncio.get_running_loop() is not self._loop:
            raise InterfaceError(
                "this connection belongs to another event loop (its socket is "
                "watched there); create pools and connections in the loop using them"
            )
        pg = self._pg
        if pg is None or pg.state != STATE_READY:
            self._teardown()  # broken since its last request: out of the pool
            raise InterfaceError(
                f"connection to {self.host}:{self.port} is closed"
                + (f": {pg.error}" if pg is not None else "")
            )
        prefix_sql, prefix_args, restore_sql = None, (), None
        # A transaction() block got the connection's settings with its BEGIN (another open
        # block may be aborted: a prefix would fail its ROLLBACK); a script takes none.
        base = ()
        if self._tx_settings and not self._tx_depth and mode != MODE_SCRIPT:
            base = () if self.transaction_status in _IN_BLOCK else self._tx_settings
        if timeout is not None or context is not None or base:
            # In a transaction block the settings are restored after the query, in the same
            # request. Requests in flight hide the block's state (ACTIVE): restore then too,
            # harmless outside a block; shared pool connections never hold one.
            in_block = not shared and (self._tx_depth > 0 or self.transaction_status != TRANS_IDLE)
            prefix_sql, prefix_args, restore_sql = call_settings(
                self._settings, timeout, context, in_block, base
            )
        if not pg.inflight:
            self.progress_at = self._answered_at = time.monotonic()
        stale_retried = False
        while True:
            taken = self._cancels_taken
            fut = self._loop.create_future()
            try:
                want = pg.send(
                    fut, mode, sql, args, prefix_sql, prefix_args, restore_sql, selection
                )
            except OperationalError:
                self._teardown()  # broken while sending: the pool must forget it
                raise
            if want != WANT_READ:  # 0: broken while flushing; only _after fails what is pending
                self._after(want)
            try:
                return await fut
            except (ProgrammingError, NotSupportedError) as exc:
                if exc.sqlstate == "26000" and pg.misrouted:
                    raise InterfaceError(_MISROUTED, sqlstate=exc.sqlstate) from exc
                # A cached statement went stale (DDL changed its result type, DEALLOCATE ALL):
                # the C side forgot it; outside a transaction block the request can be repeated.
                if (
                    stale_retried
                    or not self._prepared
                    or exc.sqlstate not in _STALE_STATEMENT
                    or self._tx_depth
                    or self.transaction_status != TRANS_IDLE
                ):
                    raise
                stale_retried = True
            except QueryCanceledError:
                # Our own cancel, meant for the request before this one, may have landed here
                # (it finished first): PostgreSQL rolled this one back, so send it again, once
                # that cancel is taken and cannot hit the retry. Cancels all taken before this
                # was sent cannot have hit it: that 57014 is a statement timeout, and raised.
                if not shared or self._cancels_sent == taken:
                    raise
                await self._cancels_taken_all()
            except asyncio.CancelledError:
                if not self.is_closed and pg.inflight:
                    if shared:
                        self._cancel_shared(fut)
                    else:
                        self._cancel_on_server()
                raise
            except OperationalError:
                if pg.state != STATE_READY:
                    self._teardown()
                raise

    async def drain(self) -> None:
        """Wait until nothing is in flight (results of cancelled requests included)."""
        while self._pg is not None and self._pg.inflight and not self.is_closed:
            fut = self._loop.create_future()
            self._drain_waiters.append(fut)
            await fut

    @property
    def transaction_depth(self) -> int:
        """Blocks of transaction() entered and not left: 0 outside, 1 in BEGIN, more in
        savepoints."""
        return self._tx_depth

    def enter_transaction(self) -> None:
        """A transaction() block began (its BEGIN or SAVEPOINT succeeded)."""
        self._tx_depth += 1

    def leave_transaction(self) -> None:
        """A transaction() block ended (its COMMIT, RELEASE or ROLLBACK was sent, or failed)."""
        self._tx_depth -= 1

    def new_savepoint(self) -> str:
        """A savepoint name not used before on this connection."""
        self._savepoint_seq += 1
        return f"fq_sp_{self._savepoint_seq}"

    async def apply_context(self, context: Mapping[str, Any]) -> None:
        """Apply the settings `context` names (session_settings) until the transaction ends."""
        sql, args, _ = call_settings(self._settings, None, context, in_block=False)
        if sql is not None:
            await self.request(MODE_STATUS, sql, args)

    async def reset(self, drain_timeout: float) -> None:
        """Make the connection fit for its next holder: drained within drain_timeout seconds,
        an open transaction rolled back, its listeners dropped. Raises DatabaseError or
        asyncio.TimeoutError when that fails (then the pool closes it)."""
        await asyncio.wait_for(self.drain(), drain_timeout)
        if self.transaction_status != TRANS_IDLE:
            await self.request(MODE_STATUS, "ROLLBACK", ())
        self._tx_depth = 0
        if self._listeners:  # the next holder must not get this one's notifications
            self._listeners.clear()
            await self.execute("UNLISTEN *")

    # -- public API --

    async def fetch(
        self,
        sql: str,
        *args: Any,
        timeout: float | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> list[Record]:
        """All rows; each indexable by position and by column name."""
        return await self.request(MODE_ROWS, sql, args, None, timeout, context)

    async def fetchrow(
        self,
        sql: str,
        *args: Any,
        timeout: float | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> Record | None:
        """The first row, or None."""
        return await self.request(MODE_ROW, sql, args, None, timeout, context)

    async def fetchval(
        self,
        sql: str,
        *args: Any,
        timeout: float | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> Any:
        """The first column of the first row, or None."""
        return await self.request(MODE_VAL, sql, args, None, timeout, context)

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
            await self.drain()
            return await self.request(MODE_SCRIPT, sql, ())
        return await self.request(MODE_STATUS, sql, args, None, timeout, context)

    async def fetch_json(
        self,
        sql: str,
        *args: Any,
        selection: Any = None,
        many: bool = False,
        timeout: float | None = None,
        context: Mapping[str, Any] | None = None,
        page: bool = False,
    ) -> bytes:
        """The query's single JSON column as bytes, built in C: the first row (b"null" when
        none) or, with many=True, one JSON array of all rows; rewritten through `selection`.
        page=True: a Relay connection page's statement (fraiseql.repository), whose rows C
        turns into the page document (src/_fraiseql/page.h) before the rewrite."""
        return await self.request(json_mode(many, page), sql, args, selection, timeout, context)

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
        """`async with conn.transaction():` commits, or rolls back on exception; nested, it
        is a savepoint."""
        return Transaction(self, isolation, readonly)

    def clear_view_cache(self) -> None:
        """Forget the views' columns the Repository read (after a migration changed them)."""
        self.view_cache.clear()

    @property
    def transaction_status(self) -> int:
        return self._pg.transaction_status if self._pg is not None else 4

    @property
    def backend_pid(self) -> int:
        return self._pg.backend_pid

    @property
    def prepared_statements(self) -> int:
        return self._pg.statements


async def connect(
    dsn: str,
    *,
    connect_timeout: float | None = 30.0,
    statement_timeout: float | None = None,
    server_settings: Mapping[str, str] | None = None,
    session_settings: Mapping[str, str] | None = None,
    max_statements: int = 256,
    prepared_statements: bool = True,
) -> Connection:
    """Open one connection (a libpq DSN or URI).

    prepared_statements=False is for transaction poolers (PgBouncer before 1.21, or without
    max_prepared_statements): every statement is sent unnamed, and statement_timeout and
    server_settings are applied to each transaction instead of the session."""
    return await Connection.open(
        dsn,
        session_settings=check_session_settings(session_settings),
        connect_timeout=connect_timeout,
        statement_timeout=statement_timeout,
        server_settings=server_settings,
        max_statements=max_statements,
        prepared_statements=prepared_statements,
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


async def _wait_fd(loop: asyncio.AbstractEventLoop, fd: int, want: int) -> None:
    """Wait until the socket is readable or writable, as `want` (WANT_* bits) asks."""
    fut = loop.create_future()

    def ready() -> None:
        if not fut.done():
            fut.set_result(None)

    if want & WANT_READ:
        loop.add_reader(fd, ready)
    if want & WANT_WRITE:
        loop.add_writer(fd, ready)
    try:
        await fut
    finally:
        if want & WANT_READ:
            loop.remove_reader(fd)
        if want & WANT_WRITE:
            loop.remove_writer(fd)
