"""Bad input: a malformed-JSON corpus (JSONTestSuite-style n_/y_ cases written for fraiseql),
the depth cap, and multi-megabyte documents."""

from __future__ import annotations

import json

import pytest

from fraiseql import JSONError, Selection, rewrite, to_camel
from fraiseql._native import native

ANY = Selection("T", [("a", "a", None), ("b", "b", Selection(None, [("c", "c", None)]))])

# (name, document, byte offset of the error)
MALFORMED: list[tuple[str, bytes, int]] = [
    ("n_empty", b"", 0),
    ("n_only_space", b"  \n\t ", 5),
    ("n_trailing_garbage", b'{"a": 1} x', 9),
    ("n_two_values", b"[] []", 3),
    ("n_trailing_comma_array", b"[1,]", 3),
    ("n_trailing_comma_object", b'{"a":1,}', 7),
    ("n_leading_comma", b"[,1]", 1),
    ("n_double_comma", b"[1,,2]", 3),
    ("n_missing_comma", b"[1 2]", 3),
    ("n_missing_colon", b'{"a" 1}', 5),
    ("n_double_colon", b'{"a"::1}', 5),
    ("n_missing_value", b'{"a":}', 5),
    ("n_unclosed_array", b"[1", 2),
    ("n_unclosed_object", b'{"a":1', 6),
    ("n_unclosed_nested", b'{"a":[{"b":2}', 13),
    ("n_close_mismatch", b"[1}", 2),
    ("n_close_mismatch_object", b'{"a":1]', 6),
    ("n_bare_key", b"{a:1}", 1),
    ("n_number_key", b"{1:1}", 1),
    ("n_single_quotes", b"['a']", 1),
    ("n_single_quoted_key", b"{'a':1}", 1),
    ("n_unterminated_string", b'"abc', 0),
    ("n_unterminated_key", b'{"abc', 1),
    ("n_unterminated_after_escape", b'"ab\\', 3),
    ("n_bad_escape", b'"\\x41"', 1),
    ("n_bad_escape_upper_u", b'"\\U0041"', 1),
    ("n_short_unicode", b'"\\u12"', 1),
    ("n_bad_hex", b'"\\u12G4"', 1),
    ("n_lone_high_surrogate", b'"\\ud800"', 1),
    ("n_lone_high_surrogate_then_text", b'"\\ud800abcdef"', 1),
    ("n_high_then_high", b'"\\ud800\\ud800"', 1),
    ("n_lone_low_surrogate", b'"\\udc00"', 1),
    ("n_surrogate_in_key", b'{"\\udfff":1}', 2),
    ("n_control_char", b'"a\x01b"', 2),
    ("n_raw_newline", b'"a\nb"', 2),
    ("n_raw_tab", b'"a\tb"', 2),
    ("n_raw_nul", b'"\x00"', 1),
    ("n_control_in_key", b'{"\x1f":1}', 2),
    ("n_utf8_invalid_start", b'"\xff"', 1),
    ("n_utf8_continuation_alone", b'"\x80"', 1),
    ("n_utf8_truncated_2", b'"\xc3"', 1),
    ("n_utf8_truncated_3", b'"\xe2\x82"', 1),
    ("n_utf8_overlong_2", b'"\xc0\xaf"', 1),
    ("n_utf8_overlong_3", b'"\xe0\x80\xaf"', 1),
    ("n_utf8_overlong_4", b'"\xf0\x80\x80\xaf"', 1),
    ("n_utf8_surrogate", b'"\xed\xa0\x80"', 1),
    ("n_utf8_above_max", b'"\xf4\x90\x80\x80"', 1),
    ("n_utf8_f5", b'"\xf5\x80\x80\x80"', 1),
    ("n_utf8_bad_continuation", b'"\xc3\x28"', 1),
    ("n_utf8_invalid_key", b'{"\xff":1}', 2),
    ("n_utf8_invalid_key_long", b'{"' + b"k" * 40 + b'\xfe":1}', 42),
    ("n_utf8_invalid_after_16", b'"' + b"x" * 20 + b'\xc3\x28"', 21),
    ("n_bom", b"\xef\xbb\xbf{}", 0),
    ("n_number_leading_zero", b"01", 1),
    ("n_number_leading_zero_in_array", b"[01]", 2),
    ("n_number_minus_only", b"-", 1),
    ("n_number_minus_space", b"- 1", 1),
    ("n_number_dot_end", b"1.", 2),
    ("n_number_dot_start", b".5", 0),
    ("n_number_dot_e", b"1.e3", 2),
    ("n_number_e_end", b"1e", 2),
    ("n_number_e_sign_end", b"1e+", 3),
    ("n_number_plus", b"+1", 0),
    ("n_number_hex", b"0x1", 1),
    ("n_number_inf", b"Infinity", 0),
    ("n_number_nan", b"[NaN]", 1),
    ("n_number_minus_letter", b"-a", 1),
    ("n_number_double_minus", b"--1", 1),
    ("n_number_trailing_dot_array", b"[1.]", 3),
    ("n_literal_truncated_true", b"tru", 0),
    ("n_literal_truncated_null", b'{"a":nul}', 5),
    ("n_literal_capital", b"True", 0),
    ("n_literal_trailing_letters", b"nullx", 4),
    ("n_literal_false_typo", b"fals", 0),
    ("n_comment", b"[1] // c", 4),
    ("n_array_unclosed_with_comma", b"[1,", 3),
    ("n_object_comma_only", b"{,}", 1),
    ("n_object_key_only", b'{"a"}', 4),
    ("n_object_no_key_value", b"{:1}", 1),
    ("n_nul_after_value", b"[]\x00", 2),
    ("n_vertical_tab_ws", b"[\x0b1]", 1),
    ("n_form_feed_ws", b"\x0c[]", 0),
    ("n_nbsp_ws", b"[\xc2\xa01]", 1),
    ("n_string_escaped_newline_raw", b'"\\\n"', 1),
]

# Valid edge cases every mode must accept, with their to_camel output.
VALID: list[tuple[str, bytes, bytes]] = [
    ("y_escaped_nul", b'"\\u0000"', b'"\\u0000"'),
    ("y_surrogate_pair", b'"\\ud83d\\ude00"', b'"\\ud83d\\ude00"'),
    ("y_utf8_max", b'"\xf4\x8f\xbf\xbf"', b'"\xf4\x8f\xbf\xbf"'),
    ("y_utf8_mixed", '"aé€😀"'.encode(), '"aé€😀"'.encode()),
    ("y_empty_key", b'{"":0}', b'{"":0}'),
    ("y_minus_zero", b"[-0]", b"[-0]"),
    ("y_exponents", b"[1E2,1e-2,1.5E+3,0e0]", b"[1E2,1e-2,1.5E+3,0e0]"),
    ("y_big_number", b"123456789012345678901234567890", b"123456789012345678901234567890"),
    ("y_all_ws", b" \t\r\n[ \t\r\n1 \t\r\n] \t\r\n", b"[1]"),
    ("y_escapes", b'"\\"\\\\\\/\\b\\f\\n\\r\\t"', b'"\\"\\\\\\/\\b\\f\\n\\r\\t"'),
    ("y_del_char", b'"\x7f"', b'"\x7f"'),
    ("y_nested_empty", b"[[],{},[{}]]", b"[[],{},[{}]]"),
    ("y_literals", b"[true,false,null]", b"[true,false,null]"),
    ("y_long_string", b'"' + b"x" * 1000 + b'"', b'"' + b"x" * 1000 + b'"'),
    (
        "y_escape_at_16",
        b'"' + b"x" * 15 + b"\\n" + b"y" * 20 + b'"',
        b'"' + b"x" * 15 + b"\\n" + b"y" * 20 + b'"',
    ),
]


@pytest.mark.parametrize(("name", "doc", "pos"), MALFORMED, ids=[c[0] for c in MALFORMED])
def test_malformed_raises_json_error_with_offset(name: str, doc: bytes, pos: int) -> None:
    with pytest.raises(JSONError) as info:
        to_camel(doc)
    assert info.value.pos == pos, str(info.value)
    assert f"at byte {pos}" in str(info.value)
    with pytest.raises(JSONError):
        rewrite(doc, ANY)
    # the same error inside a selected and an unselected value
    for wrapped in (b'{"a":' + doc + b"}", b'{"zz":' + doc + b"}", b'[{"b":' + doc + b"}]"):
        if doc.strip() == b"":
            continue
        with pytest.raises(JSONError):
            rewrite(wrapped, ANY)
        with pytest.raises(JSONError):
            to_camel(wrapped)


@pytest.mark.parametrize(("name", "doc", "camel"), VALID, ids=[c[0] for c in VALID])
def test_valid_edge_cases(name: str, doc: bytes, camel: bytes) -> None:
    assert to_camel(doc) == camel
    assert rewrite(b'{"a":' + doc + b"}", ANY) == b'{"a":' + camel + b',"b":null}'
    assert rewrite(b'{"zz":' + doc + b"}", ANY) == b'{"a":null,"b":null}'


def test_error_message_says_what_was_expected() -> None:
    with pytest.raises(
        JSONError, match=r"expected ':' after an object key at byte 5 \(found '1'\)"
    ):
        to_camel(b'{"a" 1}')
    with pytest.raises(
        JSONError, match=r"unexpected data after the JSON value at byte 3 \(found 'x'\)"
    ):
        to_camel(b"[] x")
    with pytest.raises(JSONError, match=r"expected a JSON value at byte 0 \(found end of input\)"):
        to_camel(b"")
    with pytest.raises(JSONError, match=r"invalid UTF-8 in string at byte 1 \(found byte 0xff\)"):
        to_camel(b'"\xff"')


def test_json_error_is_a_value_error() -> None:
    assert issubclass(JSONError, ValueError)
    with pytest.raises(ValueError):
        to_camel(b"{")


# ---- depth cap ------------------------------------------------------------------------------

CAP = native.MAX_DEPTH


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def test_depth_cap_is_at_least_256() -> None:
    assert CAP >= 256


@pytest.mark.parametrize("depth", [CAP - 1, CAP])
def test_nesting_up_to_the_cap_is_accepted(depth: int) -> None:
    assert to_camel(nested(depth)) == nested(depth)
    assert rewrite(nested(depth), ANY) == nested(depth)
    obj = b'{"a":' * depth + b"1" + b"}" * depth
    assert to_camel(obj) == obj


@pytest.mark.parametrize("depth", [CAP + 1, CAP + 2, 100_000, 2_000_000])
def test_nesting_beyond_the_cap_raises(depth: int) -> None:
    with pytest.raises(JSONError, match="nesting deeper than the maximum depth") as info:
        to_camel(nested(depth))
    assert info.value.pos == CAP
    with pytest.raises(JSONError, match="nesting deeper"):
        rewrite(nested(depth), ANY)
    for wrapped in (b'{"a":' + nested(depth) + b"}", b'{"zz":' + nested(depth) + b"}"):
        with pytest.raises(JSONError, match="nesting deeper"):
            rewrite(wrapped, ANY)
    with pytest.raises(JSONError, match="nesting deeper"):
        to_camel(b'{"a":' * depth + b"1" + b"}" * depth)


def test_deep_selection_tree() -> None:
    sel = Selection("L", [("v", "v", None)])
    for _ in range(300):
        sel = Selection("L", [("n", "n", sel)])
    doc = b'{"n":' * 300 + b'{"v":1}' + b"}" * 300
    assert rewrite(doc, sel) == b'{"n":' * 300 + b'{"v":1}' + b"}" * 300


# ---- big documents --------------------------------------------------------------------------


def test_multi_megabyte_documents() -> None:
    users = [
        {"id": i, "first_name": f"n{i}", "bio": "x" * 200, "tags": ["a", "b"]} for i in range(20000)
    ]
    doc = json.dumps(users).encode()
    assert len(doc) > 4_000_000
    sel = Selection("U", [("__typename", None, None), ("firstName", "first_name", None)])
    out = rewrite(doc, sel)
    assert json.loads(out) == [{"__typename": "U", "firstName": f"n{i}"} for i in range(20000)]
    camel = to_camel(doc)
    assert json.loads(camel) == [
        {"id": i, "firstName": f"n{i}", "bio": "x" * 200, "tags": ["a", "b"]} for i in range(20000)
    ]


def test_multi_megabyte_string_and_truncation() -> None:
    doc = b'{"a": "' + b"y" * 5_000_000 + b'"}'
    assert rewrite(doc, ANY) == b'{"a":"' + b"y" * 5_000_000 + b'","b":null}'
    with pytest.raises(JSONError, match="unterminated string at byte 6"):
        rewrite(doc[:-2], ANY)


def test_output_larger_than_input() -> None:
    many = Selection(
        "T" * 100, [(f"field{i}", f"k{i}", None) for i in range(200)] + [("t", None, None)]
    )
    out = rewrite(b"[" + b",".join([b"{}"] * 500) + b"]", many)
    assert len(json.loads(out)) == 500 and json.loads(out)[0]["t"] == "T" * 100
