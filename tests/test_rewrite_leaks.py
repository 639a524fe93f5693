"""Reference-count and leak checks of the bindings: repeat a workload (successes and every
error path) and compare gc object counts, traced Python memory and refcounts of inputs."""

from __future__ import annotations

import gc
import sys
import tracemalloc
from collections.abc import Callable
from functools import partial

from fraiseql import NON_NULL, JSONError, NonNullError, Selection, rewrite, to_camel

POST = Selection("Post", [("__typename", None, None), ("title", "title", None, NON_NULL)])
USER = Selection("User", [("id", "id", None), ("posts", "user_posts", POST)])

GOOD = b'{"id": 1, "user_posts": [{"title": "a"}, {"title": "b"}]}'
DOCS = [
    GOOD,
    GOOD.decode(),
    bytearray(GOOD),
    memoryview(GOOD),
    b'{"id": 1, "user_posts": [{"title": null}]}',  # NonNullError
    b'{"id": 1, "user_posts": [{"title": "a"}, 3]}',  # wrong kind
    b'{"id": 1, "user_posts": [{"title": "a"}',  # truncated
    b'{"id": "\xff"}',  # invalid UTF-8
    b"[" * 5000,  # too deep
    12,  # not a document
]


def workload() -> None:
    for doc in DOCS:
        for call in (partial(rewrite, doc, USER), partial(to_camel, doc)):
            try:
                call()
            except (JSONError, NonNullError, TypeError):
                pass
    try:
        rewrite(GOOD, object())  # type: ignore[arg-type]
    except TypeError:
        pass
    sel = Selection("T", [("a", "a", USER, NON_NULL), ("b", None, None)])
    rewrite(b'{"a": {}}', sel)
    for bad in (
        [("a", 1, None)],
        [("a", "a", None), ("a", "b", None)],
        "x",
        [("a", "a", None, 99)],
    ):
        try:
            Selection("T", bad)
        except (TypeError, ValueError):
            pass


def settle(fn: Callable[[], None], rounds: int) -> None:
    for _ in range(rounds):
        fn()
    gc.collect()


def test_no_object_growth() -> None:
    settle(workload, 50)
    before = len(gc.get_objects())
    settle(workload, 500)
    after = len(gc.get_objects())
    assert after - before < 20, (before, after)


def test_no_traced_memory_growth() -> None:
    settle(workload, 50)
    tracemalloc.start()
    try:
        settle(workload, 100)
        first, _ = tracemalloc.get_traced_memory()
        settle(workload, 1000)
        second, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert second - first < 10_000, (first, second)


def test_inputs_keep_their_refcounts() -> None:
    doc, text, arr = GOOD, GOOD.decode(), bytearray(GOOD)
    view = memoryview(GOOD)
    counts = [sys.getrefcount(x) for x in (doc, text, arr, view, USER, POST)]
    settle(workload, 10)
    for _ in range(1000):
        rewrite(doc, USER)
        rewrite(text, USER)
        rewrite(arr, USER)
        rewrite(view, USER)
        to_camel(doc)
    assert [sys.getrefcount(x) for x in (doc, text, arr, view, USER, POST)] == counts
    arr.append(0)  # the buffer export was released


def test_exceptions_do_not_keep_inputs_alive() -> None:
    doc = b'{"id": 1, "user_posts": [{"title": null}]}'
    before = sys.getrefcount(doc)
    for _ in range(100):
        try:
            rewrite(doc, USER)
        except NonNullError as exc:
            assert exc.path == ["posts", 0, "title"]
    assert sys.getrefcount(doc) == before


def test_selection_children_are_released() -> None:
    child = Selection("C", [("a", "a", None)])
    parent = Selection("P", [("c", "c", child)])
    assert parent.fields[0][2] is child
    with_refs = sys.getrefcount(child)
    del parent
    gc.collect()
    assert sys.getrefcount(child) == with_refs - 1
