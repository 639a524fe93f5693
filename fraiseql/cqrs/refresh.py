"""Keeping mv_ models fresh: manual refresh, an in-process refresher, pg_cron jobs.

`Refresher` runs inside an application's event loop. Periodic mode refreshes every N
seconds; debounced mode listens to the NOTIFY the mv_ triggers send on every write to a
source table and refreshes at most once per interval: staleness stays under interval +
refresh time, writers never wait for a refresh (NOTIFY is queued at commit), and a burst
of writes costs one refresh.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fraiseql.cqrs.connect import connect
from fraiseql.cqrs.generate import NOTIFY_CHANNEL, literal
from fraiseql.cqrs.verify import CatalogEntry, lookup

__all__ = [
    "RefreshError",
    "Refresher",
    "cron_status",
    "refresh",
    "schedule_cron",
    "unschedule_cron",
]

log = logging.getLogger("fraiseql.refresh")


class RefreshError(RuntimeError):
    """A refresh could not be done or scheduled; the message says why and what to do instead."""


async def _mv(conn: Any, relation: str) -> CatalogEntry:
    entry = await lookup(conn, relation)
    if entry.kind != "mv":
        raise RefreshError(
            f"{entry.schema}.{entry.relation} is a {entry.kind}_ read model; only mv_ models are refreshed"
            + (" (qm_ models are kept in sync by triggers)" if entry.kind == "qm" else "")
        )
    return entry


async def refresh(conn: Any, relation: str, *, concurrently: bool = True) -> float:
    """REFRESH (CONCURRENTLY, so readers are never blocked) one mv_ model; return the seconds taken."""
    entry = await _mv(conn, relation)
    start = time.perf_counter()
    await conn.execute(
        "SELECT fraiseql.refresh($1, $2, $3)", entry.schema, entry.relation, concurrently
    )
    return time.perf_counter() - start


class Refresher:
    """Refreshes mv_ models in the background of an asyncio application.

    async with Refresher(dsn, every={"mv_stats": 300}, debounce={"mv_user": 1.0}) as r:
        ...  # serve requests; r.refreshes counts refreshes per relation
    """

    def __init__(
        self,
        dsn: str | None = None,
        *,
        every: Mapping[str, float] | None = None,
        debounce: Mapping[str, float] | None = None,
        connector: Callable[[str | None], Awaitable[Any]] = connect,
    ) -> None:
        self.dsn = dsn
        self.every = dict(every or {})
        self.debounce = dict(debounce or {})
        if not self.every and not self.debounce:
            raise ValueError("Refresher needs at least one relation in every= or debounce=")
        for name, seconds in {**self.every, **self.debounce}.items():
            if not seconds > 0:
                raise ValueError(f"refresh interval of {name} must be positive, got {seconds!r}")
        self._connect = connector
        self.refreshes: dict[str, int] = {}
        self.last_refresh: dict[
            str, float
        ] = {}  # time.monotonic() at the start of the last refresh
        self.errors: list[BaseException] = []
        self._conn: Any = None
        self._listen_conn: Any = None
        self._lock = asyncio.Lock()  # one connection, one statement at a time
        self._tasks: list[asyncio.Task] = []
        self._dirty: dict[str, asyncio.Event] = {}  # "schema.relation" of debounced models -> event
        self._names: dict[str, str] = {}

    async def start(self) -> None:
        self._conn = await self._connect(self.dsn)
        for name in {**self.every, **self.debounce}:
            entry = await _mv(self._conn, name)  # fails early on a typo
            self._names[name] = f"{entry.schema}.{entry.relation}"
        for name in self.debounce:
            schema, relation = self._names[name].split(".")
            if not await self._conn.fetchval(
                """SELECT EXISTS (SELECT 1 FROM fraiseql.read_model m JOIN fraiseql.read_model_relation r
                       ON r.schema_name = m.schema_name AND r.model = m.name
                       WHERE r.schema_name = $1 AND r.relation = $2
                         AND 'fq_' || m.name || '_notify' = ANY (m.functions))""",
                schema,
                relation,
            ):
                raise RefreshError(
                    f"{schema}.{relation} sends no notifications: declare its model with notify=True "
                    "to refresh it debounced, or use every= instead"
                )
        if self.debounce:
            self._listen_conn = await self._connect(self.dsn)  # LISTEN needs its own connection
            for name in self.debounce:
                self._dirty[self._names[name]] = asyncio.Event()
            await self._listen_conn.add_listener(NOTIFY_CHANNEL, self._on_notify)
        for name, seconds in self.every.items():
            self._tasks.append(asyncio.create_task(self._periodic(name, seconds)))
        for name, seconds in self.debounce.items():
            self._tasks.append(asyncio.create_task(self._debounced(name, seconds)))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        for conn in (self._listen_conn, self._conn):
            if conn is not None:
                await conn.close()
        self._conn = self._listen_conn = None

    async def __aenter__(self) -> Refresher:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        event = self._dirty.get(payload)
        if event is not None:
            event.set()

    async def _refresh(self, name: str) -> None:
        qualified = self._names[name]
        self.last_refresh[name] = time.monotonic()
        try:
            async with self._lock:
                schema, relation = qualified.split(".")
                await self._conn.execute("SELECT fraiseql.refresh($1, $2, true)", schema, relation)
            self.refreshes[name] = self.refreshes.get(name, 0) + 1
        except Exception as exc:  # keep refreshing the others; the error is logged and kept
            log.error("refresh of %s failed: %s", qualified, exc)
            self.errors.append(exc)

    async def _periodic(self, name: str, seconds: float) -> None:
        while True:
            await self._refresh(name)
            await asyncio.sleep(seconds)

    async def _debounced(self, name: str, seconds: float) -> None:
        event = self._dirty[self._names[name]]
        while True:
            await event.wait()
            wait = self.last_refresh.get(name, float("-inf")) + seconds - time.monotonic()
            if wait > 0:
                await asyncio.sleep(
                    wait
                )  # writes arriving meanwhile are covered by the coming refresh
            event.clear()
            await self._refresh(name)


# -- pg_cron ---------------------------------------------------------------------------------


async def cron_status(conn: Any) -> str:
    """'installed', 'available' (package present, extension not created) or 'absent'."""
    if await conn.fetchval("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron')"):
        return "installed"
    if await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_cron')"
    ):
        return "available"
    return "absent"


def _job_name(entry: CatalogEntry) -> str:
    return f"fraiseql refresh {entry.schema}.{entry.relation}"


async def _require_cron(conn: Any) -> None:
    status = await cron_status(conn)
    if status == "installed":
        return
    how = (
        "the pg_cron package is installed on the server: add pg_cron to shared_preload_libraries, "
        "restart, then CREATE EXTENSION pg_cron"
        if status == "available"
        else "install pg_cron on the server (Debian: postgresql-15-cron), or"
    )
    raise RefreshError(
        f"pg_cron is not installed in this database; {how}; "
        "meanwhile use `fraiseql refresh --every SECONDS` or fraiseql.cqrs.Refresher in your app"
    )


async def schedule_cron(conn: Any, relation: str, schedule: str) -> int:
    """Schedule `SELECT fraiseql.refresh(...)` with pg_cron (cron syntax); return the job id."""
    entry = await _mv(conn, relation)
    await _require_cron(conn)
    command = f"SELECT fraiseql.refresh({literal(entry.schema)}, {literal(entry.relation)})"
    return await conn.fetchval(
        "SELECT cron.schedule($1, $2, $3)", _job_name(entry), schedule, command
    )


async def unschedule_cron(conn: Any, relation: str) -> bool:
    """Remove the pg_cron job of `relation`; False if there was none."""
    entry = await _mv(conn, relation)
    await _require_cron(conn)
    found = await conn.fetchval(
        "SELECT count(*) FROM cron.job WHERE jobname = $1", _job_name(entry)
    )
    if found:
        await conn.execute("SELECT cron.unschedule($1)", _job_name(entry))
    return bool(found)
