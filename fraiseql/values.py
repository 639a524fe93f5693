"""Python values that are not JSON, as text: how a response writes them and a parameter
sends them. Free of graphql-core, so the driver (db/adapt.py) imports it without the GraphQL
layer; the scalar registry (scalars.py) writes its leaves with the same functions."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

__all__ = ["decimal_text", "leaf_text"]


def decimal_text(value: Decimal) -> str:
    """A Decimal's digits as written in JSON: positional, never `1E-7`, scale kept."""
    return format(value, "f")


_LEAF_TEXT: tuple[tuple[type, Callable[[Any], str]], ...] = (
    (dt.datetime, dt.datetime.isoformat),
    (dt.date, dt.date.isoformat),
    (dt.time, dt.time.isoformat),
    (uuid.UUID, str),
    (Decimal, decimal_text),
)


def leaf_text(value: Any) -> str | None:
    """The text of a datetime, date, time, UUID or Decimal (None for other values)."""
    for kind, text in _LEAF_TEXT:
        if isinstance(value, kind):
            return text(value)
    return None
