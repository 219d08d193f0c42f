"""Normalized DeFi records, the same whichever provider answered: DEX pairs of a token (DexPair,
DexTokenAnswer), stablecoins (Stablecoin) and yield pools (YieldPool).

Adapters build them through the make_* builders, which reject implausible values (a price at or
below zero, a negative supply, TVL or liquidity, a pair that does not hold the asked token) as
bad data, so a broken provider falls back instead of reaching a caller.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from providers.adapters.base import BadData
from providers.dex_chains import DexChain, same_address
from providers.values import number, required_number

# One token rarely has more than a handful of pools worth listing; DexScreener's search stops at 30.
MAX_DEX_PAIRS = 30
# Stablecoin and yield listings: defaults and the largest page one request may ask for.
STABLECOINS_DEFAULT_LIMIT = 100
STABLECOINS_MAX_LIMIT = 250
YIELDS_DEFAULT_LIMIT = 50
YIELDS_MAX_LIMIT = 500


def _to_dict(obj: Any) -> dict[str, Any]:
    # Tuples read as lists once serialized; say so here so equality with decoded JSON holds.
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(obj).items()}


@dataclass(frozen=True)
class DexPair:
    """One DEX pool holding the token; price_usd is the base token's USD price in this pool."""

    dex: str
    pair_address: str
    base_symbol: str | None
    base_address: str
    quote_symbol: str | None
    quote_address: str
    price_usd: float | None = None
    liquidity_usd: float | None = None
    volume_24h_usd: float | None = None
    created_at: str | None = None  # UTC ISO-8601 with Z

    def to_dict(self) -> dict[str, Any]:
        return _to_dict(self)


@dataclass(frozen=True)
class DexTokenAnswer:
    """A token's DEX pairs on one chain, most liquid first; price_usd is the token's own USD price
    in the most liquid priced pair (price_pair), whichever side of it the token is on."""

    chain: str
    token: str
    price_usd: float
    price_pair: str
    pairs: tuple[DexPair, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {**_to_dict(self), "pairs": [pair.to_dict() for pair in self.pairs]}


@dataclass(frozen=True)
class Stablecoin:
    """peg is the pegged currency in lower case (usd, eur, ...; None when the provider does not
    say); peg_deviation_pct is (price - 1) x 100, for USD pegs only."""

    name: str
    symbol: str
    peg: str | None
    circulating: float | None
    price: float | None
    peg_deviation_pct: float | None = None
    gecko_id: str | None = None
    chains: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return _to_dict(self)


@dataclass(frozen=True)
class YieldPool:
    """One yield pool; apy, apy_base and apy_reward are percentages, tvl_usd in USD."""

    pool: str
    chain: str
    project: str
    symbol: str
    tvl_usd: float
    apy: float | None = None
    apy_base: float | None = None
    apy_reward: float | None = None
    stablecoin: bool = False

    def to_dict(self) -> dict[str, Any]:
        return _to_dict(self)


# --- validating constructors -------------------------------------------------------------


def _text(value: Any, what: str, *, slug: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BadData(f"{slug}: {what} missing")
    return value.strip()


def _non_negative(value: Any, what: str, *, slug: str) -> float | None:
    amount = number(value, what, slug=slug)
    if amount is not None and amount < 0:
        raise BadData(f"{slug}: negative {what} {amount!r}")
    return amount


def _positive_price(value: Any, what: str, *, slug: str) -> float | None:
    price = number(value, what, slug=slug)
    if price is not None and price <= 0:
        raise BadData(f"{slug}: implausible {what} {price!r}")
    return price


def make_dex_pair(*, slug: str, dex: Any, pair_address: Any, base_address: Any, quote_address: Any,
                  **fields: Any) -> DexPair:
    pair = _text(pair_address, "pair address", slug=slug)
    return DexPair(
        dex=_text(dex, f"dex of pair {pair}", slug=slug),
        pair_address=pair,
        base_symbol=fields.get("base_symbol") or None,
        base_address=_text(base_address, f"base token of pair {pair}", slug=slug),
        quote_symbol=fields.get("quote_symbol") or None,
        quote_address=_text(quote_address, f"quote token of pair {pair}", slug=slug),
        price_usd=_positive_price(fields.get("price_usd"), f"price of pair {pair}", slug=slug),
        liquidity_usd=_non_negative(fields.get("liquidity_usd"), f"liquidity of pair {pair}", slug=slug),
        volume_24h_usd=_non_negative(fields.get("volume_24h_usd"), f"24 h volume of pair {pair}", slug=slug),
        created_at=fields.get("created_at"),
    )


def make_dex_answer(*, slug: str, chain: DexChain, token: str,
                    priced_pairs: list[tuple[DexPair, Any]]) -> DexTokenAnswer:
    """The answer from (pair, the asked token's USD price in it) tuples; the caller has checked
    that there is at least one (no pair at all is NotFound, which only the adapter can word)."""
    checked = []
    for pair, token_price in priced_pairs:
        # A pair without the asked token is an answer to another question.
        if not (same_address(chain, pair.base_address, token) or same_address(chain, pair.quote_address, token)):
            raise BadData(f"{slug}: pair {pair.pair_address} does not hold token {token}")
        if chain.evm:  # DexScreener answers checksummed addresses, GeckoTerminal lower case: one spelling
            pair = replace(pair, pair_address=pair.pair_address.lower(), base_address=pair.base_address.lower(),
                           quote_address=pair.quote_address.lower())
        checked.append((pair, _positive_price(token_price, f"token price in pair {pair.pair_address}", slug=slug)))
    checked.sort(key=lambda item: item[0].liquidity_usd or 0.0, reverse=True)
    priced = [(pair, price) for pair, price in checked if price is not None]
    if not priced:
        raise BadData(f"{slug}: no pair of {token} carries a USD price")
    best, price = priced[0]
    return DexTokenAnswer(chain=chain.name, token=token, price_usd=price, price_pair=best.pair_address,
                          pairs=tuple(pair for pair, _ in checked[:MAX_DEX_PAIRS]))


def make_stablecoin(*, slug: str, name: Any, symbol: Any, peg: str | None, circulating: Any, price: Any,
                    gecko_id: Any = None, chains: Any = ()) -> Stablecoin:
    label = _text(name, "stablecoin name", slug=slug)
    price_value = _positive_price(price, f"{label} price", slug=slug)
    deviation = round((price_value - 1.0) * 100, 6) if peg == "usd" and price_value is not None else None
    return Stablecoin(
        name=label,
        symbol=_text(symbol, f"{label} symbol", slug=slug).upper(),
        peg=peg,
        circulating=_non_negative(circulating, f"{label} circulating supply", slug=slug),
        price=price_value,
        peg_deviation_pct=deviation,
        gecko_id=gecko_id if isinstance(gecko_id, str) and gecko_id else None,
        chains=tuple(str(c) for c in chains or () if c),
    )


def make_yield_pool(*, slug: str, pool: Any, chain: Any, project: Any, symbol: Any, tvl_usd: Any, apy: Any = None,
                    apy_base: Any = None, apy_reward: Any = None, stablecoin: Any = False) -> YieldPool:
    pool_id = _text(pool, "pool id", slug=slug)
    tvl = required_number(tvl_usd, f"pool {pool_id} tvlUsd", slug=slug)
    if tvl < 0:
        raise BadData(f"{slug}: negative TVL for pool {pool_id}")
    return YieldPool(
        pool=pool_id,
        chain=_text(chain, f"chain of pool {pool_id}", slug=slug),
        project=_text(project, f"project of pool {pool_id}", slug=slug),
        symbol=_text(symbol, f"symbol of pool {pool_id}", slug=slug),
        tvl_usd=tvl,
        apy=number(apy, f"pool {pool_id} apy", slug=slug),
        apy_base=number(apy_base, f"pool {pool_id} apyBase", slug=slug),
        apy_reward=number(apy_reward, f"pool {pool_id} apyReward", slug=slug),
        stablecoin=stablecoin is True,
    )


def limit_of(params: dict[str, Any] | Any, default: int, maximum: int) -> int:
    """The number of rows asked for, clamped to 1..maximum (the data plane has validated it already)."""
    return max(1, min(int(params.get("limit") or default), maximum))
