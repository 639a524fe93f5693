"""The Repository's cache of views' columns, owned by the pool or connection it reads through."""

from __future__ import annotations

from typing import Any


class ViewCache(dict[tuple[str, str], Any]):
    """(view, jsonb column) -> fraiseql.where.ViewInfo, read once from pg_catalog by the
    Repository. Every pool and every connection has its own (a temporary view is one
    session's); a plain dict underneath, so the per-request lookup is one dict.get."""

    __slots__ = ()
