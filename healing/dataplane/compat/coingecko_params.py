"""CoinGecko's request parameters, read the way CoinGecko reads them (pure: no I/O).

A client's mistake is a `CompatError(400, {"error": ...})`, CoinGecko's flat error shape. Where
CoinGecko is lenient we are too: unknown coin ids are dropped (its answer just lacks them),
`per_page` is clamped to 1..250, a flag is on only when it says `true`, unknown parameters (the
Demo key `x_cg_demo_api_key`, a cache-buster) are ignored. Candle-based endpoints turn CoinGecko's
`days` into one of the candle intervals (1m, 5m, 15m, 1h, 4h, 1d) and a candle count.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from healing.dataplane.compat.core import CompatError
from healing.dataplane.param_coins import vs_code
from healing.dataplane.param_errors import ParamError
from providers.assets import Registry
from providers.market_depth import CANDLES_MAX_LIMIT, INTERVAL_SECONDS

DAY_S = 86400
# `precision`: `full` (as the provider gives it) or this many decimals at most.
MAX_PRECISION = 18
# Each currency of simple/price is one normalized price answer (one upstream call on a miss):
# a cap keeps one request from spending a provider's budget dozens of times over.
MAX_VS_CURRENCIES = 10
# coins/markets: CoinGecko's page size range and default.
PER_PAGE_MAX, PER_PAGE_DEFAULT = 250, 100
MARKET_ORDERS = ("market_cap_desc", "market_cap_asc", "volume_desc", "volume_asc", "id_asc", "id_desc")
DEFAULT_ORDER = "market_cap_desc"
# The windows `price_change_percentage` may name (CoinGecko's list); others are ignored, as there.
CHANGE_WINDOWS = ("1h", "24h", "7d", "14d", "30d", "200d", "1y")
# coins/{id}/ohlc takes only these `days` (CoinGecko's enum).
OHLC_DAYS = ("1", "7", "14", "30", "90", "180", "365", "max")
# market_chart's `interval` (daily is free on CoinGecko, the others are paid there; we can serve them).
CHART_INTERVALS = {"daily": "1d", "hourly": "1h", "5minutely": "5m"}
# search: how many coins an answer lists.
SEARCH_MAX_COINS = 25
SEARCH_MAX_QUERY_CHARS = 100


def bad(message: str) -> CompatError:
    return CompatError(400, {"error": message})


def required(query: Mapping[str, str], name: str) -> str:
    value = (query.get(name) or "").strip()
    if not value:
        raise bad(f"Missing parameter {name}")
    return value


def flag(query: Mapping[str, str], name: str, default: bool = False) -> bool:
    """CoinGecko's booleans: `true` or `false`; absent (or anything else) is the default."""
    value = (query.get(name) or "").strip().lower()
    return default if value not in ("true", "false") else value == "true"


def csv(raw: str) -> list[str]:
    """A comma list, lower case, blanks dropped, first occurrence kept."""
    return list(dict.fromkeys(part.strip().lower() for part in raw.split(",") if part.strip()))


def precision(query: Mapping[str, str]) -> int | None:
    """None for full precision (absent or `full`), else the number of decimals."""
    raw = (query.get("precision") or "").strip().lower()
    if raw in ("", "full"):
        return None
    if not raw.isdigit() or int(raw) > MAX_PRECISION:
        raise bad(f"invalid precision {raw[:20]!r}: full or 0 to {MAX_PRECISION}")
    return int(raw)


def currency(raw: str, name: str) -> str:
    try:
        return vs_code({"vs": raw})
    except ParamError:
        raise bad(f"invalid {name} {raw[:20]!r}") from None


def vs_currency(query: Mapping[str, str]) -> str:
    return currency(required(query, "vs_currency"), "vs_currency")


def vs_currencies(query: Mapping[str, str]) -> list[str]:
    codes = [currency(code, "vs_currencies") for code in csv(required(query, "vs_currencies"))]
    if not codes:
        raise bad("Missing parameter vs_currencies")
    if len(codes) > MAX_VS_CURRENCIES:
        raise bad(f"at most {MAX_VS_CURRENCIES} vs_currencies per request, got {len(codes)}")
    return codes


def known_ids(raw: str, registry: Registry) -> list[str]:
    """The ids of `raw` the registry holds, in the caller's order. CoinGecko matches ids exactly
    (`btc` is no coin there, the id is `bitcoin`) and leaves unknown ones out of its answer."""
    return [coin_id for coin_id in csv(raw) if registry.get(coin_id) is not None]


def whole(query: Mapping[str, str], name: str, default: int) -> int:
    raw = (query.get(name) or "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise bad(f"invalid {name} {raw[:20]!r}: a whole number") from None


@dataclass(frozen=True)
class MarketsQuery:
    """coins/markets as asked: which rows (page of per_page, in `order`) and which extra keys."""

    vs: str
    order: str = DEFAULT_ORDER
    per_page: int = PER_PAGE_DEFAULT
    page: int = 1
    sparkline: bool = False
    windows: tuple[str, ...] = ()
    precision: int | None = None

    @property
    def start(self) -> int:
        return (self.page - 1) * self.per_page

    @property
    def end(self) -> int:
        return self.page * self.per_page


def markets_query(query: Mapping[str, str]) -> MarketsQuery:
    order = (query.get("order") or DEFAULT_ORDER).strip().lower()
    if order not in MARKET_ORDERS:
        raise bad(f"invalid order {order[:30]!r}: one of {', '.join(MARKET_ORDERS)}")
    if (query.get("category") or "").strip():
        # Filtering by category needs CoinGecko's own categories; answering the unfiltered list
        # under that name would be a wrong answer, not a fallback.
        raise bad("category is not supported by this gateway")
    windows = tuple(w for w in csv(query.get("price_change_percentage") or "") if w in CHANGE_WINDOWS)
    return MarketsQuery(
        vs=vs_currency(query), order=order,
        per_page=max(1, min(PER_PAGE_MAX, whole(query, "per_page", PER_PAGE_DEFAULT))),
        page=max(1, whole(query, "page", 1)), sparkline=flag(query, "sparkline"), windows=windows,
        precision=precision(query))


# --- candles for ohlc and market_chart -----------------------------------------------------------


def _count(span_s: float, interval: str) -> int:
    return max(1, min(CANDLES_MAX_LIMIT, math.ceil(span_s / INTERVAL_SECONDS[interval])))


def ohlc_candles(query: Mapping[str, str]) -> tuple[str, int]:
    """(interval, count) for coins/{id}/ohlc?days=N.

    CoinGecko's granularity is 30 minutes for 1-2 days, 4 hours for 3-30 days and 4 days beyond.
    The nearest candle intervals: 1h for 1 day (24 candles where CoinGecko has 48), 4h exactly
    for 7-30 days, 1d beyond (finer than CoinGecko's 4 days, never coarser); `max` is the newest
    1000 days (the candles capability's most).
    """
    days = required(query, "days").lower()
    if days not in OHLC_DAYS:
        raise bad(f"invalid days {days[:20]!r}: one of {', '.join(OHLC_DAYS)}")
    if days == "max":
        return "1d", CANDLES_MAX_LIMIT
    interval = "1h" if int(days) <= 2 else "4h" if int(days) <= 30 else "1d"
    return interval, _count(int(days) * DAY_S, interval)


def chart_candles(query: Mapping[str, str]) -> tuple[str, int]:
    """(interval, count) for coins/{id}/market_chart?days=N[&interval=daily].

    CoinGecko's automatic granularity is 5 minutes up to 1 day, hourly up to 90 days and daily
    beyond; so are ours, except that at most 1000 candles are asked: hourly spans longer than
    1000 hours (41 days) use 4h candles, daily spans end at 1000 days (also `days=max`). An
    explicit `interval` is kept and the span cut to the newest 1000 candles.
    """
    raw = required(query, "days").lower()
    if raw == "max":
        span_s = CANDLES_MAX_LIMIT * DAY_S
    else:
        try:
            days = float(raw)
        except ValueError:
            days = math.nan
        if not math.isfinite(days) or days <= 0:
            raise bad(f"invalid days {raw[:20]!r}: a positive number of days or max")
        span_s = days * DAY_S
    asked = (query.get("interval") or "").strip().lower()
    if asked:
        if asked not in CHART_INTERVALS:
            raise bad(f"invalid interval {asked[:20]!r}: one of {', '.join(CHART_INTERVALS)}")
        return CHART_INTERVALS[asked], _count(span_s, CHART_INTERVALS[asked])
    if span_s <= DAY_S:
        return "5m", _count(span_s, "5m")
    if span_s <= 90 * DAY_S:
        interval = "1h" if span_s / INTERVAL_SECONDS["1h"] <= CANDLES_MAX_LIMIT else "4h"
        return interval, _count(span_s, interval)
    return "1d", _count(span_s, "1d")


def search_query(query: Mapping[str, str]) -> str:
    text = " ".join(required(query, "query").split())
    if len(text) > SEARCH_MAX_QUERY_CHARS:
        raise bad(f"query is at most {SEARCH_MAX_QUERY_CHARS} characters")
    return text
