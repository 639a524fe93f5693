"""Differential property tests: the C rewriter against a pure-Python reference of the contract.

Documents are generated as trees (objects as lists of pairs, so duplicate keys exist), then
printed with random whitespace and random \\u escapes in keys. Both sides are parsed with
json.loads(object_pairs_hook=list) and number literals kept as text, so key order,
duplicates and verbatim leaves are all compared.
"""

from __future__ import annotations

import json
import random
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fraiseql import (
    FIELD_ID as ID,
)
from fraiseql import (
    ITEMS_NON_NULL,
    NON_NULL,
    JSONError,
    NonNullError,
    Selection,
    rewrite,
    to_camel,
)

KEYS = ["a", "b_c", "id", "é", "x_y_z", "", "_p", "q__r_"]


class Num(str):
    """A JSON number kept as its literal text."""


def parse(data: bytes | str) -> Any:
    return json.loads(data, object_pairs_hook=Pairs, parse_int=Num, parse_float=Num)


class Pairs(list):
    """A JSON object as its list of (key, value) pairs."""


# ---- reference implementation ---------------------------------------------------------------


def camel(key: str) -> str:
    """The camelCase rule of rewrite.h, written plainly."""
    i = 0
    while i < len(key) and key[i] == "_":
        i += 1
    out = key[:i]
    while i < len(key):
        if key[i] != "_":
            out += key[i]
            i += 1
            continue
        run = i
        while run < len(key) and key[run] == "_":
            run += 1
        if run == len(key):
            out += key[i:]
            break
        ch = key[run]
        out += ch.upper() if "a" <= ch <= "z" else ch
        i = run + 1
    return out


def ref_camel(value: Any) -> Any:
    if isinstance(value, Pairs):
        return Pairs((camel(k), ref_camel(v)) for k, v in value)
    if isinstance(value, list):
        return [ref_camel(v) for v in value]
    return value


class RefError(Exception):
    def __init__(self, kind: type, path: list) -> None:
        super().__init__(kind, path)
        self.kind, self.path = kind, path


def ref_leaf(value: Any, flags: int, path: list) -> Any:
    """A leaf under ID and ITEMS_NON_NULL: null items of the outer list raise."""
    if isinstance(value, list) and not isinstance(value, Pairs):
        if flags & ITEMS_NON_NULL:
            for i, v in enumerate(value):  # item by item: the first failing item decides
                if v is None:
                    raise RefError(NonNullError, [*path, i])
                if flags & ID:
                    ref_id(v, [*path, i])
        if flags & ID:
            return [ref_id(v, [*path, i]) for i, v in enumerate(value)]
        return value
    return ref_id(value, path) if flags & ID else value


def ref_id(value: Any, path: list) -> Any:
    if isinstance(value, Num):
        return str(value)  # the literal's text as a JSON string
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list) and not isinstance(value, Pairs):
        return [ref_id(v, [*path, i]) for i, v in enumerate(value)]
    raise RefError(JSONError, path)


def ref_rewrite(value: Any, spec: tuple, path: list) -> Any:
    typename, fields = spec
    if value is None:
        return None
    if isinstance(value, Pairs):
        last = dict(value)  # last duplicate wins
        out = Pairs()
        for out_key, src, child, flags in fields:
            here = [*path, out_key]
            if src is None:
                out.append((out_key, typename))
                continue
            v = last.get(src)
            if v is None and flags & NON_NULL:
                raise RefError(NonNullError, here)
            if child is not None:
                if flags & ITEMS_NON_NULL and isinstance(v, list) and not isinstance(v, Pairs):
                    for i, item in enumerate(v):
                        if item is None:
                            raise RefError(NonNullError, [*here, i])
                        ref_rewrite(item, child, [*here, i])  # errors in earlier items come first
                v = ref_rewrite(v, child, here)
            else:
                v = ref_leaf(v, flags, here)
            out.append((out_key, v))
        return out
    if isinstance(value, list):
        return [ref_rewrite(v, spec, [*path, i]) for i, v in enumerate(value)]
    raise RefError(JSONError, path)


def normalise(value: Any) -> Any:
    """Num and str compare by text; tag them so "1" (string) and 1 (number) differ."""
    if isinstance(value, Num):
        return ("num", str(value))
    if isinstance(value, str):
        return ("str", value)
    if isinstance(value, Pairs):
        return ("obj", [(k, normalise(v)) for k, v in value])
    if isinstance(value, list):
        return ("arr", [normalise(v) for v in value])
    return value


# ---- generators ------------------------------------------------------------------------------

numbers = st.one_of(
    st.integers(-(10**20), 10**20).map(lambda i: Num(str(i))),
    st.sampled_from(["0", "-0", "1.5", "-2.25e10", "3E-2", "1e+2", "0.000"]).map(Num),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, st.text(max_size=8))


def containers(children: st.SearchStrategy) -> st.SearchStrategy:
    pairs = st.lists(st.tuples(st.sampled_from(KEYS), children), max_size=6).map(Pairs)
    return st.one_of(st.lists(children, max_size=4), pairs)


documents = st.recursive(scalars, containers, max_leaves=25)


def selections(depth: int = 0) -> st.SearchStrategy:
    child = (
        st.none()
        if depth >= 2
        else st.one_of(st.none(), st.deferred(lambda: selections(depth + 1)))
    )
    field = st.tuples(
        st.one_of(st.none(), st.sampled_from(KEYS)),
        child,
        st.sampled_from(
            [0, 0, 0, ID, NON_NULL, ID | NON_NULL, ITEMS_NON_NULL, ITEMS_NON_NULL | ID]
        ),
    )

    def build(items: list) -> tuple:
        fields = []
        for i, (src, sub, flags) in enumerate(items):
            if src is None:
                sub = None
            fields.append((f"o{i}", src, sub, flags))
        return ("T", fields)

    return st.lists(field, max_size=6).map(build)


def compile_spec(spec: tuple) -> Selection:
    typename, fields = spec
    return Selection(typename, [(o, s, compile_spec(c) if c else None, f) for o, s, c, f in fields])


def dump(value: Any, rnd: random.Random) -> str:
    """JSON text with random whitespace and random \\u escapes in keys."""

    def ws() -> str:
        return rnd.choice(["", "", "", " ", "\n  ", "\t", "\r\n"])

    def key(k: str) -> str:
        if k and rnd.random() < 0.3:
            return (
                '"'
                + "".join(
                    f"\\u{ord(ch):04x}" if rnd.random() < 0.5 and ord(ch) < 0x10000 else ch
                    for ch in k
                )
                + '"'
            )
        return json.dumps(k, ensure_ascii=rnd.random() < 0.5)

    if isinstance(value, Pairs):
        return (
            "{"
            + ws()
            + ("," + ws()).join(key(k) + ws() + ":" + ws() + dump(v, rnd) + ws() for k, v in value)
            + "}"
        )
    if isinstance(value, list):
        return "[" + ws() + ("," + ws()).join(dump(v, rnd) + ws() for v in value) + "]"
    if isinstance(value, Num):
        return str(value)
    return json.dumps(value, ensure_ascii=rnd.random() < 0.5)


# ---- properties ------------------------------------------------------------------------------

SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(documents, st.randoms(use_true_random=False))
def test_to_camel_matches_reference(value: Any, rnd: random.Random) -> None:
    text = dump(value, rnd).encode()
    out = to_camel(text)
    assert normalise(parse(out)) == normalise(ref_camel(parse(text)))
    assert_compact(out)


STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')


def assert_compact(out: bytes) -> None:
    outside_strings = STRING.sub(b"", out)
    assert not any(ch in outside_strings for ch in b" \t\r\n"), out


@SETTINGS
@given(documents, selections(), st.randoms(use_true_random=False))
def test_rewrite_matches_reference(value: Any, spec: tuple, rnd: random.Random) -> None:
    text = dump(value, rnd).encode()
    sel = compile_spec(spec)
    try:
        expected = ref_rewrite(parse(text), spec, [])
    except RefError as exc:
        try:
            rewrite(text, sel)
        except (JSONError, NonNullError) as err:
            assert type(err) is exc.kind
            assert err.path == exc.path
        else:
            raise AssertionError(f"expected {exc.kind.__name__} at {exc.path}")
        return
    out = rewrite(text, sel)
    assert normalise(parse(out)) == normalise(expected)
    assert_compact(out)


@SETTINGS
@given(documents, st.randoms(use_true_random=False), st.integers(0, 10**6))
def test_truncated_documents_raise_json_error(value: Any, rnd: random.Random, cut: int) -> None:
    text = dump(value, rnd).encode()
    if len(text) < 2:
        return
    head = text[: cut % len(text)]
    try:
        json.loads(head)
        valid = True
    except ValueError:
        valid = False
    if valid:
        assert normalise(parse(to_camel(head))) == normalise(ref_camel(parse(head)))
    else:
        try:
            to_camel(head)
        except JSONError as err:
            assert err.pos <= len(head)
        else:
            raise AssertionError(f"accepted invalid {head!r}")


def dump_jsonb(value: Any) -> str:
    """JSON text the way PostgreSQL prints jsonb: keys by (UTF-8 length, bytes), ", " and
    ": " (the rewriter predicts keys in that order); the sort is stable, so duplicates keep
    their order and the last still wins."""
    if isinstance(value, Pairs):
        pairs = sorted(value, key=lambda kv: (len(kv[0].encode()), kv[0].encode()))
        return (
            "{"
            + ", ".join(json.dumps(k, ensure_ascii=False) + ": " + dump_jsonb(v) for k, v in pairs)
            + "}"
        )
    if isinstance(value, list):
        return "[" + ", ".join(dump_jsonb(v) for v in value) + "]"
    if isinstance(value, Num):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def check_against_reference(text: bytes, spec: tuple, sel: Selection) -> None:
    """rewrite(text, sel) gives what the reference gives for spec: a value, or an error of the
    same type at the same response path."""
    try:
        expected = ref_rewrite(parse(text), spec, [])
    except RefError as exc:
        with pytest.raises((JSONError, NonNullError)) as info:
            rewrite(text, sel)
        assert type(info.value) is exc.kind
        assert info.value.path == exc.path
        return
    assert normalise(parse(rewrite(text, sel))) == normalise(expected)


@SETTINGS
@given(documents, selections())
def test_rewrite_matches_reference_on_jsonb_text(value: Any, spec: tuple) -> None:
    check_against_reference(dump_jsonb(value).encode(), spec, compile_spec(spec))
