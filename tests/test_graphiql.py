"""The GraphiQL page: where its assets come from, and what it says when they cannot load.

The HTML is checked for both sources; the page's behaviour in a real headless Chromium
(`apt-get install chromium`): a failed asset, an asset server that never answers, and
assets served from the user's own static mount.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from support.http_server import serve

import fraiseql
from fraiseql.graphiql import ASSET_TIMEOUT, ASSETS, CDN

FILES = [path.rsplit("/", 1)[1] for path in ASSETS]
HTML = {"accept": "text/html"}


def graphiql_app(**options: Any) -> fraiseql.http.GraphQLApp:
    fraiseql.reset_registry()

    @fraiseql.query
    def hello(info) -> str:
        return "hello"

    try:
        return fraiseql.create_app(**options)
    finally:
        fraiseql.reset_registry()


def page(app: Any, path: str = "/graphql") -> httpx.Response:
    with serve(app) as base, httpx.Client(timeout=30) as c:
        return c.get(base + path, headers=HTML)


def test_default_page_loads_from_unpkg() -> None:
    r = page(graphiql_app())
    assert r.status_code == 200 and r.headers["content-type"] == "text/html; charset=utf-8"
    for path in ASSETS:
        assert f'"{CDN}{path}"' in r.text
    assert "Loading GraphiQL from unpkg.com..." in r.text
    # the failure handlers: each asset's onerror, and the timer for one that never answers
    assert "el.onerror" in r.text and f'"timeout": {ASSET_TIMEOUT}' in r.text
    assert "its assets could not be loaded from" in r.text and "graphiql_assets=" in r.text


def test_graphiql_assets_from_a_static_mount() -> None:
    host = Starlette(routes=[Mount("/api", app=graphiql_app(graphiql_assets="/static/graphiql/"))])
    r = page(host, "/api/graphql")
    assert r.status_code == 200 and r.headers["content-type"] == "text/html; charset=utf-8"
    for name in FILES:
        assert f'"/static/graphiql/{name}"' in r.text
    assert CDN + "graphiql" not in r.text
    assert '"endpoint": "/api/graphql"' in r.text
    assert "Loading GraphiQL from /static/graphiql/..." in r.text


def test_graphiql_assets_cannot_break_out_of_the_page() -> None:
    r = page(graphiql_app(graphiql_assets='/x"</script><script>alert(1)</script>'))
    assert "<script>alert(1)" not in r.text
    assert r.text.count("</script>") == 1


def test_readme_lists_the_assets() -> None:
    """The README's download loop fetches exactly the files the page loads."""
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    loop = re.search(r"for f in (.*?); do", readme, re.S)
    assert loop and sorted(loop.group(1).replace("\\", " ").split()) == sorted(ASSETS)


@pytest.mark.parametrize("assets", ["", 5, b"/static"])
def test_bad_graphiql_assets(assets: Any) -> None:
    with pytest.raises((TypeError, ValueError), match="graphiql_assets"):
        graphiql_app(graphiql_assets=assets)


# ---------------------------------------------------------------- in a real browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Selected by `make test-browser` (which installs Chromium), left out of `make test`.
needs_chromium = pytest.mark.browser


def rendered(url: str, stop_after: float) -> str:
    """The text of #graphiql once Chromium loaded `url`, stopping pending loads after
    `stop_after` seconds (scripts that answer within it have run by then)."""
    assert CHROMIUM is not None, "no headless browser: make test-browser installs chromium"
    out = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--timeout={int(stop_after * 1000)}",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    div = re.search(r'<div id="graphiql">(.*?)</div>', out.stdout, re.S)
    assert div, out.stdout
    return re.sub(r"<[^>]+>", "", div.group(1)).replace("&quot;", '"').replace("&amp;", "&")


@needs_chromium
def test_browser_reports_an_asset_that_fails() -> None:
    with serve(graphiql_app(graphiql_assets="/missing")) as base:
        text = rendered(base + "/graphql", stop_after=30)
    assert text.startswith(
        f"GraphiQL could not be loaded: its assets could not be loaded from "
        f"{base}/missing/{FILES[0]} (the request failed). "
    )
    assert 'create_app(graphiql_assets="/static/graphiql")' in text


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A server that accepts connections and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/assets"


@needs_chromium
def test_browser_reports_assets_that_never_arrive(silent_server: str) -> None:
    with serve(graphiql_app(graphiql_assets=silent_server)) as base:
        text = rendered(base + "/graphql", stop_after=ASSET_TIMEOUT + 5)
    assert text.startswith(
        f"GraphiQL could not be loaded: its assets could not be loaded from "
        f"{silent_server}/{FILES[0]} (no answer within {ASSET_TIMEOUT} seconds). "
    )


# Stand-ins for the four files: enough of React and GraphiQL's globals to show what the
# page does with them (load order, the fetcher's endpoint).
STUBS = {
    "graphiql.min.css": "#graphiql { color: black; }",
    "react.production.min.js": "window.React = { createElement: (c, props) => props };",
    "react-dom.production.min.js": (
        "window.ReactDOM = { createRoot: (el) => ({ render: (props) => {"
        " el.textContent = 'stub GraphiQL for ' + props.fetcher.url; } }) };"
    ),
    "graphiql.min.js": (
        "if (!window.ReactDOM) throw new Error('loaded before react-dom');"
        "window.GraphiQL = function () {};"
        "GraphiQL.createFetcher = (options) => ({ url: options.url });"
    ),
}


@needs_chromium
def test_browser_loads_assets_from_the_users_static_mount(tmp_path: Path) -> None:
    assert sorted(STUBS) == sorted(FILES)
    for name, text in STUBS.items():
        (tmp_path / name).write_text(text)
    host = Starlette(
        routes=[
            Mount("/static/graphiql", app=StaticFiles(directory=tmp_path)),
            Mount("/api", app=graphiql_app(graphiql_assets="/static/graphiql")),
        ]
    )
    with serve(host) as base:
        assert rendered(base + "/api/graphql", stop_after=30) == "stub GraphiQL for /api/graphql"
