"""The servers of `make bench-peers`: how each is started (one worker or process each) and
which query dialect it speaks (queries.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
NODE = HERE / "node_modules" / ".bin" / "node"  # Node 22, from package.json's `node`


@dataclass(frozen=True)
class Server:
    name: str
    dialect: str  # a key of queries.DIALECTS
    command: tuple[str, ...]  # `{port}` stands for the port it is given
    env: tuple[tuple[str, str], ...] = ()  # its own environment variables


def _uvicorn(app: str) -> tuple[str, ...]:
    return (
        sys.executable, "-m", "uvicorn", app, "--port", "{port}", "--workers", "1",
        "--log-level", "warning", "--no-access-log",
    )  # fmt: skip


SERVERS = (
    Server("fraiseql", "fraiseql", _uvicorn("benchmarks.peers.fraiseql_app:app")),
    # the same app on the blog's documents, which embed each user's 10 latest posts
    Server(
        "fraiseql on qm_user",
        "fraiseql",
        _uvicorn("benchmarks.peers.fraiseql_app:app"),
        (("FRAISEQL_BENCH_SOURCE", "qm_user"),),
    ),
    Server("PostGraphile v5", "postgraphile v5", (str(NODE), str(HERE / "postgraphile5.mjs"))),
    Server("PostGraphile v4", "postgraphile v4", (str(NODE), str(HERE / "v4" / "server.cjs"))),
    Server("Strawberry", "fraiseql", _uvicorn("benchmarks.peers.strawberry_app:app")),
)


@contextmanager
def serving(server: Server, port: int, dsn: str, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`server` started on 127.0.0.1:`port` against `dsn`, stopped when the block ends; its
    output goes to `log` (a pipe nobody reads would stall a server that logs)."""
    command = [part.replace("{port}", str(port)) for part in server.command]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command,
            cwd=ROOT,
            env={
                **os.environ,
                "FRAISEQL_BENCH_DSN": dsn,
                "PORT": str(port),
                "NODE_ENV": "production",
                **dict(server.env),
            },
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
