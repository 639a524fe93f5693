"""The driver through Debian's real PgBouncer (1.18) in transaction pooling mode.

PgBouncer runs each transaction on any server connection of its pool: named prepared
statements and session settings do not survive from one request to the next. With
prepared_statements=False every statement is unnamed and the connection's settings travel
with each transaction; the pool "one" has a single server connection, so that every client
of a user shares it, and "two" has two.
"""

import asyncio
import datetime

import pytest
from support.databases import database_with, login_role
from support.pgbouncer import PgBouncer

import fraiseql
from fraiseql import FIELD_ID, Selection, db
from fraiseql.errors import DataError, InterfaceError, OperationalError, QueryCanceledError
from fraiseql.repository import Repository

ROLE = "fq_bouncer_app"
SCHEMA = (
    login_role(ROLE)
    + f"""
-- output formats the C decoder does not parse: the driver must set its own per transaction
ALTER ROLE {ROLE} SET DateStyle = 'SQL, DMY';
ALTER ROLE {ROLE} SET IntervalStyle = 'iso_8601';
ALTER ROLE {ROLE} SET bytea_output = 'escape';
DROP TABLE IF EXISTS bouncer_docs, bouncer_log;
CREATE TABLE bouncer_docs (id int PRIMARY KEY, tenant_id int NOT NULL, data jsonb NOT NULL);
ALTER TABLE bouncer_docs ENABLE ROW LEVEL SECURITY;
ALTER TABLE bouncer_docs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON bouncer_docs
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::int);
CREATE TABLE bouncer_log (v int);
GRANT SELECT ON bouncer_docs TO {ROLE};
GRANT SELECT, INSERT, DELETE ON bouncer_log TO {ROLE};
INSERT INTO bouncer_docs VALUES
  (1, 1, '{{"id": 1, "first_name": "Ann", "user_posts": [{{"id": 7, "title": "Hi"}}]}}'),
  (2, 1, '{{"id": 2, "first_name": "Bob", "user_posts": []}}'),
  (3, 2, '{{"id": 3, "first_name": "Cy", "user_posts": []}}');
"""
)
TENANT = {"tenant_id": "app.tenant_id"}


def run(coro):
    return asyncio.run(coro)


@pytest.fixture(scope="module")
def server_dsn(pg_server, pg_dsn):
    """The database behind PgBouncer, with an RLS-protected table."""
    return database_with(pg_server, pg_dsn, "bouncer_db", SCHEMA)


@pytest.fixture(scope="module")
def bouncer(server_dsn):
    with PgBouncer(server_dsn, {"one": 1, "two": 2}, users=("postgres", ROLE)) as pgb:
        yield pgb


def app_dsn(bouncer, pool="one"):
    return bouncer.dsn(pool, ROLE)


async def _server_pid(conn_or_pool):
    return await conn_or_pool.fetchval("SELECT pg_backend_pid()")


def test_every_fetch_mode_works_with_unnamed_statements(bouncer):
    user = Selection("User", [("id", "id", None, FIELD_ID), ("firstName", "first_name", None)])

    async def body():
        async with fraiseql.create_pool(
            app_dsn(bouncer, "two"), max_size=3, prepared_statements=False, session_settings=TENANT
        ) as pool:
            t1 = pool.with_context({"tenant_id": 1})
            rows = await t1.fetch(
                "SELECT id, data->>'first_name' AS name FROM bouncer_docs ORDER BY id"
            )
            assert [(r["id"], r["name"]) for r in rows] == [(1, "Ann"), (2, "Bob")]
            assert (await t1.fetchrow("SELECT id FROM bouncer_docs WHERE id = $1", 2))["id"] == 2
            assert await t1.fetchval("SELECT count(*) FROM bouncer_docs") == 2
            assert await pool.execute("INSERT INTO bouncer_log VALUES ($1)", 1) == "INSERT 0 1"
            assert await pool.execute("DELETE FROM bouncer_log; SELECT 1") == "SELECT 1"  # script
            one = await t1.fetch_json("SELECT data FROM bouncer_docs WHERE id = $1", 1)
            assert one.startswith(b'{"id": 1, "first_name": "Ann"')
            many = await t1.fetch_json(
                "SELECT data FROM bouncer_docs ORDER BY id", selection=user, many=True
            )
            assert many == b'[{"id":"1","firstName":"Ann"},{"id":"2","firstName":"Bob"}]'
            assert await Repository(pool, {"tenant_id": 2}).find("bouncer_docs") == [
                {"id": 3, "first_name": "Cy", "user_posts": []}
            ]
            # the role's own DateStyle, IntervalStyle and bytea_output do not reach the decoder
            assert await pool.fetchrow(
                "SELECT '2024-03-05 06:07:08'::timestamp AS ts, '1 day 2 hours'::interval AS iv, "
                "'\\x0102'::bytea AS b"
            ) == (
                datetime.datetime(2024, 3, 5, 6, 7, 8),
                datetime.timedelta(days=1, hours=2),
                b"\x01\x02",
            )
            async with pool.transaction() as conn:
                await conn.execute("INSERT INTO bouncer_log VALUES ($1)", 2)
                async with conn.transaction():  # a savepoint
                    await conn.execute("INSERT INTO bouncer_log VALUES ($1)", 3)
                assert await conn.fetchval("SHOW DateStyle") == "ISO, DMY"  # set at BEGIN
            with pytest.raises(DataError):  # rolled back, though aborted by the error
                async with pool.transaction() as conn:
                    await conn.execute("INSERT INTO bouncer_log VALUES ($1)", 4)
                    await conn.fetchval("SELECT 1 / $1::int", 0)
            logged = await pool.fetch("SELECT v FROM bouncer_log ORDER BY v")
            assert [r["v"] for r in logged] == [2, 3]
            # nothing named is left on the server connections for another client to run
            assert await pool.fetchval("SELECT count(*) FROM pg_prepared_statements") == 0
            async with pool.acquire() as conn:
                assert conn.prepared_statements == 0

    run(body())


def test_named_statements_through_pgbouncer_are_refused_naming_the_option(bouncer):
    async def body():
        with pytest.raises(OperationalError) as info:
            await db.connect(app_dsn(bouncer))
        msg = str(info.value)
        assert "unsupported startup parameter: options" in msg
        assert "prepared_statements=False" in msg

    run(body())


def test_named_statements_run_on_another_server_connection_are_detected(server_dsn):
    """With ignore_startup_parameters=options PgBouncer lets a default connection in (its
    settings silently dropped); its statements then go missing as transactions move."""

    async def body(pgb):
        a = await db.connect(pgb.dsn("two"))
        b = await db.connect(pgb.dsn("two"))
        try:
            assert await a.fetchval("SELECT 1") == 1  # prepared on the one server connection
            async with b.transaction():  # b now holds it: a's next transaction gets another
                assert await b.fetchval("SELECT 2") == 2
                with pytest.raises(InterfaceError) as info:
                    await a.fetchval("SELECT 1")
            msg = str(info.value)
            assert "PgBouncer" in msg and "prepared_statements=False" in msg
            assert info.value.sqlstate == "26000"
        finally:
            await a.close()
            await b.close()

    with PgBouncer(server_dsn, {"two": 2}, ignore_startup_parameters=["options"]) as pgb:
        run(body(pgb))


def test_context_and_timeouts_hold_per_transaction_and_never_leak(bouncer):
    """Two clients of one server connection: one with a tenant and timeouts, one without."""

    async def body():
        async with (
            fraiseql.create_pool(
                app_dsn(bouncer),
                max_size=2,
                prepared_statements=False,
                session_settings=TENANT,
                statement_timeout=0.3,
            ) as a,
            fraiseql.create_pool(app_dsn(bouncer), max_size=2, prepared_statements=False) as b,
        ):
            assert await _server_pid(a) == await _server_pid(b)  # one server connection
            tenant1 = Repository(a, {"tenant_id": 1})

            async def a_reads():
                return sorted(d["first_name"] for d in await tenant1.find("bouncer_docs"))

            async def b_sees():
                return await b.fetchrow(
                    "SELECT current_setting('app.tenant_id', true) AS tenant, "
                    "current_setting('statement_timeout') AS timeout, "
                    "(SELECT count(*) FROM bouncer_docs) AS docs"
                )

            results = await asyncio.gather(*(f() for _ in range(20) for f in (a_reads, b_sees)))
            assert results[0::2] == [["Ann", "Bob"]] * 20
            assert {tuple(r) for r in results[1::2]} <= {("", "0", 0), (None, "0", 0)}
            # the pool's statement_timeout holds for each of a's statements, never for b's
            assert await a.fetchval("SHOW statement_timeout") == "300ms"
            with pytest.raises(QueryCanceledError):
                await a.execute("SELECT pg_sleep($1)", 30)
            assert await b.fetchval("SELECT pg_sleep(0.4)::text") == ""  # b has no timeout
            # a per-call timeout and context, inside a transaction too
            with pytest.raises(QueryCanceledError):
                await b.execute("SELECT pg_sleep($1)", 30, timeout=0.05)
            assert await b.fetchval("SHOW statement_timeout") == "0"
            async with a.transaction(context={"tenant_id": 2}) as conn:
                assert await conn.fetchval("SELECT count(*) FROM bouncer_docs") == 1
                assert await conn.fetchval("SHOW statement_timeout", timeout=2) == "2s"
                assert await conn.fetchval("SHOW statement_timeout") == "300ms"  # set back
                assert await conn.fetchval("SELECT data->>'first_name' FROM bouncer_docs") == "Cy"
            assert tuple(await b_sees()) in {("", "0", 0), (None, "0", 0)}

    run(body())


def test_pipelined_requests_of_two_clients_on_one_server_connection_never_mix(bouncer):
    """PgBouncer counts the Syncs it forwarded: a server connection stays with a client until
    each of its pipelined requests (one Sync each) is answered."""

    async def body():
        a = await db.connect(app_dsn(bouncer), prepared_statements=False)
        b = await db.connect(app_dsn(bouncer), prepared_statements=False)
        try:
            assert await _server_pid(a) == await _server_pid(b)

            def burst(conn, tag):
                return [
                    conn.fetchval(
                        "SELECT $1::text || CASE WHEN $2::int % 5 = 0 THEN pg_sleep(0.002)::text "
                        "ELSE '' END",
                        f"{tag}{i}",
                        i,
                    )
                    for i in range(50)
                ]

            for _ in range(4):
                got = await asyncio.gather(*burst(a, "a"), *burst(b, "b"))
                assert got == [f"a{i}" for i in range(50)] + [f"b{i}" for i in range(50)]
        finally:
            await a.close()
            await b.close()

    run(body())


def test_pgbouncer_restart_mid_load_fails_in_flight_requests_and_the_pool_heals(
    bouncer, server_dsn
):
    async def body():
        async with fraiseql.create_pool(
            app_dsn(bouncer, "two"), min_size=2, max_size=2, prepared_statements=False
        ) as pool:
            outcomes = []
            stop = asyncio.Event()

            async def load(worker):
                i = 0
                while not stop.is_set():
                    i += 1
                    try:
                        assert await pool.fetchval("SELECT $1::int", i) == i
                        outcomes.append("ok")
                    except OperationalError as exc:
                        outcomes.append(exc)
                        await asyncio.sleep(0.01)

            workers = [asyncio.ensure_future(load(w)) for w in range(4)]
            sleeper = asyncio.ensure_future(pool.fetchval("SELECT pg_sleep(30)"))
            direct = await db.connect(server_dsn)
            while not await direct.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(30)' "
                "AND state = 'active'"
            ):
                await asyncio.sleep(0.01)
            await direct.close()
            await asyncio.get_running_loop().run_in_executor(None, bouncer.restart)

            with pytest.raises(OperationalError) as info:  # in flight: a clear error
                await asyncio.wait_for(sleeper, 30)  # bound only so that a hang fails
            assert f"127.0.0.1:{bouncer.port}" in str(info.value)

            async def healed():
                n = len(outcomes)
                while outcomes[n:].count("ok") < 50:
                    await asyncio.sleep(0.01)

            await asyncio.wait_for(healed(), 30)
            stop.set()
            await asyncio.wait_for(asyncio.gather(*workers), 30)
            errors = [o for o in outcomes if o != "ok"]
            assert all(str(bouncer.port) in str(e) for e in errors), errors[:3]
            assert await pool.fetchval("SELECT 41 + $1::int", 1) == 42

    run(body())
