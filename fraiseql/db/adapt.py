"""Query parameters as PostgreSQL text, for the types the C side does not convert itself."""

from __future__ import annotations

import datetime
import enum
import json
from collections.abc import Iterable
from typing import Any

from fraiseql.errors import InterfaceError
from fraiseql.values import leaf_text


def adapt(value: Any) -> str | None:
    """Text form of a parameter the C side does not convert itself (str/int/float/bool/None)."""
    if value is None:
        return None
    if isinstance(value, enum.Enum):  # before str/int: str() of a mixed-in enum is its name
        return adapt(value.value)
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (str, int, float)):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "\\x" + bytes(value).hex()
    text = leaf_text(value)  # Decimal, UUID, dates and times: as the scalar registry writes them
    if text is not None:
        return text
    if isinstance(value, datetime.timedelta):
        return f"{value.days} days {value.seconds} seconds {value.microseconds} microseconds"
    if isinstance(value, (list, tuple)):
        return _array_literal(value)
    if isinstance(value, dict):
        return json.dumps(value)
    raise InterfaceError(
        f"cannot send a parameter of type {type(value).__name__}; "
        "pass str, int, float, bool, bytes, Decimal, UUID, date/time, "
        "list (array) or dict (json)"
    )


def _array_literal(values: Iterable[Any]) -> str:
    """An array literal ('{"a",NULL,{"b"}}'): nested lists are sub-arrays, items quoted."""
    parts = []
    for v in values:
        if isinstance(v, (list, tuple)):
            parts.append(_array_literal(v))
            continue
        text = adapt(v)
        if text is None:
            parts.append("NULL")
        else:
            parts.append('"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"')
    return "{" + ",".join(parts) + "}"
