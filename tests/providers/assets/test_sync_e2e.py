"""`manage.py sync_assets` over real sockets to the fake upstream's listings (all fifteen: CoinGecko,
CoinPaprika, CoinCap, CoinLore, Binance, Kraken, Coinbase, Coinbase Exchange, KuCoin, OKX, Bitfinex,
Bitstamp, Gemini, Bybit and Gate.io, in their real shapes): the registry it writes, a provider that
fails delisting nothing, and a sync where nothing answers changing nothing."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from providers import asset_store
from providers.asset_models import ProviderAsset
from tests.fixtures.dataplane import CATEGORY, POOLS, pools_over_fake

pytestmark = pytest.mark.django_db(transaction=True)
LISTED = ["coingecko", "coinpaprika", "coincap", "coinlore", "binance", "kraken", "coinbase", "coinbase_exchange",
          "kucoin", "okx", "bitfinex", "bitstamp", "gemini", "bybit", "gateio"]
# The listers no pool of POOLS holds, in an orderbook pool of their own.
EXCHANGES = ["coinbase_exchange", "bitstamp", "gemini", "bybit", "gateio"]


@pytest.fixture
def catalogue(transactional_db, fake_upstream):
    """The engine's pools over the fake, plus an orderbook pool for the listers no other pool has."""
    def category(slug: str) -> str:
        return "exchange" if slug in EXCHANGES else CATEGORY.get(slug, "market_data")
    return pools_over_fake(fake_upstream, {**POOLS, "orderbook": EXCHANGES}, category=category)


def sync(*slugs: str) -> str:
    out = io.StringIO()
    call_command("sync_assets", provider=list(slugs), stdout=out)
    return out.getvalue()


def test_a_sync_ties_every_listing_to_its_coin(catalogue, fake_upstream):
    out = sync(*LISTED)
    assert "ambiguous 0 to review" in out and "FAILED" not in out
    registry = asset_store.build_registry()
    zcash = registry.get("zcash")
    assert (zcash.symbol, zcash.rank) == ("ZEC", 33)
    assert {slug: zcash.names.get(slug) for slug in LISTED} == {
        "coingecko": "zcash", "coinpaprika": "zec-zcash", "coincap": "zcash", "coinlore": "ZEC", "binance": "ZEC",
        "kraken": "ZEC", "coinbase": "ZEC", "coinbase_exchange": "ZEC", "kucoin": "ZEC", "okx": "ZEC",
        "bitfinex": "ZEC", "bitstamp": "ZEC", "gemini": "ZEC", "bybit": "ZEC", "gateio": "ZEC"}
    assert registry.name_on("kraken", "bitcoin") == "XBT" and registry.name_on("kraken", "binancecoin") is None
    # Each exchange's own code is kept: Bitfinex calls Tether UST; CoinCap's ids are not CoinGecko's.
    assert registry.name_on("bitfinex", "tether") == "UST"
    assert registry.name_on("coincap", "dai") == "multi-collateral-dai"
    assert all(fake_upstream.calls(slug) >= 1 for slug in LISTED)
    assert registry.by_contract("eth", "0xdAC17F958D2ee523a2206206994597C13D831ec7") == "tether"
    assert fake_upstream.calls("coingecko") >= 1 and fake_upstream.calls("kraken") >= 1


def test_a_provider_whose_listing_fails_is_reported_and_delists_nothing(catalogue, fake_upstream):
    sync(*LISTED)
    listed = ProviderAsset.objects.filter(provider_id="coinpaprika", delisted=False).count()
    fake_upstream.fault("coinpaprika", "status", status=503)
    out = sync(*LISTED)
    assert "coinpaprika  FAILED" in out
    assert ProviderAsset.objects.filter(provider_id="coinpaprika", delisted=False).count() == listed > 0


def test_when_no_listing_answers_the_command_fails_and_the_registry_is_unchanged(catalogue, fake_upstream):
    fake_upstream.fault("*", "status", status=503)
    with pytest.raises(CommandError, match="no listing could be read"):
        sync(*LISTED)
    assert not ProviderAsset.objects.exists()
