"""JSON decoding with bounded nesting, for what clients send.

The stdlib decoder recurses once per level and fails past the interpreter's recursion limit
(about 990 levels of `[`) with a RecursionError; GraphQL value coercion recurses too. So the
depth is measured first, without recursion: counting brackets decides almost every body at C
speed, and only a body holding more brackets than the limit is scanned token by token.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["MAX_JSON_DEPTH", "JSONDepthError", "loads"]

# Levels of arrays and objects a request may nest: far beyond any GraphQL request seen in
# practice, far below the decoder's recursion limit.
MAX_JSON_DEPTH = 128

# A string (skipped whole, escapes included) or one bracket.
_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


class JSONDepthError(ValueError):
    """The document nests arrays and objects deeper than allowed."""

    def __init__(self, max_depth: int) -> None:
        super().__init__(f"nests arrays and objects deeper than {max_depth} levels")
        self.max_depth = max_depth


def _depth_exceeds(data: bytes, max_depth: int) -> bool:
    if data.count(b"[") + data.count(b"{") <= max_depth:
        return False
    depth = 0
    for token in _TOKEN.finditer(data):
        char = token.group()[:1]
        if char in b"[{":
            depth += 1
            if depth > max_depth:
                return True
        elif char in b"]}":
            depth -= 1
    return False


def loads(data: bytes | str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """`json.loads`, refusing documents nested deeper than `max_depth` with JSONDepthError.

    Malformed JSON raises the decoder's ValueError (UnicodeDecodeError for bad UTF-8).
    """
    raw = data.encode() if isinstance(data, str) else data
    if _depth_exceeds(raw, max_depth):
        raise JSONDepthError(max_depth)
    try:
        return json.loads(raw)
    except RecursionError:  # a max_depth set above what the interpreter allows
        raise JSONDepthError(max_depth) from None
