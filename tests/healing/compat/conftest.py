"""The CoinGecko dialect's catalogue over the fake upstream: the pools its endpoints ask."""

import pytest

from tests.fixtures.clock import T0
from tests.fixtures.dataplane import POOLS, pools_over_fake

# The candles pool as fixtures/providers.json ships it: exchanges first, then CoinGecko (the shipped pool
# adds Bybit, Gate.io, Bitstamp and Gemini after it).
CANDLE_POOL = ["binance", "okx", "kraken", "kucoin", "coinbase_exchange", "bitfinex", "coingecko"]
GECKO_POOLS = {**{name: POOLS[name] for name in ("price", "markets", "global", "trending")}, "candles": CANDLE_POOL}


@pytest.fixture
def gecko_pools(transactional_db, fake_upstream):
    """price, markets, global, trending and candles over the fake upstream (real-time clocks)."""
    from providers.models import Provider

    exchanges = set(CANDLE_POOL) - {"coingecko"}
    providers = pools_over_fake(fake_upstream, GECKO_POOLS,
                                category=lambda slug: "exchange" if slug in exchanges else "market_data")
    # A hung CoinGecko costs its timeout per request: keep it short.
    Provider.objects.filter(slug="coingecko").update(timeout_s=1)
    return providers


@pytest.fixture
def gecko_catalogue(gecko_pools, fake_upstream):
    """`gecko_pools` for the in-process data plane, whose engine runs on the tests' clock: the fake's
    clock (its candles, its update times) just behind it."""
    fake_upstream.set_clock(T0 - 90)
    return gecko_pools
