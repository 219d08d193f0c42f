"""The CoinGecko dialect end to end: the data plane in process, the engine, real Redis and real
sockets to the fake upstream. Each endpoint in CoinGecko's shape with its headers; CoinGecko
broken (hang, 429, 500) and the same endpoint answered by the next provider; repeats from cache."""

import pytest

from healing.dataplane.compat.coingecko_shapes import MARKET_ROW_KEYS
from tests.fixtures.dataplane import POOLS, clear_cache

ROOT = "/compat/coingecko/api/v3/"
PRICE_ALL = ("simple/price?ids=bitcoin,ethereum,notacoin&vs_currencies=usd&include_market_cap=true"
             "&include_24hr_vol=true&include_24hr_change=true&include_last_updated_at=true")
# (path, who answers after CoinGecko) for the endpoints whose pool has CoinGecko first.
FALLBACKS = {
    "price": (PRICE_ALL, "coinpaprika"),
    "markets": ("coins/markets?vs_currency=usd&per_page=5", "coinpaprika"),
    "global": ("global", "coinpaprika"),
    "trending": ("search/trending", "coinpaprika"),
}


async def get(client, path):
    return await client.get(ROOT + path)


def keys(value):
    """Keys all the way down (values ignored), lists by their first item; the dominance map is
    per coin (a provider may know BTC's share only), so it counts as one value."""
    if isinstance(value, dict):
        return {k: None if k == "market_cap_percentage" else keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [keys(value[0])] if value else []
    return None


async def test_simple_price_has_exactly_the_asked_keys_and_drops_unknown_ids(gecko_catalogue, fake_upstream,
                                                                            engine_client):
    response = await get(engine_client, PRICE_ALL)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"bitcoin", "ethereum"}
    assert set(body["bitcoin"]) == {"usd", "usd_market_cap", "usd_24h_vol", "usd_24h_change", "last_updated_at"}
    assert body["bitcoin"]["usd"] == 109600.0 and body["ethereum"]["usd_24h_change"] == 3.12
    assert isinstance(body["bitcoin"]["last_updated_at"], int)
    assert (response.headers["x-cryptohub-source"], response.headers["x-cryptohub-cache"]) == ("coingecko", "live")
    repeat = await get(engine_client, PRICE_ALL)
    assert repeat.json() == body and repeat.headers["x-cryptohub-cache"] == "cache"
    assert fake_upstream.calls("coingecko") == 1


async def test_simple_price_in_two_currencies_and_with_precision(gecko_catalogue, engine_client):
    body = (await get(engine_client, "simple/price?ids=bitcoin&vs_currencies=usd,eur&precision=0")).json()
    assert body == {"bitcoin": {"usd": 109600, "eur": round(109600 * 0.8771)}}
    plain = (await get(engine_client, "simple/price?ids=bitcoin&vs_currencies=usd")).json()
    assert plain == {"bitcoin": {"usd": 109600.0}}


async def test_simple_price_of_unknown_ids_only_is_empty_without_any_call(gecko_catalogue, fake_upstream,
                                                                         engine_client):
    response = await get(engine_client, "simple/price?ids=notacoin,btc&vs_currencies=usd")
    assert (response.status_code, response.json()) == (200, {})
    assert fake_upstream.calls() == 0


@pytest.mark.parametrize(("path", "message"), [
    ("simple/price?ids=bitcoin", "Missing parameter vs_currencies"),
    ("simple/price?vs_currencies=usd", "Missing parameter ids"),
    ("coins/markets", "Missing parameter vs_currency"),
    ("coins/bitcoin/ohlc?vs_currency=usd&days=3", "invalid days '3': one of 1, 7, 14, 30, 90, 180, 365, max"),
])
async def test_a_bad_request_is_coingeckos_400_before_any_call(gecko_catalogue, fake_upstream, engine_client, path,
                                                              message):
    response = await get(engine_client, path)
    assert (response.status_code, response.json()) == (400, {"error": message})
    assert fake_upstream.calls() == 0


async def test_coins_markets_rows_have_every_coingecko_key_in_rank_order(gecko_catalogue, engine_client):
    response = await get(engine_client, "coins/markets?vs_currency=usd&per_page=3&page=2"
                                        "&price_change_percentage=1h,24h,bogus")
    assert response.status_code == 200, response.text
    rows = response.json()
    assert [row["market_cap_rank"] for row in rows] == [4, 5, 6]
    extra = ["price_change_percentage_1h_in_currency", "price_change_percentage_24h_in_currency"]
    assert all(list(row) == [*MARKET_ROW_KEYS, *extra] for row in rows)
    assert rows[0]["price_change_percentage_1h_in_currency"] is None
    assert rows[0]["price_change_percentage_24h_in_currency"] == rows[0]["price_change_percentage_24h"]
    assert rows[0]["symbol"] == rows[0]["symbol"].lower() and rows[0]["ath"] is None
    assert rows[0]["last_updated"].endswith(".000Z")


async def test_coins_markets_by_ids_asks_the_price_capability_and_orders_by_volume(gecko_catalogue, fake_upstream,
                                                                                 engine_client):
    response = await get(engine_client, "coins/markets?vs_currency=usd&ids=solana,bitcoin,nope&order=volume_asc")
    rows = response.json()
    assert [(row["id"], row["name"], row["market_cap_rank"]) for row in rows] == [
        ("solana", "Solana", 6), ("bitcoin", "Bitcoin", 1)]
    assert rows[1]["current_price"] == 109600.0 and rows[1]["circulating_supply"] is None
    assert [r["path"] for r in fake_upstream.requests("coingecko")] == ["/coingecko/simple/price"]


async def test_coins_markets_past_the_top_250_is_an_empty_page_without_a_call(gecko_catalogue, fake_upstream,
                                                                             engine_client):
    response = await get(engine_client, "coins/markets?vs_currency=usd&per_page=250&page=2")
    assert (response.status_code, response.json()) == (200, [])
    assert fake_upstream.calls() == 0


async def test_global_is_wrapped_in_data_with_usd_totals(gecko_catalogue, engine_client):
    response = await get(engine_client, "global")
    data = response.json()["data"]
    assert set(data["total_market_cap"]) == {"usd"} and data["total_market_cap"]["usd"] > 3e12
    assert set(data["market_cap_percentage"]) == {"btc", "eth"}
    assert data["active_cryptocurrencies"] == 17523 and isinstance(data["updated_at"], int)
    assert data["upcoming_icos"] is None and "market_cap_change_percentage_24h_usd" in data
    assert response.headers["x-cryptohub-source"] == "coingecko"


async def test_trending_wraps_each_coin_in_an_item_with_a_score(gecko_catalogue, engine_client):
    body = (await get(engine_client, "search/trending")).json()
    assert set(body) == {"coins", "nfts", "categories"}
    first = body["coins"][0]["item"]
    assert (first["id"], first["symbol"], first["score"], first["data"]["price"]) == ("pepe", "PEPE", 0, 0.00001297)
    assert [c["item"]["score"] for c in body["coins"]] == list(range(15))


async def test_ohlc_comes_from_the_candles_pool_with_close_times_in_ms(gecko_catalogue, engine_client):
    response = await get(engine_client, "coins/bitcoin/ohlc?vs_currency=usd&days=7")
    assert response.status_code == 200, response.text
    rows = response.json()
    assert len(rows) == 42 and all(len(row) == 5 for row in rows)
    assert all(later[0] - earlier[0] == 4 * 3600 * 1000 for earlier, later in zip(rows, rows[1:]))
    assert rows[-1][0] % (4 * 3600 * 1000) == 0
    assert response.headers["x-cryptohub-source"] == "binance"


async def test_market_chart_of_one_day_is_five_minute_prices(gecko_catalogue, engine_client):
    response = await get(engine_client, "coins/ethereum/market_chart?vs_currency=usd&days=1")
    body = response.json()
    assert set(body) == {"prices", "market_caps", "total_volumes"}
    assert len(body["prices"]) == 288 and body["market_caps"] == body["total_volumes"] == []
    assert body["prices"][1][0] - body["prices"][0][0] == 300_000


async def test_coin_detail_from_registry_and_price_and_unknown_coin_404(gecko_catalogue, fake_upstream,
                                                                       engine_client):
    body = (await get(engine_client, "coins/bitcoin")).json()
    assert (body["id"], body["symbol"], body["name"], body["market_cap_rank"]) == ("bitcoin", "btc", "Bitcoin", 1)
    assert body["market_data"]["current_price"] == {"usd": 109600.0}
    calls = fake_upstream.calls()
    bare = (await get(engine_client, "coins/ethereum?market_data=false")).json()
    assert "market_data" not in bare and bare["symbol"] == "eth"
    missing = await get(engine_client, "coins/notacoin/ohlc?vs_currency=usd&days=1")
    assert (missing.status_code, missing.json()) == (404, {"error": "coin not found"})
    assert fake_upstream.calls() == calls


async def test_coins_list_and_search_answer_from_the_registry(gecko_catalogue, fake_upstream, engine_client):
    listed = (await get(engine_client, "coins/list?include_platform=true")).json()
    assert listed == sorted(listed, key=lambda row: row["id"])
    tether = next(row for row in listed if row["id"] == "tether")
    assert set(tether) == {"id", "symbol", "name", "platforms"} and tether["symbol"] == "usdt"
    found = await get(engine_client, "search?query=eth")
    assert [c["id"] for c in found.json()["coins"]][:2] == ["ethereum", "ethereum-classic"]
    assert set(found.json()) == {"coins", "exchanges", "icos", "categories", "nfts"}
    assert found.headers["x-cryptohub-source"] == "cryptohub"
    assert fake_upstream.calls() == 0


@pytest.mark.parametrize("fault", ["hang", "rate_limit", "status"])
@pytest.mark.parametrize("endpoint", sorted(FALLBACKS))
async def test_a_broken_coingecko_falls_back_to_the_next_provider_in_the_same_shape(
        gecko_catalogue, fake_upstream, engine_client, redis_client, endpoint, fault):
    path, expected = FALLBACKS[endpoint]
    healthy = await get(engine_client, path)
    assert healthy.headers["x-cryptohub-source"] == "coingecko"
    clear_cache(redis_client)
    fake_upstream.fault("coingecko", fault, **({"status": 500} if fault == "status" else {}))
    response = await get(engine_client, path)
    assert response.status_code == 200, response.text
    assert response.headers["x-cryptohub-source"] == expected
    assert keys(response.json()) == keys(healthy.json())
    repeat = await get(engine_client, path)
    assert (repeat.headers["x-cryptohub-cache"], repeat.headers["x-cryptohub-source"]) == ("cache", expected)


async def test_no_provider_answering_is_coingeckos_503_with_the_attempts(gecko_catalogue, fake_upstream,
                                                                        engine_client):
    fake_upstream.fault("*", "status", status=500)
    response = await get(engine_client, "global")
    assert response.status_code == 503
    body = response.json()
    assert body["status"]["error_code"] == 503
    assert {a["provider"] for a in body["attempts"]} == set(POOLS["global"])
    assert {a["outcome"] for a in body["attempts"]} == {"transient"}


async def test_over_the_inbound_limit_is_coingeckos_429_with_retry_after(gecko_catalogue, fake_upstream, settings,
                                                                        clock):
    from tests.live_server import serve_in_process

    settings.CRYPTOHUB_ANON_LIMITS = "read=3/minute"
    async with serve_in_process(deps_overrides={"clock": clock}, check_interval_s=0.05) as client:
        codes = [(await get(client, "simple/price?ids=bitcoin&vs_currencies=usd")).status_code for _ in range(3)]
        over = await get(client, "simple/price?ids=bitcoin&vs_currencies=usd")
    assert codes == [200, 200, 200]
    assert over.status_code == 429 and int(over.headers["retry-after"]) >= 1
    body = over.json()
    assert set(body) == {"status"} and body["status"]["error_code"] == 429
    assert isinstance(body["status"]["error_message"], str) and body["status"]["error_message"]
    assert fake_upstream.calls() == 1


async def test_an_id_with_a_newline_is_still_answered_in_coingeckos_shape(gecko_catalogue, engine_client):
    response = await get(engine_client, "coins/bit%0Acoin/ohlc?vs_currency=usd&days=1")
    assert (response.status_code, response.json()) == (404, {"error": "coin not found"})
