"""mv_ refresh: CONCURRENTLY under readers, the debounced and periodic refresher, pg_cron."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest
from support.cqrs import assert_no_drift, prepared_database, run, with_conn

from fraiseql.cqrs import Many, ReadModel
from fraiseql.cqrs.refresh import (
    Refresher,
    RefreshError,
    cron_status,
    refresh,
    schedule_cron,
    unschedule_cron,
)
from fraiseql.embedded import EmbeddedPostgres, find_bindir

TABLES = """
CREATE TABLE tb_user (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE tb_post (id int PRIMARY KEY, user_id int NOT NULL REFERENCES tb_user, title text NOT NULL);
CREATE INDEX ON tb_post (user_id, id DESC);
INSERT INTO tb_user SELECT g, 'u' || g FROM generate_series(1, 2000) g;
INSERT INTO tb_post SELECT g, 1 + g % 2000, repeat('t', 50) FROM generate_series(1, 20000) g;
"""
USER = ReadModel(
    "user",
    table="tb_user",
    fields=("id", "name"),
    embed={"posts": Many("tb_post", fields=("id", "title"), order_by="id DESC", limit=10)},
    forms=("mv",),
    notify=True,
)
QUIET = ReadModel("quiet", table="tb_user", fields=("id",), forms=("mv",))
WAIT_LIMIT = (
    20.0  # seconds a background refresh may take on a loaded machine before the test gives up
)


@pytest.fixture(scope="module")
def dsn(pg_server, pg_dsn):
    return prepared_database(pg_server, pg_dsn, "cqrs_refresh", TABLES, [USER, QUIET])


async def _until(predicate, what: str) -> None:
    for _ in range(int(WAIT_LIMIT / 0.05)):
        if await predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")


def test_concurrent_refresh_never_disturbs_readers(dsn):
    async def go():
        stop = asyncio.Event()
        reads = {"n": 0}

        async def reader(seed: int) -> None:
            conn = await asyncpg.connect(dsn)
            try:
                while not stop.is_set():
                    key = 1 + (seed * 7919 + reads["n"]) % 2000
                    assert (
                        await conn.fetchval("SELECT data->>'name' FROM mv_user WHERE id = $1", key)
                        is not None
                    )
                    assert await conn.fetchval("SELECT count(*) FROM mv_user") == 2000
                    reads["n"] += 1
            finally:
                await conn.close()

        async def refresher() -> None:
            conn = await asyncpg.connect(dsn)
            try:
                for i in range(6):
                    await conn.execute(
                        "UPDATE tb_post SET title = title || $1 WHERE id % 10 = 0", str(i)
                    )
                    await refresh(conn, "mv_user")
            finally:
                stop.set()
                await conn.close()

        await asyncio.gather(refresher(), *(reader(s) for s in range(4)))
        assert reads["n"] > 0
        conn = await asyncpg.connect(dsn)
        await assert_no_drift(conn, "mv_user")
        await conn.close()

    run(go())


def test_debounced_refresher_coalesces_writes_and_writers_never_wait(dsn):
    async def go():
        admin, writer = await asyncpg.connect(dsn), await asyncpg.connect(dsn)
        try:
            async with Refresher(dsn, debounce={"mv_user": 0.5}) as refresher:
                # Hold the first refresh back: fraiseql.refresh() ends by updating its catalog row.
                blocker = admin.transaction()
                await blocker.start()
                await admin.execute(
                    "SELECT 1 FROM fraiseql.read_model_relation WHERE relation = 'mv_user' FOR UPDATE"
                )
                await writer.execute("UPDATE tb_user SET name = 'first' WHERE id = 1")
                await _until(
                    lambda: _refreshing(writer), "the first refresh to start"
                )  # admin would see a frozen pg_stat_activity
                for i in range(30):  # writers commit while a refresh waits: nobody waits for it
                    await writer.execute(
                        "UPDATE tb_user SET name = $1 WHERE id = $2", f"w{i}", 2 + i
                    )
                await blocker.rollback()
                await _until(lambda: _same(admin, 31), "the debounced refresh")
                await asyncio.sleep(
                    1.0
                )  # more than the interval: no further notification, no further refresh
                assert refresher.refreshes["mv_user"] == 2 and not refresher.errors
            await assert_no_drift(admin, "mv_user")
        finally:
            await admin.close()
            await writer.close()

    run(go())


async def _refreshing(conn) -> bool:
    return (
        await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT fraiseql.refresh%' "
            "AND wait_event_type = 'Lock'"
        )
        > 0
    )


async def _same(conn, key: int) -> bool:
    return await conn.fetchval(
        "SELECT m.data = t.data FROM mv_user m, LATERAL (SELECT fq_user_doc(m.id) AS data) t "
        "WHERE m.id = $1",
        key,
    )


def test_periodic_refresher(dsn):
    async def body(conn):
        async with Refresher(dsn, every={"mv_user": 0.05}) as refresher:
            await conn.execute("UPDATE tb_user SET name = 'periodic' WHERE id = 5")
            await _until(lambda: _same(conn, 5), "the periodic refresh")
            await _until(lambda: _count(refresher, 3), "three periodic refreshes")
        assert not refresher.errors

    with_conn(dsn, body)


async def _count(refresher: Refresher, n: int) -> bool:
    return refresher.refreshes.get("mv_user", 0) >= n


def test_refresher_rejects_bad_input(dsn):
    with pytest.raises(ValueError, match="at least one relation"):
        Refresher(dsn)
    with pytest.raises(ValueError, match="must be positive"):
        Refresher(dsn, every={"mv_user": 0})

    async def go():
        with pytest.raises(LookupError, match="'mv_nope' is not a read model"):
            async with Refresher(dsn, every={"mv_nope": 1}):
                pass
        with pytest.raises(
            RefreshError,
            match="public.mv_quiet sends no notifications: declare its model with notify=True",
        ):
            async with Refresher(dsn, debounce={"mv_quiet": 1}):
                pass

    run(go())


def _pg_cron_library() -> bool:
    return (find_bindir().parent / "lib" / "pg_cron.so").is_file()


def test_pg_cron_detected_and_required(dsn):
    """Without the extension in the database: detected as such, and scheduling explains what to do."""

    async def body(conn):
        status = await cron_status(conn)
        assert status == ("available" if _pg_cron_library() else "absent")
        with pytest.raises(RefreshError, match="pg_cron is not installed in this database"):
            await schedule_cron(conn, "mv_user", "*/5 * * * *")

    with_conn(dsn, body)


def test_pg_cron_schedules_the_refresh():
    """With pg_cron loaded (shared_preload_libraries) when its package is on this machine."""
    if not _pg_cron_library():
        # Tested path without the package: the detection test above. Nothing more can run here.
        assert not Path("/usr/share/postgresql/15/extension/pg_cron.control").exists()
        return
    settings = {"shared_preload_libraries": "'pg_cron'", "cron.database_name": "'cron'"}
    with EmbeddedPostgres(settings=settings) as pg:
        dsn = prepared_database(pg, pg.dsn, "cron", TABLES, [USER])

        async def body(conn):
            await conn.execute("CREATE EXTENSION pg_cron")
            assert await cron_status(conn) == "installed"
            job = await schedule_cron(conn, "mv_user", "*/5 * * * *")
            row = await conn.fetchrow(
                "SELECT schedule, command FROM cron.job WHERE jobid = $1", job
            )
            assert row["schedule"] == "*/5 * * * *"
            assert row["command"] == "SELECT fraiseql.refresh('public', 'mv_user')"
            await conn.execute("UPDATE tb_user SET name = 'cron' WHERE id = 3")
            await conn.execute(row["command"])  # what the job runs
            assert await _same(conn, 3)
            assert await unschedule_cron(conn, "mv_user") is True
            assert await conn.fetchval("SELECT count(*) FROM cron.job") == 0
            assert await unschedule_cron(conn, "mv_user") is False

        with_conn(dsn, body)


def test_refresh_command_runs_debounced_until_interrupted(dsn):
    exe = os.path.join(os.path.dirname(sys.executable), "fraiseql")
    proc = subprocess.Popen(
        [exe, "refresh", "mv_user", "--debounce", "0.2", "--dsn", dsn],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout.readline().startswith(
            "refreshing mv_user at most every 0.2 s after writes"
        )

        async def body(conn):
            await conn.execute("UPDATE tb_user SET name = 'from cli' WHERE id = 9")
            await _until(lambda: _same(conn, 9), "the command's refresh")

        with_conn(dsn, body)
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=WAIT_LIMIT)
    assert proc.returncode == 0, err
    assert out.startswith("stopped after ") and not out.startswith("stopped after 0 ")
