"""common.spreadsheet: which CSV cells are quoted so a spreadsheet reads them as text."""

import pytest

from common.spreadsheet import FORMULA_STARTS, cell, row


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", '=HYPERLINK("http://x")'])
def test_text_a_spreadsheet_would_run_gets_an_apostrophe(text):
    assert cell(text) == "'" + text


@pytest.mark.parametrize("value", ["bitcoin", "", " =1", "1-1", "a=b", "'=1", 5, -1.5, None, True, ["=1"],
                                   {"ids": "=1"}])
def test_anything_else_is_left_as_it_is(value):
    assert cell(value) == value


def test_a_row_quotes_each_cell_and_keeps_the_keys():
    assert FORMULA_STARTS == ("=", "+", "-", "@", "\t", "\r")
    assert row({"name": "=x", "slug": "x", "n": -2}) == {"name": "'=x", "slug": "x", "n": -2}
