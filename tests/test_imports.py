"""`import fraiseql` does not load graphql-core: the rewriter and the driver work without it.

Each check runs in a fresh interpreter, with graphql made unimportable (None in
sys.modules) or broken (a `graphql` package on the path whose import raises).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

WITHOUT_GRAPHQL = """
import asyncio, sys
{block}
import fraiseql

assert "graphql" not in sys.modules or sys.modules["graphql"] is None, "graphql was imported"
selection = fraiseql.Selection("User", [("firstName", "first_name", None)])
assert fraiseql.rewrite(b'{{"first_name": "Ada", "x": 1}}', selection) == b'{{"firstName":"Ada"}}'
assert fraiseql.to_camel(b'{{"user_posts": []}}') == b'{{"userPosts":[]}}'


async def main():
    async with fraiseql.create_pool({dsn!r}, max_size=1) as pool:
        assert await pool.fetchval("SELECT 40 + $1", 2) == 42

asyncio.run(main())
try:
    fraiseql.build_schema
except {error} as exc:
    print(f"GRAPHQL-LAYER: {{type(exc).__name__}}: {{exc}}")
"""

BLOCKS = {
    # what `import graphql` does when graphql-core is not installed
    "missing": ('sys.modules["graphql"] = None', "ImportError"),
    # a graphql-core whose import fails, as an incompatible release would
    "broken": (
        "import pathlib, tempfile\n"
        "d = pathlib.Path(tempfile.mkdtemp()) / 'graphql'\n"
        "d.mkdir()\n"
        "(d / '__init__.py').write_text('raise RuntimeError(\"broken graphql-core\")')\n"
        "sys.path.insert(0, str(d.parent))",
        "RuntimeError",
    ),
}


@pytest.mark.parametrize("kind", sorted(BLOCKS))
def test_rewriter_and_driver_without_graphql_core(pg_dsn: str, kind: str) -> None:
    block, error = BLOCKS[kind]
    script = WITHOUT_GRAPHQL.format(block=block, dsn=pg_dsn, error=error)
    proc = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    # The GraphQL layer itself still says why it cannot load, when it is asked for.
    expected = (
        "ImportError: fraiseql.build_schema needs graphql-core, which could not be imported"
        if kind == "missing"
        else "RuntimeError: broken graphql-core"
    )
    assert f"GRAPHQL-LAYER: {expected}" in proc.stdout, proc.stdout


def test_graphql_layer_loads_on_first_use() -> None:
    script = (
        "import sys, fraiseql\n"
        "assert 'graphql' not in sys.modules\n"
        "assert 'build_schema' in dir(fraiseql)\n"
        "from fraiseql.executor import execute\n"
        "assert fraiseql.execute is execute, fraiseql.execute\n"
        "assert fraiseql.create_app is fraiseql.http.create_app\n"
        "assert callable(fraiseql.Limits) and callable(fraiseql.Executor)\n"
        "try:\n"
        "    fraiseql.nope\n"
        "except AttributeError as exc:\n"
        "    print(exc)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "module 'fraiseql' has no attribute 'nope'"
