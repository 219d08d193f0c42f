"""Binance's API elsewhere (its public data mirror, Binance.US) and DIA: requests, golden payloads
in each one's real shape, whose names in the registry each asks by, and each one's errors."""

import copy

import pytest

from healing.engine.attempt import check_plausible
from providers import assets
from providers.adapters.base import AdapterError, BadData, NotFound, Outcome, PermanentError, RequestSpec
from providers.assets import Asset, Registry
from tests.providers.golden import ONE, TWO, adapter, load

H1 = {"id": "bitcoin", "vs": "usd", "interval": "1h", "limit": 3, "start": None}
BOOK = {"id": "bitcoin", "vs": "usd", "depth": 10}
TICK = {"id": "bitcoin", "vs": "usd"}
ZERO = "0x0000000000000000000000000000000000000000"


@pytest.fixture
def registry(monkeypatch):
    """Swap in a registry of these assets for one test."""
    def install(*rows: Asset) -> None:
        monkeypatch.setattr(assets, "_current", Registry(rows))
    return install


# --- binance_vision: Binance's requests, Binance's names -------------------------------------------


@pytest.mark.parametrize(("capability", "params"), [("price", TWO), ("candles", H1), ("orderbook", BOOK),
                                                    ("ticker", TICK)])
def test_the_mirror_asks_exactly_what_binance_asks(capability, params):
    assert adapter("binance_vision").build_request(capability, params) == adapter("binance").build_request(
        capability, params)


@pytest.mark.parametrize(("capability", "params", "name"), [
    ("price", ONE, "price"), ("candles", H1, "klines"), ("orderbook", BOOK, "depth"),
    ("ticker", {**TICK, "vs": "usdt"}, "ticker_24hr")])
def test_the_mirror_parses_its_answers_exactly_as_binance(capability, params, name):
    mirrored = adapter("binance_vision").parse(capability, params, load("binance_vision", name))
    assert mirrored == adapter("binance").parse(capability, params, load("binance", name))
    assert mirrored  # a real answer, not two empty ones


def test_the_mirror_reads_binances_names_and_needs_none_of_its_own(registry):
    assert adapter("binance_vision").names_slug == "binance"
    assert adapter("binance").names_slug == "binance"
    registry(Asset("bitcoin", "BTC", "Bitcoin", names={"binance": "BTC"}),
             Asset("wrapped", "WX", "Wrapped X", names={"binance_vision": "WX"}))
    assert adapter("binance_vision").build_request("ticker", TICK).params == {"symbol": "BTCUSDT"}
    # A name filed under the mirror's own slug is not Binance's listing: not found, no call.
    with pytest.raises(NotFound) as caught:
        adapter("binance_vision").build_request("price", {"ids": ["wrapped"], "vs": "usd"})
    assert (caught.value.field, caught.value.values) == ("ids", ["wrapped"])
    assert str(caught.value) == "binance_vision (as on binance): 'wrapped' is not listed there"


def test_the_mirror_classifies_binances_errors_as_binance_does():
    mirror = adapter("binance_vision")
    assert mirror.classify_http_error(429, load("binance", "error_429")) == Outcome.RATE_LIMITED
    assert mirror.classify_http_error(418, load("binance", "error_418")) == Outcome.RATE_LIMITED
    assert mirror.classify_http_error(403, None) == Outcome.RATE_LIMITED
    assert mirror.classify_http_error(400, load("binance", "error_400")) == Outcome.NOT_FOUND  # -1121
    assert mirror.classify_http_error(451, load("binance", "error_451")) == Outcome.PERMANENT
    with pytest.raises(AdapterError) as caught:
        mirror.parse("price", ONE, {"code": -1003, "msg": "Too much request weight used"})
    assert caught.value.outcome == Outcome.RATE_LIMITED


# --- binance_us: its own markets and names -----------------------------------------------------------


def test_binance_us_asks_the_real_usd_pair_for_usd_and_the_usdt_pair_for_usdt():
    us = adapter("binance_us")
    assert us.build_request("price", TWO) == RequestSpec("/api/v3/ticker/24hr", {"symbols": '["BTCUSD","ETHUSD"]'})
    assert us.build_request("ticker", {**TICK, "vs": "usdt"}).params == {"symbol": "BTCUSDT"}
    assert us.build_request("orderbook", BOOK) == RequestSpec("/api/v3/depth", {"symbol": "BTCUSD", "limit": 10})
    assert us.build_request("candles", H1).params["symbol"] == "BTCUSD"
    assert adapter("binance").build_request("ticker", TICK).params == {"symbol": "BTCUSDT"}  # Binance unchanged


def test_binance_us_golden_usd_quotes():
    assert adapter("binance_us").parse("price", TWO, load("binance_us", "price")) == [
        {"id": "bitcoin", "symbol": "BTC", "vs": "usd", "price": 109595.64, "market_cap": None,
         "volume_24h": 12258116.81522731, "change_24h_pct": 1.578, "last_updated": "2025-06-10T11:59:59Z"},
        {"id": "ethereum", "symbol": "ETH", "vs": "usd", "price": 2769.63, "market_cap": None,
         "volume_24h": 3963361.77130512, "change_24h_pct": 2.994, "last_updated": "2025-06-10T11:59:59Z"},
    ]


def test_binance_us_keeps_its_own_names_a_coin_it_does_not_list_is_not_found_without_a_call():
    assert assets.current().name_on("binance_us", "bitcoin") == "BTC"
    assert assets.current().name_on("binance", "tron") == "TRX"
    with pytest.raises(NotFound) as caught:
        adapter("binance_us").build_request("price", {"ids": ["bitcoin", "tron"], "vs": "usd"})
    assert caught.value.values == ["tron"] and str(caught.value) == "binance_us: 'tron' is not listed there"


def test_binance_us_lists_its_trading_pairs_for_the_registry_sync():
    rows = adapter("binance_us").parse_listing(load("binance_us", "exchange_info"))
    # XRPUSD is on a break: not listed.
    assert [(row.key, row.quotes) for row in rows] == [("BTC", ("USD", "USDT")), ("ETH", ("USD",)),
                                                        ("SOL", ("USD",))]


def test_binance_us_errors():
    us = adapter("binance_us")
    assert us.classify_http_error(429, load("binance", "error_429")) == Outcome.RATE_LIMITED
    assert us.classify_http_error(400, load("binance_us", "error_400")) == Outcome.NOT_FOUND  # -1121
    assert us.classify_http_error(503, None) == Outcome.TRANSIENT
    with pytest.raises(AdapterError) as caught:
        us.parse("price", ONE, {"code": -1000, "msg": "An unknown error occurred while processing the request."})
    assert caught.value.outcome == Outcome.BAD_DATA
    with pytest.raises(BadData, match="missing"):
        us.parse("price", TWO, load("binance_us", "price")[:1])  # ETHUSD absent
    zero = copy.deepcopy(load("binance_us", "price"))
    zero[0]["lastPrice"] = "0.00000000"
    with pytest.raises(BadData, match="implausible price"):
        us.parse("price", TWO, zero)


# --- DIA -------------------------------------------------------------------------------------------


def test_dia_asks_by_chain_and_address_where_the_registry_names_the_asset_else_by_symbol():
    dia = adapter("dia")
    assert dia.build_request("price", ONE) == RequestSpec(f"/assetQuotation/Bitcoin/{ZERO}")
    assert dia.build_request("price", {"ids": ["tether"], "vs": "usd"}) == RequestSpec(
        "/assetQuotation/Ethereum/0xdAC17F958D2ee523a2206206994597C13D831ec7")
    assert dia.build_request("price", {"ids": ["cardano"], "vs": "usd"}) == RequestSpec("/quotation/ADA")


def test_dia_never_guesses_between_coins_that_share_a_symbol(registry):
    registry(Asset("pepe", "PEPE", "Pepe", rank=30), Asset("pepe-old", "PEPE", "Pepe Classic"),
             Asset("cardano", "ADA", "Cardano"))
    with pytest.raises(NotFound):
        adapter("dia").build_request("price", {"ids": ["pepe"], "vs": "usd"})
    assert adapter("dia").build_request("price", {"ids": ["cardano"], "vs": "usd"}).path == "/quotation/ADA"


@pytest.mark.parametrize(("params", "match"), [({"ids": ["bitcoin"], "vs": "eur"}, "only in USD"),
                                                (TWO, "one coin per call")])
def test_dia_serves_one_coin_in_usd_and_refuses_the_rest_without_a_call(params, match):
    with pytest.raises(PermanentError, match=match):
        adapter("dia").build_request("price", params)


def test_dia_golden_asset_quotation_with_nanosecond_time():
    assert adapter("dia").parse("price", ONE, load("dia", "asset_quotation_btc")) == [
        {"id": "bitcoin", "symbol": "BTC", "vs": "usd", "price": 109612.48391065471, "market_cap": None,
         "volume_24h": 9876543210.123456, "change_24h_pct": 1.5456, "last_updated": "2025-06-10T11:59:12Z"}]


def test_dia_golden_token_and_symbol_quotations():
    [usdt] = adapter("dia").parse("price", {"ids": ["tether"], "vs": "usd"}, load("dia", "asset_quotation_usdt"))
    assert (usdt["price"], usdt["last_updated"], usdt["change_24h_pct"]) == (1.0001736, "2025-06-10T11:58:40Z", 0.0132)
    [ada] = adapter("dia").parse("price", {"ids": ["cardano"], "vs": "usd"}, load("dia", "quotation_ada"))
    assert (ada["symbol"], ada["price"], ada["volume_24h"]) == ("ADA", 0.70118, 412003311.5)


def test_dia_answering_another_asset_is_bad_data():
    with pytest.raises(BadData, match="not 'Ethereum/0xdAC17F958D2ee523a2206206994597C13D831ec7'"):
        adapter("dia").parse("price", {"ids": ["tether"], "vs": "usd"}, load("dia", "asset_quotation_btc"))
    with pytest.raises(BadData, match="symbol"):
        adapter("dia").parse("price", {"ids": ["cardano"], "vs": "usd"}, load("dia", "asset_quotation_btc"))


@pytest.mark.parametrize("price", [0, -1.5, None, "lots"])
def test_dia_price_at_or_below_zero_or_missing_is_bad_data(price):
    body = {**load("dia", "asset_quotation_btc"), "Price": price}
    with pytest.raises(BadData):
        adapter("dia").parse("price", ONE, body)


def test_dia_time_far_in_the_future_is_bad_data_at_the_engine():
    body = {**load("dia", "asset_quotation_btc"), "Time": "2025-06-14T11:59:12.499645584Z"}
    quotes = adapter("dia").parse("price", ONE, body)
    with pytest.raises(BadData, match="future"):
        check_plausible("price", quotes, 1749556800.0, "dia")
    check_plausible("price", adapter("dia").parse("price", ONE, load("dia", "asset_quotation_btc")), 1749556800.0,
                    "dia")


def test_dia_unknown_asset_is_not_found_and_its_limit_a_rate_limit():
    dia = adapter("dia")
    assert dia.classify_http_error(404, load("dia", "error_404")) == Outcome.NOT_FOUND
    assert dia.classify_http_error(404, "<html>Not Found</html>") == Outcome.PERMANENT  # not DIA's own answer
    assert dia.classify_http_error(429, load("dia", "error_429")) == Outcome.RATE_LIMITED
    assert dia.classify_http_error(500, {"errorcode": 500, "errormessage": "internal"}) == Outcome.TRANSIENT
    assert not Outcome.NOT_FOUND.counts_against_breaker


@pytest.mark.parametrize(("body", "outcome"), [
    ({"errorcode": 404, "errormessage": "redis: nil"}, Outcome.NOT_FOUND),
    ({"errorcode": 429, "errormessage": "too many requests"}, Outcome.RATE_LIMITED),
    ({"errorcode": 500, "errormessage": "internal server error"}, Outcome.BAD_DATA)])
def test_dia_errors_inside_http_200_are_errors(body, outcome):
    with pytest.raises(AdapterError) as caught:
        adapter("dia").parse("price", ONE, body)
    assert caught.value.outcome == outcome


@pytest.mark.parametrize("payload", [[], "text", 42, None, {"Symbol": "BTC"}])
def test_dia_malformed_answers_are_bad_data(payload):
    with pytest.raises(BadData):
        adapter("dia").parse("price", ONE, payload)
    with pytest.raises(BadData):
        adapter("dia").decode(b"<html>Just a moment...</html>", "text/html")
