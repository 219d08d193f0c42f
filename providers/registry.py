"""Adapters by provider slug, as lazy dotted paths: adding a provider means adding files."""

from __future__ import annotations

import functools
from importlib import import_module

from providers.adapters.base import Adapter

ADAPTERS: dict[str, str] = {
    "coingecko": "providers.adapters.coingecko.CoinGecko",
    "coinpaprika": "providers.adapters.coinpaprika.CoinPaprika",
    "coincap": "providers.adapters.coincap.CoinCap",
    "cryptocompare": "providers.adapters.cryptocompare.CryptoCompare",
    "binance": "providers.adapters.binance.Binance",
    "kraken": "providers.adapters.kraken.Kraken",
    "coinbase": "providers.adapters.coinbase.Coinbase",
}


@functools.cache
def get_adapter(slug: str) -> Adapter | None:
    """The adapter instance for a provider slug, or None if the provider has none."""
    dotted = ADAPTERS.get(slug)
    if dotted is None:
        return None
    module_path, _, class_name = dotted.rpartition(".")
    return getattr(import_module(module_path), class_name)()


def slugs_serving(capability: str) -> list[str]:
    return sorted(slug for slug in ADAPTERS if capability in get_adapter(slug).capabilities)
