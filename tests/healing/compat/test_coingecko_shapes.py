"""CoinGecko's answer shapes from normalized records (pure functions, golden values)."""

import pytest

from healing.dataplane.compat import coingecko_shapes as shapes
from healing.dataplane.compat.coingecko_params import MarketsQuery
from providers.assets import Asset, Registry

BTC = {"id": "bitcoin", "symbol": "BTC", "vs": "usd", "price": 109600.123456, "market_cap": 2.18e12,
       "volume_24h": 38.2e9, "change_24h_pct": 1.54, "last_updated": "2025-06-10T12:00:00Z"}
ETH = {"id": "ethereum", "symbol": None, "vs": "usd", "price": 2770.0, "market_cap": None, "volume_24h": None,
       "change_24h_pct": None, "last_updated": None}
BTC_EUR = {**BTC, "vs": "eur", "price": 96130.5, "last_updated": "2025-06-10T12:00:05Z"}
REGISTRY = Registry([Asset("bitcoin", "BTC", "Bitcoin", 1), Asset("ethereum", "ETH", "Ethereum", 2),
                     Asset("tether", "USDT", "Tether", 3, platforms={"ethereum": "0xdac1"}),
                     Asset("oldcoin", "OLD", "Old Coin", None, delisted=True)])


def test_simple_price_has_only_the_asked_keys():
    everything = shapes.PriceOptions(market_cap=True, volume=True, change=True, last_updated=True)
    assert shapes.simple_price(["bitcoin"], {"usd": [BTC]}, everything) == {"bitcoin": {
        "usd": 109600.123456, "usd_market_cap": 2.18e12, "usd_24h_vol": 38.2e9, "usd_24h_change": 1.54,
        "last_updated_at": 1749556800}}
    plain = shapes.simple_price(["bitcoin"], {"usd": [BTC]}, shapes.PriceOptions())
    assert plain == {"bitcoin": {"usd": 109600.123456}}


def test_simple_price_unknown_values_are_null_and_unpriced_ids_absent():
    options = shapes.PriceOptions(market_cap=True, last_updated=True)
    assert shapes.simple_price(["ethereum", "solana"], {"usd": [ETH]}, options) == {
        "ethereum": {"usd": 2770.0, "usd_market_cap": None, "last_updated_at": None}}


def test_simple_price_merges_currencies_in_the_asked_order_with_the_first_update_time():
    body = shapes.simple_price(["ethereum", "bitcoin"], {"usd": [BTC, ETH], "eur": [BTC_EUR]},
                               shapes.PriceOptions(last_updated=True))
    assert list(body) == ["ethereum", "bitcoin"]
    assert body["bitcoin"] == {"usd": 109600.123456, "eur": 96130.5, "last_updated_at": 1749556800}
    assert body["ethereum"] == {"usd": 2770.0, "last_updated_at": None}


@pytest.mark.parametrize(("places", "expected"), [
    (None, 109600.123456), (0, 109600), (2, 109600.12), (8, 109600.123456)])
def test_precision_rounds_every_currency_value(places, expected):
    body = shapes.simple_price(["bitcoin"], {"usd": [BTC]}, shapes.PriceOptions(change=True, precision=places))
    assert body["bitcoin"]["usd"] == expected and type(body["bitcoin"]["usd"]) is type(expected)
    assert body["bitcoin"]["usd_24h_change"] == (2 if places == 0 else 1.54)


MARKET_ROW = {"id": "bitcoin", "symbol": "BTC", "name": "Bitcoin", "rank": 1, "vs": "usd", "price": 101.0,
              "market_cap": 500.0, "volume_24h": 40.0, "change_24h_pct": 1.0, "circulating_supply": 19.8e6,
              "last_updated": "2025-06-10T12:00:00Z"}


def test_a_market_row_has_every_coingecko_key_and_nulls_for_what_nobody_gives():
    (row,) = shapes.market_rows([MARKET_ROW], REGISTRY, MarketsQuery(vs="usd"))
    assert list(row) == list(shapes.MARKET_ROW_KEYS)
    assert {k: row[k] for k in ("id", "symbol", "name", "current_price", "market_cap", "market_cap_rank",
                                "total_volume", "price_change_percentage_24h", "circulating_supply",
                                "last_updated")} == {
        "id": "bitcoin", "symbol": "btc", "name": "Bitcoin", "current_price": 101.0, "market_cap": 500.0,
        "market_cap_rank": 1, "total_volume": 40.0, "price_change_percentage_24h": 1.0,
        "circulating_supply": 19.8e6, "last_updated": "2025-06-10T12:00:00.000Z"}
    # 101 today after +1 %: it was 100 a day ago.
    assert row["price_change_24h"] == pytest.approx(1.0)
    unknown = ("image", "ath", "atl", "roi", "max_supply", "high_24h", "market_cap_change_24h")
    assert all(row[k] is None for k in unknown)


def test_sparkline_and_change_windows_add_their_keys():
    query = MarketsQuery(vs="usd", sparkline=True, windows=("1h", "24h"))
    (row,) = shapes.market_rows([MARKET_ROW], REGISTRY, query)
    assert row["sparkline_in_7d"] == {"price": []}
    assert row["price_change_percentage_1h_in_currency"] is None
    assert row["price_change_percentage_24h_in_currency"] == 1.0


def test_quote_rows_take_names_and_ranks_from_the_registry():
    rows = shapes.quote_rows(["ethereum", "bitcoin", "tether"], [BTC, ETH], REGISTRY, MarketsQuery(vs="usd"))
    assert [(r["id"], r["symbol"], r["name"], r["market_cap_rank"], r["circulating_supply"]) for r in rows] == [
        ("ethereum", "eth", "Ethereum", 2, None), ("bitcoin", "btc", "Bitcoin", 1, None)]


ROWS = [{"id": "b", "market_cap": 3.0, "total_volume": None}, {"id": "a", "market_cap": None, "total_volume": 5.0},
        {"id": "c", "market_cap": 9.0, "total_volume": 1.0}]


@pytest.mark.parametrize(("order", "ids"), [
    ("market_cap_desc", ["c", "b", "a"]), ("market_cap_asc", ["b", "c", "a"]), ("volume_desc", ["a", "c", "b"]),
    ("volume_asc", ["c", "a", "b"]), ("id_asc", ["a", "b", "c"]), ("id_desc", ["c", "b", "a"]),
])
def test_ordering_puts_unknown_values_last_both_ways(order, ids):
    assert [row["id"] for row in shapes.ordered(ROWS, order)] == ids


def test_paging_slices_after_ordering():
    page = shapes.markets_page(ROWS, MarketsQuery(vs="usd", order="id_asc", per_page=2, page=2))
    assert [row["id"] for row in page] == ["c"]
    assert shapes.markets_page(ROWS, MarketsQuery(vs="usd", per_page=2, page=3)) == []


def test_coins_list_sorted_by_id_active_or_inactive():
    assert shapes.coins_list(REGISTRY, include_platform=False, inactive=False) == [
        {"id": "bitcoin", "symbol": "btc", "name": "Bitcoin"}, {"id": "ethereum", "symbol": "eth", "name": "Ethereum"},
        {"id": "tether", "symbol": "usdt", "name": "Tether"}]
    with_platforms = shapes.coins_list(REGISTRY, include_platform=True, inactive=False)
    assert with_platforms[2]["platforms"] == {"ethereum": "0xdac1"} and with_platforms[0]["platforms"] == {}
    assert [r["id"] for r in shapes.coins_list(REGISTRY, include_platform=False, inactive=True)] == ["oldcoin"]


def test_coin_detail_from_the_registry_and_one_quote():
    detail = shapes.coin_detail(REGISTRY.get("bitcoin"), [BTC])
    assert (detail["id"], detail["symbol"], detail["platforms"], detail["market_cap_rank"]) == (
        "bitcoin", "btc", {"": ""}, 1)
    market = detail["market_data"]
    assert market["current_price"] == {"usd": 109600.123456} and market["total_volume"] == {"usd": 38.2e9}
    assert market["price_change_percentage_24h_in_currency"] == {"usd": 1.54}
    assert market["max_supply"] is None and detail["last_updated"] == "2025-06-10T12:00:00.000Z"
    assert "description" not in detail and "tickers" not in detail


def test_coin_detail_without_a_quote_keeps_the_registry_part():
    assert "market_data" not in shapes.coin_detail(REGISTRY.get("tether"), None)
    unknown = shapes.coin_detail(REGISTRY.get("tether"), [])
    assert unknown["platforms"] == {"ethereum": "0xdac1"}
    assert unknown["market_data"]["current_price"] == {} and unknown["market_data"]["price_change_24h"] is None


def test_search_lists_active_coins_in_coingeckos_five_lists():
    body = shapes.search(REGISTRY.search("o", 10))
    assert set(body) == {"coins", "exchanges", "icos", "categories", "nfts"}
    assert "oldcoin" not in [c["id"] for c in body["coins"]]
    assert shapes.search([REGISTRY.get("bitcoin")])["coins"] == [
        {"id": "bitcoin", "name": "Bitcoin", "api_symbol": "bitcoin", "symbol": "BTC", "market_cap_rank": 1,
         "thumb": None, "large": None}]


def test_global_is_wrapped_in_data_with_the_currency_maps():
    stats = {"vs": "usd", "total_market_cap": 3.4e12, "total_volume_24h": None, "btc_dominance_pct": 63.9,
             "eth_dominance_pct": None, "market_cap_change_24h_pct": 1.2, "active_coins": 11042,
             "updated_at": "2025-06-10T12:00:00Z"}
    assert shapes.global_data(stats) == {"data": {
        "active_cryptocurrencies": 11042, "upcoming_icos": None, "ongoing_icos": None, "ended_icos": None,
        "markets": None, "total_market_cap": {"usd": 3.4e12}, "total_volume": {},
        "market_cap_percentage": {"btc": 63.9}, "market_cap_change_percentage_24h_usd": 1.2,
        "updated_at": 1749556800}}


def test_trending_items_are_scored_from_zero_in_position_order():
    coins = [{"id": "sui", "symbol": "SUI", "name": "Sui", "position": 2, "market_cap_rank": 20, "price_usd": 3.27},
             {"id": "pepe", "symbol": "PEPE", "name": "Pepe", "position": 1, "market_cap_rank": None,
              "price_usd": None}]
    body = shapes.trending(coins)
    assert [(c["item"]["id"], c["item"]["score"], c["item"]["data"]["price"]) for c in body["coins"]] == [
        ("pepe", 0, None), ("sui", 1, 3.27)]
    assert (body["nfts"], body["categories"]) == ([], [])


CANDLES = [{"open_time": "2025-06-10T08:00:00Z", "open": 1.0, "high": 2.0, "low": 0.5, "close": 1.5,
            "volume": 3.0, "partial": False},
           {"open_time": "2025-06-10T12:00:00Z", "open": 1.5, "high": 1.7, "low": 1.4, "close": 1.61234,
            "volume": None, "partial": True}]
T12 = 1749556800  # 2025-06-10 12:00 UTC


def test_ohlc_rows_are_stamped_with_their_close_time_in_ms():
    assert shapes.ohlc(CANDLES, "4h") == [[T12 * 1000, 1.0, 2.0, 0.5, 1.5],
                                          [(T12 + 14400) * 1000, 1.5, 1.7, 1.4, 1.61234]]
    assert shapes.ohlc(CANDLES, "4h", places=1)[1] == [(T12 + 14400) * 1000, 1.5, 1.7, 1.4, 1.6]


@pytest.mark.parametrize(("now", "last_at"), [(T12 + 600, T12 + 600), (T12 + 99999, T12 + 14400), (T12 - 50, T12)])
def test_market_chart_stamps_the_forming_candle_now_inside_its_interval(now, last_at):
    body = shapes.market_chart(CANDLES, "4h", now)
    assert body == {"prices": [[T12 * 1000, 1.5], [last_at * 1000, 1.61234]], "market_caps": [], "total_volumes": []}

