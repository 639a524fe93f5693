"""Live read models against a real PostgreSQL: the notifying triggers, Repository.watch,
subscriptions over a real WebSocket, row-level security on re-reads, a lost LISTEN
connection and a server restart under live subscriptions."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from support.blog import blog_api_declared, blog_database
from support.databases import as_user
from support.http_server import serve
from support.ws_client import WAIT, Client

import fraiseql
from fraiseql.cqrs import enable_live, refresh
from fraiseql.demo import setup
from fraiseql.embedded import EmbeddedPostgres
from fraiseql.live import CHANNEL, LiveError, hub_of
from fraiseql.repository import Repository

USER = "subscription { user(id: 1) { firstName userPosts { title } } }"


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def next_value(watch: Any) -> Any:
    return await asyncio.wait_for(anext(watch), WAIT)


async def listeners(conn: Any) -> int:
    return await conn.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE query = $1", f'LISTEN "{CHANNEL}"'
    )


@pytest.fixture(scope="module")
def dsn(pg_server: Any, pg_dsn: str) -> str:
    return blog_database(pg_server, pg_dsn, "live_ws")


def test_watch_yields_the_document_then_each_change_then_none(dsn: str) -> None:
    async def go() -> list[Any]:
        async with fraiseql.create_pool(dsn, max_size=2) as pool:
            writer = await fraiseql.connect(dsn)
            await writer.execute("INSERT INTO tb_user (id, first_name, last_name, email) "
                                 "VALUES (900, 'Wan', 'W', 'w@x')")  # fmt: skip
            watch = Repository(pool).watch("qm_user", id=900)
            seen = [await next_value(watch)]
            await writer.execute("UPDATE tb_user SET first_name = 'Two' WHERE id = 900")
            seen.append(await next_value(watch))
            await writer.execute(
                "INSERT INTO tb_post (user_id, title, content) VALUES (900, 'Hello', 'x')"
            )
            seen.append(await next_value(watch))
            await writer.execute("DELETE FROM tb_post WHERE user_id = 900")
            await writer.execute("DELETE FROM tb_user WHERE id = 900")
            seen.append(await next_value(watch))  # the post's removal, then the user's
            if seen[-1] is not None:
                seen.append(await next_value(watch))
            await watch.aclose()
            await writer.close()
            return seen

    seen = run(go())
    assert [s and s["first_name"] for s in seen[:3]] == ["Wan", "Two", "Two"]
    assert [p["title"] for p in seen[2]["user_posts"]] == ["Hello"]
    assert seen[-1] is None


def test_one_notification_per_statement_split_under_the_payload_limit(dsn: str) -> None:
    async def go() -> tuple[list[str], list[str]]:
        conn = await fraiseql.connect(dsn)
        await conn.execute(
            "DROP TABLE IF EXISTS docs_ws; CREATE TABLE docs_ws (k text PRIMARY KEY, data jsonb)"
        )
        await enable_live(conn, "docs_ws", "k")
        await enable_live(conn, "docs_ws", "k")  # idempotent
        payloads: list[str] = []
        listener = await fraiseql.connect(dsn)
        await listener.add_listener(CHANNEL, lambda *args: payloads.append(args[3]))
        await conn.execute("INSERT INTO docs_ws SELECT 'a' || i, '{}' FROM generate_series(1, 3) i")
        await conn.execute(  # 400 keys of 60 bytes: far over one payload
            "INSERT INTO docs_ws SELECT repeat('k', 55) || i, '{}' FROM generate_series(1, 400) i"
        )
        await conn.execute("UPDATE docs_ws SET k = 'b1' WHERE k = 'a1'")  # old and new key
        await conn.execute("TRUNCATE docs_ws")
        await conn.execute("SELECT 1")
        for _ in range(100):
            if len(payloads) >= 4 and json.loads(payloads[-1])["keys"] is None:
                break
            await asyncio.sleep(0.05)
        await listener.close()
        await conn.close()
        return payloads

    payloads = run(go())
    first, *bulk, moved, truncated = (json.loads(p) for p in payloads)
    assert first == {"relation": "public.docs_ws", "keys": ["a1", "a2", "a3"]} or sorted(
        first["keys"]
    ) == ["a1", "a2", "a3"]
    assert len(bulk) >= 3 and all(len(p.encode()) < 8000 for p in payloads)
    assert sorted(k for p in bulk for k in p["keys"]) == sorted(
        f"{'k' * 55}{i}" for i in range(1, 401)
    )
    assert sorted(moved["keys"]) == ["a1", "b1"]
    assert truncated == {"relation": "public.docs_ws", "keys": None}


def test_relations_that_cannot_notify_are_refused_by_name(dsn: str) -> None:
    async def go() -> list[str]:
        errors = []
        async with fraiseql.create_pool(dsn, max_size=1) as pool:
            await pool.execute("DROP TABLE IF EXISTS quiet_ws; CREATE TABLE quiet_ws (id int)")
            for view in ("tv_user", "quiet_ws"):
                try:
                    await anext(Repository(pool).watch(view, id=1))
                except LiveError as exc:
                    errors.append(str(exc))
            conn = await fraiseql.connect(dsn)
            for relation, key in (("tv_user", "id"), ("quiet_ws", "nope")):
                try:
                    await enable_live(conn, relation, key)
                except fraiseql.DatabaseError as exc:
                    errors.append(str(exc))
            await conn.close()
        return errors

    view, table, not_table, no_column = run(go())
    assert "a view cannot say when its rows change" in view and "tv_user" in view
    assert "public.quiet_ws sends no change notifications: run `fraiseql live" in table
    assert "tv_user is not a table" in not_table
    assert "quiet_ws has no column nope" in no_column


def test_cli_enables_live_on_a_table(dsn: str) -> None:
    run(_create("DROP TABLE IF EXISTS cli_ws; CREATE TABLE cli_ws (id int PRIMARY KEY)", dsn))
    done = subprocess.run(
        [sys.executable, "-m", "fraiseql.cli", "live", "cli_ws", "--dsn", dsn],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "cli_ws now notifies live queries" in done.stdout
    failed = subprocess.run(
        [sys.executable, "-m", "fraiseql.cli", "live", "cli_ws", "--key", "zz", "--dsn", dsn],
        capture_output=True,
        text=True,
    )
    assert failed.returncode == 2 and "cli_ws has no column zz" in failed.stderr


async def _create(sql: str, dsn: str) -> None:
    conn = await fraiseql.connect(dsn)
    await conn.execute(sql)
    await conn.close()


def test_mv_models_notify_after_each_refresh(dsn: str) -> None:
    """A watched document and a watched list of an mv_ model, both read again after it."""

    async def go() -> list[Any]:
        async with fraiseql.create_pool(dsn, max_size=2) as pool:
            conn = await fraiseql.connect(dsn)
            one = Repository(pool).watch("mv_user", id=2)
            listed = Repository(pool).watch("mv_user", where={"id": {"lte": 2}}, order_by=["id"])
            seen = [await next_value(one), await next_value(listed)]
            await conn.execute("UPDATE tb_user SET first_name = 'Refreshed' WHERE id = 2")
            await refresh(conn, "mv_user")
            seen += [await next_value(one), await next_value(listed)]
            for watch in (one, listed):
                await watch.aclose()
            await conn.close()
            return seen

    before, list_before, after, list_after = run(go())
    assert before["first_name"] != "Refreshed" and after["first_name"] == "Refreshed"
    assert [u["id"] for u in list_before] == [1, 2] == [u["id"] for u in list_after]
    assert list_before[1] == before and list_after[1] == after


@pytest.fixture(scope="module")
def blog_url(dsn: str) -> Iterator[str]:
    with blog_api_declared():
        app = fraiseql.create_app(dsn)
    with serve(app) as url:
        yield url


def test_blog_subscription_over_a_websocket_shares_one_listener(blog_url: str, dsn: str) -> None:
    async def go() -> tuple[list[Any], list[Any], int]:
        conn = await fraiseql.connect(dsn)
        await conn.execute("UPDATE tb_user SET first_name = 'Before' WHERE id = 1")
        clients = [await Client.open(blog_url) for _ in range(3)]
        queries = [USER, USER, "subscription { user(id: 1) { __typename lastName } }"]
        for client, query in zip(clients, queries, strict=True):
            await client.subscribe("s", query)
        firsts = [await c.recv() for c in clients]
        await conn.execute("UPDATE tb_user SET first_name = 'After' WHERE id = 1")
        seconds = [await c.recv() for c in clients[:2]]
        count = await listeners(conn)
        for client in clients:
            await client.close()
        await conn.close()
        return firsts, seconds, count

    firsts, seconds, count = run(go())
    assert firsts[0]["payload"]["data"]["user"]["firstName"] == "Before"
    assert firsts[2]["payload"] == {"data": {"user": {"__typename": "User", "lastName": "Last1"}}}
    for message in seconds:
        user = message["payload"]["data"]["user"]
        assert user["firstName"] == "After" and isinstance(user["userPosts"], list)
    assert count == 1  # one LISTEN connection for every subscriber of the app


def test_row_level_security_applies_to_every_re_read(pg_server: Any, dsn: str) -> None:
    async def go() -> tuple[Any, Any, Any, Any]:
        admin = await fraiseql.connect(dsn)
        await admin.execute(
            """DROP TABLE IF EXISTS tenant_docs_ws;
            DO $$ BEGIN CREATE ROLE ws_reader LOGIN; EXCEPTION WHEN duplicate_object THEN END $$;
            CREATE TABLE tenant_docs_ws (id int PRIMARY KEY, tenant int, data jsonb);
            ALTER TABLE tenant_docs_ws ENABLE ROW LEVEL SECURITY;
            CREATE POLICY tenant ON tenant_docs_ws
                USING (tenant = nullif(current_setting('app.tenant', true), '')::int);
            GRANT SELECT ON tenant_docs_ws TO ws_reader;
            GRANT USAGE ON SCHEMA fraiseql TO ws_reader;  -- the Repository reads the catalog
            GRANT SELECT ON ALL TABLES IN SCHEMA fraiseql TO ws_reader;
            INSERT INTO tenant_docs_ws VALUES (1, 1, '{"id": 1, "name": "one"}')"""
        )
        await enable_live(admin, "tenant_docs_ws")
        reader = as_user(dsn, "ws_reader")  # superusers bypass row-level security
        async with fraiseql.create_pool(
            reader, max_size=2, session_settings={"tenant": "app.tenant"}
        ) as pool:
            mine = Repository(pool, {"tenant": 1}).watch("tenant_docs_ws", id=1)
            theirs = Repository(pool, {"tenant": 2}).watch("tenant_docs_ws", id=1)
            first = await next_value(mine), await next_value(theirs)
            await admin.execute(
                """UPDATE tenant_docs_ws SET data = '{"id": 1, "name": "uno"}' WHERE id = 1"""
            )
            second = await next_value(mine)
            groups = len(hub_of(pool).groups)
            await mine.aclose()
            await theirs.aclose()
        await admin.close()
        return first, second, groups

    (mine, theirs), second, groups = run(go())
    assert mine == {"id": 1, "name": "one"} and theirs is None  # tenant 2 may not read it
    assert second == {"id": 1, "name": "uno"}
    assert groups == 2  # a read is never shared between different settings


def test_a_lost_listen_connection_reconnects_and_re_reads(dsn: str) -> None:
    async def go() -> Any:
        async with fraiseql.create_pool(dsn, max_size=2) as pool:
            admin = await fraiseql.connect(dsn)
            watch = Repository(pool).watch("qm_user", id=3)
            await next_value(watch)
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = $1",
                f'LISTEN "{CHANNEL}"',
            )
            # Written while nobody listens: only the re-read after reconnecting can see it.
            await admin.execute("UPDATE tb_user SET first_name = 'Missed' WHERE id = 3")
            value = await next_value(watch)
            await admin.execute("UPDATE tb_user SET first_name = 'Heard' WHERE id = 3")
            later = await next_value(watch)
            await watch.aclose()
            await admin.close()
            return value, later

    value, later = run(go())
    assert value["first_name"] == "Missed" and later["first_name"] == "Heard"


def test_subscriptions_survive_a_server_restart() -> None:
    with EmbeddedPostgres() as pg:
        run(setup(pg.dsn, users=3, posts=3))
        with blog_api_declared():
            app = fraiseql.create_app(pg.dsn)
        with serve(app) as url:

            async def go() -> tuple[Any, Any]:
                client = await Client.open(url)
                await client.subscribe("s", USER)
                first = await client.recv()
                await asyncio.get_running_loop().run_in_executor(None, pg.restart)
                conn = await fraiseql.connect(pg.dsn)
                await conn.execute("UPDATE tb_user SET first_name = 'Restarted' WHERE id = 1")
                second = await client.recv()
                await conn.close()
                await client.close()
                return first, second

            first, second = run(go())
    assert first["type"] == "next"
    assert second["payload"]["data"]["user"]["firstName"] == "Restarted"
