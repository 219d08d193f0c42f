"""Binance.US (https://api.binance.us): Binance's API and answer shapes over its own markets.

Unlike Binance it has real USD books (BTCUSD) next to USDT ones, so vs=usd asks the USD pair and
vs=usdt the USDT pair. It lists far fewer coins than Binance: it keeps its own names in the
registry (its own exchangeInfo listing, read by the registry sync), so a coin it does not list is
"not found" there without a call rather than a 400 "Invalid symbol" from guessing Binance's pairs.
"""

from __future__ import annotations

from types import MappingProxyType

from providers.adapters.binance import Binance


class BinanceUS(Binance):
    slug = "binance_us"
    # No stand-in quote: USD is asked as USD.
    quote_assets = MappingProxyType({})
