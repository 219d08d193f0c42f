"""CoinGecko's parameter rules and the plan each endpoint makes (pure: no server, no provider)."""

import pytest

from healing.dataplane.compat import coingecko_params as cp
from healing.dataplane.compat.coingecko import DIALECT
from healing.dataplane.compat.core import CompatError, Composite, OneAnswer
from healing.dataplane.params import parse_request
from healing.engine import cache
from providers import assets


def refused(call, *args):
    with pytest.raises(CompatError) as caught:
        call(*args)
    return caught.value.status, caught.value.body


@pytest.mark.parametrize(("raw", "expected"), [
    ({}, None), ({"precision": "full"}, None), ({"precision": "0"}, 0), ({"precision": "18"}, 18),
])
def test_precision_is_full_or_a_number_of_decimals(raw, expected):
    assert cp.precision(raw) == expected


@pytest.mark.parametrize("raw", ["19", "-1", "two", "1.5"])
def test_any_other_precision_is_a_400(raw):
    assert refused(cp.precision, {"precision": raw}) == (400, {"error": f"invalid precision {raw!r}: full or 0 to 18"})


def test_flags_are_on_only_when_they_say_true():
    query = {"a": "true", "b": "TRUE", "c": "yes", "d": "false"}
    assert [cp.flag(query, name) for name in "abcde"] == [True, True, False, False, False]
    assert cp.flag(query, "c", default=True) and not cp.flag(query, "d", default=True)


def test_known_ids_keep_the_callers_order_and_drop_symbols_and_unknown_ids():
    assert cp.known_ids(" Ethereum, btc,bitcoin,notacoin,ethereum", assets.current()) == ["ethereum", "bitcoin"]


def test_vs_currencies_are_required_checked_and_capped():
    assert cp.vs_currencies({"vs_currencies": "USD, eur,usd"}) == ["usd", "eur"]
    assert refused(cp.vs_currencies, {"vs_currencies": " , "}) == (400, {"error": "Missing parameter vs_currencies"})
    assert refused(cp.vs_currencies, {"vs_currencies": "u$d"})[0] == 400
    many = ",".join(f"c{chr(97 + n)}x" for n in range(11))
    assert refused(cp.vs_currencies, {"vs_currencies": many}) == (
        400, {"error": "at most 10 vs_currencies per request, got 11"})


def test_markets_query_clamps_the_page_size_and_keeps_known_windows():
    asked = cp.markets_query({"vs_currency": "usd", "per_page": "1000", "page": "0",
                              "price_change_percentage": "1h,24h,2h,7d", "sparkline": "true"})
    assert (asked.per_page, asked.page, asked.start, asked.end) == (250, 1, 0, 250)
    assert asked.windows == ("1h", "24h", "7d") and asked.sparkline
    assert cp.markets_query({"vs_currency": "eur", "per_page": "10", "page": "3"}).start == 20


@pytest.mark.parametrize(("query", "message"), [
    ({"vs_currency": "usd", "order": "gecko_desc"}, "invalid order 'gecko_desc': one of market_cap_desc, "
     "market_cap_asc, volume_desc, volume_asc, id_asc, id_desc"),
    ({"vs_currency": "usd", "per_page": "ten"}, "invalid per_page 'ten': a whole number"),
    ({"vs_currency": "usd", "category": "stablecoins"}, "category is not supported by this gateway"),
    ({}, "Missing parameter vs_currency"),
])
def test_markets_query_refusals_are_coingeckos_400(query, message):
    assert refused(cp.markets_query, query) == (400, {"error": message})


@pytest.mark.parametrize(("days", "expected"), [
    ("1", ("1h", 24)), ("7", ("4h", 42)), ("14", ("4h", 84)), ("30", ("4h", 180)), ("90", ("1d", 90)),
    ("365", ("1d", 365)), ("max", ("1d", 1000)), ("MAX", ("1d", 1000)),
])
def test_ohlc_days_pick_the_nearest_candle_interval(days, expected):
    assert cp.ohlc_candles({"days": days}) == expected


@pytest.mark.parametrize("days", ["2", "0", "", "week"])
def test_ohlc_days_outside_coingeckos_set_are_a_400(days):
    status, body = refused(cp.ohlc_candles, {"days": days})
    assert status == 400 and ("invalid days" in body["error"] or body["error"] == "Missing parameter days")


@pytest.mark.parametrize(("query", "expected"), [
    ({"days": "1"}, ("5m", 288)), ({"days": "0.5"}, ("5m", 144)), ({"days": "2"}, ("1h", 48)),
    ({"days": "41"}, ("1h", 984)), ({"days": "60"}, ("4h", 360)), ({"days": "90"}, ("4h", 540)),
    ({"days": "365"}, ("1d", 365)), ({"days": "5000"}, ("1d", 1000)), ({"days": "max"}, ("1d", 1000)),
    ({"days": "30", "interval": "daily"}, ("1d", 30)), ({"days": "90", "interval": "hourly"}, ("1h", 1000)),
])
def test_market_chart_granularity_follows_coingecko_within_1000_candles(query, expected):
    assert cp.chart_candles(query) == expected


@pytest.mark.parametrize("query", [
    {"days": "-1"}, {"days": "nan"}, {"days": "inf"}, {"days": "1", "interval": "weekly"}])
def test_market_chart_bad_days_or_interval_are_a_400(query):
    assert refused(cp.chart_candles, query)[0] == 400


# --- plans ---------------------------------------------------------------------------------------------


def native_key(name, query):
    request = parse_request(name, query)
    return cache.data_key(request.capability, request.params)


def plan_key(plan):
    return cache.data_key(plan.capability, plan.params)


def test_simple_price_shares_the_native_price_cache_entry():
    plan = DIALECT.plan("simple/price", {"ids": "bitcoin,ethereum", "vs_currencies": "usd"})
    assert isinstance(plan, OneAnswer) and plan.capability == "price"
    assert plan_key(plan) == native_key("price", {"ids": "bitcoin,ethereum", "vs": "usd"})


def test_simple_price_in_several_currencies_is_a_composite_and_unknown_ids_need_no_plan():
    assert isinstance(DIALECT.plan("simple/price", {"ids": "bitcoin", "vs_currencies": "usd,eur"}), Composite)
    assert DIALECT.plan("simple/price", {"ids": "notacoin", "vs_currencies": "usd"}) == {}


@pytest.mark.parametrize(("query", "limit"), [
    ({"per_page": "10"}, 100), ({"per_page": "50", "page": "2"}, 100), ({"per_page": "50", "page": "3"}, 250),
    ({"per_page": "10", "order": "volume_desc"}, 250),
])
def test_coins_markets_asks_the_top_100_or_the_top_250(query, limit):
    plan = DIALECT.plan("coins/markets", {"vs_currency": "usd", **query})
    assert (plan.capability, plan.params) == ("markets", {"vs": "usd", "limit": limit})
    if limit == 100:
        assert plan_key(plan) == native_key("markets", {"vs": "usd"})


def test_coins_markets_with_ids_asks_the_price_of_those_coins():
    plan = DIALECT.plan("coins/markets", {"vs_currency": "eur", "ids": "solana,nope"})
    assert (plan.capability, plan.params) == ("price", {"ids": ["solana"], "vs": "eur"})
    assert DIALECT.plan("coins/markets", {"vs_currency": "eur", "ids": "nope"}) == []


def test_candle_endpoints_share_the_native_candles_entry():
    ohlc = DIALECT.plan("coins/bitcoin/ohlc", {"vs_currency": "usd", "days": "30"})
    chart = DIALECT.plan("coins/bitcoin/market_chart", {"vs_currency": "usd", "days": "30"})
    assert ohlc.params == {"id": "bitcoin", "vs": "usd", "interval": "4h", "limit": 180, "start": None}
    assert chart.params["interval"] == "1h" and chart.params["limit"] == 720
    assert plan_key(ohlc) == native_key("candles", {"id": "bitcoin", "vs": "usd", "interval": "4h", "limit": "180"})


@pytest.mark.parametrize("path", ["coins/notacoin", "coins/notacoin/ohlc", "coins/notacoin/market_chart"])
def test_an_unknown_coin_is_coingeckos_404_before_any_plan(path):
    assert refused(DIALECT.plan, path, {"vs_currency": "usd", "days": "1"}) == (404, {"error": "coin not found"})


@pytest.mark.parametrize("path", ["coins/bitcoin/ohlc/range", "simple", "coins", "nfts/list", "exchanges"])
def test_paths_this_dialect_does_not_serve_are_404(path):
    status, body = refused(DIALECT.plan, path, {})
    assert status == 404 and body["error"].startswith("Incorrect path")


def test_error_bodies_take_coingeckos_two_shapes():
    assert DIALECT.error(400, "bad") == {"error": "bad"}
    assert DIALECT.error(429, "slow down") == {"status": {"error_code": 429, "error_message": "slow down"}}
