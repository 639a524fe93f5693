"""`fraiseql serve` runs an app under uvicorn; bad arguments get a clear message."""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
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


def test_serve_runs_an_app() -> None:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(TESTS)}
    serve = ["serve", "support.hello_app:app", "--port", str(port)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "fraiseql.cli", *serve],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                r = httpx.post(
                    f"http://127.0.0.1:{port}/graphql", json={"query": '{ hello(name: "you") }'}
                )
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stdout.read().decode()
                assert time.monotonic() < deadline, "server did not come up"
                time.sleep(0.1)
        assert r.status_code == 200 and r.json() == {"data": {"hello": "hello you"}}
    finally:
        proc.terminate()
        proc.wait(30)
