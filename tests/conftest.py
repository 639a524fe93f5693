"""Shared fixtures: a real PostgreSQL for the whole run.

The suite starts its own embedded cluster unless FRAISEQL_TEST_DSN names a server to use.
"""

import asyncio
import os
from collections.abc import Iterator

import pytest

from fraiseql.embedded import EmbeddedPostgres


@pytest.fixture(scope="session")
def pg_server() -> Iterator[EmbeddedPostgres | None]:
    if os.environ.get("FRAISEQL_TEST_DSN"):
        yield None
        return
    with EmbeddedPostgres() as pg:
        yield pg


@pytest.fixture(scope="session")
def pg_dsn(pg_server: EmbeddedPostgres | None) -> str:
    """DSN of the PostgreSQL every database test talks to."""
    return os.environ.get("FRAISEQL_TEST_DSN") or pg_server.dsn  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def runner() -> Iterator[asyncio.AbstractEventLoop]:
    """One event loop for a module: a pool lives across its tests (Python 3.10 has no Runner)."""
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()
