"""The catalogue of the status and stats API tests: providers with and without keys, two pools.

Under tests/healing/monitoring this `catalogue` stands in for the data plane's one of
tests/fixtures/dataplane.py, which no monitoring test uses."""

import pytest

from pools.models import Pool, PoolMembership
from tests.healing.monitoring.status_data import KEY_ENV, SECRET


@pytest.fixture
def catalogue(make_provider, monkeypatch):
    monkeypatch.setenv(KEY_ENV, SECRET)
    monkeypatch.delenv("CRYPTOHUB_TEST_MISSING_KEY", raising=False)
    made = {
        "coingecko": make_provider(slug="coingecko", category="market_data", api_key_env=KEY_ENV, key_required=True),
        "coincap": make_provider(slug="coincap", category="market_data"),
        "binance": make_provider(slug="binance", category="exchange"),
        "kraken": make_provider(slug="kraken", category="exchange", enabled=False),
        "etherscan": make_provider(
            slug="etherscan", category="explorer", api_key_env="CRYPTOHUB_TEST_MISSING_KEY", key_required=True
        ),
    }
    price = Pool.objects.create(slug="price", name="Price", capability="price", strategy="priority")
    Pool.objects.create(slug="spare", name="Spare", capability="gas", enabled=False)
    PoolMembership.objects.create(pool=price, provider=made["coingecko"], priority=2)
    PoolMembership.objects.create(pool=price, provider=made["coincap"], priority=1)
    PoolMembership.objects.create(pool=price, provider=made["kraken"], priority=0)
    return made
