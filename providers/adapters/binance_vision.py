"""Binance's public market-data mirror (https://data-api.binance.vision): api.binance.com's market
paths and answer shapes, served where api.binance.com answers 451 (US and many cloud ranges).

It lists exactly what Binance lists, so it asks coins by Binance's names in the registry
(`names_from`) and has no listing of its own for the registry sync to read.
"""

from __future__ import annotations

from providers.adapters.binance import Binance


class BinanceVision(Binance):
    slug = "binance_vision"
    names_from = "binance"
