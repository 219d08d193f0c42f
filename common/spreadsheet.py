"""CSV cells a spreadsheet shows as text, never runs.

Excel, LibreOffice and Google Sheets take a cell that starts with = + - @ (or a tab or carriage
return, which they skip first) as a formula. Text someone else chose (a provider's name, a logged
message quoting a request) could run as one when an operator opens an export ("CSV injection",
OWASP); such a cell gets a leading apostrophe, which spreadsheets hide and read as "this is text".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> Any:
    """The value as written to a CSV cell: text that would start a formula, quoted; the rest as is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def row(values: Mapping[str, Any]) -> dict[str, Any]:
    return {key: cell(value) for key, value in values.items()}
