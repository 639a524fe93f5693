"""The npm `graphql-ws` client (under Node) subscribing to the blog over a real socket: the
client users run, not ours. Installs it into tests/js/node_modules when missing."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.blog import blog_api_declared, blog_database
from support.http_server import serve

import fraiseql

JS = Path(__file__).parent / "js"
USER = "subscription { user(id: 1) { firstName userPosts { title } } }"


@pytest.fixture(scope="module")
def node() -> str:
    found = shutil.which("node")
    if found is None:
        pytest.fail("node is not installed (apt-get install nodejs npm)")
    if not (JS / "node_modules" / "graphql-ws").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=JS, check=True)
    return found


@pytest.fixture(scope="module")
def url(pg_server: Any, pg_dsn: str) -> Iterator[str]:
    dsn = blog_database(pg_server, pg_dsn, "live_node_ws")
    with blog_api_declared():
        app = fraiseql.create_app(dsn)
    with serve(app) as base:
        yield base.replace("http://", "ws://") + "/graphql", dsn


def test_graphql_ws_client_gets_the_document_then_the_change(node: str, url: Any) -> None:
    ws_url, dsn = url
    proc = subprocess.Popen(
        [node, str(JS / "subscribe.mjs"), ws_url, USER, "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = json.loads(proc.stdout.readline())  # type: ignore[union-attr]

        async def write() -> None:
            conn = await fraiseql.connect(dsn)
            await conn.execute("UPDATE tb_user SET first_name = 'FromNode' WHERE id = 1")
            await conn.close()

        asyncio.run(write())
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    second, query = (json.loads(line) for line in out.splitlines())
    assert proc.returncode == 0, err
    assert first["data"]["user"]["firstName"] == "First1"
    assert second["data"]["user"]["firstName"] == "FromNode"
    assert second["data"]["user"]["userPosts"] == first["data"]["user"]["userPosts"]
    assert query == {"data": {"user": {"firstName": "First2"}}}


def test_graphql_ws_client_reports_the_servers_errors(node: str, url: Any) -> None:
    ws_url, _ = url
    done = subprocess.run(
        [node, str(JS / "subscribe.mjs"), ws_url, "subscription { user(id: 1) { nope } }", "1"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    (error,) = json.loads(done.stdout.splitlines()[0])["error"]
    assert error["message"] == "Cannot query field 'nope' on type 'User'."
