"""What the rewriter's kind flags cost: the seed's `user(id)` selection with and without them.

Run under callgrind, with and without rewrites, and subtract (imports cancel out):

    valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        .venv/bin/python benchmarks/count_kinds.py on|off N DOCUMENT.json

DOCUMENT.json: one qm_user document, e.g. `psql -Atc "SELECT data FROM qm_user WHERE id = 1"`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import fraiseql  # noqa: E402
from fraiseql import FIELD_BOOL, FIELD_INT, FIELD_NUMBER, FIELD_STRING  # noqa: E402
from fraiseql.plan import Limits, build_plan, compile_roots  # noqa: E402

KINDS = FIELD_STRING | FIELD_INT | FIELD_NUMBER | FIELD_BOOL
QUERY = "{ user(id: 1) { id firstName lastName email createdAt userPosts { id title content createdAt } } }"


def selection(tree: Any, mask: int) -> Any:
    typename, fields = tree
    return fraiseql.Selection(
        typename,
        [
            (
                out,
                src,
                None if child is None else selection(child, mask),
                0 if src is None else f & mask,
            )
            for out, src, child, f in fields
        ],
    )


def main() -> None:
    mode, n, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    from fraiseql.examples import blog_api  # noqa: F401 - declares the seed's schema

    schema = fraiseql.build_schema()
    tree = compile_roots(schema, build_plan(schema, QUERY, None, Limits()), {}).roots[0].tree
    sel = selection(tree, ~0 if mode == "on" else ~KINDS)
    doc = Path(path).read_bytes()
    for _ in range(n):
        fraiseql.rewrite(doc, sel)


if __name__ == "__main__":
    main()
