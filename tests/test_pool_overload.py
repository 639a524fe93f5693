"""A bound on the requests waiting for room in the pool (max_waiting): beyond it requests
fail at once with PoolOverloadedError, and over HTTP with a quick 503 and Retry-After.

Room runs out deterministically here: the one connection is held, or its one pipeline slot
is taken by a read blocked on an advisory lock the test holds.
"""

import asyncio
import json

import httpx
import pytest
from support.databases import own_database, run
from support.http_server import serve

import fraiseql
from fraiseql import db
from fraiseql.errors import InterfaceError, PoolOverloadedError
from fraiseql.http import OVERLOADED

LOCK = 4343
LOCKED_SQL = f"SELECT $1::int FROM pg_advisory_xact_lock_shared({LOCK})"


@pytest.fixture(scope="module")
def dsn(pg_server, pg_dsn):
    return own_database(pg_server, pg_dsn, "pool_overload_db")


async def _settle():
    """Let the tasks started so far run until they wait (for room, or for the server)."""
    for _ in range(5):
        await asyncio.sleep(0)


def test_waiting_for_a_held_connection_is_bounded(dsn):
    async def body():
        async with fraiseql.create_pool(dsn, min_size=1, max_size=1, max_waiting=2) as pool:
            async with pool.acquire() as conn:
                waiters = [
                    asyncio.ensure_future(pool.fetchval("SELECT $1::int", i)) for i in (1, 2)
                ]
                await _settle()
                assert pool.waiting == 2
                with pytest.raises(
                    PoolOverloadedError, match=r"2 requests already wait .*max_waiting=2"
                ):
                    await pool.fetchval("SELECT 3")
                with pytest.raises(PoolOverloadedError):
                    await pool.acquire()
                assert await conn.fetchval("SELECT 'held'") == "held"
            assert await asyncio.gather(*waiters) == [1, 2]  # those below the bound are served
            assert pool.waiting == 0
            assert await pool.fetchval("SELECT 4") == 4

    run(body())


def test_reads_behind_a_full_pipeline_are_bounded(dsn):
    async def body():
        admin = await db.connect(dsn)
        await admin.execute(f"SELECT pg_advisory_lock({LOCK})")
        async with fraiseql.create_pool(
            dsn, min_size=1, max_size=1, pipeline_depth=1, max_waiting=1
        ) as pool:
            blocked = asyncio.ensure_future(pool.fetchval(LOCKED_SQL, 1))
            await _settle()
            queued = asyncio.ensure_future(pool.fetchval("SELECT 2"))
            await _settle()
            assert pool.waiting == 1 and not queued.done()
            with pytest.raises(PoolOverloadedError, match="max_waiting=1"):
                await pool.fetch("SELECT 3")
            await admin.execute(f"SELECT pg_advisory_unlock({LOCK})")
            assert (await blocked, await queued) == (1, 2)
            assert pool.waiting == 0
            assert await pool.fetchval("SELECT 4") == 4
        await admin.close()

    run(body())


def test_max_waiting_none_is_unbounded_and_bad_values_are_refused(dsn):
    async def body():
        async with fraiseql.create_pool(dsn, min_size=1, max_size=1, max_waiting=None) as pool:
            async with pool.acquire():
                waiters = [
                    asyncio.ensure_future(pool.fetchval("SELECT $1::int", i)) for i in range(300)
                ]
                await _settle()
                assert pool.waiting == 300
            assert await asyncio.gather(*waiters) == list(range(300))
        with pytest.raises(InterfaceError, match="max_waiting"):
            fraiseql.create_pool(dsn, max_waiting=-1)

    run(body())


@pytest.fixture(scope="module")
def overload_url(dsn):
    fraiseql.reset_registry()

    @fraiseql.query
    async def locked(info, n: int) -> int:
        return await info.context["db"].fetchval(LOCKED_SQL, n)

    app = fraiseql.create_app(
        database_url=dsn,
        pool_options={"min_size": 1, "max_size": 1, "pipeline_depth": 1, "max_waiting": 3},
    )
    fraiseql.reset_registry()
    with serve(app) as base:
        yield base + "/graphql"


# The first is answered on the fast path; introspection sends the second through graphql-core.
QUERIES = (
    "query Q($n: Int!) { locked(n: $n) }",
    "query Q($n: Int!) { locked(n: $n) __schema { queryType { name } } }",
)


def test_a_burst_beyond_the_bound_gets_quick_503s(dsn, overload_url):
    async def body():
        admin = await db.connect(dsn)
        await admin.execute(f"SELECT pg_advisory_lock({LOCK})")
        limits = httpx.Limits(max_connections=20)
        async with httpx.AsyncClient(timeout=30, limits=limits) as client:

            async def ask(n):
                body = {"query": QUERIES[n % 2], "variables": {"n": n}}
                return await client.post(overload_url, json=body)

            burst = [asyncio.ensure_future(ask(n)) for n in range(10)]
            # 1 request blocked on the lock and 3 waiting: the other 6 are answered now,
            # while the lock is still held (nothing of the database was waited for)
            done = []
            while len(done) < 6:
                finished, _ = await asyncio.wait(
                    [t for t in burst if t not in done], return_when=asyncio.FIRST_COMPLETED
                )
                done += finished
            assert len(done) == 6 and sum(not t.done() for t in burst) == 4
            for task in done:
                r = task.result()
                assert r.status_code == 503 and r.headers["retry-after"] == "1"
                assert r.json() == {
                    "errors": [{"message": OVERLOADED, "extensions": {"code": "OVERLOADED"}}]
                }
                assert "max_waiting" not in r.text  # the pool's own words only in debug
            # still serving what needs no database wait, and the waiters once the lock goes
            r = await client.post(overload_url, json={"query": "{ __typename }"})
            assert r.status_code == 200 and r.json() == {"data": {"__typename": "Query"}}
            await admin.execute(f"SELECT pg_advisory_unlock({LOCK})")
            for n, task in enumerate(burst):
                if task not in done:
                    r = await task
                    assert r.status_code == 200 and r.json()["data"]["locked"] == n
            r = await client.post(overload_url, json={"query": QUERIES[0], "variables": {"n": 42}})
            assert r.status_code == 200 and json.loads(r.text) == {"data": {"locked": 42}}
        await admin.close()

    run(body())
