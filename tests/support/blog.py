"""The seed's blog API (fraiseql.examples.blog_api) declared afresh for a test's app."""

from __future__ import annotations

import asyncio
import importlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import fraiseql
from fraiseql.demo import setup

BLOG_API = "fraiseql.examples.blog_api"


@contextmanager
def blog_api_declared() -> Iterator[None]:
    """The seed's blog API declared afresh in the default registry, reset afterwards."""
    fraiseql.reset_registry()
    sys.modules.pop(BLOG_API, None)  # importing it again declares it again
    importlib.import_module(BLOG_API)
    try:
        yield
    finally:
        fraiseql.reset_registry()


def blog_database(pg_server: Any, pg_dsn: str, name: str) -> str:
    """The DSN of a database `name` of the suite's server loaded with a small blog (5 users,
    10 posts); with FRAISEQL_TEST_DSN (no server of the suite's) that database instead."""
    dsn = pg_server.create_database(name) if pg_server is not None else pg_dsn
    asyncio.run(setup(dsn, users=5, posts=10))
    return dsn
