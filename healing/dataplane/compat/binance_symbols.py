"""Binance spot symbols and the asset registry: `BTCUSDT` <-> (bitcoin, "usdt"), and the symbols
exchangeInfo lists.

A symbol is a base asset (Binance's own name for a coin, as the registry's `binance` names hold
them) glued to a quote asset, with no separator, so it is split by the longest quote asset it ends
in whose remainder the registry knows (`1INCHBTC` is 1INCH/BTC; `BTCUSDT` is BTC/USDT, never
BTCU/SDT). The quote becomes the normalized capabilities' `vs` in lower case, so a USDT symbol
asks every exchange for its USDT book (Kraken XBTUSDT, Coinbase BTC-USDT, Bitfinex tBTCUST).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from providers import assets

SLUG = "binance"
# The quote assets a symbol may end in: Binance's stablecoin, crypto and fiat quotes. Longest first,
# so a symbol is split at its longest matching quote before a shorter one is tried.
QUOTE_ASSETS = tuple(sorted(("USDT", "USDC", "FDUSD", "TUSD", "DAI", "BTC", "ETH", "BNB", "EUR", "TRY", "BRL",
                             "JPY", "GBP"), key=len, reverse=True))
# What exchangeInfo lists for every base asset. The registry records which coins Binance lists, not
# against which quotes (the request path never reads the sync's per-pair rows), and USDT is the quote
# Binance pairs nearly every spot asset with; other quotes are still served when asked by symbol.
LISTED_QUOTES = ("USDT",)


@dataclass(frozen=True)
class SpotPair:
    symbol: str  # BTCUSDT
    coin_id: str  # bitcoin: the id every normalized capability takes
    base: str  # BTC: Binance's name for the coin
    quote: str  # USDT

    @property
    def vs(self) -> str:
        """The quote as the normalized capabilities' `vs` ("usdt")."""
        return self.quote.lower()


def pair_of(symbol: str, registry: assets.Registry | None = None) -> SpotPair | None:
    """The pair a symbol names, or None when no known base asset and quote asset make it up."""
    registry = registry or assets.current()
    for quote in QUOTE_ASSETS:
        if len(symbol) > len(quote) and symbol.endswith(quote):
            base = symbol[: -len(quote)]
            coin_id = registry.id_from(SLUG, base)
            if coin_id is not None:
                return SpotPair(symbol, coin_id, base, quote)
    return None


def listed_pairs(registry: assets.Registry | None = None) -> list[SpotPair]:
    """Every pair exchangeInfo lists: each coin Binance lists against LISTED_QUOTES, by symbol."""
    registry = registry or assets.current()
    return sorted(_pairs(registry, LISTED_QUOTES), key=lambda pair: pair.symbol)


def _pairs(registry: Iterable[assets.Asset], quotes: tuple[str, ...]) -> Iterable[SpotPair]:
    for asset in registry:
        base = asset.names.get(SLUG)
        if asset.delisted or not base:
            continue
        for quote in quotes:
            if base != quote:
                yield SpotPair(base + quote, asset.id, base, quote)
