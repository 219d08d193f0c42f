"""Binance's request parameters as its spot API reads them, and its refusals of them (pure).

`symbol=BTCUSDT` or `symbols=["BTCUSDT","ETHUSDT"]` (a JSON array, URL-encoded), `limit`,
`interval`, `startTime`/`endTime` in epoch milliseconds. A bad one is a `CompatError` with Binance's
own code and wording: -1100 illegal characters, -1101 duplicates or too many, -1102 a mandatory
parameter missing, -1120 an interval, -1121 a symbol, -1128 a combination, -1130 a value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from common import json_input
from healing.dataplane.compat.binance_symbols import SpotPair, pair_of
from healing.dataplane.compat.core import CompatError

ILLEGAL_CHARS = -1100
TOO_MANY_PARAMETERS = -1101
MANDATORY_PARAMETER = -1102
BAD_INTERVAL = -1120
INVALID_SYMBOL = -1121
BAD_COMBINATION = -1128
INVALID_PARAMETER = -1130

SYMBOL_RANGE = "^[A-Z0-9-_.]{1,20}$"
SYMBOLS_RANGE = '^\\[("[A-Z0-9-_.]{1,20}"(,"[A-Z0-9-_.]{1,20}"){0,}){0,1}\\]$'
NUMBER_RANGE = "^[0-9]{1,20}$"
_SYMBOL_RE = re.compile(r"^[A-Z0-9\-_.]{1,20}$")
_NUMBER_RE = re.compile(r"^[0-9]{1,20}$")
# Most symbols one symbols=[...] request names: on a miss each one is its own upstream call.
MAX_SYMBOLS = 50


def refusal(code: int, message: str, status: int = 400) -> CompatError:
    return CompatError(status, {"code": code, "msg": message})


def invalid_symbol() -> CompatError:
    return refusal(INVALID_SYMBOL, "Invalid symbol.")


def _mandatory(name: str) -> CompatError:
    return refusal(MANDATORY_PARAMETER, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")


def _illegal(name: str, legal: str) -> CompatError:
    return refusal(ILLEGAL_CHARS, f"Illegal characters found in parameter '{name}'; legal range is '{legal}'.")


def not_valid(name: str) -> CompatError:
    return refusal(INVALID_PARAMETER, f"Data sent for parameter '{name}' is not valid.")


def _pair(symbol: str) -> SpotPair:
    if not _SYMBOL_RE.match(symbol):
        raise _illegal("symbol", SYMBOL_RANGE)
    pair = pair_of(symbol)
    if pair is None:
        raise invalid_symbol()
    return pair


def symbol(query: Mapping[str, str]) -> SpotPair:
    """The one pair `symbol=` names (mandatory)."""
    raw = query.get("symbol")
    if not raw:
        raise _mandatory("symbol")
    return _pair(raw)


def symbols(query: Mapping[str, str]) -> list[SpotPair] | None:
    """The pairs `symbols=[...]` names, or None when it is absent (then `symbol=` is read)."""
    raw = query.get("symbols")
    if raw is None:
        return None
    if query.get("symbol") is not None:
        raise refusal(BAD_COMBINATION, "Combination of optional parameters invalid.")
    try:
        names = json_input.loads(raw)
    except ValueError:
        raise _illegal("symbols", SYMBOLS_RANGE) from None
    if not isinstance(names, list) or not all(isinstance(n, str) and _SYMBOL_RE.match(n) for n in names):
        raise _illegal("symbols", SYMBOLS_RANGE)
    if not names:
        raise _mandatory("symbols")
    if len(set(names)) != len(names):
        raise refusal(TOO_MANY_PARAMETERS, "Duplicate values for a parameter detected.")
    if len(names) > MAX_SYMBOLS:
        raise refusal(TOO_MANY_PARAMETERS, f"Too many symbols; at most {MAX_SYMBOLS} per request.")
    return [_pair(name) for name in names]


def one_or_many(query: Mapping[str, str]) -> tuple[list[SpotPair], bool]:
    """(the pairs asked, whether they were asked as a list). Every symbol on the exchange (no
    parameter at all) is not served: one upstream call per pair would spend the shared budgets."""
    many = symbols(query)
    return (many, True) if many is not None else ([symbol(query)], False)


def whole(query: Mapping[str, str], name: str) -> int | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    if not _NUMBER_RE.match(raw):
        raise _illegal(name, NUMBER_RANGE)
    return int(raw)


def limit(query: Mapping[str, str], *, default: int, most: int) -> int:
    """`limit`, at most `most` (more is served as `most`, as Binance caps its own)."""
    value = whole(query, "limit")
    if value is None:
        return default
    if value < 1:
        raise not_valid("limit")
    return min(value, most)


def interval(query: Mapping[str, str], served: Mapping[str, int]) -> str:
    raw = query.get("interval")
    if not raw:
        raise _mandatory("interval")
    if raw not in served:
        # Binance's own intervals that no exchange underneath shares are refused like unknown ones.
        raise refusal(BAD_INTERVAL, "Invalid interval.")
    return raw
