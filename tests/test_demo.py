"""`fraiseql demo`: loads the blog into a database and serves the seed's API over HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from typing import Any

import httpx
import pytest


@pytest.fixture(scope="module")
def dsn(pg_server: Any, pg_dsn: str) -> str:
    return pg_server.create_database("graphql_demo") if pg_server is not None else pg_dsn


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fraiseql_command(*argv: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "fraiseql.cli", *argv],
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_setup_only_then_serve(dsn: str) -> None:
    proc = fraiseql_command("demo", "--dsn", dsn, "--users", "30", "--posts", "200", "--setup-only")
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, out
    assert "loaded." in out

    port = free_port()
    proc = fraiseql_command("demo", "--dsn", dsn, "--port", str(port))
    try:
        url = f"http://127.0.0.1:{port}/graphql"
        deadline = time.monotonic() + 120
        while True:
            try:
                r = httpx.post(
                    url, json={"query": "{ user(id: 1) { id firstName userPosts { title } } }"}
                )
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stdout.read()  # type: ignore[union-attr]
                assert time.monotonic() < deadline, "the demo did not come up"
                time.sleep(0.2)
        assert r.status_code == 200
        user = r.json()["data"]["user"]
        assert user["id"] == 1 and user["firstName"] == "First1" and len(user["userPosts"]) <= 10
        r = httpx.post(url, json={"query": "{ users(limit: 3) { id } }"})
        assert len(r.json()["data"]["users"]) == 3
        # the typed createUser the demo prints, twice: the email is taken the second time
        create = (
            'mutation { createUser(input: {firstName: "Ada", lastName: "L", '
            'email: "ada@example.org"}) { ... on CreateUserSuccess { user { email } } '
            "... on CreateUserError { code message field } } }"
        )
        r = httpx.post(url, json={"query": create})
        assert r.json() == {"data": {"createUser": {"user": {"email": "ada@example.org"}}}}
        r = httpx.post(url, json={"query": create})
        assert r.json() == {
            "data": {
                "createUser": {
                    "code": "UNIQUE_VIOLATION",
                    "message": "Email is already taken.",
                    "field": "email",
                }
            }
        }
        # the generated update the demo prints, then the same again: version 1 is gone
        update = (
            'mutation { updateUser(id: 1, input: {lastName: "Lovelace"}, expectedVersion: 1) '
            "{ ... on UpdateUserSuccess { user { id lastName } } "
            "... on UpdateUserError { code field currentVersion } } }"
        )
        r = httpx.post(url, json={"query": update})
        assert r.json() == {"data": {"updateUser": {"user": {"id": 1, "lastName": "Lovelace"}}}}
        r = httpx.post(url, json={"query": update})
        assert r.json() == {
            "data": {
                "updateUser": {"code": "CONFLICT", "field": "expectedVersion", "currentVersion": 2}
            }
        }
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert "already loaded, kept as is." in out
    assert f"curl -s {url}" in out


def test_bad_dsn_is_reported(dsn: str) -> None:
    proc = fraiseql_command(
        "demo", "--dsn", f"postgresql://postgres@127.0.0.1:{free_port()}/x", "--setup-only"
    )
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 2
    assert "fraiseql demo: error: cannot load the example into" in out


def test_taken_port_fails_before_loading(dsn: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = fraiseql_command("demo", "--dsn", dsn, "--port", str(port))
        out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 2
    assert out == (
        f"fraiseql demo: error: cannot serve on 127.0.0.1:{port}: Address already in use; "
        "choose another port with --port N (make demo PORT=N) or host with --host\n"
    )  # one line, and nothing was loaded first


def test_bad_port_is_refused() -> None:
    proc = fraiseql_command("demo", "--port", "70000")
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "expected a port number 0-65535, got '70000'" in out


def test_make_demo_passes_host_and_port() -> None:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run(
        ["make", "-n", "-C", root, "demo", "PORT=8123", "HOST=0.0.0.0"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "-m fraiseql.demo --host 0.0.0.0 --port 8123" in out
