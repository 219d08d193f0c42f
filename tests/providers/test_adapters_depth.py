"""Candles and order books: golden payloads in each exchange's real layout -> one normalized answer,
then each provider's own rate limits, errors inside HTTP 200, malformed and implausible answers,
and things that do not exist."""

import copy
import json

import pytest

from providers.adapters.base import AdapterError, BadData, NotFound, Outcome, RequestSpec, UnsupportedCapability
from providers.market_depth import Candle, OrderBook
from tests.providers.golden import adapter, load

CANDLE_SLUGS = ["binance", "kraken", "coinbase_exchange", "okx", "kucoin", "bitfinex"]
BOOK_SLUGS = CANDLE_SLUGS
CANDLE_PAYLOAD = {"binance": "klines", "kraken": "ohlc", "coinbase_exchange": "candles", "okx": "candles",
                  "kucoin": "candles", "bitfinex": "candles"}
BOOK_PAYLOAD = {"binance": "depth", "kraken": "depth", "coinbase_exchange": "book", "okx": "books",
                "kucoin": "orderbook_level2_20", "bitfinex": "book"}
H1 = {"id": "bitcoin", "vs": "usd", "interval": "1h", "limit": 100, "start": None}
BOOK = {"id": "bitcoin", "vs": "usd", "depth": 10}

# The three 1 h candles every golden payload holds (2025-06-10 10:00, 11:00 and the forming 12:00).
GOLDEN_CANDLES = [
    Candle("2025-06-10T10:00:00Z", 109420.5, 109700.0, 109310.2, 109555.1, 412.3, False).to_dict(),
    Candle("2025-06-10T11:00:00Z", 109555.1, 109812.4, 109480.0, 109650.0, 388.9, False).to_dict(),
    Candle("2025-06-10T12:00:00Z", 109650.0, 109660.0, 109590.3, 109600.0, 21.7, True).to_dict(),
]
GOLDEN_BIDS = [[109599.9, 0.5], [109599.0, 1.2], [109598.5, 0.8]]
GOLDEN_ASKS = [[109600.1, 0.4], [109601.0, 2.0], [109602.2, 0.3]]
BOOK_TIME = {"coinbase_exchange": "2025-06-10T12:00:00Z", "okx": "2025-06-10T12:00:00Z",
             "kucoin": "2025-06-10T12:00:00Z"}


# --- requests ---------------------------------------------------------------------------------------


def test_candle_requests_use_each_exchange_pair_and_interval_names():
    start = {**H1, "limit": 24, "start": 1749549600}
    assert adapter("binance").build_request("candles", start) == RequestSpec(
        "/api/v3/klines", {"symbol": "BTCUSDT", "interval": "1h", "limit": 24, "startTime": 1749549600000})
    assert adapter("kraken").build_request("candles", start) == RequestSpec(
        "/0/public/OHLC", {"pair": "XBTUSD", "interval": 60, "since": 1749549599})
    assert adapter("coinbase_exchange").build_request("candles", start) == RequestSpec(
        "/products/BTC-USD/candles",
        {"granularity": 3600, "start": "2025-06-10T10:00:00Z", "end": "2025-06-11T10:00:00Z"})
    assert adapter("okx").build_request("candles", {**start, "interval": "1d"}) == RequestSpec(
        "/api/v5/market/candles", {"instId": "BTC-USDT", "bar": "1Dutc", "limit": 24,
                                   "after": (1749549600 + 24 * 86400) * 1000})
    assert adapter("kucoin").build_request("candles", start) == RequestSpec(
        "/api/v1/market/candles", {"symbol": "BTC-USDT", "type": "1hour", "startAt": 1749549600,
                                   "endAt": 1749549600 + 24 * 3600})
    assert adapter("bitfinex").build_request("candles", H1) == RequestSpec(
        "/candles/trade:1h:tBTCUSD/hist", {"limit": 100})
    assert adapter("bitfinex").build_request("candles", start).params == {
        "limit": 24, "start": 1749549600000, "sort": 1}
    assert adapter("coingecko").build_request("candles", {**H1, "interval": "4h", "limit": 50}) == RequestSpec(
        "/coins/bitcoin/ohlc", {"vs_currency": "usd", "days": 14})


def test_book_requests():
    assert adapter("binance").build_request("orderbook", BOOK) == RequestSpec(
        "/api/v3/depth", {"symbol": "BTCUSDT", "limit": 10})
    assert adapter("kraken").build_request("orderbook", BOOK) == RequestSpec(
        "/0/public/Depth", {"pair": "XBTUSD", "count": 10})
    assert adapter("coinbase_exchange").build_request("orderbook", BOOK) == RequestSpec(
        "/products/BTC-USD/book", {"level": 2})
    assert adapter("okx").build_request("orderbook", BOOK) == RequestSpec(
        "/api/v5/market/books", {"instId": "BTC-USDT", "sz": 10})
    assert adapter("kucoin").build_request("orderbook", BOOK).path == "/api/v1/market/orderbook/level2_20"
    assert adapter("kucoin").build_request("orderbook", {**BOOK, "depth": 50}).path == (
        "/api/v1/market/orderbook/level2_100")
    assert adapter("bitfinex").build_request("orderbook", BOOK) == RequestSpec("/book/tBTCUSD/P0", {"len": 25})


@pytest.mark.parametrize(("slug", "params"), [
    ("coinbase_exchange", {**H1, "interval": "4h"}),  # granularities 1m 5m 15m 1h 6h 1d
    ("bitfinex", {**H1, "interval": "4h"}),  # 3h and 6h, no 4h
    ("coingecko", H1),  # the free /ohlc has fixed granularities: 4 h is the only one of ours
    ("coingecko", {**H1, "interval": "4h", "start": 1749549600}),  # /ohlc always ends now
    ("coingecko", {**H1, "interval": "4h", "limit": 181}),
    ("okx", {**H1, "limit": 301}),
    ("coinbase_exchange", {**H1, "limit": 301}),
    ("kraken", {**H1, "limit": 721}),
])
def test_what_a_provider_cannot_serve_is_unsupported_so_the_engine_falls_back(slug, params):
    with pytest.raises(UnsupportedCapability) as caught:
        adapter(slug).build_request("candles", params)
    assert caught.value.outcome == Outcome.PERMANENT


@pytest.mark.parametrize("slug", CANDLE_SLUGS)
def test_a_coin_without_a_symbol_is_not_found_naming_id(slug):
    for capability, params in (("candles", H1), ("orderbook", BOOK)):
        with pytest.raises(NotFound) as caught:
            adapter(slug).build_request(capability, {**params, "id": "no-such-coin"})
        assert (caught.value.field, caught.value.values) == ("id", ["no-such-coin"])


# --- golden answers -----------------------------------------------------------------------------


@pytest.mark.parametrize("slug", CANDLE_SLUGS)
def test_every_exchange_normalizes_its_candles_to_the_same_answer(slug):
    candles = adapter(slug).parse("candles", H1, load(slug, CANDLE_PAYLOAD[slug]))
    assert candles == GOLDEN_CANDLES


def test_limit_keeps_the_newest_without_start_and_the_first_from_start():
    payload = load("binance", "klines")
    assert adapter("binance").parse("candles", {**H1, "limit": 2}, payload) == GOLDEN_CANDLES[1:]
    from_start = {**H1, "limit": 1, "start": 1749553200}
    assert [c["open_time"] for c in adapter("binance").parse("candles", from_start, payload)] == [
        "2025-06-10T11:00:00Z"]


def test_coingecko_ohlc_times_are_closes_aligned_back_to_opens_without_volume():
    candles = adapter("coingecko").parse("candles", {**H1, "interval": "4h"}, load("coingecko", "ohlc"))
    assert [(c["open_time"], c["partial"], c["volume"]) for c in candles] == [
        ("2025-06-10T04:00:00Z", False, None), ("2025-06-10T08:00:00Z", False, None),
        ("2025-06-10T12:00:00Z", True, None)]
    assert candles[-1]["close"] == 109600.0


def test_kraken_and_okx_say_themselves_which_candle_is_forming():
    # Kraken's `last` is the newest committed candle; OKX's confirm "0" marks the forming one.
    kraken = load("kraken", "ohlc")
    kraken["result"]["last"] = 1749556800
    assert [c["partial"] for c in adapter("kraken").parse("candles", H1, kraken)] == [False, False, False]
    okx = load("okx", "candles")
    okx["data"][0][8] = "1"
    assert [c["partial"] for c in adapter("okx").parse("candles", H1, okx)] == [False, False, False]


@pytest.mark.parametrize("slug", BOOK_SLUGS)
def test_every_exchange_normalizes_its_book_to_the_same_answer(slug):
    book = adapter(slug).parse("orderbook", BOOK, load(slug, BOOK_PAYLOAD[slug]))
    assert book == OrderBook("bitcoin", "usd", 109599.9, 109600.1, 109600.0, 0.2, 0.000182, GOLDEN_BIDS,
                             GOLDEN_ASKS, BOOK_TIME.get(slug)).to_dict()


def test_depth_cuts_each_side_best_first():
    book = adapter("bitfinex").parse("orderbook", {**BOOK, "depth": 2}, load("bitfinex", "book"))
    assert (book["bids"], book["asks"]) == (GOLDEN_BIDS[:2], GOLDEN_ASKS[:2])


# --- provider errors --------------------------------------------------------------------------------

RATE_LIMITS = [
    ("binance", 429, {"code": -1003, "msg": "Too much request weight used; current limit is 6000 request weight."}),
    ("kraken", 200, {"error": ["EAPI:Rate limit exceeded"]}),
    ("coinbase_exchange", 429, {"message": "Public rate limit exceeded"}),
    ("okx", 429, {"msg": "Too Many Requests", "code": "50011"}),
    ("kucoin", 429, {"code": "429000", "msg": "Too Many Requests"}),
    ("bitfinex", 429, {"error": "ERR_RATE_LIMIT"}),
    ("coingecko", 429, {"status": {"error_code": 429, "error_message": "You've exceeded the Rate Limit."}}),
]


@pytest.mark.parametrize(("slug", "status", "body"), RATE_LIMITS)
def test_rate_limits_in_each_provider_shape(slug, status, body):
    capability, params = ("candles", {**H1, "interval": "4h"}) if slug == "coingecko" else ("orderbook", BOOK)
    if status == 200:
        with pytest.raises(AdapterError) as caught:
            adapter(slug).parse(capability, params, body)
        assert caught.value.outcome == Outcome.RATE_LIMITED
    else:
        assert adapter(slug).classify_http_error(status, body) == Outcome.RATE_LIMITED


ERRORS_IN_200 = [
    ("binance", {"code": -1000, "msg": "An unknown error occurred while processing the request."}, Outcome.BAD_DATA),
    ("kraken", {"error": ["EService:Unavailable"]}, Outcome.TRANSIENT),
    ("coinbase_exchange", {"message": "Internal server error"}, Outcome.BAD_DATA),
    ("okx", {"code": "50001", "msg": "Service temporarily unavailable", "data": []}, Outcome.TRANSIENT),
    ("kucoin", {"code": "500000", "msg": "Internal Server Error"}, Outcome.BAD_DATA),
    ("bitfinex", ["error", 20060, "maintenance"], Outcome.TRANSIENT),
    ("okx", {"code": "51001", "msg": "Instrument ID does not exist", "data": []}, Outcome.NOT_FOUND),
    ("okx", {"code": "51000", "msg": "Parameter instId error", "data": []}, Outcome.PERMANENT),
]


@pytest.mark.parametrize(("slug", "body", "outcome"), ERRORS_IN_200)
@pytest.mark.parametrize("capability", ["candles", "orderbook"])
def test_errors_inside_http_200_are_errors(slug, body, outcome, capability):
    with pytest.raises(AdapterError) as caught:
        adapter(slug).parse(capability, H1 if capability == "candles" else BOOK, body)
    assert caught.value.outcome == outcome


@pytest.mark.parametrize("slug", CANDLE_SLUGS)
def test_truncated_or_misshapen_answers_are_bad_data(slug):
    raw = json.dumps(load(slug, CANDLE_PAYLOAD[slug])).encode()
    with pytest.raises(BadData):
        adapter(slug).decode(raw[: len(raw) // 2])
    with pytest.raises(BadData):
        adapter(slug).parse("candles", H1, {"unexpected": True} if slug == "bitfinex" else [{"unexpected": True}])
    with pytest.raises(BadData):
        adapter(slug).parse("orderbook", BOOK, [] if slug != "bitfinex" else [[1, 2]])


def _rows(payload):
    """The candle rows inside a golden payload, whatever the envelope."""
    if isinstance(payload, list):
        return payload
    return payload["data"] if "data" in payload else payload["result"]["XXBTZUSD"]


# Row positions (open, high, low, volume) in each layout.
LAYOUT = {"binance": (1, 2, 3, 5), "kraken": (1, 2, 3, 6), "coinbase_exchange": (3, 2, 1, 5), "okx": (1, 2, 3, 5),
          "kucoin": (1, 3, 4, 5), "bitfinex": (1, 3, 4, 5)}


@pytest.mark.parametrize("slug", CANDLE_SLUGS)
@pytest.mark.parametrize("lie", ["high_below_low", "open_above_high", "negative_volume", "zero_price", "off_boundary"])
def test_implausible_candles_are_bad_data(slug, lie):
    payload = copy.deepcopy(load(slug, CANDLE_PAYLOAD[slug]))
    row = _rows(payload)[1]
    o, h, low, v = LAYOUT[slug]
    as_type = type(row[o])
    if lie == "high_below_low":
        row[h], row[low] = row[low], row[h]
    elif lie == "open_above_high":
        row[o] = as_type(float(row[h]) + 50)
    elif lie == "negative_volume":
        row[v] = as_type(-1.5)
    elif lie == "zero_price":
        row[low] = as_type(0)
    else:
        row[0] = type(row[0])(int(float(row[0])) + (60_000 if slug in ("binance", "okx", "bitfinex") else 60))
    with pytest.raises(BadData):
        adapter(slug).parse("candles", H1, payload)


@pytest.mark.parametrize("slug", BOOK_SLUGS)
@pytest.mark.parametrize("lie", ["crossed", "zero_size", "negative_price"])
def test_implausible_books_are_bad_data(slug, lie):
    payload = copy.deepcopy(load(slug, BOOK_PAYLOAD[slug]))
    if slug == "bitfinex":
        best_bid, best_ask = payload[0], payload[3]
        if lie == "crossed":
            best_bid[0] = best_ask[0] + 1
        elif lie == "zero_size":
            best_ask[2] = 0
        else:
            best_bid[0] = -5
    else:
        sides = payload["data"] if slug == "kucoin" else payload
        sides = sides["data"][0] if slug == "okx" else sides
        sides = sides["result"]["XXBTZUSD"] if slug == "kraken" else sides
        as_type = type(sides["bids"][0][0])
        if lie == "crossed":
            sides["bids"][0][0] = as_type(float(sides["asks"][0][0]) + 1)
        elif lie == "zero_size":
            sides["asks"][0][1] = as_type(0)
        else:
            sides["bids"][0][0] = as_type(-5)
    with pytest.raises(BadData):
        adapter(slug).parse("orderbook", BOOK, payload)


def test_pairs_an_exchange_does_not_list_are_not_found_not_provider_faults():
    with pytest.raises(NotFound) as caught:
        adapter("kucoin").parse("orderbook", BOOK, {"code": "200000", "data": None})
    assert caught.value.field == "id"
    with pytest.raises(NotFound):
        adapter("bitfinex").parse("orderbook", BOOK, [])
    with pytest.raises(NotFound):
        adapter("bitfinex").parse("candles", H1, [])
    assert adapter("coinbase_exchange").classify_http_error(404, {"message": "NotFound"}) == Outcome.NOT_FOUND
    assert not Outcome.NOT_FOUND.counts_against_breaker
