"""A least-recently-used mapping bounded by entry count and by bytes, with its counts.

The plan caches (by document text and by shape, fraiseql.plan_cache) and the persisted
query texts of the HTTP app keep one each. A value's size is the caller's estimate,
given with `put`; the bounds hold after every `put`.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, NamedTuple


class CacheStats(NamedTuple):
    """What a cache did since it was made: lookups that found a value (hits) or not
    (misses), values dropped to stay within the bounds (evictions); what it holds now."""

    hits: int
    misses: int
    evictions: int
    entries: int
    bytes: int


class LRUCache:
    """A bounded least-recently-used mapping (plans, persisted query texts)."""

    def __init__(self, maxsize: int = 1000, max_bytes: int | None = None) -> None:
        if maxsize < 1:
            raise ValueError(f"cache size must be at least 1, got {maxsize}")
        if max_bytes is not None and max_bytes < 1:
            raise ValueError(f"cache bytes must be at least 1 (or None), got {max_bytes}")
        self.maxsize = maxsize
        self.max_bytes = max_bytes
        self.bytes = 0
        self.hits = self.misses = self.evictions = 0
        self._items: OrderedDict[Any, tuple[Any, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: Any) -> Any:
        """The value of `key` (now the most recently used), or None."""
        item = self._items.get(key)
        if item is None:
            self.misses += 1
            return None
        self.hits += 1
        self._items.move_to_end(key)
        return item[0]

    def put(self, key: Any, value: Any, size: int = 0) -> None:
        """Store `value` of `size` bytes, evicting the least recently used entries beyond
        the bounds (a value larger than max_bytes alone is not kept)."""
        old = self._items.pop(key, None)
        if old is not None:
            self.bytes -= old[1]
        self._items[key] = (value, size)
        self.bytes += size
        limit = self.max_bytes
        while len(self._items) > self.maxsize or (limit is not None and self.bytes > limit):
            _, (_, dropped) = self._items.popitem(last=False)
            self.bytes -= dropped
            self.evictions += 1

    def clear(self) -> None:
        self._items.clear()
        self.bytes = 0

    def stats(self) -> CacheStats:
        return CacheStats(self.hits, self.misses, self.evictions, len(self._items), self.bytes)
