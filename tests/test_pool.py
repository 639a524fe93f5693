"""The pool and every fault of the driver, against real servers.

Faults that disturb the server (password auth, restart) use a cluster of their own so the
rest of the suite is unaffected.
"""

import asyncio
import collections
import inspect
import logging
import random
import socket
import time

import pytest
import uvloop
from support.databases import as_user, login_role

import fraiseql
from fraiseql import db
from fraiseql.embedded import EmbeddedPostgres
from fraiseql.errors import InterfaceError, OperationalError, PoolTimeoutError, QueryCanceledError


def run(coro):
    return asyncio.run(coro)


@pytest.fixture(scope="module")
def own_pg():
    with EmbeddedPostgres(hba=["host all pw_user 127.0.0.1/32 scram-sha-256"]) as pg:

        async def setup():
            conn = await db.connect(pg.dsn)
            await conn.execute("CREATE ROLE pw_user LOGIN PASSWORD 'right-password'")
            await conn.close()

        run(setup())
        yield pg


@pytest.fixture(scope="module")
def dsn(pg_server, pg_dsn):
    if pg_server is None:
        return pg_dsn
    return pg_server.create_database("pool_db")


async def _backend_state(dsn, pid):
    conn = await db.connect(dsn)
    try:
        return await conn.fetchrow("SELECT state, query FROM pg_stat_activity WHERE pid = $1", pid)
    finally:
        await conn.close()


async def _wait_running(dsn, pid, needle):
    for _ in range(200):
        row = await _backend_state(dsn, pid)
        if row and row["state"] == "active" and needle in row["query"]:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"backend {pid} never ran {needle!r}")


async def _eventually(predicate, what, seconds=20.0):
    """Polls a predicate (sync or async) until it holds; fails naming `what` after `seconds`."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not (await result if inspect.isawaitable(result := predicate()) else result):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"never happened within {seconds}s: {what}")
        await asyncio.sleep(0.02)


async def _backends(dsn, user=None):
    """pids of the sessions of the pools under test (application_name fraiseql) on dsn's
    database, this observer's own excepted; only `user`'s when given."""
    conn = await db.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name = 'fraiseql' AND pid <> pg_backend_pid() "
            "AND ($1::text IS NULL OR usename = $1)",
            user,
        )
        return {r["pid"] for r in rows}
    finally:
        await conn.close()


def test_unreachable_server_names_host_port_and_reason():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed

    async def body():
        with pytest.raises(OperationalError) as info:
            await db.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres")
        msg = str(info.value)
        assert "127.0.0.1" in msg and str(port) in msg and "refused" in msg
        with pytest.raises(OperationalError, match=str(port)):
            await fraiseql.create_pool(f"postgresql://postgres@127.0.0.1:{port}/postgres")

    run(body())


def test_wrong_password_names_host_port_and_reason(own_pg):
    async def body():
        bad = f"postgresql://pw_user:wrong@127.0.0.1:{own_pg.port}/postgres"
        with pytest.raises(OperationalError) as info:
            await db.connect(bad)
        msg = str(info.value)
        assert "127.0.0.1" in msg and str(own_pg.port) in msg
        assert 'password authentication failed for user "pw_user"' in msg
        good = await db.connect(
            f"postgresql://pw_user:right-password@127.0.0.1:{own_pg.port}/postgres"
        )
        assert await good.fetchval("SELECT current_user") == "pw_user"
        await good.close()

    run(body())


def test_pool_api_and_pipelined_shared_reads(dsn):
    async def body():
        async with fraiseql.create_pool(dsn, min_size=1, max_size=2) as pool:
            assert await pool.fetchval("SELECT $1::int * 2", 21) == 42
            assert (await pool.fetchrow("SELECT 1 AS a"))["a"] == 1
            assert [r[0] for r in await pool.fetch("SELECT generate_series(1, 3)")] == [1, 2, 3]
            assert await pool.fetch_json("SELECT '[1]'::jsonb") == b"[1]"
            assert await pool.execute("SELECT $1::int", 1) == "SELECT 1"
            results = await asyncio.gather(
                *(pool.fetchval("SELECT $1::int", i) for i in range(200))
            )
            assert results == list(range(200))
            assert pool.size <= 2
            pids = await asyncio.gather(
                *(pool.fetchval("SELECT pg_backend_pid()") for _ in range(50))
            )
            assert 1 <= len(set(pids)) <= 2
        with pytest.raises(InterfaceError, match="closed"):
            await pool.fetchval("SELECT 1")

    run(body())


def test_pool_transaction_and_release_rolls_back_open_transaction(dsn):
    async def body():
        pool = await fraiseql.create_pool(dsn, min_size=1, max_size=1)
        await pool.execute("CREATE TABLE pool_tx (v int)")
        async with pool.transaction() as conn:
            await conn.execute("INSERT INTO pool_tx VALUES ($1)", 1)
        with pytest.raises(RuntimeError):
            async with pool.transaction() as conn:
                await conn.execute("INSERT INTO pool_tx VALUES ($1)", 2)
                raise RuntimeError
        async with pool.acquire() as conn:
            await conn.execute("BEGIN")
            await conn.execute("INSERT INTO pool_tx VALUES ($1)", 3)
        # released with the transaction open: rolled back, connection reusable
        assert [r[0] for r in await pool.fetch("SELECT v FROM pool_tx")] == [1]
        await pool.close()

    run(body())


def test_pool_exhausted_acquire_times_out(dsn):
    async def body():
        async with fraiseql.create_pool(dsn, min_size=1, max_size=1, acquire_timeout=0.2) as pool:
            async with pool.acquire():
                with pytest.raises(PoolTimeoutError, match="max_size=1"):
                    await pool.acquire()
                with pytest.raises(PoolTimeoutError):
                    await pool.fetchval("SELECT 1")
                with pytest.raises(TimeoutError):  # also a builtin TimeoutError
                    await pool.acquire(timeout=0.05)
            assert await pool.fetchval("SELECT 1") == 1  # free again

    run(body())


def test_terminated_backend_fails_the_call_and_is_replaced_in_the_background(dsn):
    async def body():
        async with fraiseql.create_pool(dsn, min_size=2, max_size=2) as pool:
            async with pool.acquire() as conn:
                pid = conn.backend_pid
                sleeper = asyncio.ensure_future(conn.fetchval("SELECT pg_sleep(30)"))
                await _wait_running(dsn, pid, "pg_sleep")
                killer = await db.connect(dsn)
                assert await killer.fetchval("SELECT pg_terminate_backend($1)", pid) is True
                await killer.close()
                with pytest.raises(OperationalError) as info:
                    await sleeper
                msg = str(info.value)
                assert f"{conn.host}:{conn.port}" in msg and conn.host == "127.0.0.1"
                assert "terminating connection" in msg or "closed" in msg
                assert conn.is_closed

            async def refilled():  # min_size=2 again, without a request asking for it
                pids = await _backends(dsn)
                return pool.size == 2 and len(pids) == 2 and pid not in pids

            await _eventually(refilled, "the pool back to min_size=2 with a new backend")
            results = await asyncio.gather(
                *(pool.fetchval("SELECT pg_backend_pid()") for _ in range(5))
            )
            assert pid not in results

    run(body())


def test_idle_connection_killed_by_server_is_noticed_and_replaced_without_a_request(dsn):
    async def body():
        async with fraiseql.create_pool(dsn, min_size=1, max_size=1) as pool:
            pid = await pool.fetchval("SELECT pg_backend_pid()")
            killer = await db.connect(dsn)
            await killer.fetchval("SELECT pg_terminate_backend($1)", pid)
            await killer.close()

            async def replaced():  # the watched socket reports the close; the refill reconnects
                pids = await _backends(dsn)
                return pool.size == 1 and len(pids) == 1 and pid not in pids

            await _eventually(replaced, "a new backend in place of the killed one")
            assert await pool.fetchval("SELECT pg_backend_pid()") in await _backends(dsn)

    run(body())


def test_pool_recovers_after_server_restart(own_pg):
    async def body():
        async with fraiseql.create_pool(own_pg.dsn, min_size=2, max_size=2) as pool:
            before = set(
                await asyncio.gather(*(pool.fetchval("SELECT pg_backend_pid()") for _ in range(4)))
            )
            await asyncio.get_running_loop().run_in_executor(None, own_pg.restart)

            async def reconnected():
                pids = await _backends(own_pg.dsn)
                return pool.size == 2 and len(pids) == 2 and not pids & before

            await _eventually(reconnected, "min_size=2 new sessions after the restart")
            after = await pool.fetchval("SELECT pg_backend_pid()")
            assert after not in before
            assert await pool.fetchval("SELECT 41 + $1::int", 1) == 42

    run(body())


def test_refill_backs_off_while_refused_warns_once_and_stops_when_the_pool_closes(own_pg, caplog):
    """The server refuses the pool's role (NOLOGIN): the background refill retries with a
    doubling delay, one warning for the outage, and reconnects once logins work again."""
    caplog.set_level(logging.DEBUG, logger="fraiseql")
    user_dsn = f"postgresql://refill_user@127.0.0.1:{own_pg.port}/postgres"

    def refill_records(level=None):
        return [
            r
            for r in caplog.records
            if r.name == "fraiseql"
            and "restore min_size" in r.getMessage()
            and (level is None or r.levelno == level)
        ]

    async def body():
        admin = await db.connect(own_pg.dsn)
        await admin.execute("CREATE ROLE refill_user LOGIN")

        async def refuse_and_kill():
            await admin.execute("ALTER ROLE refill_user NOLOGIN")
            await admin.fetch(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'refill_user'"
            )

        async with fraiseql.create_pool(user_dsn, min_size=2, max_size=3) as pool:
            before = await _backends(own_pg.dsn, "refill_user")
            assert len(before) == 2
            await refuse_and_kill()

            await _eventually(lambda: len(refill_records()) >= 4, "four refused refill attempts")
            refused = refill_records()
            assert [r.levelno for r in refused[:4]] == [logging.WARNING] + [logging.DEBUG] * 3
            assert "not permitted to log in" in refused[0].getMessage()
            assert [r.args[-1] for r in refused[:4]] == [0.1, 0.2, 0.4, 0.8]  # the delay doubles
            refills = [
                t for t in asyncio.all_tasks() if t.get_coro().__qualname__ == "Pool._refill"
            ]
            assert len(refills) == 1
            with pytest.raises(OperationalError, match="not permitted to log in"):
                await pool.fetchval("SELECT 1")  # a caller's own connect fails with its own error

            await admin.execute("ALTER ROLE refill_user LOGIN")

            async def restored():
                # size counts a connection still in its handshake, whose backend is already
                # listed: the refill is done once that handshake ends too
                pids = await _backends(own_pg.dsn, "refill_user")
                return refills[0].done() and pool.size == 2 and len(pids) == 2 and not pids & before

            await _eventually(restored, "min_size=2 sessions once logins work again")
            assert any(
                "connects again" in r.getMessage() for r in caplog.records if r.name == "fraiseql"
            )
            assert await pool.fetchval("SELECT current_user") == "refill_user"

            await refuse_and_kill()  # a second outage: warned once more, then the pool closes
            await _eventually(lambda: len(refill_records(logging.WARNING)) == 2, "a second warning")
            refill = pool._refill_task
            assert refill is not None and not refill.done()
        assert refill.done()  # cancelled by close(), not left pending
        assert pool.size == 0
        await admin.execute("DROP ROLE refill_user")
        await admin.close()

    run(body())


def test_cancelled_task_cancels_the_query_on_the_server(dsn):
    async def body():
        async with fraiseql.create_pool(dsn, min_size=1, max_size=1) as pool:
            async with pool.acquire() as conn:
                pid = conn.backend_pid
                task = asyncio.ensure_future(conn.fetchval("SELECT pg_sleep(30)"))
                await _wait_running(dsn, pid, "pg_sleep")
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
                # the next request waits for the cancel, then gets its own result
                assert await conn.fetchval("SELECT 7") == 7
                row = await _backend_state(dsn, pid)
                assert row["state"] == "idle"
            assert await pool.fetchval("SELECT pg_backend_pid()") == pid  # clean, reused

    run(body())


def test_cancelled_shared_read_never_leaks_its_result(dsn):
    async def body():
        async with fraiseql.create_pool(dsn, min_size=1, max_size=1) as pool:
            slow = asyncio.ensure_future(pool.fetchval("SELECT 'slow' FROM pg_sleep(0.2)"))
            await asyncio.sleep(0.05)
            slow.cancel()
            with pytest.raises(asyncio.CancelledError):
                await slow
            assert await pool.fetchval("SELECT 'fast'") == "fast"
            async with pool.acquire() as conn:
                assert conn.inflight == 0
                assert await conn.fetchval("SELECT 'mine'") == "mine"

    run(body())


def test_statement_timeout_per_pool_and_per_call(dsn):
    async def body():
        async with fraiseql.create_pool(dsn, max_size=1, statement_timeout=0.05) as pool:
            with pytest.raises(QueryCanceledError, match="statement timeout"):
                await pool.fetchval("SELECT pg_sleep(5)")
            assert await pool.fetchval("SELECT pg_sleep(0.2)", timeout=5) == ""
        async with fraiseql.create_pool(dsn, max_size=1) as pool:
            with pytest.raises(QueryCanceledError):
                await pool.fetchval("SELECT pg_sleep(5)", timeout=0.05)
            assert await pool.fetchval("SHOW statement_timeout") == "0"

    run(body())


def test_max_lifetime_replaces_old_connections(dsn):
    async def body():
        async with fraiseql.create_pool(dsn, min_size=1, max_size=1, max_lifetime=0.05) as pool:
            first = await pool.fetchval("SELECT pg_backend_pid()")
            await asyncio.sleep(0.1)
            second = await pool.fetchval("SELECT pg_backend_pid()")
            assert first != second
            assert pool.size == 1

    run(body())


def test_pool_rejects_bad_configuration(dsn):
    with pytest.raises(InterfaceError, match="min_size"):
        fraiseql.create_pool(dsn, min_size=3, max_size=2)
    with pytest.raises(InterfaceError, match="setting name"):
        fraiseql.create_pool(dsn, session_settings={"tenant_id": "x'; DROP TABLE t; --"})


# A stall threshold of 1 ns makes every busy connection look stalled, as a loaded machine
# does when the loop reads sockets late: reads must still avoid the slow query's connection.
@pytest.mark.parametrize("stall", [0.005, 1e-9])
def test_reads_are_not_queued_behind_a_stalled_pipeline(dsn, stall):
    async def body():
        async with fraiseql.create_pool(dsn, min_size=1, max_size=2, pipeline_stall=stall) as pool:
            slow = asyncio.ensure_future(pool.fetchval("SELECT 'slow' FROM pg_sleep(30)"))
            await asyncio.sleep(0.05)  # longer than pipeline_stall: the first connection is stalled
            assert await pool.fetchval("SELECT 'fast'") == "fast"
            assert not slow.done() and pool.size == 2
            fast = await asyncio.gather(*(pool.fetchval("SELECT $1::int", i) for i in range(100)))
            assert fast == list(range(100)) and not slow.done()
            slow.cancel()
            with pytest.raises(asyncio.CancelledError):
                await slow

    run(body())


def test_reads_fill_one_pipeline_before_using_more_connections(dsn):
    async def body():
        # pipeline_stall generous: on a loaded or sanitized run a pipeline may stall 5 ms,
        # and routing around stalls (tested on its own) is not what this test is about
        async with fraiseql.create_pool(
            dsn, min_size=3, max_size=3, pipeline_depth=4, pipeline_stall=5.0
        ) as pool:
            pids = await asyncio.gather(
                *(pool.fetchval("SELECT pg_backend_pid()") for _ in range(8))
            )
            assert len(set(pids)) == 2  # 4 + 4: the third connection stays idle
            with pytest.raises(InterfaceError, match="pipeline_depth"):
                fraiseql.create_pool(dsn, pipeline_depth=0)

    run(body())


def test_slow_reads_spread_over_connections_once_their_pace_is_known(dsn):
    """One backend runs on one core: statements that take milliseconds each must not queue
    on one connection while the pool may open more (fast ones fill one pipeline, above)."""

    async def body():
        slow = "SELECT pg_backend_pid() FROM pg_sleep(0.02)"
        async with fraiseql.create_pool(dsn, min_size=1, max_size=4, pipeline_stall=5.0) as pool:
            for _ in range(17):  # the connection learns its pace (after its first 16 answers)
                first = await pool.fetchval(slow)
            pids = await asyncio.gather(*(pool.fetchval(slow) for _ in range(8)))
            assert first in pids and len(set(pids)) == 4 and pool.size == 4
            with pytest.raises(InterfaceError, match="pipeline_wait"):
                fraiseql.create_pool(dsn, pipeline_wait=0)

    run(body())


def test_slow_reads_queue_when_the_server_takes_no_more_connections(dsn):
    """A role allowed one connection: the pool's try at a second one for slow statements
    fails, and they wait behind each other on the first instead of failing."""
    role = "fq_one_connection"

    async def body():
        admin = await db.connect(dsn)
        try:
            await admin.execute(login_role(role) + f"ALTER ROLE {role} CONNECTION LIMIT 1;")
        finally:
            await admin.close()
        slow = "SELECT pg_backend_pid() FROM pg_sleep(0.02)"
        async with fraiseql.create_pool(as_user(dsn, role), max_size=4, pipeline_stall=5.0) as pool:
            for _ in range(17):  # the pace known: a second connection is asked for
                first = await pool.fetchval(slow)
            pids = await asyncio.gather(*(pool.fetchval(slow) for _ in range(4)))
            assert pids == [first] * 4 and pool.size == 1

    run(body())


def test_released_connection_stops_listening(dsn):
    async def body():
        got = []
        async with fraiseql.create_pool(dsn, min_size=1, max_size=1) as pool:
            async with pool.acquire() as conn:
                await conn.add_listener("pool_chan", lambda *a: got.append(a))
            async with pool.acquire() as again:
                assert again is conn
                assert await again.fetchval("SELECT count(*) FROM pg_listening_channels()") == 0

    run(body())


# A request still unanswered after this long under faults hangs: acquire_timeout and
# connect_timeout of the pools below are shorter.
_HANG_BOUND = 30.0


def _loop_errors():
    """What reaches the running loop's exception handler (a watcher's callback that raised)."""
    errors = []
    asyncio.get_running_loop().set_exception_handler(lambda _loop, ctx: errors.append(ctx))
    return errors


def test_a_connection_lost_while_its_send_is_partly_flushed_fails_its_requests_and_frees_its_socket(
    dsn,
):
    """libpq closes its socket in the step that finds the connection lost, while the loop
    still watches it for writing: both requests fail with OperationalError, nothing is
    raised into the loop, and the next connection (its socket may take the old number) is
    watched and answers, however often the lost one is used again."""

    async def body():
        errors = _loop_errors()
        admin = await db.connect(dsn)
        conn = await db.connect(dsn)
        sleeper = asyncio.ensure_future(conn.fetchval("SELECT pg_sleep(60)"))
        await _wait_running(dsn, conn.backend_pid, "pg_sleep")
        big = "x" * (32 << 20)  # more than the socket buffers hold while the server sleeps
        unflushed = asyncio.ensure_future(conn.fetchval("SELECT length($1)", big))
        await asyncio.sleep(0.2)
        await admin.fetchval("SELECT pg_terminate_backend($1)", conn.backend_pid)
        for request in (sleeper, unflushed):
            with pytest.raises(OperationalError, match="lost"):
                await asyncio.wait_for(request, _HANG_BOUND)
        assert conn.is_closed
        other = await db.connect(dsn)
        for _ in range(2):
            with pytest.raises(InterfaceError, match="is closed"):
                await conn.fetchval("SELECT 1")
            assert await asyncio.wait_for(other.fetchval("SELECT 41 + 1"), _HANG_BOUND) == 42
        assert errors == []
        await other.close()
        await admin.close()

    run(body())


# The loops the driver runs on: asyncio's, and uvloop's (uvicorn's default where installed),
# whose libuv watches a socket no more once it reported an error.
LOOPS = pytest.mark.parametrize("run_loop", [asyncio.run, uvloop.run], ids=["asyncio", "uvloop"])


@LOOPS
def test_a_request_behind_the_servers_last_words_fails_when_they_come_with_a_reset(dsn, run_loop):
    """A terminated backend sends its FATAL error and exits with a pipelined request unread:
    the reset comes with the error, in the same read. Both requests fail with
    OperationalError (under uvloop, which reports that socket once, they waited forever)."""

    async def body():
        admin = await db.connect(dsn)
        conn = await db.connect(dsn)
        sleeper = asyncio.ensure_future(conn.fetchval("SELECT pg_sleep(60)"))
        await _wait_running(dsn, conn.backend_pid, "pg_sleep")
        unread = asyncio.ensure_future(
            conn.fetchval("SELECT 1")
        )  # the sleeping backend never reads it
        await asyncio.sleep(0.1)
        await admin.fetchval("SELECT pg_terminate_backend($1)", conn.backend_pid)
        time.sleep(0.3)  # blocks the loop on purpose: error and reset are both there at its read
        for request in (sleeper, unread):
            with pytest.raises(OperationalError, match="terminating connection|lost"):
                await asyncio.wait_for(request, _HANG_BOUND)
        assert conn.is_closed
        await admin.close()

    run_loop(body())


@LOOPS
def test_reads_and_transactions_on_one_pool_all_answer_while_backends_are_killed_in_a_loop(
    dsn, run_loop
):
    """Backends terminated every few milliseconds for seconds while small reads, reads too
    big for the socket buffers and transactions run on one pool: every request answers,
    with its value or a DatabaseError (none hangs, none sees OSError), nothing is raised
    into the loop, and once the faults stop each pool connection has a live backend."""
    big = "x" * (4 << 20)

    async def work(pool, rng, until, outcomes):
        while asyncio.get_running_loop().time() < until:
            n, roll = rng.randrange(1000), rng.random()
            if roll < 0.2:
                want = len(big)
                coro = pool.fetchval("SELECT length($1)", big)
            elif roll < 0.45:
                want = n

                async def transaction(n=n):
                    async with pool.transaction() as conn:
                        await conn.execute("SELECT $1::int", n)
                        return await conn.fetchval("SELECT $1::int", n)

                coro = transaction()
            else:
                want = n + 1
                coro = pool.fetchval("SELECT $1::int + 1", n)
            try:
                got = await asyncio.wait_for(coro, _HANG_BOUND)
            except fraiseql.DatabaseError:
                outcomes["error"] += 1
            except asyncio.TimeoutError:
                outcomes["hang"] += 1
            except Exception as exc:  # noqa: BLE001 - what no caller may see
                outcomes[f"{type(exc).__name__}: {exc}"] += 1
            else:
                outcomes["answered" if got == want else f"wrong: {got!r} for {want!r}"] += 1

    async def kill(until):
        admin = await db.connect(dsn)
        rng, kills = random.Random(0), 0
        while asyncio.get_running_loop().time() < until:
            await asyncio.sleep(rng.uniform(0.005, 0.05))
            kills += len(
                await admin.fetch(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND application_name = 'fraiseql' "
                    "AND pid <> pg_backend_pid()"
                )
            )
        await admin.close()
        return kills

    async def body():
        errors = _loop_errors()
        outcomes = collections.Counter()
        async with fraiseql.create_pool(
            dsn, min_size=2, max_size=6, acquire_timeout=10, connect_timeout=10
        ) as pool:
            until = asyncio.get_running_loop().time() + 5.0
            kills, *_ = await asyncio.gather(
                kill(until), *(work(pool, random.Random(i), until, outcomes) for i in range(12))
            )
            assert kills > 20
            assert set(outcomes) == {"answered", "error"}, outcomes
            assert outcomes["answered"] > 0 and outcomes["error"] > 0  # served, and hit

            async def each_connection_live():
                try:  # the last kill may still be news to a connection: its read fails
                    answered = await pool.fetchval("SELECT 1") == 1
                except OperationalError:
                    return False
                return answered and pool.size == len(await _backends(dsn))

            await _eventually(each_connection_live, "every pool connection with a live backend")
        assert errors == []

    run_loop(body())


def test_an_acquire_cancelled_while_shared_reads_finish_leaves_the_connection_to_the_pool(dsn):
    """acquire() takes a connection with shared reads in flight and waits for them: cancelled
    then (its client left), the connection stays the pool's, for reads and the next acquire."""

    async def body():
        async with fraiseql.create_pool(dsn, min_size=1, max_size=1, acquire_timeout=5) as pool:
            pid = await pool.fetchval("SELECT pg_backend_pid()")
            read = asyncio.ensure_future(pool.fetchval("SELECT pg_sleep(1)"))
            await _wait_running(dsn, pid, "pg_sleep")

            async def hold():
                async with pool.acquire() as conn:
                    await conn.fetchval("SELECT 1")

            holder = asyncio.ensure_future(hold())
            await asyncio.sleep(0.05)  # it waits for the read on the only connection
            holder.cancel()
            await read
            assert await pool.fetchval("SELECT 1") == 1
            async with pool.acquire() as conn:
                assert await conn.fetchval("SELECT 2") == 2
            assert pool.connection_states() == {"idle": 1, "shared": 0, "busy": 0, "opening": 0}

    run(body())


def test_a_waiter_cancelled_as_it_is_woken_hands_the_connection_to_the_next(dsn):
    """A released connection wakes one waiter; when that waiter is cancelled before it runs
    (its client left; Python 3.12's wait_for then raises although it was woken), the next
    waiter gets the connection instead of waiting out its acquire_timeout."""

    async def body():
        async with fraiseql.create_pool(dsn, min_size=1, max_size=1, acquire_timeout=5) as pool:
            held = await pool.acquire()

            async def take():
                async with pool.acquire() as conn:
                    return await conn.fetchval("SELECT 1")

            first, second = asyncio.ensure_future(take()), asyncio.ensure_future(take())
            await asyncio.sleep(0.05)  # both wait for the only connection
            await pool.release(held)  # wakes the first
            first.cancel()
            assert await asyncio.wait_for(second, _HANG_BOUND) == 1
            await asyncio.gather(first, return_exceptions=True)
            assert pool.connection_states()["busy"] == 0

    run(body())
