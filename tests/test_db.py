"""The asyncio driver over the C libpq state machine, against the real PostgreSQL."""

import asyncio
import datetime
import decimal
import enum
import gc
import sys
import uuid

import pytest

import fraiseql
from fraiseql import db
from fraiseql.db.constants import MODE_ROWS
from fraiseql.errors import (
    DataError,
    IntegrityError,
    InterfaceError,
    NotSupportedError,
    ProgrammingError,
    QueryCanceledError,
)


def run(coro):
    return asyncio.run(coro)


@pytest.fixture(scope="module")
def dsn(pg_server, pg_dsn):
    if pg_server is None:
        return pg_dsn
    return pg_server.create_database("driver_db")


async def _with_conn(dsn, body, **kw):
    conn = await db.connect(dsn, **kw)
    try:
        return await body(conn)
    finally:
        await conn.close()


def test_rows_are_indexable_by_name_and_position(dsn):
    async def body(conn):
        rows = await conn.fetch("SELECT 1 AS a, 'x' AS b UNION ALL SELECT 2, 'y' ORDER BY 1")
        assert len(rows) == 2
        r = rows[1]
        assert (r[0], r["a"], r[-1], r["b"], len(r)) == (2, 2, "y", "y", 2)
        assert list(r) == [2, "y"] and r.keys() == ["a", "b"] and r.get("zz", 7) == 7
        assert r == (2, "y")
        with pytest.raises(KeyError, match="zz"):
            r["zz"]
        assert await conn.fetchrow("SELECT 1 WHERE false") is None
        assert await conn.fetchval("SELECT 1 WHERE false") is None
        assert (await conn.fetchrow("SELECT $1::int AS v", 5))["v"] == 5

    run(_with_conn(dsn, body))


def test_values_decoded_by_type(dsn):
    async def body(conn):
        row = await conn.fetchrow(
            """SELECT 'héllo'::text t, 'ab'::varchar v, 'c'::char(2) c, 32767::int2 i2,
                      2147483647::int4 i4, 9223372036854775807::int8 i8, 1.5::float4 f4,
                      'NaN'::float8 fnan, '-Infinity'::float8 finf, true b, false bf,
                      12345678901234567890.123::numeric n, 'NaN'::numeric nn,
                      '2024-02-29'::date d, '13:14:15.5'::time tm, '13:14:15+05:30'::timetz tz,
                      '2024-02-29 13:14:15.123456'::timestamp ts,
                      '2024-02-29 13:14:15+02'::timestamptz tstz,
                      '1 year 2 mons 3 days 04:05:06.5'::interval iv, '-1 days +02:00:00'::interval iv2,
                      'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid u, '{"a": [1, null]}'::jsonb jb,
                      '[1, "x"]'::json js, '\\x00ff'::bytea by, NULL::int nul,
                      '{1,2,NULL}'::int[] ai, '{{"a b","c\\"d"},{NULL,"NULL"}}'::text[] at,
                      '{2024-01-01}'::date[] ad, '[0:1]={1,2}'::int[] abounds,
                      'infinity'::timestamptz tinf, 'infinity'::date dinf"""
        )
        assert row["t"] == "héllo" and row["v"] == "ab" and row["c"] == "c "
        assert (row["i2"], row["i4"], row["i8"]) == (32767, 2147483647, 9223372036854775807)
        assert row["f4"] == 1.5 and row["fnan"] != row["fnan"] and row["finf"] == float("-inf")
        assert row["b"] is True and row["bf"] is False
        assert row["n"] == decimal.Decimal("12345678901234567890.123") and row["nn"].is_nan()
        assert row["d"] == datetime.date(2024, 2, 29)
        assert row["tm"] == datetime.time(13, 14, 15, 500000)
        assert row["tz"].utcoffset() == datetime.timedelta(hours=5, minutes=30)
        assert row["ts"] == datetime.datetime(2024, 2, 29, 13, 14, 15, 123456)
        assert row["tstz"] == datetime.datetime(
            2024, 2, 29, 11, 14, 15, tzinfo=datetime.timezone.utc
        )
        assert row["iv"] == datetime.timedelta(days=365 + 60 + 3, hours=4, minutes=5, seconds=6.5)
        assert row["iv2"] == datetime.timedelta(days=-1, hours=2)
        assert row["u"] == uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")
        assert row["jb"] == {"a": [1, None]} and row["js"] == [1, "x"]
        assert row["by"] == b"\x00\xff" and row["nul"] is None
        assert row["ai"] == [1, 2, None]
        assert row["at"] == [["a b", 'c"d'], [None, "NULL"]]
        assert row["ad"] == [datetime.date(2024, 1, 1)] and row["abounds"] == [1, 2]
        assert row["tinf"].year == 9999 and row["dinf"] == datetime.date.max
        for beyond in (
            "SELECT '10000-01-01'::date",
            "SELECT '0044-03-15 BC'::date",
            "SELECT '12000-01-01 00:00'::timestamp",
        ):
            with pytest.raises(DataError, match="cannot decode") as info:
                await conn.fetchval(beyond)
            assert isinstance(info.value.__cause__, ValueError)
        assert await conn.fetchval("SELECT 1") == 1

    run(_with_conn(dsn, body))


def test_parameters_of_every_kind_round_trip(dsn):
    async def body(conn):
        u = uuid.uuid4()
        now = datetime.datetime(2024, 5, 6, 7, 8, 9, 10, tzinfo=datetime.timezone.utc)
        values = [
            "it's; DROP TABLE x --",
            2**62,
            0.25,
            False,
            decimal.Decimal("1.10"),
            u,
            now,
            b"\x00\x01'",
            [1, None, 3],
            {"k": ["v", 1]},
            None,
            datetime.date(2020, 1, 2),
            datetime.timedelta(days=1, seconds=5),
            ['a"b', "c,d", "NULL"],
        ]
        row = await conn.fetchrow(
            "SELECT $1::text a, $2::int8 b, $3::float8 c, $4::bool d, $5::numeric e, $6::uuid f, "
            "$7::timestamptz g, $8::bytea h, $9::int[] i, $10::jsonb j, $11::text k, $12::date l, "
            "$13::interval m, $14::text[] n",
            *values,
        )
        assert list(row) == values
        assert await conn.fetchval("SELECT $1::float8", float("inf")) == float("inf")

        class Color(str, enum.Enum):
            RED = "red"

        class Size(enum.IntEnum):
            BIG = 3

        assert list(await conn.fetchrow("SELECT $1::text, $2::int", Color.RED, Size.BIG)) == [
            "red",
            3,
        ]
        with pytest.raises(DataError, match=r"\$1 contains a NUL"):
            await conn.fetchval("SELECT $1::text", "a\x00b")
        with pytest.raises(InterfaceError, match="type object"):
            await conn.fetchval("SELECT $1::text", object())

    run(_with_conn(dsn, body))


def test_sql_errors_keep_sqlstate_detail_and_hint_and_map_to_classes(dsn):
    async def body(conn):
        await conn.execute("CREATE TABLE err_t (id int PRIMARY KEY, v int CHECK (v > 0))")
        await conn.execute("INSERT INTO err_t VALUES ($1, $2)", 1, 1)
        with pytest.raises(IntegrityError) as info:
            await conn.execute("INSERT INTO err_t VALUES ($1, $2)", 1, 1)
        e = info.value
        assert e.sqlstate == "23505" and "duplicate key" in e.message
        assert e.detail == "Key (id)=(1) already exists." and e.constraint_name == "err_t_pkey"
        assert isinstance(e, fraiseql.DatabaseError)
        with pytest.raises(ProgrammingError) as info:
            await conn.fetch("SELECT nosuchcolumn FROM err_t")
        assert info.value.sqlstate == "42703"
        with pytest.raises(ProgrammingError) as info:
            await conn.fetch("SELEC 1")
        assert info.value.sqlstate == "42601"
        with pytest.raises(DataError) as info:
            await conn.fetchval("SELECT 'abc'::int")
        assert info.value.sqlstate == "22P02"
        with pytest.raises(ProgrammingError) as info:
            await conn.fetchval("SELECT $1::int", 1, 2)  # wrong parameter count
        with pytest.raises(fraiseql.DatabaseError) as info:
            await conn.execute("DO $$BEGIN RAISE EXCEPTION 'boom' USING HINT = 'try again'; END$$")
        assert info.value.hint == "try again" and info.value.sqlstate == "P0001"
        # the connection is still usable after every error
        assert await conn.fetchval("SELECT count(*) FROM err_t") == 1

    run(_with_conn(dsn, body))


def test_failed_prepare_is_not_cached_and_pipeline_errors_are_isolated(dsn):
    async def body(conn):
        results = await asyncio.gather(
            conn.fetchval("SELECT 1"),
            conn.fetchval("SELECT * FROM missing_table"),
            conn.fetchval("SELECT 3"),
            return_exceptions=True,
        )
        assert results[0] == 1 and results[2] == 3
        assert isinstance(results[1], ProgrammingError)
        await conn.execute("CREATE TABLE missing_table (x int)")
        await conn.execute("INSERT INTO missing_table VALUES ($1)", 9)
        assert await conn.fetchval("SELECT * FROM missing_table") == 9

    run(_with_conn(dsn, body))


def test_statement_cache_is_bounded_on_client_and_server(dsn):
    async def body(conn):
        for i in range(60):
            assert await conn.fetchval(f"SELECT {i} + $1::int", 1) == i + 1
        assert conn.prepared_statements <= 8
        assert await conn.fetchval("SELECT count(*) FROM pg_prepared_statements") <= 9

    run(_with_conn(dsn, body, max_statements=8))


def test_transactions_commit_rollback_and_nest_as_savepoints(dsn):
    async def body(conn):
        await conn.execute("CREATE TABLE tx_t (v int)")
        async with conn.transaction():
            await conn.execute("INSERT INTO tx_t VALUES ($1)", 1)
            with pytest.raises(RuntimeError):
                async with conn.transaction():
                    await conn.execute("INSERT INTO tx_t VALUES ($1)", 2)
                    raise RuntimeError("inner fails")
            async with conn.transaction():
                await conn.execute("INSERT INTO tx_t VALUES ($1)", 3)
        with pytest.raises(ZeroDivisionError):
            async with conn.transaction():
                await conn.execute("INSERT INTO tx_t VALUES ($1)", 4)
                raise ZeroDivisionError
        assert [r["v"] for r in await conn.fetch("SELECT v FROM tx_t ORDER BY v")] == [1, 3]
        assert conn.transaction_status == 0
        with pytest.raises(InterfaceError, match="isolation"):
            conn.transaction(isolation="chaos")
        async with conn.transaction(isolation="serializable", readonly=True):
            assert await conn.fetchval("SHOW transaction_isolation") == "serializable"

    run(_with_conn(dsn, body))


def test_fetch_json_returns_stored_json_untouched(dsn):
    async def body(conn):
        await conn.execute("CREATE TABLE js_t (id int, data jsonb)")
        await conn.execute(
            'INSERT INTO js_t VALUES (1, \'{"first_name": "A", "n": [1, 2]}\'), '
            '(2, \'{"first_name": "B"}\'), (3, NULL)'
        )
        one = await conn.fetch_json("SELECT data FROM js_t WHERE id = $1", 1)
        assert one == b'{"n": [1, 2], "first_name": "A"}'
        assert await conn.fetch_json("SELECT data FROM js_t WHERE id = $1", 99) == b"null"
        many = await conn.fetch_json("SELECT data FROM js_t ORDER BY id", many=True)
        assert many == b'[{"n": [1, 2], "first_name": "A"},{"first_name": "B"},null]'
        assert await conn.fetch_json("SELECT data FROM js_t WHERE false", many=True) == b"[]"
        with pytest.raises(InterfaceError, match="exactly one"):
            await conn.fetch_json("SELECT id, data FROM js_t")
        # page mode: a connection page's six columns, in at least one row
        with pytest.raises(InterfaceError, match="connection page's statement"):
            await conn.fetch_json("SELECT data FROM js_t", page=True)
        with pytest.raises(InterfaceError, match="at least one row"):
            await conn.fetch_json("SELECT 1, 2, 3, 4, 5, 6 WHERE false", page=True)
        page = await conn.fetch_json(
            "SELECT data, '[1]', false, 2::int8, 1::int8, false FROM js_t WHERE id < 3 ORDER BY id",
            page=True,
        )
        assert page == (
            b'{"edges":[{"cursor":"WzFd","node":{"n": [1, 2], "first_name": "A"}}],'
            b'"page_info":{"has_next_page":true,"has_previous_page":false,'
            b'"start_cursor":"WzFd","end_cursor":"WzFd"},"total_count":2}'
        )

    run(_with_conn(dsn, body))


def test_script_execute_runs_several_statements(dsn):
    async def body(conn):
        status = await conn.execute("CREATE TABLE s1 (a int); INSERT INTO s1 VALUES (1), (2)")
        assert status == "INSERT 0 2"
        assert await conn.fetchval("SELECT sum(a) FROM s1") == 3
        with pytest.raises(ProgrammingError):
            await conn.execute("SELECT 1; SELEC 2")
        assert await conn.fetchval("SELECT 5") == 5

    run(_with_conn(dsn, body))


def test_statement_timeout_per_connection_and_per_call(dsn):
    async def body(conn):
        with pytest.raises(QueryCanceledError) as info:
            await conn.execute("SELECT pg_sleep($1)", 5, timeout=0.05)
        assert info.value.sqlstate == "57014" and "statement timeout" in info.value.message
        assert await conn.fetchval("SELECT 1") == 1
        assert await conn.fetchval("SHOW statement_timeout") == "0"

    run(_with_conn(dsn, body))

    async def body2(conn):
        assert await conn.fetchval("SHOW statement_timeout") == "50ms"
        with pytest.raises(QueryCanceledError):
            await conn.fetchval("SELECT pg_sleep(5)")

    run(_with_conn(dsn, body2, statement_timeout=0.05))


def test_per_call_timeout_inside_a_transaction_applies_to_that_call_only(dsn):
    async def body(conn):
        async with conn.transaction():
            assert await conn.fetchval("SHOW statement_timeout", timeout=2) == "2s"
            assert await conn.fetchval("SHOW statement_timeout") == "0"
            assert await conn.fetchval("SELECT 1", timeout=0.05) == 1
            assert await conn.fetchval("SELECT pg_sleep(0.3)") == ""  # not under the 50 ms above
            await conn.execute("SET LOCAL statement_timeout = '7s'")
            assert await conn.fetchval("SHOW statement_timeout", timeout=1) == "1s"
            assert (
                await conn.fetchval("SHOW statement_timeout") == "7s"
            )  # the user's SET LOCAL survives
            async with conn.transaction():  # a savepoint
                assert await conn.fetchval("SHOW statement_timeout", timeout=3) == "3s"
                assert await conn.fetchval("SHOW statement_timeout") == "7s"
            pipelined = await asyncio.gather(
                conn.fetchval("SHOW statement_timeout", timeout=4),
                conn.fetchval("SHOW statement_timeout"),
                conn.fetchval("SHOW statement_timeout", timeout=5),
            )
            assert pipelined == ["4s", "7s", "5s"]
        assert await conn.fetchval("SHOW statement_timeout") == "0"
        await conn.execute("BEGIN")  # a block begun by hand counts too
        assert await conn.fetchval("SHOW statement_timeout", timeout=2) == "2s"
        assert await conn.fetchval("SHOW statement_timeout") == "0"
        await conn.execute("ROLLBACK")

    run(_with_conn(dsn, body))


def test_failing_call_with_a_timeout_in_a_transaction_raises_its_own_error(dsn):
    async def body(conn):
        with pytest.raises(QueryCanceledError) as info:
            async with conn.transaction():
                await conn.fetchval("SELECT pg_sleep(5)", timeout=0.05)
        assert info.value.sqlstate == "57014" and "statement timeout" in info.value.message
        with pytest.raises(DataError) as info:
            async with conn.transaction():
                await conn.fetchval("SELECT 1 / $1::int", 0, timeout=1)
        assert info.value.sqlstate == "22012"
        assert conn.transaction_status == 0
        assert await conn.fetchval("SHOW statement_timeout") == "0"

    run(_with_conn(dsn, body))


def test_outside_a_transaction_per_call_settings_send_no_restore(dsn):
    """The restore is a statement of its own: only transaction blocks prepare it."""
    restores = (
        "SELECT count(*) FROM pg_prepared_statements "  # the pattern must not match itself
        "WHERE statement LIKE '%' || $1 || '%'",
        "fraiseql.saved_settings",
    )

    async def body(conn):
        assert await conn.fetchval("SELECT 1", timeout=1) == 1
        assert await conn.fetchval(*restores) == 0
        async with conn.transaction():
            assert await conn.fetchval("SELECT 1", timeout=1) == 1
        assert await conn.fetchval(*restores) == 2  # saving the values, restoring them

    run(_with_conn(dsn, body))

    async def shared():
        async with fraiseql.create_pool(dsn, min_size=1, max_size=1) as pool:
            # many in flight at once: the connection reports ACTIVE, yet holds no block
            await asyncio.gather(
                *(pool.fetchval("SELECT $1::int", i, timeout=1) for i in range(20))
            )
            assert await pool.fetchval(*restores) == 0

    run(shared())


def test_closed_connection_raises_interface_error(dsn):
    async def body():
        conn = await db.connect(dsn)
        await conn.close()
        with pytest.raises(InterfaceError, match="closed"):
            await conn.fetchval("SELECT 1")
        await conn.close()  # twice is harmless

    run(body())


def test_no_leaked_references(dsn):
    async def body(conn):
        marker = "leak-check-marker-" + "x" * 10
        arg = 12345678901234567
        before_m, before_a = sys.getrefcount(marker), sys.getrefcount(arg)
        for _ in range(300):
            await conn.fetch(
                "SELECT $1::text a, $2::int8 b, '{1,2}'::int[] c, now() d", marker, arg
            )
            await conn.fetch_json("SELECT '{}'::jsonb")
            try:
                await conn.fetchval("SELECT 1/0")
            except DataError:
                pass
        assert (sys.getrefcount(marker), sys.getrefcount(arg)) == (before_m, before_a)
        gc.collect()
        n = len(gc.get_objects())
        for _ in range(300):
            await conn.fetch(
                "SELECT $1::text a, $2::int8 b, '{1,2}'::int[] c, now() d", marker, arg
            )
            try:
                await conn.fetchval("SELECT 1/0")
            except DataError:
                pass
        gc.collect()
        assert len(gc.get_objects()) - n < 50

    run(_with_conn(dsn, body))


def test_fetch_json_rewrites_through_a_selection_in_c(dsn):
    sel = fraiseql.Selection(
        "User",
        [
            ("__typename", None, None),
            ("firstName", "first_name", None),
            (
                "posts",
                "user_posts",
                fraiseql.Selection("Post", [("id", "id", None, fraiseql.FIELD_ID)]),
            ),
        ],
    )

    async def body(conn):
        await conn.execute("CREATE TABLE sel_t (id int, data jsonb)")
        await conn.execute(
            'INSERT INTO sel_t VALUES (1, \'{"first_name": "Ann", "email": "a@x", '
            '"user_posts": [{"id": 7, "title": "t"}]}\'), (2, \'{"first_name": "Bo"}\'), (3, NULL)'
        )
        one = await conn.fetch_json("SELECT data FROM sel_t WHERE id = $1", 1, selection=sel)
        assert one == b'{"__typename":"User","firstName":"Ann","posts":[{"id":"7"}]}'
        assert (
            await conn.fetch_json("SELECT data FROM sel_t WHERE id = 0", selection=sel) == b"null"
        )
        many = await conn.fetch_json("SELECT data FROM sel_t ORDER BY id", selection=sel, many=True)
        assert many == (
            b'[{"__typename":"User","firstName":"Ann","posts":[{"id":"7"}]},'
            b'{"__typename":"User","firstName":"Bo","posts":null},null]'
        )
        strict = fraiseql.Selection("User", [("email", "email", None, fraiseql.NON_NULL)])
        with pytest.raises(fraiseql.NonNullError):
            await conn.fetch_json("SELECT data FROM sel_t WHERE id = 2", selection=strict)
        with pytest.raises(TypeError, match="Selection"):
            await conn.fetch_json("SELECT data FROM sel_t", selection={"not": "a selection"})
        with pytest.raises(TypeError, match="fetch_json only"):
            await conn.request(MODE_ROWS, "SELECT 1", (), sel)
        assert await conn.fetchval("SELECT 1") == 1  # nothing left half-sent

    run(_with_conn(dsn, body))


def test_stale_prepared_statements_are_prepared_again(dsn):
    async def body(conn):
        await conn.execute("CREATE TABLE stale_t (a int)")
        await conn.execute("INSERT INTO stale_t VALUES ($1)", 1)
        assert list(await conn.fetchrow("SELECT * FROM stale_t")) == [1]
        await conn.execute("ALTER TABLE stale_t ADD COLUMN b text DEFAULT 'x'")
        assert list(await conn.fetchrow("SELECT * FROM stale_t")) == [1, "x"]  # result type changed
        await conn.execute("DEALLOCATE ALL")
        assert await conn.fetchval("SELECT count(*) FROM stale_t") == 1
        async with conn.transaction():  # the driver saw DEALLOCATE ALL: it prepares again
            await conn.execute("DEALLOCATE ALL")
            assert await conn.fetchval("SELECT count(*) FROM stale_t") == 1
        assert list(await conn.fetchrow("SELECT * FROM stale_t")) == [1, "x"]
        with pytest.raises(NotSupportedError) as info:
            async with conn.transaction():  # inside a transaction block a stale plan surfaces
                await conn.execute("ALTER TABLE stale_t ADD COLUMN c int")
                await conn.fetchrow("SELECT * FROM stale_t")
        assert info.value.sqlstate == "0A000"
        assert list(await conn.fetchrow("SELECT * FROM stale_t")) == [1, "x"]

    run(_with_conn(dsn, body))


def test_a_forked_child_never_closes_the_parents_session(dsn):
    import os

    async def body(conn):
        pid = os.fork()
        if pid == 0:  # child: closing must not send Terminate on the shared socket
            conn._pg.close()
            os._exit(0)
        os.waitpid(pid, 0)
        assert await conn.fetchval("SELECT 1") == 1

    run(_with_conn(dsn, body))


def test_a_connection_used_from_another_event_loop_is_refused(dsn):
    conn = run(db.connect(dsn))
    try:
        with pytest.raises(InterfaceError, match="another event loop"):
            run(conn.fetchval("SELECT 1"))
    finally:
        conn.terminate()


def test_notices_are_swallowed_and_big_sends_flush_while_reading(dsn, capfd):
    big = "x" * (16 * 1024 * 1024)  # far beyond the socket buffer: the send completes in steps

    async def body(conn):
        await conn.execute("DO $$BEGIN RAISE NOTICE 'a notice nobody asked for'; END$$")
        results = await asyncio.gather(
            conn.fetchval("SELECT length($1)", big),
            conn.fetchval("SELECT repeat('y', 8000000)"),
            conn.fetchval("SELECT length($1)", big),
        )
        assert results[0] == results[2] == len(big) and len(results[1]) == 8000000

    run(_with_conn(dsn, body))
    assert "notice" not in capfd.readouterr().err


def test_selection_and_arguments_are_not_leaked_by_fetch_json(dsn):
    sel = fraiseql.Selection("T", [("a", "a", None)])

    async def body(conn):
        before = sys.getrefcount(sel)
        for _ in range(200):
            assert await conn.fetch_json("SELECT '{\"a\": 1}'::jsonb", selection=sel) == b'{"a":1}'
            assert (
                await conn.fetch_json(
                    "SELECT '{\"a\": 1}'::jsonb FROM generate_series(1, 3)",
                    selection=sel,
                    many=True,
                )
                == b'[{"a":1},{"a":1},{"a":1}]'
            )
        assert sys.getrefcount(sel) == before

    run(_with_conn(dsn, body))


def test_listen_notify_delivers_to_listeners_until_removed(dsn):
    async def body(conn):
        got = asyncio.Queue()

        def on_notify(connection, pid, channel, payload):
            got.put_nowait((connection, pid, channel, payload))

        channel = 'refresh "qm"'  # quoted, not spliced
        await conn.add_listener(channel, on_notify)
        sender = await db.connect(dsn)
        await sender.execute("SELECT pg_notify($1, $2)", channel, "qm_user")
        c, pid, ch, payload = await asyncio.wait_for(got.get(), 10)
        assert (c, pid, ch, payload) == (conn, sender.backend_pid, channel, "qm_user")
        await conn.remove_listener(channel, on_notify)
        await sender.execute("SELECT pg_notify($1, $2)", channel, "ignored")
        await sender.execute("SELECT pg_notify($1, $2)", "other", "x")
        assert await conn.fetchval("SELECT 1") == 1  # the notifications have been read by now
        assert got.empty()
        await sender.close()
        with pytest.raises(InterfaceError, match="channel"):
            await conn.add_listener("", on_notify)

    run(_with_conn(dsn, body))


def test_an_error_that_cannot_be_built_fails_its_request_alone(dsn):
    """Building a request's exception fails (here the error factory raises): that failure is
    its outcome, and the requests pipelined with it are answered, never left waiting."""

    class Refusing(db.Connection):
        def _error(self, kind, sqlstate, message, *rest):
            if sqlstate == "22012":
                raise LookupError("cannot build this error")
            return super()._error(kind, sqlstate, message, *rest)

    async def body():
        conn = await Refusing.open(
            dsn,
            session_settings={},
            connect_timeout=10,
            statement_timeout=None,
            server_settings=None,
            max_statements=16,
            prepared_statements=True,
        )
        try:
            jobs = [
                conn.fetchval("SELECT 1 / 0"),
                conn.fetchval("SELECT 2"),
                conn.fetchval("SELECT 3"),
            ]
            first, *rest = await asyncio.wait_for(asyncio.gather(*jobs, return_exceptions=True), 10)
            assert isinstance(first, LookupError) and rest == [2, 3]
            assert await conn.fetchval("SELECT 4") == 4
        finally:
            await conn.close()

    asyncio.run(body())
