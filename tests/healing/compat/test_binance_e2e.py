"""/compat/binance/api/v3/ end to end: the data plane in process, the engine, real Redis and real
sockets to the fake exchanges. Every endpoint in Binance's shape from Binance first; Binance broken
the ways it breaks (451 from a restricted region, 429 with Retry-After, 500) and OKX answers the same
shape; repeats come from the cache; USDT pairs answered from USD pairs only when the operator allows."""

import json
from urllib.parse import quote

import pytest

from tests.fake_upstream.market import MARKET
from tests.fixtures.clock import T0
from tests.fixtures.dataplane import clear_cache, pools_over_fake

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = "/compat/binance/api/v3/"
# Each pool in priority order, as fixtures/providers.json ships it up to Bybit, Gate.io, Bitstamp and Gemini.
POOLS = {
    "candles": ["binance", "okx", "kraken", "kucoin", "coinbase_exchange", "bitfinex"],
    "orderbook": ["binance", "okx", "kraken", "kucoin", "coinbase_exchange", "bitfinex"],
    "ticker": ["binance", "okx", "kraken", "coinbase_exchange", "kucoin", "bitfinex"],
}
BTC_USD = MARKET["bitcoin"][0]
PAIRS = quote(json.dumps(["BTCUSDT", "ETHUSDT"], separators=(",", ":")))
# One request per endpoint that asks an exchange, and what its answer must hold.
ENDPOINTS = {
    "ticker/price": "ticker/price?symbol=BTCUSDT",
    "ticker/24hr": "ticker/24hr?symbol=BTCUSDT",
    "ticker/price symbols": f"ticker/price?symbols={PAIRS}",
    "ticker/bookTicker": "ticker/bookTicker?symbol=BTCUSDT",
    "depth": "depth?symbol=BTCUSDT&limit=5",
    "klines": "klines?symbol=BTCUSDT&interval=1h&limit=3",
    "avgPrice": "avgPrice?symbol=BTCUSDT",
}


@pytest.fixture
def exchanges(transactional_db, fake_upstream):
    providers = pools_over_fake(fake_upstream, POOLS, category=lambda slug: "exchange")
    # The fake's candles and tickers follow its own clock: put it just behind the engine's.
    fake_upstream.set_clock(T0 - 90)
    return providers


def check_shape(name, body):
    """What Binance's answer of each endpoint holds, whichever exchange answered."""
    if name == "ticker/price":
        assert set(body) == {"symbol", "price"} and body["symbol"] == "BTCUSDT"
        assert float(body["price"]) == pytest.approx(BTC_USD)
    elif name == "ticker/24hr":
        assert body["symbol"] == "BTCUSDT" and float(body["lastPrice"]) == pytest.approx(BTC_USD)
        assert float(body["lowPrice"]) <= float(body["lastPrice"]) <= float(body["highPrice"])
        assert isinstance(body["closeTime"], int)
    elif name == "ticker/price symbols":
        assert [row["symbol"] for row in body] == ["BTCUSDT", "ETHUSDT"]
        assert float(body[1]["price"]) == pytest.approx(MARKET["ethereum"][0])
    elif name == "ticker/bookTicker":
        assert set(body) == {"symbol", "bidPrice", "bidQty", "askPrice", "askQty"}
        assert float(body["bidPrice"]) < BTC_USD < float(body["askPrice"])
    elif name == "depth":
        assert set(body) == {"lastUpdateId", "bids", "asks"} and len(body["bids"]) == len(body["asks"]) == 5
        assert all(isinstance(v, str) for level in body["bids"] + body["asks"] for v in level)
        assert float(body["bids"][0][0]) < float(body["asks"][0][0])
    elif name == "klines":
        assert len(body) == 3 and all(len(row) == 12 for row in body)
        assert [row[6] - row[0] for row in body] == [3_599_999] * 3
        assert float(body[-1][4]) == pytest.approx(BTC_USD)
        assert body[-1][7:11] == [None, None, None, None]
    elif name == "avgPrice":
        assert body["mins"] == 5 and float(body["price"]) == pytest.approx(BTC_USD, rel=0.01)
    else:
        raise AssertionError(name)


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
async def test_each_endpoint_answers_binances_shape_from_binance_then_the_cache(exchanges, fake_upstream,
                                                                              engine_client, name):
    response = await engine_client.get(ROOT + ENDPOINTS[name])
    assert response.status_code == 200, response.text
    assert response.headers["x-cryptohub-source"] == "binance"
    assert response.headers["x-cryptohub-cache"] == "live"
    check_shape(name, response.json())
    calls = fake_upstream.calls("binance")
    again = await engine_client.get(ROOT + ENDPOINTS[name])
    assert again.headers["x-cryptohub-cache"] == "cache"
    assert again.json() == response.json()
    assert fake_upstream.calls("binance") == calls


@pytest.mark.parametrize(("fault", "outcome"), [
    ({"kind": "status", "status": 451, "body": "json"}, "permanent"),  # a restricted region
    ({"kind": "rate_limit", "retry_after": 30}, "rate_limited"),  # 429, -1003 and Retry-After
    ({"kind": "status", "status": 500}, "transient"),
])
async def test_okx_answers_every_endpoint_when_binance_fails(exchanges, fake_upstream, engine_client, redis_client,
                                                             fault, outcome):
    fake_upstream.fault("binance", **fault)
    for name, path in ENDPOINTS.items():
        clear_cache(redis_client)
        response = await engine_client.get(ROOT + path)
        assert response.status_code == 200, (name, response.text)
        assert response.headers["x-cryptohub-source"] == "okx", name
        check_shape(name, response.json())
        again = await engine_client.get(ROOT + path)
        assert (again.headers["x-cryptohub-source"], again.headers["x-cryptohub-cache"]) == ("okx", "cache"), name
    calls = fake_upstream.requests("binance")
    assert calls, "binance was never asked"
    if outcome == "rate_limited":
        # Cooled down after its 429: asked once, then routed around until Retry-After.
        assert len(calls) == 1


async def test_each_exchange_in_turn_answers_klines_with_the_same_candles(exchanges, fake_upstream, engine_client,
                                                                         redis_client):
    first = (await engine_client.get(ROOT + ENDPOINTS["klines"])).json()
    for broken, expected in zip(POOLS["candles"], POOLS["candles"][1:], strict=False):
        fake_upstream.fault(broken, "status", status=503)
        clear_cache(redis_client)
        response = await engine_client.get(ROOT + ENDPOINTS["klines"])
        assert response.headers["x-cryptohub-source"] == expected, response.text
        # The same open times and closes whichever exchange answered (volumes differ by venue).
        assert [(r[0], r[4]) for r in response.json()] == [(r[0], r[4]) for r in first], expected


async def test_exchange_info_and_time_need_no_exchange(exchanges, fake_upstream, engine_client):
    info = await engine_client.get(ROOT + "exchangeInfo")
    one = await engine_client.get(ROOT + "exchangeInfo?symbol=ETHBTC")
    assert info.status_code == one.status_code == 200
    assert info.headers["x-cryptohub-source"] == "cryptohub"
    symbols = {s["symbol"]: s for s in info.json()["symbols"]}
    assert symbols["BTCUSDT"]["baseAsset"] == "BTC" and symbols["BTCUSDT"]["quoteAsset"] == "USDT"
    assert [s["symbol"] for s in one.json()["symbols"]] == ["ETHBTC"]
    assert fake_upstream.calls() == 0


async def test_bad_input_is_binances_error_and_asks_no_exchange(exchanges, fake_upstream, engine_client):
    unknown = await engine_client.get(ROOT + "ticker/price?symbol=NOPEUSDT")
    interval = await engine_client.get(ROOT + "klines?symbol=BTCUSDT&interval=3m")
    missing = await engine_client.get(ROOT + "depth")
    assert (unknown.status_code, unknown.json()) == (400, {"code": -1121, "msg": "Invalid symbol."})
    assert (interval.status_code, interval.json()) == (400, {"code": -1120, "msg": "Invalid interval."})
    assert (missing.status_code, missing.json()["code"]) == (400, -1102)
    assert fake_upstream.calls() == 0


async def test_a_pair_no_exchange_lists_is_an_invalid_symbol(exchanges, fake_upstream, engine_client):
    # A coin Binance lists, against a quote the registry knows, that no exchange pairs it with.
    response = await engine_client.get(ROOT + "ticker/price?symbol=PEPETRY")
    assert (response.status_code, response.json()) == (400, {"code": -1121, "msg": "Invalid symbol."})
    assert fake_upstream.calls("binance") == fake_upstream.calls("okx") == 1


# --- USDT answered from USD pairs: only when the operator allows it ----------------------------------------------

# Every USDT book of bitcoin broken: Binance, OKX and KuCoin name USD books USDT too, Kraken asks
# both in its query; Coinbase Exchange and Bitfinex put the pair in the path.
USDT_BROKEN = {"binance": None, "okx": None, "kraken": None, "kucoin": None,
               "coinbase_exchange": "/products/BTC-USDT/", "bitfinex": "/ticker/tBTCUST"}


def break_usdt_books(fake_upstream):
    for slug, path in USDT_BROKEN.items():
        fake_upstream.fault(slug, "status", status=503, **({"path": path} if path else {}))


async def test_without_the_setting_a_usdt_pair_no_exchange_answers_is_a_503(exchanges, fake_upstream, engine_client,
                                                                          settings):
    settings.CRYPTOHUB_COMPAT_USDT_AS_USD = False
    break_usdt_books(fake_upstream)
    response = await engine_client.get(ROOT + "ticker/price?symbol=BTCUSDT")
    assert response.status_code == 503, response.text
    body = response.json()
    assert body["code"] == -1000 and {a["provider"] for a in body["attempts"]} == set(POOLS["ticker"])
    assert "x-cryptohub-usd-for-usdt" not in response.headers
    assert not [r for r in fake_upstream.requests("coinbase_exchange") if "BTC-USD/" in r["path"]]


async def test_with_the_setting_the_usd_pair_answers_and_the_header_says_so(exchanges, fake_upstream, engine_client,
                                                                          settings):
    settings.CRYPTOHUB_COMPAT_USDT_AS_USD = True
    break_usdt_books(fake_upstream)
    one = await engine_client.get(ROOT + "ticker/price?symbol=BTCUSDT")
    assert one.status_code == 200, one.text
    assert one.json()["symbol"] == "BTCUSDT" and float(one.json()["price"]) == pytest.approx(BTC_USD)
    assert one.headers["x-cryptohub-usd-for-usdt"] == "BTCUSDT"
    assert one.headers["x-cryptohub-source"] == "coinbase_exchange"
    many = await engine_client.get(ROOT + f"ticker/price?symbols={PAIRS}")
    assert many.status_code == 200, many.text
    # ETHUSDT's books are whole: only bitcoin's answer is a stand-in.
    assert many.headers["x-cryptohub-usd-for-usdt"] == "BTCUSDT"
    assert [row["symbol"] for row in many.json()] == ["BTCUSDT", "ETHUSDT"]


async def test_with_the_setting_a_healthy_usdt_pair_is_answered_as_asked(exchanges, engine_client, settings):
    settings.CRYPTOHUB_COMPAT_USDT_AS_USD = True
    response = await engine_client.get(ROOT + "ticker/24hr?symbol=BTCUSDT")
    assert response.status_code == 200 and response.headers["x-cryptohub-source"] == "binance"
    assert "x-cryptohub-usd-for-usdt" not in response.headers


async def test_over_the_inbound_limit_is_binances_429_with_retry_after(exchanges, fake_upstream, settings):
    from tests.live_server import serve_in_process

    settings.CRYPTOHUB_ANON_LIMITS = "read=2/minute"
    async with serve_in_process(check_interval_s=0.05) as client:
        codes = [(await client.get(ROOT + "ticker/price?symbol=BTCUSDT")).status_code for _ in range(2)]
        over = await client.get(ROOT + "ticker/price?symbol=BTCUSDT")
    assert codes == [200, 200]
    assert over.status_code == 429 and over.json()["code"] == -1003
    assert int(over.headers["retry-after"]) >= 1
    # The refused request never reached an exchange: one upstream call served the first two.
    assert fake_upstream.calls("binance") == 1
