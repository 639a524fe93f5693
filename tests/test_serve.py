"""`fraiseql serve` runs an app under uvicorn; bad arguments get a clear message."""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from fraiseql.cli import build_parser

TESTS = Path(__file__).parent


def parser() -> argparse.ArgumentParser:
    return build_parser()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_parsers() -> None:
    args = parser().parse_args(
        ["demo", "--port", "9001", "--setup-only", "--dsn", "postgresql://x/y"]
    )
    assert (args.port, args.setup_only, args.dsn, args.host) == (
        9001,
        True,
        "postgresql://x/y",
        "127.0.0.1",
    )
    args = parser().parse_args(["serve", "pkg.mod:app", "--workers", "2"])
    assert (args.app, args.workers, args.port) == ("pkg.mod:app", 2, 8000)
    assert (args.access_log, args.log_level, args.debug) == (False, "info", False)


@pytest.mark.parametrize(
    "argv,message",
    [
        (["serve", "no_colon"], "expected module:attribute, got 'no_colon'"),
        (["serve", "a:b", "--workers", "0"], "--workers must be at least 1, got 0"),
    ],
)
def test_serve_rejects_bad_arguments(argv: list[str], message: str) -> None:
    args = parser().parse_args(argv)
    with pytest.raises(SystemExit) as exc:
        args.handler(args)
    assert message in str(exc.value)


def serve_and_query(*options: str, app: str = "support.hello_app:app", requests: int = 2) -> str:
    """Run `fraiseql serve app *options`, POST `requests` queries, stop it; its whole output."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(TESTS)}
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "fraiseql.cli", "serve", app, "--port", str(port), *options],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            url = f"http://127.0.0.1:{port}/graphql"
            query = {"query": '{ hello(name: "you") }'}
            deadline = time.monotonic() + 60
            while True:
                try:
                    r = httpx.post(url, json=query)
                    break
                except httpx.TransportError:
                    assert proc.poll() is None, "server exited"
                    assert time.monotonic() < deadline, "server did not come up"
                    time.sleep(0.1)
            for _ in range(requests - 1):
                assert httpx.post(url, json=query).status_code == 200
            assert r.status_code == 200 and r.json() == {"data": {"hello": "hello you"}}
        finally:
            proc.terminate()
            proc.wait(30)
        out.seek(0)
        return out.read()


ACCESS_LINE = '"POST /graphql HTTP/1.1" 200'


def test_serve_runs_an_app_without_access_log() -> None:
    log = serve_and_query()
    assert "Uvicorn running on" in log  # --log-level info by default
    assert ACCESS_LINE not in log, log


def test_serve_access_log() -> None:
    log = serve_and_query("--access-log", requests=3)
    assert log.count(ACCESS_LINE) == 3, log


def test_serve_log_level() -> None:
    log = serve_and_query("--log-level", "warning", "--access-log")
    assert "Uvicorn running on" not in log and ACCESS_LINE not in log, log
    # fraiseql's own loggers follow the level too (the app logs at debug on each request).
    app = "support.logging_app:app"
    assert serve_and_query("--log-level", "debug", app=app).count(LOGGED) == 2
    assert LOGGED not in serve_and_query(app=app)


LOGGED = "debug line from fraiseql.test_app"


def test_serve_reports_a_module_that_fails_to_import(tmp_path: Path) -> None:
    (tmp_path / "broken_app.py").write_text("import fraiseql\n\napp = missing_name\n")
    command = [sys.executable, "-m", "fraiseql.cli", "serve", "broken_app:app"]
    line = (
        "fraiseql serve: error: importing broken_app failed: NameError: name 'missing_name' "
        f"is not defined ({tmp_path}/broken_app.py:3)"
    )
    proc = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr == line + " (--debug shows the traceback)\n"
    proc = subprocess.run(
        [*command, "--debug"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("Traceback (most recent call last):")
    assert proc.stderr.endswith(line + "\n")
