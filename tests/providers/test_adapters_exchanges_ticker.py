"""Prices, 24 h tickers and listings of Bitstamp, Gemini, Bybit and Gate.io: requests (one call for one
coin or several), golden payloads in their real shapes -> the normalized records (only the fields each
really gives), errors inside HTTP 200, malformed and implausible answers, and the registry sync's rows."""

import copy

import pytest

from providers.adapters.base import AdapterError, BadData, NotFound, Outcome, RequestSpec
from providers.assets import Listing
from providers.schemas import Quote
from providers.tickers import Ticker
from tests.providers.golden import ONE, TWO, adapter, load

SLUGS = ["bitstamp", "gemini", "bybit", "gateio"]
TICK = {"id": "bitcoin", "vs": "usd"}
TICKER_PAYLOAD = {"bitstamp": "ticker", "gemini": "ticker_v2", "bybit": "tickers", "gateio": "tickers"}
# (payload for one coin, payload for several)
PRICE_PAYLOADS = {"bitstamp": ("ticker", "ticker_all"), "gemini": ("pricefeed", "pricefeed"),
                  "bybit": ("tickers", "tickers_all"), "gateio": ("tickers", "tickers_all")}
NOON = "2025-06-10T12:00:00Z"


def q(id, symbol, price, volume_24h=None, change=None, updated=None) -> dict:
    return Quote(id, symbol, "usd", price, None, volume_24h, change, updated).to_dict()


@pytest.mark.parametrize(("slug", "params", "expected"), [
    ("bitstamp", ONE, RequestSpec("/ticker/btcusd/")),
    ("bitstamp", TWO, RequestSpec("/ticker/")),
    ("gemini", ONE, RequestSpec("/v1/pricefeed")),
    ("gemini", TWO, RequestSpec("/v1/pricefeed")),
    ("bybit", ONE, RequestSpec("/v5/market/tickers", {"category": "spot", "symbol": "BTCUSDT"})),
    ("bybit", TWO, RequestSpec("/v5/market/tickers", {"category": "spot"})),
    ("gateio", ONE, RequestSpec("/spot/tickers", {"currency_pair": "BTC_USDT"})),
    ("gateio", TWO, RequestSpec("/spot/tickers")),
])
def test_price_requests_are_one_call_for_one_coin_or_several(slug, params, expected):
    assert adapter(slug).build_request("price", params) == expected


def test_ticker_requests_use_each_exchange_pair_name():
    assert adapter("bitstamp").build_request("ticker", TICK) == RequestSpec("/ticker/btcusd/")
    assert adapter("gemini").build_request("ticker", {**TICK, "vs": "eur"}) == RequestSpec("/v2/ticker/btceur")
    assert adapter("bybit").build_request("ticker", TICK) == RequestSpec(
        "/v5/market/tickers", {"category": "spot", "symbol": "BTCUSDT"})
    assert adapter("gateio").build_request("ticker", TICK) == RequestSpec(
        "/spot/tickers", {"currency_pair": "BTC_USDT"})


@pytest.mark.parametrize("slug", SLUGS)
def test_a_coin_the_exchange_does_not_list_is_not_found_before_any_call(slug):
    with pytest.raises(NotFound) as caught:
        adapter(slug).build_request("ticker", {**TICK, "id": "monero"})
    assert (caught.value.field, caught.value.values) == ("id", ["monero"])
    with pytest.raises(NotFound) as caught:
        adapter(slug).build_request("price", {"ids": ["bitcoin", "monero"], "vs": "usd"})
    assert (caught.value.field, caught.value.values) == ("ids", ["monero"])


# --- golden answers -----------------------------------------------------------------------------

GOLDEN_PRICES = {
    # Quote volume = base volume x 24 h VWAP; percent_change_24 is a percentage.
    "bitstamp": [q("bitcoin", "BTC", 109603.0, 154760702.62, 1.53, NOON),
                 q("ethereum", "ETH", 2771.1, 41791818.98, -1.04, "2025-06-10T11:59:59Z")],
    # The feed's percentChange24h is a ratio; no volume, no time.
    "gemini": [q("bitcoin", "BTC", 109603.01, None, 1.53), q("ethereum", "ETH", 2771.05, None, -1.04)],
    "bybit": [q("bitcoin", "BTC", 109612.5, 412345678.9, 1.21, NOON),
              q("ethereum", "ETH", 2771.0, 201000000.0, -1.04, NOON)],
    "gateio": [q("bitcoin", "BTC", 109608.3, 307654321.12, 1.52), q("ethereum", "ETH", 2770.84, 169100000.5, -1.02)],
}


@pytest.mark.parametrize("slug", SLUGS)
def test_every_exchange_normalizes_its_prices(slug):
    one, several = PRICE_PAYLOADS[slug]
    assert adapter(slug).parse("price", ONE, load(slug, one)) == GOLDEN_PRICES[slug][:1]
    assert adapter(slug).parse("price", TWO, load(slug, several)) == GOLDEN_PRICES[slug]


GOLDEN_TICKERS = {
    # open_24 is the price 24 h ago (open is the day's); quote volume = volume x VWAP.
    "bitstamp": Ticker("bitcoin", "usd", "btcusd", last=109603.0, open=107951.0, high=109820.0, low=107700.0,
                       volume=1421.50241932, quote_volume=154760702.62, change=1652.0, change_pct=1.53,
                       vwap=108871.22, bid=109603.0, ask=109604.0, close_time=NOON),
    # v2: the 24 h open, high, low and last (close), best bid/ask; no volume or time.
    "gemini": Ticker("bitcoin", "usd", "BTCUSD", last=109603.01, open=107951.02, high=109820.0, low=107700.12,
                     change=1651.99, change_pct=1.5303, bid=109603.0, ask=109603.02),
    "bybit": Ticker("bitcoin", "usd", "BTCUSDT", last=109612.5, open=108300.0, high=110150.0, low=107920.0,
                    volume=3781.2, quote_volume=412345678.9, change=1312.5, change_pct=1.21, bid=109612.4,
                    bid_size=1.204, ask=109612.5, ask_size=0.403, close_time=NOON),
    # Only a rounded percentage: no open or change derived from it, and no time.
    "gateio": Ticker("bitcoin", "usd", "BTC_USDT", last=109608.3, high=110090.1, low=107890.2, volume=2810.55,
                     quote_volume=307654321.12, change_pct=1.52, bid=109608.3, bid_size=1.0512, ask=109608.4,
                     ask_size=0.3021),
}


@pytest.mark.parametrize("slug", SLUGS)
def test_every_exchange_normalizes_its_ticker_to_the_record(slug):
    assert adapter(slug).parse("ticker", TICK, load(slug, TICKER_PAYLOAD[slug])) == GOLDEN_TICKERS[slug].to_dict()


# --- errors, malformed and implausible answers ------------------------------------------------------

ERRORS_IN_200 = [
    ("bitstamp", load("bitstamp", "error_429"), Outcome.RATE_LIMITED),
    ("gemini", load("gemini", "error_429"), Outcome.RATE_LIMITED),
    ("gemini", {"result": "error", "reason": "System", "message": "technical issues"}, Outcome.TRANSIENT),
    ("bybit", load("bybit", "error_10006"), Outcome.RATE_LIMITED),
    ("bybit", {"retCode": 10018, "retMsg": "Out of IP frequency limit", "result": {}, "time": 1},
     Outcome.RATE_LIMITED),
    ("bybit", load("bybit", "error_10001"), Outcome.NOT_FOUND),
    ("gateio", load("gateio", "error_429"), Outcome.RATE_LIMITED),
    ("gateio", {"label": "SERVER_ERROR", "message": "Internal server error"}, Outcome.TRANSIENT),
]


@pytest.mark.parametrize(("slug", "body", "outcome"), ERRORS_IN_200)
@pytest.mark.parametrize("capability", ["price", "ticker"])
def test_errors_inside_http_200_are_errors(slug, body, outcome, capability):
    with pytest.raises(AdapterError) as caught:
        adapter(slug).parse(capability, ONE if capability == "price" else TICK, body)
    assert caught.value.outcome == outcome


MALFORMED = {
    "bitstamp": [[], "ticker", {**load("bitstamp", "ticker"), "last": "n/a"}],
    "gemini": [{**load("gemini", "ticker_v2"), "symbol": "ETHUSD"}, [], {**load("gemini", "ticker_v2"), "close": None}],
    "bybit": [{"retCode": 0, "result": {"list": []}}, {"retCode": 0, "result": {"list": {}}}, {"retCode": 0}],
    "gateio": [[], {"currency_pair": "BTC_USDT"}, [{**load("gateio", "tickers")[0], "last": "n/a"}]],
}


@pytest.mark.parametrize("slug", SLUGS)
def test_malformed_tickers_and_prices_are_bad_data(slug):
    for body in MALFORMED[slug]:
        with pytest.raises(BadData):
            adapter(slug).parse("ticker", TICK, copy.deepcopy(body))
    with pytest.raises(BadData, match="ethereum"):
        adapter(slug).parse("price", {"ids": ["ethereum"], "vs": "eur"}, load(slug, PRICE_PAYLOADS[slug][1]))


def _row(slug, payload):
    return payload["result"]["list"][0] if slug == "bybit" else payload[0] if slug == "gateio" else payload


# Where each layout keeps last, high, low, bid, ask.
PLACES = {"bitstamp": ("last", "high", "low", "bid", "ask"), "gemini": ("close", "high", "low", "bid", "ask"),
          "bybit": ("lastPrice", "highPrice24h", "lowPrice24h", "bid1Price", "ask1Price"),
          "gateio": ("last", "high_24h", "low_24h", "highest_bid", "lowest_ask")}


@pytest.mark.parametrize("slug", SLUGS)
@pytest.mark.parametrize("lie", ["zero_last", "negative_last", "high_below_low", "crossed", "last_off_range"])
def test_implausible_tickers_are_bad_data(slug, lie):
    payload = copy.deepcopy(load(slug, TICKER_PAYLOAD[slug]))
    row = _row(slug, payload)
    last, high, low, bid, ask = PLACES[slug]
    if lie == "zero_last":
        row[last] = "0"
    elif lie == "negative_last":
        row[last] = "-" + row[last]
    elif lie == "high_below_low":
        row[high], row[low] = row[low], row[high]
    elif lie == "crossed":
        row[bid] = str(float(row[ask]) + 10)
    else:
        row[last] = str(float(row[high]) * 2)
    with pytest.raises(BadData):
        adapter(slug).parse("ticker", TICK, payload)


@pytest.mark.parametrize("slug", SLUGS)
def test_a_zero_price_is_bad_data(slug):
    payload = copy.deepcopy(load(slug, PRICE_PAYLOADS[slug][0]))
    row = payload[0] if slug in ("gemini", "gateio") else _row(slug, payload)
    row["price" if slug == "gemini" else PLACES[slug][0]] = "0"
    with pytest.raises(BadData, match="implausible price"):
        adapter(slug).parse("price", ONE, payload)


# --- listings (the registry sync) ---------------------------------------------------------------------


def test_listing_requests():
    assert [adapter(slug).listing_request() for slug in SLUGS] == [
        RequestSpec("/trading-pairs-info/"), RequestSpec("/v1/symbols"),
        RequestSpec("/v5/market/instruments-info", {"category": "spot"}), RequestSpec("/spot/currency_pairs")]


def test_each_listing_in_its_real_shape_keeps_only_what_trades():
    assert adapter("bitstamp").parse_listing(load("bitstamp", "trading_pairs_info")) == [
        Listing("BTC", "BTC", quotes=("EUR", "USD")), Listing("ETH", "ETH", quotes=("USD",))]  # OLD is disabled
    # Bare symbols split at their quote; the perpetual btcgusdperp is left out.
    assert adapter("gemini").parse_listing(load("gemini", "symbols")) == [
        Listing("BTC", "BTC", quotes=("EUR", "GUSD", "USD")), Listing("ETH", "ETH", quotes=("BTC", "USD")),
        Listing("GUSD", "GUSD", quotes=("USD",)), Listing("USDT", "USDT", quotes=("USD",)),
        Listing("ZEC", "ZEC", quotes=("USD",))]
    assert adapter("bybit").parse_listing(load("bybit", "instruments_info")) == [
        Listing("BTC", "BTC", quotes=("USDC", "USDT")), Listing("ZEC", "ZEC", quotes=("USDT",))]  # OLD is closed
    assert adapter("gateio").parse_listing(load("gateio", "currency_pairs")) == [
        Listing("BTC", "BTC", quotes=("USDT",)), Listing("ZEC", "ZEC", quotes=("USDT",))]  # ZEC_BTC is untradable


@pytest.mark.parametrize("slug", SLUGS)
@pytest.mark.parametrize("payload", [None, "<html>", [], {"data": "nope"}, 7])
def test_a_malformed_listing_is_bad_data(slug, payload):
    with pytest.raises(AdapterError) as caught:
        adapter(slug).parse_listing(payload)
    assert caught.value.outcome == Outcome.BAD_DATA


@pytest.mark.parametrize(("slug", "name"), [("bitstamp", "error_429"), ("gemini", "error_429"),
                                            ("bybit", "error_10006"), ("gateio", "error_429")])
def test_a_rate_limit_inside_http_200_stops_the_listing(slug, name):
    with pytest.raises(AdapterError) as caught:
        adapter(slug).parse_listing(load(slug, name))
    assert caught.value.outcome == Outcome.RATE_LIMITED
