"""The real pycoingecko client against a real cryptohub (uvicorn, real sockets, real Redis) with the
fake upstream behind it: its calls return what they return against CoinGecko's shapes, and keep
succeeding from the fallback providers while the fake CoinGecko hangs, answers 429 and 500."""

import pytest
from pycoingecko import CoinGeckoAPI

from healing.dataplane.compat.coingecko import PING
from healing.dataplane.compat.coingecko_shapes import MARKET_ROW_KEYS
from providers.runtime import rkey
from tests.fixtures.dataplane import clear_cache

pytestmark = pytest.mark.slow

FAULTS = [("hang", {}), ("rate_limit", {}), ("status", {"status": 500})]


@pytest.fixture
def live_gecko(gecko_pools, live_servers):
    """One server for every call of the test (each start costs seconds), and a client pointed at it."""
    server = live_servers()
    client = CoinGeckoAPI()
    client.api_base_url = f"{server.url}/compat/coingecko/api/v3/"
    client.request_timeout = 30
    return client, server


def calls(client: CoinGeckoAPI) -> dict:
    return {
        "ping": client.ping(),
        "price": client.get_price(ids="bitcoin,ethereum", vs_currencies="usd", include_market_cap=True,
                                  include_24hr_change=True),
        "markets": client.get_coins_markets("usd", per_page=5, price_change_percentage="24h"),
        "global": client.get_global(),
        "trending": client.get_search_trending(),
        "ohlc": client.get_coin_ohlc_by_id("bitcoin", "usd", 7),
    }


def check_shapes(answers: dict) -> None:
    assert answers["ping"] == PING
    assert set(answers["price"]) == {"bitcoin", "ethereum"}
    assert set(answers["price"]["bitcoin"]) == {"usd", "usd_market_cap", "usd_24h_change"}
    assert answers["price"]["bitcoin"]["usd"] > 0
    assert [row["market_cap_rank"] for row in answers["markets"]] == [1, 2, 3, 4, 5]
    assert all(set(MARKET_ROW_KEYS) <= set(row) for row in answers["markets"])
    # get_global() returns the `data` object of CoinGecko's answer.
    assert answers["global"]["total_market_cap"]["usd"] > 0 and "btc" in answers["global"]["market_cap_percentage"]
    assert [c["item"]["score"] for c in answers["trending"]["coins"]][:3] == [0, 1, 2]
    assert len(answers["ohlc"]) == 42 and all(len(row) == 5 for row in answers["ohlc"])


def test_pycoingecko_calls_answer_in_coingeckos_shapes_and_survive_a_broken_coingecko(
        live_gecko, fake_upstream, redis_client):
    client, server = live_gecko
    healthy = calls(client)
    check_shapes(healthy)
    assert healthy["price"]["bitcoin"]["usd"] == 109600.0
    assert healthy["trending"]["coins"][0]["item"]["id"] == "pepe"  # CoinGecko's own list
    assert fake_upstream.calls("coingecko") == 4  # price, markets, global, trending (ohlc: binance)
    for kind, options in FAULTS:
        clear_cache(redis_client)
        for key in (rkey("breaker", "coingecko"), rkey("cooldown", "coingecko")):
            redis_client.delete(key)  # each fault meets a CoinGecko the engine still trusts
        fake_upstream.reset()
        fake_upstream.fault("coingecko", kind, **options)
        answers = calls(client)
        check_shapes(answers)
        assert fake_upstream.calls("coingecko") >= 1, kind
        assert fake_upstream.calls("coinpaprika") >= 4, (kind, server.output())
