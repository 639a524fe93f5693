"""Learned shapes (src/_fraiseql/shape.h): a Selection reused across documents learns the key
layout of the objects under each level and matches later objects against it. Learning must
change nothing observable: every document rewrites to what the reference says, and every
error is the one an untrained Selection raises (same type, offset, message and path).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_rewrite_diff import (
    KEYS,
    Num,
    Pairs,
    check_against_reference,
    compile_spec,
    documents,
    dump,
    dump_jsonb,
    scalars,
    selections,
)

from fraiseql import JSONError, NonNullError, Selection, rewrite


def outcome(text: bytes, sel: Selection) -> tuple:
    """What rewrite does with text: ("ok", bytes) or the error's type, message, pos, path."""
    try:
        return ("ok", rewrite(text, sel))
    except (JSONError, NonNullError) as err:
        return (type(err), str(err), getattr(err, "pos", None), err.path)


# ---- documents that share a layout, as a read model's do -----------------------------------


def variant(base: Any, rnd: random.Random, values: list) -> Any:
    """base with the same keys in the same order, most scalar values replaced; now and then a
    key dropped, added or repeated, or a value of another kind."""
    if isinstance(base, Pairs):
        out = Pairs()
        for k, v in base:
            roll = rnd.random()
            if roll < 0.05:
                continue  # key dropped
            out.append((k, variant(v, rnd, values)))
            if roll > 0.97:
                out.append((k, rnd.choice(values)))  # duplicate key: the last wins
        if rnd.random() < 0.05:
            out.append((rnd.choice(KEYS), rnd.choice(values)))
        return out
    if isinstance(base, list):
        return [variant(v, rnd, values) for v in base]
    if rnd.random() < 0.1:
        return rnd.choice(values)  # another kind (object, list, scalar)
    return rnd.choice(values) if rnd.random() < 0.7 else base


SETTINGS = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(
    documents,
    selections(),
    st.lists(scalars, min_size=1, max_size=5),
    st.lists(documents, max_size=2),
    st.randoms(use_true_random=False),
)
def test_one_selection_over_many_documents_of_one_layout(
    base: Any, spec: tuple, scalar_values: list, other_values: list, rnd: random.Random
) -> None:
    sel = compile_spec(spec)
    values = scalar_values + other_values
    for _ in range(8):
        value = variant(base, rnd, values)
        # mostly jsonb's own spacing (the glue repeats); sometimes random whitespace
        text = (dump_jsonb(value) if rnd.random() < 0.8 else dump(value, rnd)).encode()
        check_against_reference(text, spec, sel)


@SETTINGS
@given(
    st.lists(st.tuples(st.sampled_from(KEYS), scalars), max_size=6).map(Pairs),
    selections(),
    st.randoms(use_true_random=False),
    st.integers(0, 10**6),
)
def test_errors_after_learning_are_the_untrained_ones(
    obj: Pairs, spec: tuple, rnd: random.Random, cut: int
) -> None:
    """A corrupted or truncated document under a trained Selection fails exactly as under a
    fresh one (the rewrite is redone without shapes)."""
    good = dump_jsonb([obj, obj, obj]).encode()
    trained = compile_spec(spec)
    for _ in range(3):
        outcome(good, trained)
    at = cut % len(good)
    for bad in (good[:at], good[:at] + b"\x00" + good[at + 1 :], good[:at] + b"}" + good[at:]):
        assert outcome(bad, trained) == outcome(bad, compile_spec(spec))


# ---- the benchmark's document, and layouts that change --------------------------------------

POST = Selection(
    "Post",
    [
        ("__typename", None, None),
        ("id", "id", None),
        ("title", "title", None),
        ("createdAt", "created_at", None),
    ],
)
USER = Selection(
    "User",
    [
        ("__typename", None, None),
        ("id", "id", None),
        ("firstName", "first_name", None),
        ("userPosts", "user_posts", POST),
        ("email", "email", None),
    ],
)


def user(i: int, posts: int) -> bytes:
    doc = {
        "id": i,
        "email": f"u{i}@example.org",
        "first_name": f"U{i}",
        "user_posts": [
            {
                "id": i * 100 + p,
                "title": f"T{p}",
                "content": "x" * p,
                "created_at": f"2024-01-{p + 1:02d}",
            }
            for p in range(posts)
        ],
    }
    return dump_jsonb(json.loads(json.dumps(doc), object_pairs_hook=Pairs, parse_int=Num)).encode()


def expected_user(i: int, posts: int) -> dict:
    return {
        "__typename": "User",
        "id": i,
        "firstName": f"U{i}",
        "userPosts": [
            {
                "__typename": "Post",
                "id": i * 100 + p,
                "title": f"T{p}",
                "createdAt": f"2024-01-{p + 1:02d}",
            }
            for p in range(posts)
        ],
        "email": f"u{i}@example.org",
    }


def test_a_reused_selection_keeps_rewriting_read_model_documents_right() -> None:
    for i in range(50):
        out = rewrite(user(i, i % 7), USER)
        assert json.loads(out) == expected_user(i, i % 7)
        assert list(json.loads(out)) == ["__typename", "id", "firstName", "userPosts", "email"]


def test_a_child_selection_used_alone_and_embedded_learns_separately() -> None:
    post = b'{"id": 7, "title": "T", "content": "c", "created_at": "d"}'
    for _ in range(5):
        assert json.loads(rewrite(post, POST)) == {
            "__typename": "Post",
            "id": 7,
            "title": "T",
            "createdAt": "d",
        }
        assert json.loads(rewrite(user(3, 4), USER)) == expected_user(3, 4)


def test_more_layouts_than_a_level_keeps_are_all_rewritten_right() -> None:
    sel = Selection("T", [("a", "a", None), ("b", "b", None), ("c", "c", None)])
    layouts = [
        b'{"a": 1, "b": 2, "c": 3}',
        b'{"a": 1, "c": 3}',
        b'{"b": 2, "c": 3, "a": 1}',
        b'{"c": 3}',
        b'{"a":1,"b":2,"c":3}',
        b'{"x": 0, "a": 1, "b": 2, "c": 3}',
        b'{ "a" : 1 , "b" : 2 , "c" : 3 }',
    ]
    for _ in range(4):
        for text in layouts:
            assert json.loads(rewrite(text, sel)) == {k: json.loads(text).get(k) for k in "abc"}


def test_a_learned_layout_with_other_value_kinds_still_checks_them() -> None:
    inner = Selection("I", [("v", "v", None)])
    sel = Selection("T", [("a", "a", inner), ("b", "b", None)])
    good = b'{"a": {"v": 1}, "b": 2}'
    for _ in range(3):
        assert rewrite(good, sel) == b'{"a":{"v":1},"b":2}'
    assert rewrite(b'{"a": null, "b": [1, 2]}', sel) == b'{"a":null,"b":[1,2]}'
    assert rewrite(b'{"a": [{"v": 1}], "b": {"x": 1}}', sel) == b'{"a":[{"v":1}],"b":{"x":1}}'
    with pytest.raises(JSONError, match="expected an object, an array or null") as info:
        rewrite(b'{"a": 5, "b": 2}', sel)
    assert info.value.path == ["a"]
    bad = b'{"a": {"v": "x}, "b": 2}'
    assert outcome(bad, sel) == outcome(bad, Selection("T", [("a", "a", inner), ("b", "b", None)]))
    assert (
        outcome(bad, sel)[1] == "expected ',' or '}' after an object member at byte 18 (found 'b')"
    )


STRING_LEAF = [("__typename", None, None), ("s", "s", None), ("n", "n", None)]


@pytest.mark.parametrize(
    "special",
    [b"", b"\\n", b"\\u00e9", "é".encode(), "€".encode(), "😀".encode(), b"\\x", b"\x01", b"\xff"],
)
def test_string_leaves_copied_while_scanned_match_the_untrained_rewrite(special: bytes) -> None:
    """Under a learned shape a string leaf is copied as it is scanned (16 bytes at a time
    for the first 64, then the general scan): every length, and a special byte (escape,
    UTF-8 sequence, invalid byte) at every offset, gives what an untrained Selection gives."""
    trained = Selection("T", STRING_LEAF)
    tail = b', "tail": "' + b"t" * 80 + b'"}'  # the vector path needs 64 bytes after the string
    for _ in range(3):
        rewrite(b'{"n": 1, "s": "warm-up"' + tail, trained)
    for length in range(200):
        for at in sorted({0, length // 3, length // 2, length - 1, length} - {-1}):
            body = b"a" * at + special + b"b" * (length - at)
            for doc in (b'{"n": 1, "s": "' + body + b'"' + tail, b'{"n": 1, "s": "' + body + b'"}'):
                assert outcome(doc, trained) == outcome(doc, Selection("T", STRING_LEAF)), (
                    length,
                    at,
                )


def test_shapes_can_be_turned_off_and_change_nothing() -> None:
    """FRAISEQL_SHAPES=0 (a diagnostic switch read at import) runs the general path only:
    same bytes, same errors."""
    docs = [user(i, i % 4) for i in range(6)] + [user(9, 3)[:-7], b'{"id": 1, "user_posts": 5}']
    script = (
        "import sys, json\n"
        "from test_rewrite_shapes import USER, outcome\n"
        "docs = json.loads(sys.stdin.read())\n"
        "print(json.dumps([repr(outcome(d.encode('latin-1'), USER)) for d in docs]))\n"
    )
    here = [repr(outcome(d, USER)) for d in docs]
    run = subprocess.run(
        [sys.executable, "-c", script],
        input=json.dumps([d.decode("latin-1") for d in docs]),
        capture_output=True,
        text=True,
        check=True,
        cwd=os.path.dirname(__file__),
        env={**os.environ, "FRAISEQL_SHAPES": "0"},
    )
    assert json.loads(run.stdout) == here
    assert sum(r.startswith("('ok'") for r in here) == 6


def test_shapes_keyword_turns_learning_off_per_selection() -> None:
    """Selection(shapes=False) runs the general path only; FRAISEQL_SHAPES=0 changes its
    default, read once at import."""
    docs = [user(i, i % 4) for i in range(6)] + [user(9, 3)[:-7], b'{"id": 1, "user_posts": 5}']
    plain = Selection(USER.typename, USER.fields, shapes=False)
    assert USER.shapes and not plain.shapes
    assert [outcome(d, plain) for d in docs * 2] == [outcome(d, USER) for d in docs * 2]
    script = "from fraiseql import Selection; print(Selection('T', []).shapes)"
    env = {**os.environ, "FRAISEQL_SHAPES": "0"}
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert run.stdout.strip() == "False"


def test_layouts_that_share_a_prefix_alternate_correctly() -> None:
    """Objects that leave one learned layout part way (a key more at the end, a key fewer in
    the middle) are redone with the layout that shares their start."""
    post = Selection("P", [("__typename", None, None), ("t", "t", None)])
    sel = Selection("T", [("a", "a", None), ("posts", "p", post), ("z", "z", None)])
    docs = [
        b'{"a": 1, "p": [{"t": 1}, {"t": 2, "x": 0}], "z": 2}',
        b'{"a": 1, "p": [{"t": 3, "x": 0}, {"t": 4}], "z": 2, "zz": 3}',
        b'{"a": 1, "z": 2}',
        b'{"a": 1, "p": null, "z": 2, "zz": 3}',
    ]
    for _ in range(5):
        for doc in docs:
            expected = json.loads(doc)
            want = {
                "a": 1,
                "posts": [{"__typename": "P", "t": q["t"]} for q in expected["p"]]
                if expected.get("p")
                else None,
                "z": 2,
            }
            assert json.loads(rewrite(doc, sel)) == want
