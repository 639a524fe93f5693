"""Cancelling pooled reads: the server stops the query, and nobody else pays for it.

Pool reads share pipelined connections, and PQcancel cancels whatever the backend runs when
it lands: these tests cancel the running request, a queued one, force the race in which the
cancel lands on the next request instead, and run cancels under load.
"""

import asyncio
import random
import threading
import time

import pytest
from support.databases import own_database, run

import fraiseql
from fraiseql import db

SLOW = "SELECT pg_sleep(30)"
LOCK = 4242


@pytest.fixture(scope="module")
def dsn(pg_server, pg_dsn):
    return own_database(pg_server, pg_dsn, "pool_cancel_db")


async def _running(admin, sql):
    """pids of the pool sessions (application_name fraiseql) running `sql` now."""
    rows = await admin.fetch(
        "SELECT pid FROM pg_stat_activity WHERE application_name = 'fraiseql' "
        "AND datname = current_database() AND state = 'active' AND query = $1",
        sql,
    )
    return [r["pid"] for r in rows]


async def _until(predicate, what, seconds=20.0):
    """Polls an async predicate until it holds; fails naming `what` after `seconds` (the
    queries under test sleep 30 s: a cancel that never reaches the server fails here)."""
    deadline = time.monotonic() + seconds
    while not await predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened within {seconds}s: {what}")
        await asyncio.sleep(0.02)


def _connections(pool):
    return [*pool._shared, *pool._held]


def test_cancelled_running_read_is_cancelled_on_the_server(dsn):
    async def body():
        admin = await db.connect(dsn)
        async with fraiseql.create_pool(dsn, min_size=1, max_size=1, pipeline_stall=60) as pool:
            slow = asyncio.ensure_future(pool.fetchval(SLOW))
            await _until(lambda: _running(admin, SLOW), "the slow read running")
            [pid] = await _running(admin, SLOW)
            # pipelined behind it, on the same connection
            behind = [asyncio.ensure_future(pool.fetchval("SELECT $1::int", i)) for i in range(5)]
            await asyncio.sleep(0)
            slow.cancel()
            with pytest.raises(asyncio.CancelledError):
                await slow
            assert await asyncio.gather(*behind) == list(range(5))  # each its own result
            assert await _running(admin, SLOW) == []
            # the same session, reused: cancelling broke nothing
            assert await pool.fetchval("SELECT pg_backend_pid()") == pid
            assert pool.size == 1 and _connections(pool)[0].inflight == 0
        await admin.close()

    run(body())


def test_cancel_of_a_queued_read_reaches_it_when_it_runs(dsn):
    async def body():
        admin = await db.connect(dsn)
        await admin.execute(f"SELECT pg_advisory_lock({LOCK})")
        async with fraiseql.create_pool(dsn, min_size=1, max_size=1, pipeline_stall=60) as pool:
            first = asyncio.ensure_future(
                pool.fetchval(f"SELECT 'first' FROM pg_advisory_xact_lock_shared({LOCK})")
            )
            queued = asyncio.ensure_future(pool.fetchval(SLOW))
            last = asyncio.ensure_future(pool.fetchval("SELECT 'last'"))
            await _until(
                lambda: _running(
                    admin, f"SELECT 'first' FROM pg_advisory_xact_lock_shared({LOCK})"
                ),
                "the first read waiting for the lock",
            )
            queued.cancel()  # behind `first`: a cancel now would hit `first`, not it
            with pytest.raises(asyncio.CancelledError):
                await queued
            await admin.execute(f"SELECT pg_advisory_unlock({LOCK})")
            assert await first == "first"
            assert await last == "last"
            assert await _running(admin, SLOW) == []
            assert _connections(pool)[0]._abandoned == []
        await admin.close()

    run(body())


def test_a_cancel_that_lands_on_the_next_read_is_retried(dsn):
    async def body():
        admin = await db.connect(dsn)
        await admin.execute("DROP SEQUENCE IF EXISTS victim_runs; CREATE SEQUENCE victim_runs")
        await admin.execute(f"SELECT pg_advisory_lock({LOCK})")
        # nextval first (not rolled back): it counts the victim's runs
        victim_sql = f"SELECT nextval('victim_runs'), pg_advisory_xact_lock_shared({LOCK})"
        async with fraiseql.create_pool(dsn, min_size=1, max_size=1, pipeline_stall=60) as pool:
            # the target's sleep keeps its answer away while these few loop turns send both
            target = asyncio.ensure_future(pool.fetchval("SELECT 'target' FROM pg_sleep(0.2)"))
            victim = asyncio.ensure_future(pool.fetchrow(victim_sql))
            for _ in range(3):
                await asyncio.sleep(0)
            assert not target.done()
            # The server answers the target and starts the victim while this loop, blocked,
            # has not read the target's result: the target still looks like the one running.
            started = _blocking(_until_started(dsn, victim_sql))
            target.cancel()
            with pytest.raises(asyncio.CancelledError):
                await target
            await _until(lambda: _restarted(admin, victim_sql, started), "the victim sent again")
            await admin.execute(f"SELECT pg_advisory_unlock({LOCK})")
            row = await victim  # no QueryCanceledError: the cancel hit it, then it ran again
            assert row[0] == 2
        await admin.execute("DROP SEQUENCE victim_runs")
        await admin.close()

    run(body())


def _blocking(coro):
    """Runs coro to completion in a thread of its own, blocking this thread's event loop."""
    result = []
    thread = threading.Thread(target=lambda: result.append(asyncio.run(coro)))
    thread.start()
    thread.join()
    return result[0]


async def _until_started(dsn, sql):
    """When the pool's session started running sql (it waits for the test's lock)."""
    admin = await db.connect(dsn)
    try:
        await _until(lambda: _running(admin, sql), f"{sql!r} running")
        return await _query_start(admin, sql)
    finally:
        await admin.close()


async def _query_start(admin, sql):
    return await admin.fetchval(
        "SELECT query_start FROM pg_stat_activity WHERE application_name = 'fraiseql' "
        "AND datname = current_database() AND state = 'active' AND query = $1",
        sql,
    )


async def _restarted(admin, sql, started):
    now = await _query_start(admin, sql)
    return now is not None and now != started


def test_a_statement_timeout_is_not_retried(dsn):
    async def body():
        admin = await db.connect(dsn)
        await admin.execute("DROP SEQUENCE IF EXISTS timeout_runs; CREATE SEQUENCE timeout_runs")
        async with fraiseql.create_pool(dsn, min_size=1, max_size=1) as pool:
            with pytest.raises(fraiseql.QueryCanceledError, match="statement timeout"):
                await pool.fetchrow("SELECT nextval('timeout_runs'), pg_sleep(5)", timeout=0.05)
            assert await pool.fetchval("SELECT last_value FROM timeout_runs") == 1
        await admin.execute("DROP SEQUENCE timeout_runs")
        await admin.close()

    run(body())


def test_racing_cancels_under_load_reach_no_one_else(dsn):
    async def body():
        rng = random.Random(14)
        admin = await db.connect(dsn)
        async with fraiseql.create_pool(dsn, min_size=2, max_size=2, pipeline_depth=8) as pool:
            backends = sorted(await _pool_backends(admin))
            for _round in range(20):
                sql = "SELECT $1::int FROM pg_sleep($2::float8)"
                tasks = [
                    asyncio.ensure_future(pool.fetchval(sql, i, rng.choice((0, 0, 0.001, 0.01))))
                    for i in range(40)
                ]
                doomed = rng.sample(range(40), 12)
                for i in doomed:
                    await asyncio.sleep(rng.choice((0, 0, 0.0005, 0.002)))
                    tasks[i].cancel()
                results = await asyncio.gather(*tasks, return_exceptions=True)
                for i, result in enumerate(results):
                    if isinstance(result, asyncio.CancelledError):
                        assert i in doomed
                    else:  # a QueryCanceledError here is another request's cancel
                        assert result == i, (i, result)
            conns = _connections(pool)
            for conn in conns:
                await conn.drain()
                assert conn._abandoned == []
                await conn._cancels_taken_all()  # the last PQcancel threads return
            assert sum(c._cancels_sent for c in conns) > 0  # the race was run, not dodged
            # no session lost or added, nothing left running
            assert pool.size == 2 and sorted(await _pool_backends(admin)) == backends
            assert await _running(admin, "SELECT $1::int FROM pg_sleep($2::float8)") == []
        assert asyncio.all_tasks() == {asyncio.current_task()}
        await admin.close()

    run(body())


async def _pool_backends(admin):
    rows = await admin.fetch(
        "SELECT pid FROM pg_stat_activity WHERE application_name = 'fraiseql' "
        "AND datname = current_database() AND pid <> pg_backend_pid()"
    )
    return [r["pid"] for r in rows]
