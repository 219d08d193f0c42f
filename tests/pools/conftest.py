"""Fixtures of the pool API tests: a few providers and two pools over them.

This `price_pool` is the pools' own round-robin pool; under tests/pools it stands in for the data
plane's `price_pool` of tests/fixtures/dataplane.py, which no test here uses."""

import pytest

from pools.models import Pool, PoolMembership


@pytest.fixture
def providers(make_provider):
    return {
        slug: make_provider(slug=slug, name=slug.title(), category=category)
        for slug, category in [
            ("coingecko", "market_data"), ("coincap", "market_data"),
            ("coinpaprika", "market_data"), ("binance", "exchange"),
        ]
    }


@pytest.fixture
def price_pool(providers):
    """A round-robin pool with three members (coingecko first by priority)."""
    pool = Pool.objects.create(slug="price", name="Price", capability="price", strategy="round_robin")
    for slug, priority in [("coingecko", 30), ("coincap", 20), ("coinpaprika", 10)]:
        PoolMembership.objects.create(pool=pool, provider=providers[slug], priority=priority, weight=100)
    return pool


@pytest.fixture
def lonely_pool(providers):
    pool = Pool.objects.create(slug="lonely", name="Lonely", capability="exchange", strategy="priority")
    PoolMembership.objects.create(pool=pool, provider=providers["binance"])
    return pool
