"""Markets, global and trending on CoinGecko, CoinPaprika and CoinCap: golden payloads -> exact
normalized values, and the error classes of each new capability."""

import copy
import json
from pathlib import Path

import pytest

from providers.adapters.base import AdapterError, BadData, Outcome, PermanentError, RequestSpec
from providers.registry import get_adapter, slugs_serving
from providers.schemas import GlobalStats, MarketRow, TrendingCoin

PAYLOADS = Path(__file__).resolve().parent.parent / "payloads"


def load(slug: str, name: str):
    return json.loads((PAYLOADS / slug / f"{name}.json").read_bytes())


def parse(slug: str, capability: str, params: dict, payload):
    return get_adapter(slug).parse(capability, params, payload)


def row(id, symbol, name, rank, price, cap, volume, change, supply, updated, vs="usd") -> dict:
    return MarketRow(id, symbol, name, rank, vs, price, cap, volume, change, supply, updated).to_dict()


def trend(id, symbol, name, position, rank, price) -> dict:
    return TrendingCoin(id, symbol, name, position, rank, price).to_dict()


MARKETS = {"vs": "usd", "limit": 100}


# --- registry -----------------------------------------------------------------------------


def test_every_capability_of_the_table_has_its_providers():
    assert slugs_serving("markets") == ["coincap", "coingecko", "coinlore", "coinpaprika"]
    assert slugs_serving("global") == ["coingecko", "coinlore", "coinpaprika"]
    assert slugs_serving("trending") == ["coingecko", "coinpaprika"]


# --- requests -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("slug", "capability", "params", "expected"),
    [
        ("coingecko", "markets", {"vs": "eur", "limit": 20}, RequestSpec("/coins/markets", {
            "vs_currency": "eur", "order": "market_cap_desc", "per_page": 20, "page": 1, "sparkline": "false"})),
        ("coingecko", "global", {}, RequestSpec("/global")),
        ("coingecko", "trending", {}, RequestSpec("/search/trending")),
        ("coinpaprika", "markets", {"vs": "eur", "limit": 20}, RequestSpec("/tickers", {"quotes": "EUR"})),
        ("coinpaprika", "global", {}, RequestSpec("/global")),
        ("coinpaprika", "trending", {"limit": 5}, RequestSpec("/tickers", {"quotes": "USD"})),
        ("coincap", "markets", {"vs": "usd", "limit": 20}, RequestSpec("/assets", {"limit": 20})),
    ],
)
def test_requests(slug, capability, params, expected):
    assert get_adapter(slug).build_request(capability, params) == expected


@pytest.mark.parametrize(("slug", "key"), [("coingecko", "per_page"), ("coincap", "limit")])
def test_markets_limit_is_clamped_to_one_page_of_250(slug, key):
    assert get_adapter(slug).build_request("markets", {"vs": "usd", "limit": 5000}).params[key] == 250
    assert get_adapter(slug).build_request("markets", {"vs": "usd", "limit": 0}).params[key] == 100


@pytest.mark.parametrize(
    ("slug", "capability", "params"),
    [("coincap", "markets", {"vs": "eur", "limit": 10}), ("coinpaprika", "global", {"vs": "eur"})],
)
def test_currencies_a_provider_does_not_quote_are_permanent_before_any_request(slug, capability, params):
    with pytest.raises(PermanentError, match="eur"):
        get_adapter(slug).build_request(capability, params)


# --- CoinGecko ----------------------------------------------------------------------------


def test_coingecko_markets_golden():
    assert parse("coingecko", "markets", MARKETS, load("coingecko", "markets")) == [
        row("bitcoin", "BTC", "Bitcoin", 1, 109612.0, 2178834512345.0, 38212345678.0, 1.54168, 19877312.0,
            "2025-06-10T11:59:41Z"),
        row("ethereum", "ETH", "Ethereum", 2, 2770.84, 334512345678.0, 21812345678.0, 3.11902, 120727391.5,
            "2025-06-10T11:59:38Z"),
        row("tether", "USDT", "Tether", 3, 1.0002, 154432101234.0, 61234567890.0, 0.01802, 154400000000.0,
            "2025-06-10T11:59:40Z"),
    ]


def test_coingecko_markets_keep_the_requested_currency_and_limit():
    rows = parse("coingecko", "markets", {"vs": "eur", "limit": 2}, load("coingecko", "markets"))
    assert [(r["id"], r["vs"]) for r in rows] == [("bitcoin", "eur"), ("ethereum", "eur")]


def test_coingecko_global_golden():
    assert parse("coingecko", "global", {}, load("coingecko", "global")) == GlobalStats(
        vs="usd",
        total_market_cap=3421987654321.5,
        total_volume_24h=112345678901.2,
        btc_dominance_pct=63.6751,
        eth_dominance_pct=9.7756,
        market_cap_change_24h_pct=0.8512,
        active_coins=17523,
        updated_at="2025-06-10T11:55:12Z",
    ).to_dict()


def test_coingecko_global_in_another_currency_and_one_it_does_not_list():
    stats = parse("coingecko", "global", {"vs": "eur"}, load("coingecko", "global"))
    assert (stats["vs"], stats["total_market_cap"], stats["total_volume_24h"]) == ("eur", 3001425731548.2,
                                                                                    98538406924.3)
    with pytest.raises(PermanentError, match="xyz"):
        parse("coingecko", "global", {"vs": "xyz"}, load("coingecko", "global"))


def test_coingecko_trending_golden_uses_the_usd_price_number_not_the_display_strings():
    assert parse("coingecko", "trending", {}, load("coingecko", "trending")) == [
        trend("pepe", "PEPE", "Pepe", 1, 24, 0.00001297),
        trend("sui", "SUI", "Sui", 2, 12, 3.27),
        trend("hyperliquid", "HYPE", "Hyperliquid", 3, None, 39.81),
    ]
    assert len(parse("coingecko", "trending", {"limit": 2}, load("coingecko", "trending"))) == 2


def test_coingecko_trending_entry_without_data_has_no_price():
    payload = load("coingecko", "trending")
    del payload["coins"][0]["item"]["data"]
    assert parse("coingecko", "trending", {"limit": 1}, payload) == [trend("pepe", "PEPE", "Pepe", 1, 24, None)]


# --- CoinPaprika --------------------------------------------------------------------------


def test_coinpaprika_markets_golden_sorted_by_rank_unranked_last():
    rows = parse("coinpaprika", "markets", MARKETS, load("coinpaprika", "tickers"))
    stamp = "2025-06-10T11:59:36Z"
    assert [(r["id"], r["rank"]) for r in rows] == [
        ("bitcoin", 1), ("ethereum", 2), ("hype-hyperliquid", 14), ("pepe", 24), ("tiny-smallcap", 742),
        ("scam-rocket", None),
    ]
    assert rows[:2] == [
        row("bitcoin", "BTC", "Bitcoin", 1, 109598.42, 2178505127511.0, 37910522417.1, 1.49, 19877312.0, stamp),
        row("ethereum", "ETH", "Ethereum", 2, 2770.12, 334429166220.0, 21803311908.4, 3.11, 120727391.0, stamp),
    ]
    assert len(parse("coinpaprika", "markets", {"vs": "usd", "limit": 3}, load("coinpaprika", "tickers"))) == 3


def test_coinpaprika_trending_is_top_gainers_among_ranked_top_coins():
    assert parse("coinpaprika", "trending", {}, load("coinpaprika", "tickers")) == [
        trend("pepe", "PEPE", "Pepe", 1, 24, 0.00001297),
        trend("ethereum", "ETH", "Ethereum", 2, 2, 2770.12),
        trend("bitcoin", "BTC", "Bitcoin", 3, 1, 109598.42),
        trend("hype-hyperliquid", "HYPE", "Hyperliquid", 4, 14, 39.8),
    ]
    assert [c["id"] for c in parse("coinpaprika", "trending", {"limit": 2}, load("coinpaprika", "tickers"))] == [
        "pepe", "ethereum"]


def test_coinpaprika_global_golden():
    assert parse("coinpaprika", "global", {}, load("coinpaprika", "global")) == GlobalStats(
        vs="usd",
        total_market_cap=3418765432109.0,
        total_volume_24h=112098765432.0,
        btc_dominance_pct=63.72,
        eth_dominance_pct=None,
        market_cap_change_24h_pct=0.82,
        active_coins=11042,
        updated_at="2025-06-10T11:55:02Z",
    ).to_dict()


def test_coinpaprika_markets_in_a_currency_the_answer_lacks_is_bad_data():
    with pytest.raises(BadData, match="eur"):
        parse("coinpaprika", "markets", {"vs": "eur", "limit": 5}, load("coinpaprika", "tickers"))


# --- CoinCap ------------------------------------------------------------------------------


def test_coincap_markets_golden_sorts_string_and_integer_ranks_and_maps_ids():
    stamp = "2025-06-10T12:00:00Z"
    rows = parse("coincap", "markets", MARKETS, load("coincap", "markets"))
    assert [(r["id"], r["rank"]) for r in rows] == [("bitcoin", 1), ("ethereum", 2), ("tether", 3),
                                                     ("binancecoin", 4)]
    assert rows[0] == row("bitcoin", "BTC", "Bitcoin", 1, 109615.3172516294820001, 2178811204512.7331427160513792,
                          11204918340.5522187469036129, 1.5612008218930711, 19877312.0, stamp)
    assert len(parse("coincap", "markets", {"vs": "usd", "limit": 2}, load("coincap", "markets"))) == 2


def test_coincap_markets_from_the_retired_v2_notice_is_bad_data():
    with pytest.raises(BadData, match="notice"):
        parse("coincap", "markets", MARKETS, load("coincap", "v2_deprecated"))


# --- errors common to the new capabilities -------------------------------------------------

CASES = [
    ("coingecko", "markets", MARKETS, "markets"),
    ("coingecko", "global", {}, "global"),
    ("coingecko", "trending", {}, "trending"),
    ("coinpaprika", "markets", MARKETS, "tickers"),
    ("coinpaprika", "global", {}, "global"),
    ("coinpaprika", "trending", {}, "tickers"),
    ("coincap", "markets", MARKETS, "markets"),
]


@pytest.mark.parametrize(("slug", "capability", "params", "_"), CASES)
@pytest.mark.parametrize("payload", ["a string", 42, None, [1, 2], {"data": "nothing"}, [], {}])
def test_malformed_answers_are_bad_data_never_a_crash(slug, capability, params, _, payload):
    with pytest.raises(AdapterError) as raised:
        parse(slug, capability, params, copy.deepcopy(payload))
    assert raised.value.outcome == Outcome.BAD_DATA


ERROR_BODIES_IN_200 = {
    "coingecko": [(load("coingecko", "error_429"), Outcome.RATE_LIMITED),
                  (load("coingecko", "error_10002"), Outcome.PERMANENT)],
    "coinpaprika": [({"error": "internal error"}, Outcome.BAD_DATA)],
    "coincap": [(load("coincap", "error_401"), Outcome.BAD_DATA)],
}


@pytest.mark.parametrize(
    ("slug", "capability", "params", "body", "outcome"),
    [(slug, capability, params, body, outcome)
     for slug, capability, params, _ in CASES for body, outcome in ERROR_BODIES_IN_200[slug]],
)
def test_errors_inside_http_200_are_errors(slug, capability, params, body, outcome):
    with pytest.raises(AdapterError) as raised:
        parse(slug, capability, params, body)
    assert raised.value.outcome == outcome


@pytest.mark.parametrize(
    ("slug", "status", "body", "outcome"),
    [
        ("coingecko", 429, load("coingecko", "error_429"), Outcome.RATE_LIMITED),
        ("coinpaprika", 429, load("coinpaprika", "error_429"), Outcome.RATE_LIMITED),
        ("coincap", 429, {"error": "Too Many Requests"}, Outcome.RATE_LIMITED),
        ("coingecko", 503, None, Outcome.TRANSIENT),
        ("coinpaprika", 502, None, Outcome.TRANSIENT),
        ("coincap", 401, load("coincap", "error_401"), Outcome.PERMANENT),
        # {"error": "coin not found"}: the caller's unknown coin, which no breaker counts.
        ("coingecko", 404, load("coingecko", "error_404"), Outcome.NOT_FOUND),
        ("coingecko", 404, {"error": "Incorrect path"}, Outcome.PERMANENT),
        ("coingecko", 404, None, Outcome.PERMANENT),
    ],
)
def test_http_errors_are_classified_whatever_the_capability(slug, status, body, outcome):
    assert get_adapter(slug).classify_http_error(status, body) == outcome


def _set(path, value):
    def mutate(payload):
        target = payload
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return mutate


@pytest.mark.parametrize(
    ("slug", "capability", "params", "name", "mutate", "match"),
    [
        ("coingecko", "markets", MARKETS, "markets", _set([1, "current_price"], 0), "implausible price"),
        ("coingecko", "markets", MARKETS, "markets", _set([0, "current_price"], None), "implausible price"),
        ("coingecko", "markets", MARKETS, "markets", _set([2, "market_cap"], -5), "negative market cap"),
        ("coingecko", "markets", MARKETS, "markets", _set([0, "last_updated"], "last tuesday"), "bad timestamp"),
        ("coingecko", "global", {}, "global", _set(["data", "total_market_cap", "usd"], 0), "total market cap"),
        ("coingecko", "global", {}, "global", _set(["data", "market_cap_percentage", "btc"], 0.6368 * 1000),
         "btc_dominance"),
        ("coingecko", "global", {}, "global", _set(["data", "market_cap_percentage", "eth"], 40), "more than 100"),
        # Milliseconds where seconds belong: a unit mix-up, not a date in 57,000 AD.
        ("coingecko", "global", {}, "global", _set(["data", "updated_at"], 1749556512000), "timestamp"),
        ("coingecko", "trending", {}, "trending", _set(["coins", 1, "item", "data", "price"], -1), "implausible"),
        ("coingecko", "trending", {}, "trending", _set(["coins", 0, "item", "id"], ""), "item id"),
        ("coingecko", "markets", MARKETS, "markets", _set([2, "last_updated"], "2025-06-14T00:00:00Z"), "future"),
        ("coinpaprika", "markets", MARKETS, "tickers", _set([1, "quotes", "USD", "price"], 0), "implausible price"),
        ("coinpaprika", "markets", MARKETS, "tickers", _set([0, "last_updated"], "2026-06-10T11:59:36Z"), "future"),
        ("coinpaprika", "trending", {}, "tickers", _set([4, "quotes", "USD", "price"], -0.1), "implausible price"),
        ("coinpaprika", "global", {}, "global", _set(["market_cap_usd"], None), "total_market_cap is missing"),
        ("coinpaprika", "global", {}, "global", _set(["bitcoin_dominance_percentage"], 163.7), "btc_dominance"),
        ("coincap", "markets", MARKETS, "markets", _set(["data", 0, "priceUsd"], "-1"), "implausible price"),
        ("coincap", "markets", MARKETS, "markets", _set(["data", 2, "marketCapUsd"], "lots"), "not a number"),
    ],
)
def test_implausible_answers_are_bad_data(slug, capability, params, name, mutate, match):
    payload = load(slug, name)
    mutate(payload)
    with pytest.raises(BadData, match=match):
        parse(slug, capability, params, payload)


def test_coinpaprika_trending_without_any_ranked_mover_is_bad_data():
    payload = [t for t in load("coinpaprika", "tickers") if t["rank"] == 0 or t["rank"] > 100]
    with pytest.raises(BadData, match="no ranked coin"):
        parse("coinpaprika", "trending", {}, payload)
