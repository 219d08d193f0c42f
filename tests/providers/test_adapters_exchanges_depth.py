"""Candles and order books of Bitstamp, Gemini, Bybit and Gate.io: requests in each exchange's own
names, golden payloads in their real layouts -> the same normalized answer as every other exchange,
and what each cannot serve, its errors, malformed and implausible answers."""

import copy

import pytest

from providers.adapters.base import AdapterError, BadData, NotFound, Outcome, RequestSpec, UnsupportedCapability
from providers.market_depth import OrderBook
from tests.providers.golden import PAYLOADS, adapter, load
from tests.providers.test_adapters_depth import BOOK, GOLDEN_ASKS, GOLDEN_BIDS, GOLDEN_CANDLES, H1

SLUGS = ["bitstamp", "gemini", "bybit", "gateio"]
CANDLE_PAYLOAD = {"bitstamp": "ohlc", "gemini": "candles", "bybit": "kline", "gateio": "candlesticks"}
BOOK_PAYLOAD = {"bitstamp": "order_book", "gemini": "book", "bybit": "orderbook", "gateio": "order_book"}
BOOK_TIME = {"bitstamp": "2025-06-10T12:00:00Z", "bybit": "2025-06-10T12:00:00Z", "gateio": "2025-06-10T12:00:00Z"}
START = {**H1, "limit": 24, "start": 1749549600}


def test_candle_requests_use_each_exchange_pair_and_interval_names():
    assert adapter("bitstamp").build_request("candles", START) == RequestSpec(
        "/ohlc/btcusd/", {"step": 3600, "limit": 24, "start": 1749549600})
    assert adapter("gemini").build_request("candles", H1) == RequestSpec("/v2/candles/btcusd/1hr")
    assert adapter("gemini").build_request("candles", {**H1, "interval": "1d"}).path == "/v2/candles/btcusd/1day"
    assert adapter("bybit").build_request("candles", START) == RequestSpec("/v5/market/kline", {
        "category": "spot", "symbol": "BTCUSDT", "interval": "60", "limit": 24, "start": 1749549600000,
        "end": (1749549600 + 24 * 3600) * 1000 - 1})
    assert adapter("bybit").build_request("candles", {**H1, "interval": "1d"}).params["interval"] == "D"
    assert adapter("gateio").build_request("candles", H1) == RequestSpec(
        "/spot/candlesticks", {"currency_pair": "BTC_USDT", "interval": "1h", "limit": 100})
    # Gate.io refuses limit together with from/to: a window is from .. to (inclusive), no limit.
    assert adapter("gateio").build_request("candles", {**START, "interval": "4h"}).params == {
        "currency_pair": "BTC_USDT", "interval": "4h", "from": 1749549600, "to": 1749549600 + 24 * 14400 - 1}


def test_book_requests():
    assert adapter("bitstamp").build_request("orderbook", BOOK) == RequestSpec("/order_book/btcusd/", {"group": 1})
    assert adapter("gemini").build_request("orderbook", BOOK) == RequestSpec(
        "/v1/book/btcusd", {"limit_bids": 10, "limit_asks": 10})
    assert adapter("bybit").build_request("orderbook", BOOK) == RequestSpec(
        "/v5/market/orderbook", {"category": "spot", "symbol": "BTCUSDT", "limit": 10})
    assert adapter("gateio").build_request("orderbook", {**BOOK, "vs": "eur"}) == RequestSpec(
        "/spot/order_book", {"currency_pair": "BTC_EUR", "limit": 10})


def test_usd_is_a_real_usd_book_on_bitstamp_and_gemini_and_usdt_on_bybit_and_gateio():
    usdt = {**BOOK, "vs": "usdt"}
    assert adapter("bitstamp").build_request("orderbook", usdt).path == "/order_book/btcusdt/"
    assert adapter("gemini").build_request("orderbook", BOOK).path == "/v1/book/btcusd"
    assert adapter("bybit").build_request("orderbook", usdt).params["symbol"] == "BTCUSDT"
    assert adapter("gateio").build_request("orderbook", usdt).params["currency_pair"] == "BTC_USDT"


@pytest.mark.parametrize(("slug", "params"), [
    ("gemini", {**H1, "interval": "4h"}),  # time frames 1m 5m 15m 30m 1hr 6hr 1day: no 4h
    ("gemini", START),  # the candles always end now
    ("bitstamp", {**H1, "limit": 1001}),
    ("bybit", {**H1, "limit": 1001}),
    ("gateio", {**H1, "limit": 1001}),
])
def test_what_a_provider_cannot_serve_is_unsupported_so_the_engine_falls_back(slug, params):
    with pytest.raises(UnsupportedCapability) as caught:
        adapter(slug).build_request("candles", params)
    assert caught.value.outcome == Outcome.PERMANENT


@pytest.mark.parametrize("slug", SLUGS)
def test_a_coin_the_exchange_does_not_list_is_not_found_naming_id(slug):
    # Monero is in the registry but on none of the four.
    for capability, params in (("candles", H1), ("orderbook", BOOK)):
        with pytest.raises(NotFound) as caught:
            adapter(slug).build_request(capability, {**params, "id": "monero"})
        assert (caught.value.field, caught.value.values) == ("id", ["monero"])


# --- golden answers -----------------------------------------------------------------------------


@pytest.mark.parametrize("slug", SLUGS)
def test_every_exchange_normalizes_its_candles_to_the_same_answer(slug):
    assert adapter(slug).parse("candles", H1, load(slug, CANDLE_PAYLOAD[slug])) == GOLDEN_CANDLES


def test_newest_first_answers_keep_the_newest_and_start_keeps_the_first():
    for slug in ("gemini", "bybit"):
        newest_two = adapter(slug).parse("candles", {**H1, "limit": 2}, load(slug, CANDLE_PAYLOAD[slug]))
        assert newest_two == GOLDEN_CANDLES[1:], slug
    from_start = {**H1, "limit": 1, "start": 1749553200}
    assert adapter("bybit").parse("candles", from_start, load("bybit", "kline")) == GOLDEN_CANDLES[1:2]


def test_gateio_says_itself_which_candle_is_forming():
    payload = load("gateio", "candlesticks")
    payload[-1][7] = "true"
    assert [c["partial"] for c in adapter("gateio").parse("candles", H1, payload)] == [False, False, False]


@pytest.mark.parametrize("slug", SLUGS)
def test_every_exchange_normalizes_its_book_to_the_same_answer(slug):
    book = adapter(slug).parse("orderbook", BOOK, load(slug, BOOK_PAYLOAD[slug]))
    assert book == OrderBook("bitcoin", "usd", 109599.9, 109600.1, 109600.0, 0.2, 0.000182, GOLDEN_BIDS,
                             GOLDEN_ASKS, BOOK_TIME.get(slug)).to_dict()


def test_depth_cuts_a_book_that_has_no_depth_parameter():
    book = adapter("bitstamp").parse("orderbook", {**BOOK, "depth": 2}, load("bitstamp", "order_book"))
    assert (book["bids"], book["asks"]) == (GOLDEN_BIDS[:2], GOLDEN_ASKS[:2])


# --- provider errors --------------------------------------------------------------------------------

ERRORS_IN_200 = [
    ("bitstamp", {"status": "error", "reason": "Rate limit exceeded"}, Outcome.RATE_LIMITED),
    ("bitstamp", {"status": "error", "reason": "Internal error"}, Outcome.BAD_DATA),
    ("gemini", {"result": "error", "reason": "RateLimited", "message": "Requests were made too frequently"},
     Outcome.RATE_LIMITED),
    ("gemini", {"result": "error", "reason": "Maintenance", "message": "The system is down for maintenance"},
     Outcome.TRANSIENT),
    ("bybit", load("bybit", "error_10006"), Outcome.RATE_LIMITED),
    ("bybit", {"retCode": 10016, "retMsg": "Internal system error.", "result": {}, "time": 1}, Outcome.TRANSIENT),
    ("bybit", {"retCode": 10001, "retMsg": "params error: interval invalid", "result": {}, "time": 1},
     Outcome.PERMANENT),
    ("bybit", load("bybit", "error_10001"), Outcome.NOT_FOUND),  # "Not supported symbols"
    ("gateio", load("gateio", "error_429"), Outcome.RATE_LIMITED),
    ("gateio", {"label": "SERVER_ERROR", "message": "Internal server error"}, Outcome.TRANSIENT),
]


@pytest.mark.parametrize(("slug", "body", "outcome"), ERRORS_IN_200)
@pytest.mark.parametrize("capability", ["candles", "orderbook"])
def test_errors_inside_http_200_are_errors(slug, body, outcome, capability):
    with pytest.raises(AdapterError) as caught:
        adapter(slug).parse(capability, H1 if capability == "candles" else BOOK, body)
    assert caught.value.outcome == outcome


@pytest.mark.parametrize(("slug", "status", "body", "outcome"), [
    ("bitstamp", 429, load("bitstamp", "error_429"), Outcome.RATE_LIMITED),
    ("bitstamp", 404, None, Outcome.PERMANENT),  # an unknown pair's path
    ("gemini", 429, load("gemini", "error_429"), Outcome.RATE_LIMITED),
    ("gemini", 400, load("gemini", "error_invalid_symbol"), Outcome.NOT_FOUND),
    ("gemini", 400, {"result": "error", "reason": "InvalidParameter", "message": "bad"}, Outcome.PERMANENT),
    ("bybit", 403, None, Outcome.RATE_LIMITED),  # "access too frequent": the IP limit
    ("bybit", 429, load("bybit", "error_10006"), Outcome.RATE_LIMITED),
    ("gateio", 429, load("gateio", "error_429"), Outcome.RATE_LIMITED),
    ("gateio", 400, load("gateio", "error_invalid_pair"), Outcome.NOT_FOUND),
    ("gateio", 400, {"label": "INVALID_PARAM_VALUE", "message": "limit"}, Outcome.PERMANENT),
    ("gateio", 502, None, Outcome.TRANSIENT),
])
def test_http_errors_are_classified_from_status_and_body(slug, status, body, outcome):
    assert adapter(slug).classify_http_error(status, body) == outcome


MISSHAPEN_CANDLES = {"bitstamp": [{"data": {"ohlc": "none"}}, {"data": []}, []],
                     "gemini": [{"candles": []}, [[1749556800000, 1.0]]],
                     "bybit": [{"retCode": 0, "result": {"list": [["1749556800000", "1"]]}}, {"retCode": 0}],
                     "gateio": [{"data": []}, [["1749556800", "1", "2"]]]}
MISSHAPEN_BOOKS = {"bitstamp": [[], {"bids": "none", "asks": []}],
                   "gemini": [[], {"bids": [["109599.9", "0.5"]], "asks": [["109600.1", "0.4"]]}],
                   "bybit": [{"retCode": 0, "result": {"b": [], "a": "none"}}, {"retCode": 0, "result": []}],
                   "gateio": [[], {"bids": [], "asks": [["109600.1", "0.4"]]}]}


@pytest.mark.parametrize("slug", SLUGS)
def test_truncated_or_misshapen_answers_are_bad_data(slug):
    raw = (PAYLOADS / slug / f"{CANDLE_PAYLOAD[slug]}.json").read_bytes()
    with pytest.raises(BadData):
        adapter(slug).decode(raw[: len(raw) // 2])
    for body in MISSHAPEN_CANDLES[slug]:
        with pytest.raises(BadData):
            adapter(slug).parse("candles", H1, body)
    for body in MISSHAPEN_BOOKS[slug]:
        with pytest.raises(BadData):
            adapter(slug).parse("orderbook", BOOK, body)


def _candle_rows(slug, payload):
    """The candle rows of a golden payload, as (row, open, high, low, volume) places."""
    if slug == "bitstamp":
        return payload["data"]["ohlc"], ("open", "high", "low", "volume")
    if slug == "bybit":
        return payload["result"]["list"], (1, 2, 3, 5)
    return payload, (1, 2, 3, 5) if slug == "gemini" else (5, 3, 4, 6)


@pytest.mark.parametrize("slug", SLUGS)
@pytest.mark.parametrize("lie", ["high_below_low", "open_above_high", "negative_volume", "zero_price", "off_boundary"])
def test_implausible_candles_are_bad_data(slug, lie):
    payload = copy.deepcopy(load(slug, CANDLE_PAYLOAD[slug]))
    rows, (o, h, low, v) = _candle_rows(slug, payload)
    row = rows[1]
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
        time_key = "timestamp" if slug == "bitstamp" else 0
        step = 60_000 if slug in ("gemini", "bybit") else 60
        row[time_key] = type(row[time_key])(int(float(row[time_key])) + step)
    with pytest.raises(BadData):
        adapter(slug).parse("candles", H1, payload)


def _sides(slug, payload):
    return payload["result"] if slug == "bybit" else payload


@pytest.mark.parametrize("slug", SLUGS)
@pytest.mark.parametrize("lie", ["crossed", "zero_size", "negative_price"])
def test_implausible_books_are_bad_data(slug, lie):
    payload = copy.deepcopy(load(slug, BOOK_PAYLOAD[slug]))
    sides = _sides(slug, payload)
    bids, asks = (sides["b"], sides["a"]) if slug == "bybit" else (sides["bids"], sides["asks"])
    price, size = ("price", "amount") if slug == "gemini" else (0, 1)
    if lie == "crossed":
        bids[0][price] = str(float(asks[0][price]) + 1)
    elif lie == "zero_size":
        asks[0][size] = "0"
    else:
        bids[0][price] = "-5"
    with pytest.raises(BadData):
        adapter(slug).parse("orderbook", BOOK, payload)
