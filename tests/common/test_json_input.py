"""common.json_input: the decoder for JSON from outside — what it refuses, and where it says."""

import json

import pytest

from common import json_input
from common.json_input import MAX_DEPTH, loads


def nested(depth: int, inner: str = "") -> str:
    return "[" * depth + inner + "]" * depth


def refusal(raw, **kwargs) -> json.JSONDecodeError:
    with pytest.raises(json.JSONDecodeError) as caught:
        loads(raw, **kwargs)
    return caught.value


def test_plain_documents_decode_as_the_standard_library_would():
    text = '{"a": [1, 2.5, "x", null, true, false, {"b": {}}], "c": "\\u00e9\\ud83d\\ude80"}'
    assert loads(text) == json.loads(text)
    assert loads(text.encode()) == json.loads(text)
    assert loads(bytearray(b"[1]")) == [1] and loads(memoryview(b'{"k": 2}')) == {"k": 2}
    assert loads("7") == 7 and loads('"s"') == "s"


def test_the_depth_limit_is_exact():
    assert MAX_DEPTH == 64
    assert loads(nested(MAX_DEPTH)) == json.loads(nested(MAX_DEPTH))
    error = refusal(nested(MAX_DEPTH + 1))
    assert error.msg == "nested deeper than 64 levels"
    assert (error.pos, error.lineno, error.colno) == (64, 1, 65)
    assert loads(nested(3), max_depth=3) == [[[]]]
    assert refusal(nested(4), max_depth=3).msg == "nested deeper than 3 levels"


def test_objects_count_as_levels_like_arrays():
    three = '{"a": {"b": [1]}}'
    assert loads(three, max_depth=3) == {"a": {"b": [1]}}
    error = refusal('{"a": {"b": [{"c": 1}]}}', max_depth=3)
    assert error.pos == 13  # the "{" that opens the fourth level
    # Depth is per branch: a wide shallow document passes however many siblings it has.
    assert len(loads("[" + ",".join(["[[]]"] * 500) + "]", max_depth=3)) == 500
    assert refusal("[[], [[[]]]]", max_depth=3).pos == 7
    # A closing bracket steps back one level, not to the top.
    assert refusal("[[[], [[[]]]]]", max_depth=3).pos == 7


def test_a_deep_document_thousands_of_levels_down_is_refused_not_a_recursion_error():
    # Past orjson's own bound (1,024) the refusal is still ours, with the same words and position.
    for raw, pos in ((nested(100_000), 64), ('{"a":' * 50_000 + "1" + "}" * 50_000, 64 * 5),
                     (nested(1030).encode(), 64), ("[" * 2000, 64)):
        error = refusal(raw)
        assert isinstance(error, ValueError) and (error.msg, error.pos) == ("nested deeper than 64 levels", pos)
    # orjson's bound holds whatever max_depth asks, and the refusal says the bound that held.
    assert json_input.ORJSON_MAX_DEPTH == 1024 and isinstance(loads(nested(1024), max_depth=2000), list)
    error = refusal(nested(2000), max_depth=2000)
    assert (error.msg, error.pos) == ("nested deeper than 1024 levels", 1024)


def test_brackets_inside_strings_do_not_count_towards_the_position():
    text = '{"s": "[[[\\"[{", "t": ' + nested(3) + "}"
    error = refusal(text, max_depth=3)
    assert text[error.pos] == "[" and text[:error.pos].endswith('"t": [[')
    bytes_error = refusal(text.encode(), max_depth=3)
    assert bytes_error.pos == error.pos and bytes_error.doc == text


@pytest.mark.parametrize("raw", [
    '["\\ud800"]',  # a lone high surrogate: no UTF-8 encoder can write it back
    '["\\udc00 low"]',
    '{"texts": ["ok", "\\ud83d"]}',
    "[NaN]", "[Infinity]", "[-Infinity]", "[1e400]",
    "{", "", "[1,]", "{'a': 1}", "[1] [2]",
    b"\xff\xfe[\x001\x00]\x00",  # UTF-16 is not JSON on the wire (RFC 8259: UTF-8)
    b'["\xc3"]',  # truncated UTF-8
])
def test_what_rfc_8259_leaves_out_is_refused(raw):
    assert isinstance(refusal(raw), ValueError)


def test_a_str_with_a_surrogate_in_it_is_refused():
    assert isinstance(refusal('["\ud800"]'), ValueError)


def test_a_utf8_byte_order_mark_is_skipped_only_at_the_start():
    assert loads(b'\xef\xbb\xbf{"a": 1}') == {"a": 1}
    assert loads('\ufeff[2]') == [2]
    assert isinstance(refusal(b'[1, \xef\xbb\xbf2]'), ValueError)
    assert isinstance(refusal("\ufeff\ufeff[2]"), ValueError)


def test_the_position_finder_on_its_own():
    assert json_input._too_deep_at("[[[]]]", 2) == 2
    assert json_input._too_deep_at('["\\\\", [[1]]]', 2) == 8  # an escaped backslash ends before the quote
    assert json_input._too_deep_at("[[]]", 5) == 0
    assert json_input._deeper_than([[]], 1) and not json_input._deeper_than([[]], 2)
    assert not json_input._deeper_than("[[[[", 0) and not json_input._deeper_than(5, 0)


def test_where_names_the_problem_with_its_line_and_column():
    assert json_input.where(refusal('{"a": 1,\n "b": [1,]}')) == "trailing comma is not allowed at line 2, column 9"
    assert json_input.where(refusal(nested(3), max_depth=2)) == "nested deeper than 2 levels at line 1, column 3"
