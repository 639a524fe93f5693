"""Benchmark of fraiseql.rewrite against the best pure-Python forms of the same transform.

Run: .venv/bin/python benchmarks/bench_rewrite.py [--quick] [--dump DIR]

Documents (PostgreSQL jsonb text: keys ordered as jsonb stores them, ", " and ": "):
flat ~300 B user, the seed's qm_user (~4 KB, 10 embedded posts), a ~32 KB user with many
posts, a list of 1,000 flat users. Selections: all fields, half, three; __typename at every
level. Baselines in the same run: orjson.loads + a per-level loop over a precomputed
(out_key, src_key, child) list + orjson.dumps; the same with stdlib json; orjson.loads alone.
Prints median us/doc, MB/s and ratios.

Each Selection is compiled once and reused, as the GraphQL executor's plan cache does, so
the timings are the steady state with the documents' key layouts learned (shape.h); run
with FRAISEQL_SHAPES=0 in the environment for the general path alone.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import orjson

from fraiseql import Selection, rewrite

# ---- documents ------------------------------------------------------------------------------

WORDS = (
    "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut "
    "labore et dolore magna aliqua ut enim ad minim veniam quis nostrud exercitation ullamco"
).split()


def _text(seed: int, words: int) -> str:
    return " ".join(WORDS[(seed * 7 + i * 3) % len(WORDS)] for i in range(words)).capitalize() + "."


def _jsonb(obj: Any) -> bytes:
    """Text the way PostgreSQL prints jsonb: keys by (length, bytes), ", " and ": "."""

    def order(o: Any) -> Any:
        if isinstance(o, dict):
            return {k: order(o[k]) for k in sorted(o, key=lambda k: (len(k.encode()), k.encode()))}
        if isinstance(o, list):
            return [order(x) for x in o]
        return o

    return json.dumps(order(obj), ensure_ascii=False).encode()


def _post(user_id: int, i: int) -> dict[str, Any]:
    return {
        "id": user_id * 1000 + i,
        "title": _text(i, 6),
        "content": _text(i + user_id, 42),
        "created_at": f"2024-03-{(i % 28) + 1:02d}T12:{i % 60:02d}:00+00:00",
    }


def user_doc(user_id: int, posts: int | None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": user_id,
        "first_name": f"Alice{user_id}",
        "last_name": "Martin-Lefebvre",
        "email": f"alice.martin{user_id}@example.org",
        "bio": _text(user_id, 14),
        "is_active": True,
        "created_at": "2024-01-15T09:30:00+00:00",
        "updated_at": "2024-03-01T17:45:12.123456+00:00",
    }
    if posts is not None:
        doc["user_posts"] = [_post(user_id, i) for i in range(posts)]
    return doc


DOCUMENTS: dict[str, bytes] = {
    "flat user": _jsonb(user_doc(1, None)),
    "qm_user (10 posts)": _jsonb(user_doc(1, 10)),
    "32 KB user": _jsonb(user_doc(1, 82)),
    "1,000 users": _jsonb([user_doc(i, None) for i in range(1000)]),
}

USER_FIELDS = [
    "id",
    "first_name",
    "last_name",
    "email",
    "bio",
    "is_active",
    "created_at",
    "updated_at",
]
POST_FIELDS = ["id", "title", "content", "created_at"]


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


# A selection spec: (typename, [(out_key, src_key, child_spec)]) with __typename first.
Spec = tuple[str, list[tuple[str, str | None, Any]]]


def spec(typename: str, fields: list[str], child: tuple[str, Spec] | None = None) -> Spec:
    out: list[tuple[str, str | None, Any]] = [("__typename", None, None)]
    out += [(camel(f), f, None) for f in fields]
    if child:
        out.append((camel(child[0]), child[0], child[1]))
    return (typename, out)


SPECS: dict[str, Spec] = {
    "all": spec("User", USER_FIELDS, ("user_posts", spec("Post", POST_FIELDS))),
    "half": spec("User", USER_FIELDS[:4], ("user_posts", spec("Post", POST_FIELDS[:2]))),
    "three": spec("User", ["id", "first_name"], ("user_posts", spec("Post", ["title"]))),
}


def compile_selection(s: Spec) -> Selection:
    typename, fields = s
    return Selection(
        typename, [(o, src, compile_selection(c) if c else None) for o, src, c in fields]
    )


def python_transform(s: Spec) -> Callable[[Any], Any]:
    """The fastest pure-Python form: per level, a loop over a precomputed field list."""
    typename, fields = s
    plan = [(o, src, python_transform(c) if c else None) for o, src, c in fields]

    def obj(d: Any) -> Any:
        if type(d) is list:
            return [obj(x) for x in d]
        if d is None:
            return None
        r = {}
        for out, src, child in plan:
            if src is None:
                r[out] = typename
            else:
                v = d.get(src)
                r[out] = child(v) if child is not None and v is not None else v
        return r

    return obj


# ---- timing ---------------------------------------------------------------------------------


def median_us(fn: Callable[[], Any], budget_s: float) -> float:
    """Median time of one call in microseconds, from batches filling about budget_s."""
    fn()
    t0 = time.perf_counter()
    n = 0
    while time.perf_counter() - t0 < 0.02:
        fn()
        n += 1
    per_batch = max(1, n // 2)
    samples = []
    end = time.perf_counter() + budget_s
    while time.perf_counter() < end or len(samples) < 5:
        t = time.perf_counter_ns()
        for _ in range(per_batch):
            fn()
        samples.append((time.perf_counter_ns() - t) / per_batch / 1000)
    return statistics.median(samples)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="shorter runs (noisier)")
    ap.add_argument(
        "--dump", metavar="DIR", help="write the documents to DIR/doc0.json... and exit"
    )
    args = ap.parse_args()
    budget = 0.15 if args.quick else 0.6

    if args.dump:
        os.makedirs(args.dump, exist_ok=True)
        for i, doc in enumerate(DOCUMENTS.values()):
            with open(os.path.join(args.dump, f"doc{i}.json"), "wb") as f:
                f.write(doc)
        return

    print(
        f"{'document':<20}{'sel':<7}{'bytes':>8}{'fraiseql us':>13}{'MB/s':>9}"
        f"{'orjson+py us':>14}{'json+py us':>12}{'orjson.loads us':>17}{'vs orjson+py':>14}{'vs loads':>10}"
    )
    for name, doc in DOCUMENTS.items():
        for sname, s in SPECS.items():
            sel = compile_selection(s)
            py = python_transform(s)
            expected = orjson.loads(orjson.dumps(py(orjson.loads(doc))))
            assert orjson.loads(rewrite(doc, sel)) == expected, (name, sname)
            ours = median_us(lambda: rewrite(doc, sel), budget)
            ojs = median_us(lambda: orjson.dumps(py(orjson.loads(doc))), budget)
            std = median_us(lambda: json.dumps(py(json.loads(doc)), separators=(",", ":")), budget)
            loads = median_us(lambda: orjson.loads(doc), budget)
            mbs = len(doc) / ours  # bytes per us == MB/s
            print(
                f"{name:<20}{sname:<7}{len(doc):>8}{ours:>13.2f}{mbs:>9.0f}{ojs:>14.2f}{std:>12.2f}"
                f"{loads:>17.2f}{ojs / ours:>13.1f}x{loads / ours:>9.1f}x",
                flush=True,
            )


if __name__ == "__main__":
    main()
