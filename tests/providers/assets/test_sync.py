"""The registry sync on listings in the providers' real shapes: matching by id, contract, symbol
and name, ranks from the aggregators, renamed and delisted coins, and ambiguous symbols kept apart."""

from __future__ import annotations

import pytest

from providers.adapters.base import AdapterError, Outcome
from providers.asset_sync import Known, plan_sync
from providers.assets import Asset, Listing
from providers.registry import get_adapter

USDT_ETH = "0xdac17f958d2ee523a2206206994597c13d831ec7"
PEPE_ETH = "0x6982508145454ce325ddbe47a25d4ec3d2311933"

# CoinGecko /coins/list?include_platform=true (empty-string platforms as the real list has them).
COINGECKO = [
    {"id": "bitcoin", "symbol": "btc", "name": "Bitcoin", "platforms": {}},
    {"id": "tether", "symbol": "usdt", "name": "Tether", "platforms": {"ethereum": USDT_ETH, "tron": "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"}},
    {"id": "pepe", "symbol": "pepe", "name": "Pepe", "platforms": {"ethereum": PEPE_ETH}},
    {"id": "pepe-2", "symbol": "pepe", "name": "PEPE 2.0", "platforms": {"ethereum": "0xfb66321d7c674995dfcc2cb67a30bc978dc862ad"}},
    {"id": "pepecoin-network", "symbol": "pepe", "name": "Pepecoin Network", "platforms": {"": ""}},
    {"id": "zcash", "symbol": "zec", "name": "Zcash", "platforms": {}},
    {"id": "polygon-ecosystem-token", "symbol": "pol", "name": "POL (ex-MATIC)", "platforms": {"ethereum": "0x455e53cbb86018ac2b8092fdcd39d8444affc3f6"}},
]
# CoinPaprika /coins.
PAPRIKA = [
    {"id": "btc-bitcoin", "name": "Bitcoin", "symbol": "BTC", "rank": 1, "is_new": False, "is_active": True, "type": "coin"},
    {"id": "usdt-tether", "name": "Tether", "symbol": "USDT", "rank": 3, "is_new": False, "is_active": True, "type": "token"},
    {"id": "zec-zcash", "name": "Zcash", "symbol": "ZEC", "rank": 80, "is_new": False, "is_active": True, "type": "coin"},
    {"id": "pepe-pepe", "name": "Pepe", "symbol": "PEPE", "rank": 25, "is_new": False, "is_active": True, "type": "token"},
    {"id": "luna-terra", "name": "Terra", "symbol": "LUNA", "rank": 0, "is_new": False, "is_active": False, "type": "coin"},
]
# CoinCap v3 /assets.
COINCAP = {"data": [
    {"id": "bitcoin", "rank": "1", "symbol": "BTC", "name": "Bitcoin", "supply": "19877312.0", "priceUsd": "109600.1"},
    {"id": "tether", "rank": "3", "symbol": "USDT", "name": "Tether", "supply": "154400000000", "priceUsd": "1.0002"},
    {"id": "zcash", "rank": "79", "symbol": "ZEC", "name": "Zcash", "supply": "16300000", "priceUsd": "44.8"},
], "timestamp": 1749556800000}
# Binance /api/v3/exchangeInfo (trimmed to the fields read).
BINANCE = {"timezone": "UTC", "serverTime": 1749556800000, "symbols": [
    {"symbol": "BTCUSDT", "status": "TRADING", "baseAsset": "BTC", "quoteAsset": "USDT"},
    {"symbol": "BTCEUR", "status": "TRADING", "baseAsset": "BTC", "quoteAsset": "EUR"},
    {"symbol": "ZECUSDT", "status": "TRADING", "baseAsset": "ZEC", "quoteAsset": "USDT"},
    {"symbol": "PEPEUSDT", "status": "TRADING", "baseAsset": "PEPE", "quoteAsset": "USDT"},
    {"symbol": "LUNAUSDT", "status": "BREAK", "baseAsset": "LUNA", "quoteAsset": "USDT"},
]}
# Kraken /0/public/AssetPairs.
KRAKEN = {"error": [], "result": {
    "XXBTZUSD": {"altname": "XBTUSD", "wsname": "XBT/USD", "base": "XXBT", "quote": "ZUSD", "status": "online"},
    "XZECZUSD": {"altname": "ZECUSD", "wsname": "ZEC/USD", "base": "XZEC", "quote": "ZUSD", "status": "online"},
    "PEPEUSD": {"altname": "PEPEUSD", "wsname": "PEPE/USD", "base": "PEPE", "quote": "ZUSD", "status": "online"},
}}


def listings(**payloads):
    return {slug: get_adapter(slug).parse_listing(payload) for slug, payload in payloads.items()}


def match_of(plan, slug, key):
    return next(m for m in plan.matches if m.provider == slug and m.listing.key == key)


@pytest.fixture
def plan():
    return plan_sync(listings(coingecko=COINGECKO, coinpaprika=PAPRIKA, coincap=COINCAP, binance=BINANCE,
                              kraken=KRAKEN), existing={}, known={})


def test_aggregators_match_by_id_or_by_symbol_and_name(plan):
    assert (match_of(plan, "coincap", "zcash").asset_id, match_of(plan, "coincap", "zcash").match) == ("zcash", "id")
    paprika = match_of(plan, "coinpaprika", "zec-zcash")
    assert (paprika.asset_id, paprika.match) == ("zcash", "name")


def test_ranks_come_from_the_aggregators_first_listed_first(plan):
    assert plan.assets["bitcoin"].rank == 1 and plan.assets["zcash"].rank == 79  # CoinCap before CoinPaprika
    assert plan.assets["pepe"].rank == 25 and plan.assets["pepe-2"].rank is None


def test_a_symbol_three_coins_share_goes_to_the_one_the_aggregators_rank(plan):
    binance = match_of(plan, "binance", "PEPE")
    assert (binance.asset_id, binance.match) == ("pepe", "ranked_symbol")


def test_exchange_codes_become_symbols_and_keep_their_own_key_and_quotes(plan):
    kraken = match_of(plan, "kraken", "XBT")
    assert (kraken.asset_id, kraken.listing.symbol, kraken.listing.quotes) == ("bitcoin", "BTC", ("USD",))
    assert match_of(plan, "binance", "BTC").listing.quotes == ("EUR", "USDT")


def test_a_halted_pair_and_an_inactive_coin_are_not_listed(plan):
    assert not any(m.listing.key in ("LUNA", "luna-terra") for m in plan.matches)


def test_without_a_rank_a_shared_symbol_is_ambiguous_and_never_merged():
    plan = plan_sync(listings(coingecko=COINGECKO, binance=BINANCE), existing={}, known={})
    pepe = match_of(plan, "binance", "PEPE")
    assert (pepe.asset_id, pepe.match) == (None, "ambiguous")
    assert set(pepe.candidates) == {"pepe", "pepe-2", "pepecoin-network"}
    assert pepe in plan.ambiguous


def test_a_contract_address_decides_before_the_symbol():
    plan = plan_sync({**listings(coingecko=COINGECKO), "coinpaprika": [
        Listing("usdt-bridged", "USDTE", "Bridged", platforms={"ethereum": USDT_ETH.upper().replace("0X", "0x")})]},
        existing={}, known={})
    assert match_of(plan, "coinpaprika", "usdt-bridged").asset_id == "tether"
    assert match_of(plan, "coinpaprika", "usdt-bridged").match == "contract"


def test_a_coin_gone_from_coingeckos_list_is_delisted_not_deleted_and_a_rename_follows_the_id():
    existing = {"terra-luna": Asset("terra-luna", "LUNA", "Terra"), "zcash": Asset("zcash", "ZEC", "Zcash", rank=80)}
    renamed = [dict(row, name="Zcash Shielded") if row["id"] == "zcash" else row for row in COINGECKO]
    plan = plan_sync(listings(coingecko=renamed), existing=existing, known={})
    assert plan.assets["terra-luna"].delisted is True
    assert plan.assets["zcash"].name == "Zcash Shielded" and not plan.assets["zcash"].delisted


def test_a_provider_renaming_its_name_keeps_the_last_syncs_link():
    # CoinPaprika renamed the coin: symbol and name no longer match, the key is the same.
    renamed = [{"id": "zec-zcash", "name": "ZEC Shielded", "symbol": "ZEC2", "rank": 80, "is_active": True}]
    known = {("coinpaprika", "zec-zcash"): Known("zcash", "name")}
    plan = plan_sync(listings(coingecko=COINGECKO, coinpaprika=renamed), existing={}, known=known)
    assert match_of(plan, "coinpaprika", "zec-zcash").asset_id == "zcash"


def test_an_operators_choice_is_kept_over_every_rule():
    known = {("binance", "PEPE"): Known("pepe-2", "manual")}
    plan = plan_sync(listings(coingecko=COINGECKO, coinpaprika=PAPRIKA, binance=BINANCE), existing={}, known=known)
    assert (match_of(plan, "binance", "PEPE").asset_id, match_of(plan, "binance", "PEPE").match) == ("pepe-2", "manual")


def test_without_coingeckos_list_the_existing_assets_stay_and_none_is_delisted():
    existing = {"zcash": Asset("zcash", "ZEC", "Zcash", rank=80)}
    plan = plan_sync(listings(binance=BINANCE), existing=existing, known={})
    assert not plan.assets["zcash"].delisted and plan.assets["zcash"].rank == 80
    assert match_of(plan, "binance", "ZEC").asset_id == "zcash"
    assert match_of(plan, "binance", "BTC").match == "unmatched"


@pytest.mark.parametrize("slug", ["coingecko", "coinpaprika", "coincap", "coinlore", "binance", "kraken", "coinbase",
                                  "coinbase_exchange", "kucoin", "okx", "bitfinex"])
@pytest.mark.parametrize("payload", [None, "<html>", [], {"data": "nope"}, 7])
def test_a_malformed_listing_is_bad_data(slug, payload):
    with pytest.raises(AdapterError) as caught:
        get_adapter(slug).parse_listing(payload)
    assert caught.value.outcome == Outcome.BAD_DATA


@pytest.mark.parametrize(("slug", "payload", "outcome"), [
    ("kraken", {"error": ["EAPI:Rate limit exceeded"], "result": {}}, Outcome.RATE_LIMITED),
    ("binance", {"code": -1003, "msg": "Too much request weight used"}, Outcome.RATE_LIMITED),
    ("coingecko", {"status": {"error_code": 429, "error_message": "You've exceeded the Rate Limit"}},
     Outcome.RATE_LIMITED),
    ("kucoin", {"code": "429000", "msg": "Too Many Requests"}, Outcome.RATE_LIMITED),
    ("okx", {"code": "50011", "msg": "Rate limit reached", "data": []}, Outcome.RATE_LIMITED),
])
def test_an_error_inside_http_200_is_that_providers_error(slug, payload, outcome):
    with pytest.raises(AdapterError) as caught:
        get_adapter(slug).parse_listing(payload)
    assert caught.value.outcome == outcome


def test_exchanges_lists_of_coinbase_kucoin_okx_and_bitfinex_in_their_shapes():
    coinbase = get_adapter("coinbase").parse_listing({"data": [
        {"asset_id": "5b71fc48-3dd3-540c-809b-f8c94d0e68b5", "code": "BTC", "name": "Bitcoin", "type": "crypto"}]})
    assert coinbase == [Listing("BTC", "BTC", "Bitcoin")]
    kucoin = get_adapter("kucoin").parse_listing({"code": "200000", "data": [
        {"symbol": "ZEC-USDT", "baseCurrency": "ZEC", "quoteCurrency": "USDT", "enableTrading": True},
        {"symbol": "ZEC-BTC", "baseCurrency": "ZEC", "quoteCurrency": "BTC", "enableTrading": False}]})
    assert kucoin == [Listing("ZEC", "ZEC", quotes=("USDT",))]
    okx = get_adapter("okx").parse_listing({"code": "0", "msg": "", "data": [
        {"instId": "ZEC-USDT", "baseCcy": "ZEC", "quoteCcy": "USDT", "state": "live"},
        {"instId": "OLD-USDT", "baseCcy": "OLD", "quoteCcy": "USDT", "state": "suspend"}]})
    assert okx == [Listing("ZEC", "ZEC", quotes=("USDT",))]
    bitfinex = get_adapter("bitfinex").parse_listing([["BTCUSD", "USTUSD", "TESTBTC:TESTUSD", "DOGE:USD"]])
    assert [(r.key, r.symbol, r.quotes) for r in bitfinex] == [
        ("BTC", "BTC", ("USD",)), ("DOGE", "DOGE", ("USD",)), ("TESTBTC", "TESTBTC", ("TESTUSD",)), ("UST", "USDT", ("USD",))]
    exchange = get_adapter("coinbase_exchange").parse_listing([
        {"id": "ZEC-USD", "base_currency": "ZEC", "quote_currency": "USD", "status": "online", "trading_disabled": False},
        {"id": "ZEC-EUR", "base_currency": "ZEC", "quote_currency": "EUR", "status": "delisted"}])
    assert exchange == [Listing("ZEC", "ZEC", quotes=("USD",))]
    coinlore = get_adapter("coinlore").parse_listing({"data": [
        {"id": "90", "symbol": "BTC", "name": "Bitcoin", "nameid": "bitcoin", "rank": 1},
        {"id": "9999", "symbol": "BTC", "name": "Bitcoin Fake", "nameid": "bitcoin-fake", "rank": 900}]})
    assert coinlore == [Listing("BTC", "BTC", "Bitcoin", rank=1)]
