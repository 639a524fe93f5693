"""What the database test modules share: running a coroutine, a database of their own."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(coro)


def own_database(pg_server: Any, pg_dsn: str, name: str) -> str:
    """A fresh database `name` on the suite's server (pg_dsn itself when the suite was given
    an outside server)."""
    return pg_dsn if pg_server is None else pg_server.create_database(name)
