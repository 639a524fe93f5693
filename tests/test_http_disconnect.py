"""A client that disconnects while its query runs: the query is cancelled on the server.

uvicorn does not cancel the app when the client goes away; fraiseql.disconnect watches the
requests that run for more than a few milliseconds and cancels them. Real uvicorn, real
sockets, real PostgreSQL: pg_stat_activity shows the client's pg_sleep gone.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from support.databases import own_database, run
from support.http_server import serve

import fraiseql
from fraiseql import db

SLEEP = "SELECT pg_sleep(30)"
MARK = "SELECT pg_sleep(1.5), 'mutation ran to its end'"


@pytest.fixture(scope="module")
def dsn(pg_server: Any, pg_dsn: str) -> str:
    return own_database(pg_server, pg_dsn, "http_disconnect_db")


@pytest.fixture(scope="module")
def base(dsn: str) -> Any:
    fraiseql.reset_registry()

    @fraiseql.query
    async def sleepy(info) -> int:
        await info.context["db"].fetchval(SLEEP)
        return 1

    @fraiseql.query
    async def quick(info) -> int:
        return await info.context["db"].fetchval("SELECT 7")

    @fraiseql.mutation
    async def slow_write(info) -> int:
        await info.context["db"].fetchval(MARK)
        await info.context["db"].execute("CREATE TABLE IF NOT EXISTS written (x int)")
        await info.context["db"].execute("INSERT INTO written VALUES ($1)", 1)
        return 1

    app = fraiseql.create_app(database_url=dsn)
    fraiseql.reset_registry()
    with serve(app) as url:
        yield url


async def _active(admin: Any, sql: str) -> int:
    return await admin.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'fraiseql' "
        "AND datname = current_database() AND state = 'active' AND query = $1",
        sql,
    )


async def _until(predicate: Any, what: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not await predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds}s: {what}")
        await asyncio.sleep(0.01)


def _send(base: str, request: bytes) -> socket.socket:
    host, port = base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)))
    sock.sendall(request)
    return sock


def _post(body: dict[str, Any]) -> bytes:
    payload = json.dumps(body).encode()
    return (
        b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(payload), payload)
    )


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_disconnect_cancels_the_running_query(dsn: str, base: str, method: str) -> None:
    query = "{ sleepy }"
    request = (
        _post({"query": query})
        if method == "POST"
        else b"GET /graphql?query=%s HTTP/1.1\r\nHost: x\r\n\r\n" % quote(query).encode()
    )

    async def body() -> None:
        admin = await db.connect(dsn)
        try:
            sock = _send(base, request)
            await _until(lambda: _active(admin, SLEEP), "the query running", 20)
            sock.close()  # the client goes away, 30 s before the query would end
            await _until(lambda: _active_none(admin), "the query gone from pg_stat_activity", 1.0)
        finally:
            await admin.close()

    async def _active_none(admin: Any) -> bool:
        return await _active(admin, SLEEP) == 0

    run(body())
    # the server still serves, on a pool that lost nothing
    for _ in range(3):
        r = httpx.post(base + "/graphql", json={"query": "{ quick }"}, timeout=10)
        assert r.status_code == 200 and r.json() == {"data": {"quick": 7}}


def test_mutation_runs_to_its_end_after_a_disconnect(dsn: str, base: str) -> None:
    """A write is never cut midway by a client that left: its transaction commits."""

    async def body() -> None:
        admin = await db.connect(dsn)
        try:
            await admin.execute("DROP TABLE IF EXISTS written")
            sock = _send(base, _post({"query": "mutation { slowWrite }"}))
            await _until(lambda: _active(admin, MARK), "the mutation running", 20)
            sock.close()

            async def written() -> bool:
                exists = await admin.fetchval("SELECT to_regclass('written') IS NOT NULL")
                return exists and await admin.fetchval("SELECT count(*) FROM written") == 1

            await _until(written, "the mutation's row committed", 20)
        finally:
            await admin.close()

    run(body())
