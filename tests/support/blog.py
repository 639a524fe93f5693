"""The seed's blog API (fraiseql.examples.blog_api) declared afresh for a test's app."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import fraiseql

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
