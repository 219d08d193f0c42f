"""What every parameter validator shares: the error that names the bad field, and the whole-number
parser. A module of its own so validator families (params_defi, ...) use them without importing
healing.dataplane.params, which imports those families to build its route table."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class ParamError(Exception):
    """A bad parameter: the data plane answers `status` with the field named."""

    def __init__(self, field: str, detail: str, *, status: int = 400, **extra: Any) -> None:
        super().__init__(detail)
        self.field = field
        self.detail = detail
        self.status = status
        self.extra = extra  # more of the answer's body: the candidates of an ambiguous symbol, ...


def whole_number(query: Mapping[str, str], name: str, *, default: int, low: int, high: int) -> int:
    """query[name] as an int in low..high; absent or blank is `default`."""
    raw = query.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ParamError(name, f"{name} must be a whole number, got {raw[:20]!r}") from None
    if not low <= value <= high:
        raise ParamError(name, f"{name} must be between {low} and {high}, got {value}")
    return value


def check_query_length(query_string: bytes, limit: int) -> None:
    """A query string beyond `limit` bytes is a 414 before any of it is parsed (one rule for the
    native endpoints and the drop-in dialects, which answer it in their own shapes)."""
    if len(query_string) > limit:
        raise ParamError("query", f"query string longer than {limit} bytes", status=414)
