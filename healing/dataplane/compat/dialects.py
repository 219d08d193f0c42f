"""The drop-in dialects the data plane serves, found by path prefix."""

from __future__ import annotations

from healing.dataplane.compat import binance, coingecko
from healing.dataplane.compat.core import Dialect

DIALECTS: tuple[Dialect, ...] = (coingecko.DIALECT, binance.DIALECT)
PREFIX = "/compat/"


def dialect_for(path: str) -> Dialect | None:
    if not path.startswith(PREFIX):
        return None
    for dialect in DIALECTS:
        if path.startswith(dialect.prefix) or path == dialect.prefix[:-1]:
            return dialect
    return None
