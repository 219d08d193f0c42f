"""The Binance dialect's pure parts: symbols through the asset registry, Binance's parameter refusals
with its own codes, and every answer shape from the normalized records."""

import dataclasses

import pytest

from healing.dataplane.compat import binance_shapes as shapes
from healing.dataplane.compat.binance import DIALECT, USD_FOR_USDT_HEADER
from healing.dataplane.compat.binance_symbols import SpotPair, listed_pairs, pair_of
from healing.dataplane.compat.core import CompatError, Composite, OneAnswer
from providers.assets import Asset, Registry
from providers.market_depth import Candle, OrderBook
from providers.tickers import Ticker

BTC = SpotPair("BTCUSDT", "bitcoin", "BTC", "USDT")
TICKER = Ticker(id="bitcoin", vs="usdt", pair="BTCUSDT", last=67_250.5, open=66_000.0, high=68_000.0,
                low=65_500.25, volume=1234.5, quote_volume=82_000_000.0, change=1250.5, change_pct=1.8947,
                vwap=66_900.0, bid=67_250.0, bid_size=0.5, ask=67_251.0, ask_size=0.25,
                open_time="2027-01-14T08:00:00Z", close_time="2027-01-15T07:59:59Z", trades=1000).to_dict()
BOOK = OrderBook(id="bitcoin", vs="usdt", best_bid=100.5, best_ask=101.0, mid=100.75, spread=0.5, spread_pct=0.496,
                 bids=[[100.5, 2.0], [100.0, 1.5]], asks=[[101.0, 0.25], [101.5, 3.0]],
                 timestamp="2027-01-15T08:00:00Z").to_dict()


def candle(open_time, o, h, low, c, volume=1.0, partial=False):
    return Candle(open_time, o, h, low, c, volume, partial).to_dict()


def refusal(call, *args):
    with pytest.raises(CompatError) as caught:
        call(*args)
    return caught.value.status, caught.value.body


# --- symbols ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("symbol", "expected"), [
    ("BTCUSDT", ("bitcoin", "BTC", "USDT", "usdt")),
    ("ETHBTC", ("ethereum", "ETH", "BTC", "btc")),
    ("SOLFDUSD", ("solana", "SOL", "FDUSD", "fdusd")),
    ("USDCUSDT", ("usd-coin", "USDC", "USDT", "usdt")),
    ("DOGEEUR", ("dogecoin", "DOGE", "EUR", "eur")),
])
def test_a_symbol_splits_into_a_registry_coin_and_a_quote(symbol, expected):
    pair = pair_of(symbol)
    assert (pair.coin_id, pair.base, pair.quote, pair.vs) == expected


def test_the_longest_quote_whose_base_is_known_wins():
    # BTCUUSDC could be BTCU/USDC or nothing else; BTCUSDT is BTC/USDT although BTCU is a coin too.
    registry = Registry([Asset("bitcoin", "BTC", "Bitcoin", names={"binance": "BTC"}),
                         Asset("bitcoinu", "BTCU", "Bitcoin U", names={"binance": "BTCU"})])
    assert pair_of("BTCUSDT", registry) == SpotPair("BTCUSDT", "bitcoin", "BTC", "USDT")
    assert pair_of("BTCUUSDC", registry) == SpotPair("BTCUUSDC", "bitcoinu", "BTCU", "USDC")


@pytest.mark.parametrize("symbol", ["NOPEUSDT", "BTC", "USDT", "BTCXYZ", "XBTUSDT"])
def test_symbols_without_a_known_base_or_quote_are_no_pair(symbol):
    assert pair_of(symbol) is None


def test_the_listing_is_every_binance_coin_against_usdt_except_delisted_and_usdt_itself():
    registry = Registry([Asset("bitcoin", "BTC", "Bitcoin", names={"binance": "BTC"}),
                         Asset("tether", "USDT", "Tether", names={"binance": "USDT"}),
                         Asset("gone", "GON", "Gone", names={"binance": "GON"}, delisted=True),
                         Asset("kraken-only", "KRO", "K", names={"kraken": "KRO"}),
                         Asset("ethereum", "ETH", "Ethereum", names={"binance": "ETH"})])
    assert [p.symbol for p in listed_pairs(registry)] == ["BTCUSDT", "ETHUSDT"]


def test_the_shipped_registrys_listing_holds_btcusdt_once():
    symbols = [p.symbol for p in listed_pairs()]
    assert symbols.count("BTCUSDT") == 1 and "USDTUSDT" not in symbols
    assert all(s.endswith("USDT") for s in symbols)


# --- parameters and Binance's refusals -----------------------------------------------------------------------


@pytest.mark.parametrize(("path", "query", "code"), [
    ("ticker/price", {}, -1102),
    ("ticker/price", {"symbol": ""}, -1102),
    ("ticker/price", {"symbol": "btcusdt"}, -1100),
    ("ticker/price", {"symbol": "BTC USDT"}, -1100),
    ("ticker/price", {"symbol": "NOPEUSDT"}, -1121),
    ("ticker/price", {"symbols": "BTCUSDT"}, -1100),
    ("ticker/price", {"symbols": '["btcusdt"]'}, -1100),
    ("ticker/price", {"symbols": "[]"}, -1102),
    ("ticker/price", {"symbols": '["BTCUSDT","BTCUSDT"]'}, -1101),
    ("ticker/price", {"symbols": '["BTCUSDT","NOPEUSDT"]'}, -1121),
    ("ticker/price", {"symbol": "BTCUSDT", "symbols": '["BTCUSDT"]'}, -1128),
    ("ticker/24hr", {"symbol": "BTCUSDT", "type": "HALF"}, -1130),
    ("depth", {"symbol": "BTCUSDT", "limit": "ten"}, -1100),
    ("depth", {"symbol": "BTCUSDT", "limit": "0"}, -1130),
    ("depth", {}, -1102),
    ("klines", {"symbol": "BTCUSDT"}, -1102),
    ("klines", {"symbol": "BTCUSDT", "interval": "2h"}, -1120),
    ("klines", {"symbol": "BTCUSDT", "interval": "1M"}, -1120),
    ("klines", {"symbol": "BTCUSDT", "interval": "1h", "startTime": "-5"}, -1100),
    ("klines", {"symbol": "BTCUSDT", "interval": "1h", "startTime": "1000"}, -1130),
    ("klines", {"symbol": "BTCUSDT", "interval": "1h", "startTime": "1800000000000", "endTime": "1700000000000"},
     -1130),
    ("klines", {"symbol": "BTCUSDT", "interval": "1h", "timeZone": "+08:00"}, -1130),
    ("avgPrice", {"symbol": "NOPEBTC"}, -1121),
    ("exchangeInfo", {"symbol": "NOPEUSDT"}, -1121),
])
def test_bad_requests_are_refused_with_binances_code(path, query, code):
    status, body = refusal(DIALECT.plan, path, query)
    assert status == 400 and body["code"] == code and isinstance(body["msg"], str)


def test_the_refusal_wording_is_binances():
    assert refusal(DIALECT.plan, "ticker/price", {"symbol": "NOPEUSDT"})[1] == {"code": -1121, "msg": "Invalid symbol."}
    assert refusal(DIALECT.plan, "klines", {"symbol": "BTCUSDT", "interval": "3m"})[1]["msg"] == "Invalid interval."
    assert refusal(DIALECT.plan, "depth", {})[1]["msg"] == (
        "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.")


@pytest.mark.parametrize("interval", ["1s", "3m", "30m", "2h", "6h", "8h", "12h", "3d", "1w", "1M"])
def test_binance_intervals_no_exchange_underneath_shares_are_invalid(interval):
    assert refusal(DIALECT.plan, "klines", {"symbol": "BTCUSDT", "interval": interval})[1]["code"] == -1120


def test_an_unknown_path_is_a_404_in_binances_shape():
    status, body = refusal(DIALECT.plan, "ticker/nothing", {})
    assert status == 404 and body["code"] == -1000


# --- plans: the same cache entries as the native endpoints -----------------------------------------------------


def test_one_symbol_is_one_answer_with_the_native_params():
    ticker = DIALECT.plan("ticker/price", {"symbol": "BTCUSDT"})
    book = DIALECT.plan("depth", {"symbol": "ETHBTC", "limit": "5000"})
    candles = DIALECT.plan("klines", {"symbol": "BTCUSDT", "interval": "4h", "limit": "3"})
    assert isinstance(ticker, OneAnswer) and (ticker.capability, dict(ticker.params)) == (
        "ticker", {"id": "bitcoin", "vs": "usdt"})
    assert (book.capability, dict(book.params)) == ("orderbook", {"id": "ethereum", "vs": "btc", "depth": 100})
    assert (candles.capability, dict(candles.params)) == (
        "candles", {"id": "bitcoin", "vs": "usdt", "interval": "4h", "limit": 3, "start": None})


def test_book_ticker_asks_for_the_native_default_book():
    plan = DIALECT.plan("ticker/bookTicker", {"symbol": "BTCUSDT"})
    assert dict(plan.params) == {"id": "bitcoin", "vs": "usdt", "depth": 10}


def test_klines_times_become_the_candles_start_and_count():
    hour = 3600_000
    start = 1_800_000_000_000 - 1_800_000_000_000 % hour  # on an hour boundary
    both = DIALECT.plan("klines", {"symbol": "BTCUSDT", "interval": "1h", "startTime": str(start + 1),
                                   "endTime": str(start + 5 * hour)})
    # startTime just past a boundary: the first candle opens at the next one; a candle opening at
    # endTime is still in (Binance's endTime is inclusive).
    assert (both.params["start"], both.params["limit"]) == (start // 1000 + 3600, 5)
    end_only = DIALECT.plan("klines", {"symbol": "BTCUSDT", "interval": "1h", "endTime": str(start + 90 * 60_000),
                                       "limit": "3"})
    assert (end_only.params["start"], end_only.params["limit"]) == (start // 1000 - 3600, 3)
    assert DIALECT.plan("klines", {"symbol": "BTCUSDT", "interval": "1d", "startTime": str(start + 1),
                                   "endTime": str(start + 2)}) == []


def test_symbols_is_one_composite_and_usdt_stays_usdt_unless_the_operator_allows_usd(settings):
    assert isinstance(DIALECT.plan("ticker/price", {"symbols": '["BTCUSDT","ETHUSDT"]'}), Composite)
    settings.CRYPTOHUB_COMPAT_USDT_AS_USD = False
    assert isinstance(DIALECT.plan("ticker/price", {"symbol": "BTCUSDT"}), OneAnswer)
    settings.CRYPTOHUB_COMPAT_USDT_AS_USD = True
    assert isinstance(DIALECT.plan("ticker/price", {"symbol": "BTCUSDT"}), Composite)
    # Only USDT has a dollar to stand in for it.
    assert isinstance(DIALECT.plan("ticker/price", {"symbol": "ETHBTC"}), OneAnswer)
    assert USD_FOR_USDT_HEADER.startswith("X-Cryptohub-")


# --- shapes ------------------------------------------------------------------------------------------------


def test_ticker_price_is_binances_object_with_a_string_price():
    assert shapes.ticker_price("BTCUSDT", TICKER) == {"symbol": "BTCUSDT", "price": "67250.50000000"}


def test_ticker_24hr_has_binances_fields_in_order_with_strings_and_ms():
    full = shapes.ticker_24hr("BTCUSDT", TICKER)
    assert list(full) == ["symbol", "priceChange", "priceChangePercent", "weightedAvgPrice", "prevClosePrice",
                          "lastPrice", "lastQty", "bidPrice", "bidQty", "askPrice", "askQty", "openPrice",
                          "highPrice", "lowPrice", "volume", "quoteVolume", "openTime", "closeTime", "firstId",
                          "lastId", "count"]
    assert (full["lastPrice"], full["priceChange"], full["priceChangePercent"]) == (
        "67250.50000000", "1250.50000000", "1.895")
    assert (full["bidQty"], full["askPrice"], full["volume"]) == ("0.50000000", "67251.00000000", "1234.50000000")
    assert (full["openTime"], full["closeTime"], full["count"]) == (1_799_913_600_000, 1_799_999_999_000, 1000)
    assert full["firstId"] is full["lastId"] is full["lastQty"] is None
    mini = shapes.ticker_24hr("BTCUSDT", TICKER, mini=True)
    assert list(mini) == ["symbol", "openPrice", "highPrice", "lowPrice", "lastPrice", "volume", "quoteVolume",
                          "openTime", "closeTime", "firstId", "lastId", "count"]


def test_a_ticker_without_optional_fields_answers_nulls_not_inventions():
    bare = Ticker(id="bitcoin", vs="usdt", pair="XBTUSDT", last=1.5).to_dict()
    full = shapes.ticker_24hr("BTCUSDT", bare)
    assert full["lastPrice"] == "1.50000000"
    assert {k for k, v in full.items() if v is None} == set(full) - {"symbol", "lastPrice"}


def test_depth_and_book_ticker_print_levels_as_strings():
    assert shapes.depth(BOOK) == {"lastUpdateId": 1_800_000_000_000,
                                  "bids": [["100.50000000", "2.00000000"], ["100.00000000", "1.50000000"]],
                                  "asks": [["101.00000000", "0.25000000"], ["101.50000000", "3.00000000"]]}
    assert shapes.depth({**BOOK, "timestamp": None})["lastUpdateId"] == 0
    assert shapes.book_ticker("BTCUSDT", BOOK) == {"symbol": "BTCUSDT", "bidPrice": "100.50000000",
                                                   "bidQty": "2.00000000", "askPrice": "101.00000000",
                                                   "askQty": "0.25000000"}


def test_klines_are_twelve_field_rows_with_null_where_no_exchange_gives_a_value():
    rows = shapes.klines([candle("2027-01-15T06:00:00Z", 10, 12, 9, 11, 3.5),
                          candle("2027-01-15T07:00:00Z", 11, 13, 10.5, 12.25, None, partial=True)], 3600)
    assert rows == [
        [1_799_992_800_000, "10.00000000", "12.00000000", "9.00000000", "11.00000000", "3.50000000",
         1_799_996_399_999, None, None, None, None, "0"],
        [1_799_996_400_000, "11.00000000", "13.00000000", "10.50000000", "12.25000000", None,
         1_799_999_999_999, None, None, None, None, "0"],
    ]
    assert len(shapes.klines([candle("2027-01-15T06:00:00Z", 1, 1, 1, 1), candle("2027-01-15T07:00:00Z", 1, 1, 1, 1)],
                             3600, end_ms=1_799_996_399_999)) == 1


def test_avg_price_weighs_the_last_five_minutes_by_volume():
    minutes = [candle(f"2027-01-15T07:5{n}:00Z", 100, 100 + n, 100, 100 + n, volume=n) for n in range(1, 7)]
    body = shapes.avg_price(minutes)
    recent = minutes[-5:]
    weighed = sum((c["high"] + c["low"] + c["close"]) / 3 * c["volume"] for c in recent)
    typical = weighed / sum(c["volume"] for c in recent)
    assert body == {"mins": 5, "price": f"{typical:.8f}", "closeTime": 1_800_000_000_000 - 240_000 + 59_999}


def test_avg_price_without_volumes_is_the_mean_close():
    minutes = [candle(f"2027-01-15T07:5{n}:00Z", 10, 20, 5, 10 + n, volume=None) for n in range(5)]
    assert shapes.avg_price(minutes)["price"] == "12.00000000"


def test_exchange_info_has_the_filters_and_fields_clients_read():
    info = shapes.symbol_info(BTC)
    assert (info["symbol"], info["status"], info["baseAsset"], info["quoteAsset"]) == ("BTCUSDT", "TRADING", "BTC",
                                                                                        "USDT")
    filters = {f["filterType"]: f for f in info["filters"]}
    assert set(filters) == {"PRICE_FILTER", "LOT_SIZE", "NOTIONAL"}
    assert filters["PRICE_FILTER"]["tickSize"] == filters["LOT_SIZE"]["stepSize"] == "0.00000001"
    assert info["permissionSets"] == [["SPOT"]] and info["isSpotTradingAllowed"] is True
    assert "permissionSets" not in shapes.symbol_info(BTC, permission_sets=False)
    body = DIALECT.plan("exchangeInfo", {})
    assert body["timezone"] == "UTC" and len(body["symbols"]) == len(listed_pairs())
    assert [s["symbol"] for s in DIALECT.plan("exchangeInfo", {"symbols": '["ETHBTC","BTCUSDT"]'})["symbols"]] == [
        "ETHBTC", "BTCUSDT"]
    assert DIALECT.plan("exchangeInfo", {"permissions": '["MARGIN"]'})["symbols"] == []
    assert len(DIALECT.plan("exchangeInfo", {"permissions": "SPOT"})["symbols"]) == len(body["symbols"])


def test_every_ticker_field_the_shapes_read_exists_on_the_record():
    names = {f.name for f in dataclasses.fields(Ticker)}
    assert {"last", "open", "high", "low", "volume", "quote_volume", "change", "change_pct", "vwap", "bid",
            "bid_size", "ask", "ask_size", "open_time", "close_time", "trades"} <= names


# --- failures --------------------------------------------------------------------------------------------------


def failed(*outcomes):
    from healing.engine.errors import AllProvidersFailed, Attempt

    return AllProvidersFailed("ticker", [Attempt(f"p{n}", o, 1.0) for n, o in enumerate(outcomes)])


@pytest.mark.parametrize(("outcomes", "status", "code"), [
    (("permanent", "not_found", "permanent"), 400, -1121),  # every exchange: no such pair
    (("skipped_breaker_open", "not_found"), 400, -1121),  # a skipped exchange says nothing
    (("permanent", "transient"), 503, -1000),  # one had an outage: the pair may well exist
    (("rate_limited", "not_found"), 503, -1000),
    (("skipped_budget",), 503, -1000),  # nobody was asked
])
def test_a_failure_is_an_invalid_symbol_only_when_every_exchange_asked_refused_the_pair(outcomes, status, code):
    error = DIALECT.failure(failed(*outcomes), None)
    assert (error.status, error.body["code"]) == (status, code)
    if status == 503:
        assert [a["outcome"] for a in error.body["attempts"]] == list(outcomes)
