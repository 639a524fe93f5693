"""Running fraiseql in a fresh interpreter where an optional dependency is missing."""

from __future__ import annotations

import subprocess
import sys


def import_error_without(module: str, call: str) -> str:
    """The ImportError message of `call` (an expression over fraiseql, with one query
    declared) in a fresh interpreter where `module` cannot be imported."""
    code = (
        f"import sys; sys.modules[{module!r}] = None\n"  # as if not installed
        "import fraiseql\n"
        "def hello(info) -> str: return 'hi'\n"
        "fraiseql.query(hello)\n"
        "try:\n"
        f"    {call}\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip()
