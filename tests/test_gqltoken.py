"""The C tokenizer against graphql-core's lexer: whatever gql_tokens takes, graphql-core
lexes into the same tokens, at the same offsets, with the same literal values (the C side may
refuse more: such documents are graphql-core's to parse). Bounds and errors name the byte."""

from __future__ import annotations

import pytest
from graphql import Source, TokenKind
from graphql.language import Lexer
from hypothesis import given, settings
from hypothesis import strategies as st

from fraiseql._native import native

PIECES = [
    "{", "}", "(", ")", "[", "]", ":", "$", "@", "!", "=", "|", "&", "...", "..", ".",
    " ", "\n", "\r\n", "\r", "\t", ",", "# c\n", "#é\r", "a", "query", "mutation", "Q",
    "true", "false", "null", "Foo", "_x1", "0", "-1", "-", "01", "1.5", "1e3", "2E-7",
    "1.", "1a", '"s"', '""', '"\\n\\t\\"\\\\\\/"', '"\\u00e9"', '"\\ud83d\\ude00"', '"\\q"',
    '"\\u12"', '"\\u{41}"', '"\\ud800"', '"open', '"""b"""', '"""b\\"""c"""', '"""x\n  y"""',
    '"""x', "\\", '"é中"', "é", "\x00", "\x01", "\ufeff", '"a\x01"', '"\t"',
]  # fmt: skip

KINDS = {
    native.GQL_INT: TokenKind.INT,
    native.GQL_FLOAT: TokenKind.FLOAT,
    native.GQL_STRING: TokenKind.STRING,
    native.GQL_BLOCK_STRING: TokenKind.BLOCK_STRING,
    native.GQL_BOOLEAN: TokenKind.NAME,
    native.GQL_ENUM: TokenKind.NAME,
}


def graphql_core_tokens(text: str) -> list:
    lexer = Lexer(Source(text))
    out = []
    while (token := lexer.advance()).kind != TokenKind.EOF:
        out.append(token)
    return out


@settings(max_examples=3000, derandomize=True, deadline=None, database=None)
@given(st.lists(st.sampled_from(PIECES), max_size=24))
def test_what_the_tokenizer_takes_graphql_core_lexes_alike(pieces: list[str]) -> None:
    text = "".join(pieces)
    try:
        starts, literals = native.gql_tokens(text)
        _shape, values = native.gql_shape(text)
    except ValueError:
        return  # refused here: graphql-core parses it (and may refuse it too)
    theirs = graphql_core_tokens(text)  # raising here would be the C side being looser
    encoded = text.encode()
    to_byte = [len(text[: t.start].encode()) for t in theirs]
    assert to_byte == list(starts), text
    by_start = dict(zip(to_byte, theirs, strict=True))
    for (kind, start, end), value in zip(literals, values, strict=True):
        token = by_start[start]
        assert token.kind == KINDS[kind], text
        if kind == native.GQL_BLOCK_STRING:
            assert value == encoded[start:end].decode()
        else:
            assert value == token.value, text


def test_errors_name_the_byte_offset() -> None:
    with pytest.raises(ValueError, match="unterminated string at byte 16"):
        native.gql_shape('{ a(s: "é", t: "x) }')  # byte 16, character 15
    with pytest.raises(ValueError, match="non-ASCII character outside a string at byte 2"):
        native.gql_shape("{ é }")
    with pytest.raises(ValueError, match="nested too deeply at byte 128"):
        native.gql_shape("{" * 200)
    with pytest.raises(TypeError, match="must be a str, not bytes"):
        native.gql_shape(b"{ a }")
    with pytest.raises(UnicodeEncodeError):
        native.gql_shape('{ a(s: "\ud800") }')  # a lone surrogate has no UTF-8


def test_shape_and_values() -> None:
    shape, values = native.gql_shape('query { u(id: 4, s: "x\\ty", e: ASC, b: true, n: null) }')
    assert shape == b"query{u(id:\x01s:\x03e:\x06b:\x05n:null)}"
    assert values == ("4", "x\ty", "ASC", "true")
    assert native.gql_shape("{ u(id: 5) }")[0] == native.gql_shape("# x\n{u(id:6)}")[0]


def test_graphql_core_refuses_what_is_looser_there() -> None:
    """Documents graphql-core lexes and the tokenizer refuses all the same (stricter here)."""
    for text in ('{ a(s: "\\u{41}") }', "\ufeff{ a }", '{ a(s: "x\x01") }'):
        graphql_core_tokens(text)
        with pytest.raises(ValueError):
            native.gql_shape(text)
