"""The 24 h ticker: golden payloads in each exchange's real layout -> the one Ticker record (only the
fields that exchange really gives), then each provider's errors inside HTTP 200, malformed answers
and pairs it does not list."""

import copy
import json

import pytest

from providers.adapters.base import AdapterError, BadData, NotFound, Outcome, RequestSpec
from providers.tickers import Ticker
from tests.providers.golden import adapter, load

SLUGS = ["binance", "okx", "kraken", "coinbase_exchange", "kucoin", "bitfinex"]
# OKX's and Kraken's ticker calls are their price calls: the price payloads are those answers.
PAYLOAD = {"binance": "ticker_24hr", "okx": "price", "kraken": "price", "coinbase_exchange": "stats",
           "kucoin": "stats", "bitfinex": "ticker"}
TICK = {"id": "bitcoin", "vs": "usd"}

GOLDEN = {
    "binance": Ticker(
        "bitcoin", "usd", "BTCUSDT", last=109603.01, open=107951.02, high=109820.0, low=107700.12,
        volume=18122.40418, quote_volume=1973889220.1401288, change=1651.99, change_pct=1.53,
        vwap=108921.53102145, bid=109603.0, bid_size=4.61012, ask=109603.01, ask_size=2.00841,
        open_time="2025-06-09T12:00:00Z", close_time="2025-06-10T11:59:59Z", trades=3057436),
    # change and change_pct follow from open24h; no VWAP, trade count or window start.
    "okx": Ticker(
        "bitcoin", "usd", "BTC-USDT", last=109612.5, open=108300.0, high=110150.0, low=107920.0, volume=3781.2,
        quote_volume=412345678.9, change=1312.5, change_pct=1.2119, bid=109612.5, bid_size=1.2, ask=109612.6,
        ask_size=0.4, close_time="2025-06-10T12:00:00Z"),
    # o is today's open, not 24 h ago: no open or change; quote volume = 24 h volume x 24 h VWAP.
    "kraken": Ticker(
        "bitcoin", "usd", "XXBTZUSD", last=109610.1, high=109799.9, low=107690.0, volume=1421.50241932,
        quote_volume=1421.50241932 * 108871.22019, vwap=108871.22019, bid=109610.0, bid_size=3.0, ask=109610.1,
        ask_size=1.0, trades=38804),
    # /stats: the rolling window and its base volume, no book and no time.
    "coinbase_exchange": Ticker(
        "bitcoin", "usd", "BTC-USD", last=109603.01, open=107951.02, high=109820.0, low=107700.12,
        volume=9821.45110234, change=1651.99, change_pct=1.5303),
    # The open is last - changePrice; VWAP is volValue / vol.
    "kucoin": Ticker(
        "bitcoin", "usd", "BTC-USDT", last=109612.4, open=108280.3, high=110100.0, low=107950.2, volume=1450.61,
        quote_volume=158996402.12, change=1332.1, change_pct=1.23, vwap=158996402.12 / 1450.61, bid=109612.3,
        ask=109612.4, close_time="2025-06-10T12:00:00Z"),
    # The open is LAST_PRICE - DAILY_CHANGE; BID_SIZE/ASK_SIZE are 25-level sums, so left out.
    "bitfinex": Ticker(
        "bitcoin", "usd", "tBTCUSD", last=109612.0, open=108314.0, high=110120.0, low=107900.0, volume=1423.5,
        change=1298.0, change_pct=1.2, bid=109610.0, ask=109611.0),
}


def test_ticker_requests_use_each_exchange_pair_name():
    assert adapter("binance").build_request("ticker", TICK) == RequestSpec("/api/v3/ticker/24hr", {"symbol": "BTCUSDT"})
    assert adapter("okx").build_request("ticker", TICK) == RequestSpec("/api/v5/market/ticker", {"instId": "BTC-USDT"})
    assert adapter("kraken").build_request("ticker", TICK) == RequestSpec("/0/public/Ticker", {"pair": "XBTUSD"})
    assert adapter("coinbase_exchange").build_request("ticker", TICK) == RequestSpec("/products/BTC-USD/stats")
    assert adapter("kucoin").build_request("ticker", TICK) == RequestSpec("/api/v1/market/stats",
                                                                         {"symbol": "BTC-USDT"})
    assert adapter("bitfinex").build_request("ticker", TICK) == RequestSpec("/ticker/tBTCUSD")
    # A quote asked as USDT is the USDT pair everywhere; Bitfinex calls USDT "UST".
    usdt = {"id": "bitcoin", "vs": "usdt"}
    assert [adapter(slug).build_request("ticker", usdt).params.get("symbol") for slug in ("binance", "kucoin")] == [
        "BTCUSDT", "BTC-USDT"]
    assert adapter("kraken").build_request("ticker", usdt).params == {"pair": "XBTUSDT"}
    assert adapter("bitfinex").build_request("ticker", usdt).path == "/ticker/tBTCUST"


@pytest.mark.parametrize("slug", SLUGS)
def test_every_exchange_serves_the_ticker_capability(slug):
    assert "ticker" in adapter(slug).capabilities


@pytest.mark.parametrize("slug", SLUGS)
def test_a_coin_without_a_name_at_the_exchange_is_not_found_naming_id(slug):
    with pytest.raises(NotFound) as caught:
        adapter(slug).build_request("ticker", {**TICK, "id": "no-such-coin"})
    assert (caught.value.field, caught.value.values) == ("id", ["no-such-coin"])


@pytest.mark.parametrize("slug", SLUGS)
def test_every_exchange_normalizes_its_ticker_to_the_record(slug):
    assert adapter(slug).parse("ticker", TICK, load(slug, PAYLOAD[slug])) == GOLDEN[slug].to_dict()


# --- errors -------------------------------------------------------------------------------------------

ERRORS_IN_200 = [
    ("binance", {"code": -1003, "msg": "Too much request weight used."}, Outcome.RATE_LIMITED),
    ("binance", {"code": -1000, "msg": "An unknown error occurred while processing the request."}, Outcome.BAD_DATA),
    ("okx", {"msg": "Too Many Requests", "code": "50011"}, Outcome.RATE_LIMITED),
    ("okx", {"code": "51001", "msg": "Instrument ID does not exist", "data": []}, Outcome.NOT_FOUND),
    ("kraken", {"error": ["EQuery:Unknown asset pair"]}, Outcome.NOT_FOUND),
    ("kraken", {"error": ["EService:Unavailable"]}, Outcome.TRANSIENT),
    ("kraken", {"error": ["EAPI:Rate limit exceeded"]}, Outcome.RATE_LIMITED),
    ("coinbase_exchange", {"message": "Public rate limit exceeded"}, Outcome.RATE_LIMITED),
    ("coinbase_exchange", {"message": "Internal server error"}, Outcome.BAD_DATA),
    ("kucoin", {"code": "429000", "msg": "Too Many Requests"}, Outcome.RATE_LIMITED),
    ("kucoin", {"code": "400100", "msg": "symbol parameter is invalid"}, Outcome.PERMANENT),
    ("bitfinex", {"error": "ERR_RATE_LIMIT"}, Outcome.RATE_LIMITED),
    ("bitfinex", ["error", 10020, "symbol: invalid"], Outcome.PERMANENT),
    ("bitfinex", ["error", 20060, "maintenance"], Outcome.TRANSIENT),
]


@pytest.mark.parametrize(("slug", "body", "outcome"), ERRORS_IN_200)
def test_errors_inside_http_200_are_errors(slug, body, outcome):
    with pytest.raises(AdapterError) as caught:
        adapter(slug).parse("ticker", TICK, body)
    assert caught.value.outcome == outcome


@pytest.mark.parametrize(("slug", "status", "outcome"), [
    ("binance", 400, Outcome.NOT_FOUND), ("binance", 451, Outcome.PERMANENT), ("binance", 429, Outcome.RATE_LIMITED),
    ("binance", 500, Outcome.TRANSIENT), ("coinbase_exchange", 404, Outcome.NOT_FOUND)])
def test_http_errors_are_classified_from_status_and_body(slug, status, outcome):
    body = {"message": "NotFound"} if slug == "coinbase_exchange" else {"code": -1121, "msg": "Invalid symbol."}
    assert adapter(slug).classify_http_error(status, body if status != 500 else None) == outcome


def test_pairs_an_exchange_does_not_list_are_not_found_not_provider_faults():
    for slug, body in (("kucoin", {"code": "200000", "data": None}),
                       ("kucoin", {"code": "200000", "data": {"time": 1749556800123, "symbol": "BTC-USDT",
                                                             "buy": None, "sell": None, "last": None, "high": None,
                                                             "low": None, "vol": None}}),
                       ("bitfinex", [])):
        with pytest.raises(NotFound) as caught:
            adapter(slug).parse("ticker", TICK, body)
        assert (caught.value.field, caught.value.values) == ("id", ["bitcoin"]), slug
    assert not Outcome.NOT_FOUND.counts_against_breaker


MALFORMED = {
    "binance": [[load("binance", "ticker_24hr")], {**load("binance", "ticker_24hr"), "symbol": "ETHUSDT"},
                {**load("binance", "ticker_24hr"), "lastPrice": "n/a"}],
    "okx": [{"code": "0", "msg": "", "data": []}, {"code": "0", "msg": "", "data": {"last": "1"}}, []],
    "kraken": [{"error": [], "result": {}}, {"error": [], "result": {"XXBTZUSD": {"c": ["109610.1"]}}},
               {"error": [], "result": {"XXBTZUSD": {**load("kraken", "price")["result"]["XXBTZUSD"], "c": []}}}],
    "coinbase_exchange": [[], {"open": "1", "high": "2", "low": "0.5"}, "NotFound"],
    "kucoin": [{"code": "200000", "data": []}, {"code": "200000", "data": "stats"},
               {"code": "200000", "data": {**load("kucoin", "stats")["data"], "last": "n/a"}}],
    "bitfinex": [[109610, 11.2, 109611], {"unexpected": True}, [None] * 10],
}


@pytest.mark.parametrize("slug", SLUGS)
def test_truncated_or_misshapen_answers_are_bad_data(slug):
    raw = json.dumps(load(slug, PAYLOAD[slug])).encode()
    with pytest.raises(BadData):
        adapter(slug).decode(raw[: len(raw) // 2])
    for body in MALFORMED[slug]:
        with pytest.raises(BadData):
            adapter(slug).parse("ticker", TICK, body)


def _fields(slug, payload):
    """The mutable mapping (or row) that holds the ticker's values inside a golden payload."""
    if slug == "okx":
        return payload["data"][0]
    if slug == "kraken":
        return payload["result"]["XXBTZUSD"]
    return payload["data"] if slug == "kucoin" else payload


# Where each layout keeps (last, high, low, bid, ask); Kraken's are lists whose first item is the price.
PLACES = {"binance": ("lastPrice", "highPrice", "lowPrice", "bidPrice", "askPrice"),
          "okx": ("last", "high24h", "low24h", "bidPx", "askPx"),
          "kraken": ("c", "h", "l", "b", "a"),
          "coinbase_exchange": ("last", "high", "low", None, None),
          "kucoin": ("last", "high", "low", "buy", "sell"),
          "bitfinex": (6, 8, 9, 0, 2)}


LIES = ("zero_last", "negative_last", "high_below_low", "crossed", "last_off_range")
# A crossed book needs a bid and an ask: Coinbase Exchange's stats carry neither.
IMPLAUSIBLE = [(slug, lie) for slug in SLUGS for lie in LIES if not (lie == "crossed" and PLACES[slug][3] is None)]


@pytest.mark.parametrize(("slug", "lie"), IMPLAUSIBLE)
def test_implausible_tickers_are_bad_data(slug, lie):
    last, high, low, bid, ask = PLACES[slug]
    payload = copy.deepcopy(load(slug, PAYLOAD[slug]))
    row = _fields(slug, payload)

    def put(place, value):
        if slug == "kraken":
            row[place] = [str(value)] * 3  # [today, 24 h] for h/l, [price, ...] for c/b/a
        else:
            row[place] = value if slug == "bitfinex" else str(value)

    def get(place):
        return float(row[place][0] if slug == "kraken" else row[place])

    if lie == "zero_last":
        put(last, 0)
    elif lie == "negative_last":
        put(last, -get(last))
    elif lie == "high_below_low":
        high_value, low_value = get(high), get(low)
        put(high, low_value)
        put(low, high_value)
    elif lie == "crossed":
        put(bid, get(ask) + 10)
    else:
        put(last, get(high) * 2)
    with pytest.raises(BadData):
        adapter(slug).parse("ticker", TICK, payload)
