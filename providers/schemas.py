"""Normalized output types, the same whichever provider answered (frozen dataclasses, no Django):
Quote (price), then MarketRow, GlobalStats, FearGreedReading, TrendingCoin, TvlProtocol,
TvlChain, GasEstimate and NewsItem.

Adapters build these through the make_* builders below, which reject implausible values as bad
data (with the number and time checks of providers.values) so a lying or broken provider falls
back instead of reaching a caller.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from providers.adapters.base import BadData
from providers.values import (
    MAX_FUTURE_SKEW_S,
    MAX_PERCENT,
    MAX_PLAUSIBLE_EPOCH_S,
    MIN_PLAUSIBLE_EPOCH_S,
    check_not_future,
    check_row_times,
    epoch_of,
    iso_from_epoch,
    iso_from_string,
    number,
    optional_int,
    percent,
    required_number,
)

# The value checks (providers.values) are part of what adapters import from here.
__all__ = [
    "MAX_FUTURE_SKEW_S", "MAX_PERCENT", "MAX_PLAUSIBLE_EPOCH_S", "MIN_PLAUSIBLE_EPOCH_S", "check_not_future",
    "check_row_times", "epoch_of", "iso_from_epoch", "iso_from_string", "number", "optional_int", "percent",
    "required_number",
    "FEAR_GREED_DEFAULT_LIMIT", "FEAR_GREED_MAX", "FEAR_GREED_MAX_LIMIT", "FEAR_GREED_MIN", "GAS_UNITS",
    "FearGreedReading", "GasEstimate", "GlobalStats", "MarketRow", "NewsItem", "Quote", "TrendingCoin", "TvlChain",
    "TvlProtocol", "fear_greed_limit", "make_fear_greed", "make_gas", "make_global_stats", "make_market_row",
    "make_quote", "make_tvl_chain", "make_tvl_protocol",
]


@dataclass(frozen=True)
class Quote:
    """One coin's price in one currency. volume_24h is in `vs`; change_24h_pct is in percent."""

    id: str
    symbol: str | None
    vs: str
    price: float
    market_cap: float | None = None
    volume_24h: float | None = None
    change_24h_pct: float | None = None
    last_updated: str | None = None  # UTC ISO-8601, "2025-06-10T12:00:00Z"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def make_quote(
    *,
    slug: str,
    id: str,
    symbol: str | None,
    vs: str,
    price: Any,
    market_cap: Any = None,
    volume_24h: Any = None,
    change_24h_pct: Any = None,
    last_updated: str | None = None,
) -> Quote:
    """A validated Quote: price must be a finite number above zero."""
    value = number(price, f"{id} price", slug=slug)
    if value is None or value <= 0:
        raise BadData(f"{slug}: implausible price {price!r} for {id}")
    return Quote(
        id=id,
        symbol=symbol,
        vs=vs,
        price=value,
        market_cap=number(market_cap, f"{id} market_cap", slug=slug),
        volume_24h=number(volume_24h, f"{id} volume_24h", slug=slug),
        change_24h_pct=number(change_24h_pct, f"{id} change_24h_pct", slug=slug),
        last_updated=last_updated,
    )


# --- Capabilities beyond price -------------------------------------------------------------

# The fear & greed index is a 0..100 score.
FEAR_GREED_MIN = 0
FEAR_GREED_MAX = 100
GAS_UNITS = frozenset({"gwei", "sat/vB"})
# How many daily fear & greed readings one request may ask for (a year).
FEAR_GREED_DEFAULT_LIMIT = 1
FEAR_GREED_MAX_LIMIT = 365


def _to_dict(obj: Any) -> dict[str, Any]:
    # asdict keeps tuples as tuples; callers serialize to JSON, where lists read naturally.
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(obj).items()}


@dataclass(frozen=True)
class MarketRow:
    """One coin in a top-N market listing; volume_24h and market_cap are in `vs`."""

    id: str
    symbol: str | None
    name: str | None
    rank: int | None
    vs: str
    price: float
    market_cap: float | None = None
    volume_24h: float | None = None
    change_24h_pct: float | None = None
    circulating_supply: float | None = None
    last_updated: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return _to_dict(self)


@dataclass(frozen=True)
class GlobalStats:
    """The whole crypto market in `vs`; dominance values are percentages."""

    vs: str
    total_market_cap: float
    total_volume_24h: float | None = None
    btc_dominance_pct: float | None = None
    eth_dominance_pct: float | None = None
    market_cap_change_24h_pct: float | None = None
    active_coins: int | None = None
    updated_at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return _to_dict(self)


@dataclass(frozen=True)
class FearGreedReading:
    value: int  # 0 (extreme fear) .. 100 (extreme greed)
    classification: str  # as the provider words it, title case: "Extreme Fear", "Greed"
    timestamp: str | None

    def to_dict(self) -> dict[str, Any]:
        return _to_dict(self)


@dataclass(frozen=True)
class TrendingCoin:
    id: str
    symbol: str | None
    name: str | None
    position: int  # 1 = most trending
    market_cap_rank: int | None = None
    price_usd: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return _to_dict(self)


@dataclass(frozen=True)
class TvlProtocol:
    """A DeFi protocol's total value locked in USD; chain_tvls holds plain chains only."""

    name: str
    slug: str
    tvl: float
    category: str | None = None
    symbol: str | None = None
    chains: tuple[str, ...] = ()
    chain_tvls: dict[str, float] = field(default_factory=dict)
    change_1d_pct: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return _to_dict(self)


@dataclass(frozen=True)
class TvlChain:
    name: str
    tvl: float  # USD
    token_symbol: str | None = None
    gecko_id: str | None = None
    chain_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return _to_dict(self)


@dataclass(frozen=True)
class GasEstimate:
    """Fee levels for the next block(s). gwei per gas (EVM) or sat/vB (Bitcoin)."""

    chain: str
    unit: str
    standard: float
    slow: float | None = None
    fast: float | None = None
    base_fee: float | None = None
    source_time: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return _to_dict(self)


@dataclass(frozen=True)
class NewsItem:
    title: str
    url: str | None
    source: str
    published_at: str | None
    summary: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return _to_dict(self)


# --- request parameters shared by adapters ------------------------------------------------


def fear_greed_limit(params: Mapping[str, Any]) -> int:
    """The number of daily readings asked for, clamped to 1..FEAR_GREED_MAX_LIMIT."""
    return max(1, min(int(params.get("limit") or FEAR_GREED_DEFAULT_LIMIT), FEAR_GREED_MAX_LIMIT))


# --- validating constructors -------------------------------------------------------------


def make_market_row(*, slug: str, id: str, vs: str, price: Any, rank: Any = None, **fields: Any) -> MarketRow:
    value = number(price, f"{id} price", slug=slug)
    if value is None or value <= 0:
        raise BadData(f"{slug}: implausible price {price!r} for {id}")
    market_cap = number(fields.get("market_cap"), f"{id} market_cap", slug=slug)
    if market_cap is not None and market_cap < 0:
        raise BadData(f"{slug}: negative market cap for {id}")
    return MarketRow(
        id=id,
        symbol=fields.get("symbol"),
        name=fields.get("name"),
        rank=optional_int(rank, f"{id} rank", slug=slug),
        vs=vs,
        price=value,
        market_cap=market_cap,
        volume_24h=number(fields.get("volume_24h"), f"{id} volume_24h", slug=slug),
        change_24h_pct=number(fields.get("change_24h_pct"), f"{id} change_24h_pct", slug=slug),
        circulating_supply=number(fields.get("circulating_supply"), f"{id} circulating_supply", slug=slug),
        last_updated=fields.get("last_updated"),
    )


def make_global_stats(
    *,
    slug: str,
    vs: str,
    total_market_cap: Any,
    total_volume_24h: Any = None,
    btc_dominance_pct: Any = None,
    eth_dominance_pct: Any = None,
    market_cap_change_24h_pct: Any = None,
    active_coins: Any = None,
    updated_at: str | None = None,
) -> GlobalStats:
    cap = required_number(total_market_cap, "total_market_cap", slug=slug)
    if cap <= 0:
        raise BadData(f"{slug}: implausible total market cap {total_market_cap!r}")
    btc = percent(btc_dominance_pct, "btc_dominance_pct", slug=slug)
    eth = percent(eth_dominance_pct, "eth_dominance_pct", slug=slug)
    if btc is not None and eth is not None and btc + eth > MAX_PERCENT:
        raise BadData(f"{slug}: BTC and ETH dominance add up to more than 100 %")
    return GlobalStats(
        vs=vs,
        total_market_cap=cap,
        total_volume_24h=number(total_volume_24h, "total_volume_24h", slug=slug),
        btc_dominance_pct=btc,
        eth_dominance_pct=eth,
        market_cap_change_24h_pct=number(market_cap_change_24h_pct, "market_cap_change_24h_pct", slug=slug),
        active_coins=optional_int(active_coins, "active_coins", slug=slug),
        updated_at=updated_at,
    )


def make_fear_greed(*, slug: str, value: Any, classification: Any, timestamp: str | None) -> FearGreedReading:
    score = required_number(value, "value", slug=slug)
    if not FEAR_GREED_MIN <= score <= FEAR_GREED_MAX:
        raise BadData(f"{slug}: fear & greed value {value!r} outside 0..100")
    if not isinstance(classification, str) or not classification.strip():
        raise BadData(f"{slug}: fear & greed reading without classification")
    # CoinMarketCap says "Extreme fear", Alternative.me "Extreme Fear": one spelling for callers.
    return FearGreedReading(value=round(score), classification=classification.strip().title(), timestamp=timestamp)


def make_tvl_protocol(
    *, slug: str, name: Any, protocol_slug: Any, tvl: Any, chain_tvls: dict[str, Any] | None = None, **fields: Any
) -> TvlProtocol:
    if not isinstance(name, str) or not name:
        raise BadData(f"{slug}: protocol without a name")
    value = required_number(tvl, f"{name} tvl", slug=slug)
    if value < 0:
        raise BadData(f"{slug}: negative TVL for {name}")
    per_chain = {}
    for chain, amount in (chain_tvls or {}).items():
        chain_value = required_number(amount, f"{name} {chain} tvl", slug=slug)
        if chain_value < 0:
            raise BadData(f"{slug}: negative TVL for {name} on {chain}")
        per_chain[chain] = chain_value
    return TvlProtocol(
        name=name,
        slug=str(protocol_slug or name.lower()),
        tvl=value,
        category=fields.get("category"),
        symbol=fields.get("symbol") if fields.get("symbol") not in ("", "-") else None,
        chains=tuple(fields.get("chains") or ()),
        chain_tvls=per_chain,
        change_1d_pct=number(fields.get("change_1d_pct"), f"{name} change_1d", slug=slug),
    )


def make_tvl_chain(*, slug: str, name: Any, tvl: Any, **fields: Any) -> TvlChain:
    if not isinstance(name, str) or not name:
        raise BadData(f"{slug}: chain without a name")
    value = required_number(tvl, f"{name} tvl", slug=slug)
    if value < 0:
        raise BadData(f"{slug}: negative TVL for chain {name}")
    return TvlChain(
        name=name,
        tvl=value,
        token_symbol=fields.get("token_symbol"),
        gecko_id=fields.get("gecko_id"),
        chain_id=optional_int(fields.get("chain_id"), f"{name} chainId", slug=slug),
    )


def make_gas(
    *,
    slug: str,
    chain: str,
    unit: str,
    standard: Any,
    slow: Any = None,
    fast: Any = None,
    base_fee: Any = None,
    source_time: str | None = None,
) -> GasEstimate:
    """A validated GasEstimate: every fee level above zero and slow <= standard <= fast."""
    if unit not in GAS_UNITS:
        raise ValueError(f"unknown gas unit {unit!r}")
    levels = {
        "slow": number(slow, "slow", slug=slug),
        "standard": required_number(standard, "standard", slug=slug),
        "fast": number(fast, "fast", slug=slug),
    }
    for name, value in levels.items():
        if value is not None and value <= 0:
            raise BadData(f"{slug}: implausible {name} fee {value!r} {unit}")
    present = [v for v in levels.values() if v is not None]
    # A ladder that goes down as you pay for speed means fields were mixed up.
    if present != sorted(present):
        raise BadData(f"{slug}: fee levels out of order {levels!r}")
    fee = number(base_fee, "base_fee", slug=slug)
    if fee is not None and fee < 0:
        raise BadData(f"{slug}: negative base fee")
    return GasEstimate(chain=chain, unit=unit, source_time=source_time, base_fee=fee, **levels)
