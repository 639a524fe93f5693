"""Pool: connections to one database, pipelined reads, one connection per task on demand.

Pool-level reads outside a transaction share connections: they are pipelined (each
request with its own sync, so one failure aborts nothing else), a few deep pipelines rather
than one connection held per round trip; see Pool.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Generator, Mapping
from typing import Any

from fraiseql.db.connection import Connection, Record
from fraiseql.db.constants import (
    MODE_ROW,
    MODE_ROWS,
    MODE_STATUS,
    MODE_VAL,
    json_mode,
)
from fraiseql.db.context import ContextDB
from fraiseql.db.settings import check_session_settings
from fraiseql.db.transaction import Transaction
from fraiseql.db.view_cache import ViewCache
from fraiseql.errors import DatabaseError, InterfaceError, PoolOverloadedError, PoolTimeoutError

_log = logging.getLogger("fraiseql")

# Back-off between attempts to restore min_size while the server refuses connections.
_REFILL_FIRST_DELAY, _REFILL_MAX_DELAY = 0.1, 5.0
# How long a released connection may take to finish what is in flight before it is closed.
_RELEASE_DRAIN_TIMEOUT = 10.0


class Pool:
    """Connections to one database; `await create_pool(...)` or `async with create_pool(...)`.

    Reads through the pool (`fetch*`, `fetch_json`, `execute` with arguments) are pipelined:
    up to pipeline_depth requests queue on one connection before the next is used, and a
    connection stalled behind a slow query (no progress for pipeline_stall seconds), or whose
    queue takes pipeline_wait seconds at the pace it answers, gets no new ones; `acquire()`
    and `transaction()` give one connection to one task. Broken connections are noticed when
    the server closes them (the socket is always watched) or when a request fails: no
    health-check round trip per checkout. Connections lost below min_size are replaced by
    one background task (see _refill); beyond it, on demand.
    Requests waiting for room are bounded by max_waiting (see _admit).
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
        prepared_statements: bool = True,
        pipeline_depth: int = 32,
        pipeline_stall: float = 0.005,
        pipeline_wait: float = 0.002,
        max_waiting: int | None = 1000,
    ) -> None:
        if max_waiting is not None and max_waiting < 0:
            raise InterfaceError(f"need max_waiting >= 0 or None, got {max_waiting}")
        if pipeline_depth < 1 or pipeline_stall <= 0 or pipeline_wait <= 0:
            raise InterfaceError(
                f"need pipeline_depth >= 1, pipeline_stall > 0 and pipeline_wait > 0, got "
                f"{pipeline_depth}, {pipeline_stall}, {pipeline_wait}"
            )
        if not 0 <= min_size <= max_size or max_size < 1:
            raise InterfaceError(
                f"need 0 <= min_size <= max_size and max_size >= 1, got {min_size}, {max_size}"
            )
        self._dsn = dsn
        self.min_size, self.max_size = min_size, max_size
        self.acquire_timeout = acquire_timeout
        self.max_lifetime = max_lifetime
        self._connect_kw = {
            "connect_timeout": connect_timeout,
            "statement_timeout": statement_timeout,
            "server_settings": server_settings,
            "max_statements": max_statements,
            "prepared_statements": prepared_statements,
        }
        self._settings = check_session_settings(session_settings)
        self.pipeline_depth = pipeline_depth
        self.pipeline_stall = pipeline_stall
        self.pipeline_wait = pipeline_wait
        self.max_waiting = max_waiting
        self._waiting = 0  # requests waiting for room: see _admit
        self._shared: list[Connection] = []  # open and not held by a task
        self._held: set[Connection] = set()
        self._size = 0  # open + opening
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._closed = False
        self._initialized = False
        self._refill_task: asyncio.Task[None] | None = None
        self.view_cache = ViewCache()

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
            conn = await Connection.open(
                self._dsn,
                session_settings=self._settings,
                on_close=self._forget,
                **self._connect_kw,
            )
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
            await conn.drain()
            conn.terminate()

        asyncio.ensure_future(close_when_drained())

    def _timed_out(self) -> PoolTimeoutError:
        return PoolTimeoutError(
            f"no connection free within {self.acquire_timeout}s "
            f"(pool max_size={self.max_size}, all in use)"
        )

    def _admit(self) -> None:
        """A request is about to wait for room (for a connection, or behind full or stalled
        pipelines): beyond max_waiting such requests it fails at once, so that an overloaded
        server answers quickly instead of queueing until its clients give up."""
        if self.max_waiting is not None and self._waiting >= self.max_waiting:
            raise PoolOverloadedError(
                f"pool overloaded: {self._waiting} requests already wait for a connection "
                f"(max_waiting={self.max_waiting}, max_size={self.max_size}); retry later"
            )

    async def _wait(self, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise self._timed_out()
        self._admit()
        fut = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        self._waiting += 1
        try:
            await asyncio.wait_for(fut, remaining)
        except BaseException as exc:
            if fut.done() and not fut.cancelled():
                self._wake()  # woken as it gave up (timed out, cancelled): the next one's turn
            if isinstance(exc, asyncio.TimeoutError):
                raise self._timed_out() from None
            raise
        finally:
            self._waiting -= 1

    def _check_open(self) -> None:
        if self._closed:
            raise InterfaceError("the pool is closed")

    # -- shared (pipelined) requests --

    def _has_room(self, conn: Connection, now: float) -> bool:
        """Its pipeline is below pipeline_depth and moving (empty, or progress within
        pipeline_stall seconds), and the requests ahead take less than pipeline_wait at the
        connection's pace: a request sent there does not wait behind others for long. (One
        backend runs on one core: slow statements pipelined there would leave the others idle.)"""
        n = conn.inflight
        return n < self.pipeline_depth and (
            n == 0 or now - conn.progress_at < self.pipeline_stall and self._quick(conn)
        )

    def _quick(self, conn: Connection) -> bool:
        """The requests in its pipeline take less than pipeline_wait at its measured pace."""
        return conn.inflight * conn.service_time < self.pipeline_wait

    def _idle_shared(self) -> Connection | None:
        """Fast path: the busiest shared connection whose pipeline is below pipeline_depth and
        moving. A few deep pipelines serve more requests per second than many shallow ones
        (fewer wake-ups and syscalls per request: see benchmarks/RESULTS.md); a connection that
        made no progress for pipeline_stall seconds (a slow query at its head) gets no more."""
        if self._closed:
            return None
        now = time.monotonic()
        best, most = None, -1
        for conn in self._shared:
            n = conn.inflight
            if n > most and self._has_room(conn, now) and not self._expired(conn):
                best, most = conn, n
        return best

    async def _shared_conn(self) -> Connection:
        """Slow path: every connection is full, stalled or expired; grow, or share the least
        loaded. A waiter that got one wakes the next: a shared connection serves them all
        (after an outage, one refilled connection must not serve a single waiter)."""
        conn = await self._find_shared()
        if self._waiters:
            self._wake()
        return conn

    async def _find_shared(self) -> Connection:
        self._check_open()
        deadline = time.monotonic() + self.acquire_timeout
        while True:
            now = time.monotonic()
            for conn in [c for c in self._shared if c.inflight == 0 and self._expired(c)]:
                self._retire(conn)
            moving = [
                c
                for c in self._shared
                if c.inflight == 0 or now - c.progress_at < self.pipeline_stall
            ]
            if moving:
                best = min(moving, key=lambda c: c.inflight)
                if self._size >= self.max_size or self._has_room(best, now):
                    return best
                if self._quick(best):
                    asyncio.ensure_future(self._grow())  # full of quick ones: room soon
                    return best
                try:  # slow statements ahead: a connection (a backend, a core) of its own
                    return await self._open_shared()
                except DatabaseError:  # the server takes no more: behind them, as before
                    return best
            if self._size < self.max_size:  # all stalled behind slow queries: a new one now
                return await self._open_shared()
            if self._shared:
                # The one stalled the shortest: under load a busy connection can look stalled
                # only because the loop has not read it yet; a slow query's stays behind.
                return max(self._shared, key=lambda c: c.progress_at)
            await self._wait(deadline)
            self._check_open()
            self._wake()  # a connection given back serves every waiting read: wake the next

    async def _open_shared(self) -> Connection:
        conn = await self._open()
        self._shared.append(conn)
        return conn

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
        conn = self._idle_shared()
        queued = False
        if conn is None:
            conn = await self._shared_conn()
            queued = not self._has_room(conn, time.monotonic())
            if queued:  # behind full or stalled pipelines: it waits like an acquire
                self._admit()
                self._waiting += 1
        try:
            return await conn.request(mode, sql, args, selection, timeout, context, shared=True)
        finally:
            if queued:
                self._waiting -= 1

    async def fetch(
        self,
        sql: str,
        *args: Any,
        timeout: float | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> list[Record]:
        return await self._shared_request(MODE_ROWS, sql, args, None, timeout, context)

    async def fetchrow(
        self,
        sql: str,
        *args: Any,
        timeout: float | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> Record | None:
        return await self._shared_request(MODE_ROW, sql, args, None, timeout, context)

    async def fetchval(
        self,
        sql: str,
        *args: Any,
        timeout: float | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> Any:
        return await self._shared_request(MODE_VAL, sql, args, None, timeout, context)

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
        return await self._shared_request(MODE_STATUS, sql, args, None, timeout, context)

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
        return await self._shared_request(
            json_mode(many, page), sql, args, selection, timeout, context
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
                try:
                    await conn.drain()  # shared reads sent before the handover finish first
                except BaseException:  # cancelled meanwhile: nobody holds it, it serves reads
                    self._share(conn)
                    raise
                if conn.is_closed:
                    conn.terminate()  # out of the pool, if its break left it there
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
                await conn.reset(_RELEASE_DRAIN_TIMEOUT)
            except (DatabaseError, asyncio.TimeoutError):
                conn.terminate()
                return
        if conn.is_closed:
            conn.terminate()  # out of the pool, if its break left it there
            return
        if self._expired(conn) or self._closed:
            conn.terminate()
            return
        self._share(conn)

    def _share(self, conn: Connection) -> None:
        """A held connection no task holds any more serves shared reads and waiters again
        (unless it closed meanwhile: then it has already left the pool)."""
        if conn in self._held:
            self._held.remove(conn)
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

    def connection_states(self) -> dict[str, int]:
        """How many connections are idle, shared (pipelined reads in flight), busy (held by
        one task: acquire, transaction, or retiring) and opening; for metrics."""
        shared = sum(1 for conn in self._shared if conn.inflight)
        is_open = len(self._shared) + len(self._held)
        return {
            "idle": len(self._shared) - shared,
            "shared": shared,
            "busy": len(self._held),
            "opening": max(self._size - is_open, 0),
        }

    @property
    def session_settings(self) -> Mapping[str, str]:
        """Context key -> setting applied with each call's `context=` (row-level security)."""
        return self._settings

    @property
    def waiting(self) -> int:
        """Requests waiting for room now (see max_waiting)."""
        return self._waiting

    def with_context(self, context: Mapping[str, Any]) -> ContextDB:
        """A view of the pool that applies `context` to every request (row-level security)."""
        return ContextDB(self, context)

    def clear_view_cache(self) -> None:
        """Forget the views' columns the Repository read through the pool and through each of
        its connections (after a migration changed them)."""
        self.view_cache.clear()
        for conn in (*self._shared, *self._held):
            conn.clear_view_cache()


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
                await self._conn.apply_context(self._context)
        except BaseException:
            await self._pool.release(self._conn)
            raise
        return self._conn

    async def __aexit__(self, *exc: Any) -> None:
        try:
            await self._tx.__aexit__(*exc)
        finally:
            await self._pool.release(self._conn)


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
    prepared_statements: bool = True,
    pipeline_depth: int = 32,
    pipeline_stall: float = 0.005,
    pipeline_wait: float = 0.002,
    max_waiting: int | None = 1000,
) -> Pool:
    """A connection pool: `pool = await create_pool(dsn)` or `async with create_pool(dsn) as pool`.

    session_settings maps context keys to PostgreSQL settings, e.g. {"tenant_id": "app.tenant_id"}:
    calls given `context=` (the Repository passes its context) apply them with
    set_config(..., true) in the same transaction, for row-level security policies; inside
    a transaction block they are set back after the call.
    Reads through the pool queue up to pipeline_depth requests on one connection before
    using the next; a connection without progress for pipeline_stall seconds gets no more,
    nor one whose queue takes pipeline_wait seconds at its measured pace (slow statements
    spread over connections, hence over the server's cores).
    min_size connections stay open: lost ones are reopened in the background, with back-off
    while the server refuses (one warning per outage on the "fraiseql" logger).
    prepared_statements=False is for transaction poolers (PgBouncer before 1.21): see connect().
    At most max_waiting requests (None: no bound) wait for room at a time, for a connection
    or behind full or stalled pipelines; further ones raise PoolOverloadedError at once (the
    HTTP app answers 503 with Retry-After).
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
        prepared_statements=prepared_statements,
        pipeline_depth=pipeline_depth,
        pipeline_stall=pipeline_stall,
        pipeline_wait=pipeline_wait,
        max_waiting=max_waiting,
    )
