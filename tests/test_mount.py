"""fraiseql mounted in real FastAPI and Starlette hosts, served by uvicorn (the README recipe).

Mounted apps get no lifespan events: the pool opens on the first request, once however many
arrive together; hosts may instead open and close it from their own lifespan.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from support.blog import blog_api_declared, blog_database
from support.http_server import serve
from support.tcp_relay import address, free_port, relay, through

import fraiseql

ORIGIN = "https://app.example"
USER_QUERY = {"query": "{ user(id: 2) { id firstName } }"}
USER_DATA = {"data": {"user": {"id": 2, "firstName": "First2"}}}


@pytest.fixture(scope="module")
def dsn(pg_server: Any, pg_dsn: str) -> str:
    return blog_database(pg_server, pg_dsn, "mount_blog")


def blog_app(dsn: str, **options: Any) -> fraiseql.http.GraphQLApp:
    with blog_api_declared():
        return fraiseql.create_app(database_url=dsn, **options)


def with_cors(app: Any) -> None:
    app.add_middleware(
        CORSMiddleware,
        allow_origins=[ORIGIN],
        allow_methods=["GET", "POST"],
        allow_headers=["content-type"],
    )


@pytest.fixture(scope="module")
def fastapi_host(dsn: str) -> Iterator[tuple[str, fraiseql.http.GraphQLApp]]:
    """The recipe without a lifespan: FastAPI, CORS middleware, fraiseql mounted at /api."""
    api = blog_app(dsn)
    host = FastAPI()
    with_cors(host)

    @host.get("/hello")
    def hello() -> dict[str, str]:
        return {"hello": "host"}

    host.mount("/api", api)
    with serve(host) as base:
        yield base, api


def test_fastapi_mount_opens_the_pool_on_first_request(fastapi_host: Any) -> None:
    base, api = fastapi_host
    assert api.pool is None  # the host's lifespan did not reach the mounted app
    with httpx.Client(timeout=30) as c:
        r = c.post(base + "/api/graphql", json=USER_QUERY)
        assert r.status_code == 200 and r.json() == USER_DATA
        assert api.pool is not None
        r = c.get(base + "/api/graphql", params={"query": USER_QUERY["query"]})
        assert r.status_code == 200 and r.json() == USER_DATA
        assert c.get(base + "/hello").json() == {"hello": "host"}


def test_fastapi_mount_routing(fastapi_host: Any) -> None:
    base, _ = fastapi_host
    with httpx.Client(timeout=30) as c:
        r = c.get(base + "/api/health")
        assert r.status_code == 200 and r.json() == {"status": "ok"}
        r = c.post(base + "/api/elsewhere", json=USER_QUERY)
        assert r.status_code == 404
        assert r.json()["errors"][0]["message"] == (
            "Not found: /api/elsewhere; GraphQL is served at /api/graphql"
        )
        assert c.post(base + "/graphql", json=USER_QUERY).status_code == 404  # the host's 404


def test_fastapi_mount_graphiql_page(fastapi_host: Any) -> None:
    base, _ = fastapi_host
    with httpx.Client(timeout=30) as c:
        r = c.get(base + "/api/graphql", headers={"accept": "text/html"})
        assert r.status_code == 200
        assert r.headers["content-type"] == "text/html; charset=utf-8"
        assert '"endpoint": "/api/graphql"' in r.text


def test_fastapi_mount_cors(fastapi_host: Any) -> None:
    base, _ = fastapi_host
    url = base + "/api/graphql"
    with httpx.Client(timeout=30) as c:
        preflight = {
            "origin": ORIGIN,
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type",
        }
        r = c.options(url, headers=preflight)
        assert r.status_code == 200
        assert r.headers["access-control-allow-origin"] == ORIGIN
        assert "POST" in r.headers["access-control-allow-methods"]
        assert "content-type" in r.headers["access-control-allow-headers"].lower()
        r = c.post(url, json=USER_QUERY, headers={"origin": ORIGIN})
        assert r.status_code == 200 and r.json() == USER_DATA
        assert r.headers["access-control-allow-origin"] == ORIGIN
        # another origin: the browser gets no grant, preflight or not
        r = c.options(url, headers={**preflight, "origin": "https://evil.example"})
        assert r.status_code == 400 and "access-control-allow-origin" not in r.headers
        r = c.post(url, json=USER_QUERY, headers={"origin": "https://evil.example"})
        assert "access-control-allow-origin" not in r.headers
        # without the middleware's grant, an OPTIONS reaches fraiseql, which allows GET, POST
        r = c.options(url)
        assert r.status_code == 405 and r.headers["allow"] == "GET, POST"


async def backends(dsn: str) -> int:
    """Connections of fraiseql pools to the test database, this one excepted."""
    conn = await fraiseql.db.connect(dsn)
    try:
        return await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name = 'fraiseql' AND pid <> pg_backend_pid()"
        )
    finally:
        await conn.close()


def test_concurrent_first_requests_open_one_pool(dsn: str) -> None:
    api = blog_app(dsn, pool_options={"min_size": 1, "max_size": 1})
    host = FastAPI()
    host.mount("/api", api)
    before = asyncio.run(backends(dsn))

    async def burst(base: str) -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=30) as c:
            return await asyncio.gather(
                *(c.post(base + "/api/graphql", json=USER_QUERY) for _ in range(30))
            )

    with serve(host) as base:
        responses = asyncio.run(burst(base))
        assert [r.json() for r in responses] == [USER_DATA] * 30
        # one pool of at most one connection: a pool per request would hold thirty
        assert asyncio.run(backends(dsn)) == before + 1


def test_mounted_app_while_the_database_is_down(dsn: str) -> None:
    """Concurrent first requests to an unreachable database: each a 503, none a crash; the
    pool opens on a later request once the database is reachable. In debug, with the cause."""
    port = free_port()
    api = blog_app(through(dsn, port), debug=True)
    host = FastAPI()
    host.mount("/api", api)

    async def burst(base: str) -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=30) as c:
            return await asyncio.gather(
                *(c.post(base + "/api/graphql", json=USER_QUERY) for _ in range(20))
            )

    with serve(host) as base:
        responses = asyncio.run(burst(base))
        assert {r.status_code for r in responses} == {503}
        errors = [r.json()["errors"][0] for r in responses]
        assert {e["extensions"]["code"] for e in errors} == {"DATABASE_UNAVAILABLE"}
        assert all(f"port {port} failed: Connection refused" in e["message"] for e in errors)
        health = httpx.get(base + "/api/health", timeout=30)
        assert health.status_code == 503 and "Connection refused" in health.json()["database"]
        with relay(port, address(dsn)):
            responses = asyncio.run(burst(base))
            assert [r.json() for r in responses] == [USER_DATA] * 20


def readme_recipe() -> list[str]:
    """The Python blocks of the README's mounting section, in order."""
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    section = readme.split("## Mounting in FastAPI or Starlette", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def test_readme_recipe(dsn: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The README's FastAPI and Starlette hosts, their lifespan opening and closing the pool,
    then GraphiQL's assets from the FastAPI host's static mount."""
    fastapi_block, starlette_block, assets_block = readme_recipe()
    monkeypatch.setenv("DATABASE_URL", dsn)
    (tmp_path / "static" / "graphiql").mkdir(parents=True)
    (tmp_path / "static" / "graphiql" / "graphiql.min.js").write_text("// stand-in")
    monkeypatch.chdir(tmp_path)
    recipe: dict[str, Any] = {}
    for block in (fastapi_block, starlette_block, assets_block):
        with blog_api_declared():
            exec(block, recipe)
        api = recipe["graphql"]
        assert api.pool is None
        with serve(recipe["app"]) as base, httpx.Client(timeout=30) as c:
            assert api.pool is not None  # opened by the host's lifespan, before any request
            r = c.post(base + "/api/graphql", json=USER_QUERY, headers={"origin": ORIGIN})
            assert r.status_code == 200 and r.json() == USER_DATA
            assert r.headers.get("access-control-allow-origin") == (
                None if block is assets_block else ORIGIN
            )
            assert c.get(base + "/api/health").json() == {"status": "ok"}
            page = c.get(base + "/api/graphql", headers={"accept": "text/html"}).text
            assert ('"/static/graphiql/graphiql.min.js"' in page) is (block is assets_block)
            if block is assets_block:
                assert c.get(base + "/static/graphiql/graphiql.min.js").text == "// stand-in"
        assert api.pool is None  # closed by the host's lifespan


def stripping_mount(prefix: str, app: Any) -> Any:
    """A host of the other convention (Starlette before 0.33): `path` without `root_path`."""

    async def host(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            assert scope["path"].startswith(prefix + "/")
            root = scope.get("root_path", "") + prefix
            scope = {**scope, "root_path": root, "path": scope["path"][len(prefix) :]}
        await app(scope, receive, send)

    return host


@pytest.mark.parametrize(
    "wrap,config",
    [
        (lambda app: stripping_mount("/api", app), {}),
        # uvicorn --root-path /api: behind a proxy that strips /api, path keeps it
        (lambda app: app, {"root_path": "/api"}),
    ],
    ids=["path-stripped", "uvicorn-root-path"],
)
def test_other_root_path_conventions(dsn: str, wrap: Any, config: dict[str, Any]) -> None:
    api = blog_app(dsn)
    with serve(wrap(api), **config) as base, httpx.Client(timeout=30) as c:
        prefix = "/api" if not config else ""  # uvicorn adds the root path itself
        r = c.post(base + prefix + "/graphql", json=USER_QUERY)
        assert r.status_code == 200 and r.json() == USER_DATA
        r = c.get(base + prefix + "/health")
        assert r.status_code == 200 and r.json() == {"status": "ok"}
        r = c.get(base + prefix + "/graphql", headers={"accept": "text/html"})
        assert '"endpoint": "/api/graphql"' in r.text
        r = c.get(base + prefix + "/nope")
        assert r.json()["errors"][0]["message"] == (
            "Not found: /api/nope; GraphQL is served at /api/graphql"
        )


@pytest.mark.parametrize(
    "options,error",
    [({"bogus": 1}, TypeError), ({"min_size": 5, "max_size": 1}, fraiseql.InterfaceError)],
)
def test_bad_pool_options_fail_in_create_app(dsn: str, options: Any, error: type) -> None:
    """Not on the first request of a mounted app, where only a client would see them."""
    with pytest.raises(error, match="bogus|min_size"):
        blog_app(dsn, pool_options=options)
