"""The drop-in dialects the data plane serves, found by path prefix."""

from __future__ import annotations

from starlette.convertors import PathConvertor, register_url_convertor

from healing.dataplane.compat import binance, coingecko
from healing.dataplane.compat.core import Dialect

DIALECTS: tuple[Dialect, ...] = (coingecko.DIALECT, binance.DIALECT)
PREFIX = "/compat/"


class AnyRest(PathConvertor):
    """The rest of a dialect's path, whatever it holds: Starlette's `path` stops at a newline, and a
    path that matched no route would be answered the native way instead of in the dialect's shape."""

    regex = "(?s:.*)"


register_url_convertor("compat_rest", AnyRest())
# The route of each dialect is its prefix and this.
ROUTE_TAIL = "{rest:compat_rest}"


def dialect_for(path: str) -> Dialect | None:
    if not path.startswith(PREFIX):
        return None
    for dialect in DIALECTS:
        if path.startswith(dialect.prefix) or path == dialect.prefix[:-1]:
            return dialect
    return None
