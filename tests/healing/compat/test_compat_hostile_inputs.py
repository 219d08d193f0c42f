"""Inputs the issues never listed, sent to both drop-in APIs: each is refused in the dialect's own
error shape (400 naming the problem, or 404), before any provider is asked; never a 500."""

import pytest

from tests.fixtures.dataplane import POOLS, pools_over_fake

pytestmark = pytest.mark.django_db(transaction=True)

EXCHANGES = ["binance", "okx", "kraken"]


@pytest.fixture
def pools(transactional_db, fake_upstream):
    """Every pool the dialects read, over the fake: a refusal that slipped through would call it."""
    return pools_over_fake(fake_upstream, {**POOLS, "candles": EXCHANGES, "orderbook": EXCHANGES, "ticker": EXCHANGES})


CG = "/compat/coingecko/api/v3/"
BN = "/compat/binance/api/v3/"
COINGECKO = [
    "simple/price", "simple/price?ids=bitcoin", "simple/price?vs_currencies=usd",
    "simple/price?ids=bitcoin&vs_currencies=usd&precision=abc",
    "simple/price?ids=bitcoin&vs_currencies=usd&precision=99",
    "simple/price?ids=bitcoin&vs_currencies=" + ",".join(f"x{i:03d}" for i in range(400)),
    "simple/price?ids=bitcoin&vs_currencies=%E2%82%AC", "coins/markets", "coins/markets?vs_currency=usd&per_page=-1x",
    "coins/markets?vs_currency=usd&order=sideways",
    "coins/no-such-coin-zz", "coins/bitcoin/ohlc?vs_currency=usd&days=3", "coins/bitcoin/ohlc?days=1",
    "coins/bitcoin/market_chart?vs_currency=usd&days=-2", "coins/bitcoin/market_chart?vs_currency=usd&days=one",
    "coins/%F0%9F%92%A9/ohlc?vs_currency=usd&days=1", "search?query=" + "x" * 5000, "coins/bitcoin/tickers",
    "coins//ohlc", "simple/token_price/ethereum",
]
BINANCE = [
    "ticker/price?symbol=", "ticker/price?symbol=btcusdt", "ticker/price?symbol=NOPENOPE",
    "ticker/price?symbols=BTCUSDT", "ticker/price?symbols=[\"BTCUSDT\"", "ticker/price?symbols=[1,2]",
    "ticker/price?symbol=BTCUSDT&symbols=[\"ETHUSDT\"]", "ticker/24hr?symbol=BTCUSDT&type=HUGE",
    "klines?symbol=BTCUSDT", "klines?symbol=BTCUSDT&interval=7m", "klines?symbol=BTCUSDT&interval=1h&limit=-5",
    "klines?symbol=BTCUSDT&interval=1h&startTime=abc",
    "klines?symbol=BTCUSDT&interval=1h&startTime=9&endTime=1", "depth?symbol=BTCUSDT&limit=0",
    "depth?symbol=BTCUSDT&limit=ten", "avgPrice", "ticker/bookTicker?symbol=%00",
    "exchangeInfo?symbol=NOPENOPE", "ticker/price?symbols=[" + ",".join(['"BTCUSDT"'] * 300) + "]", "order",
    # JSON-valued parameters nested past the decoder's bound, or with a lone surrogate in them.
    "ticker/price?symbols=" + "[" * 1500 + "]" * 1500, "ticker/24hr?symbols=" + "[" * 65 + "]" * 65,
    "exchangeInfo?permissions=" + "[" * 1500 + "]" * 1500, "exchangeInfo?symbols=[\"\\ud800\"]",
    "exchangeInfo?permissions=[\"SPOT\",NaN]",
]


@pytest.mark.parametrize("path", COINGECKO)
async def test_coingecko_refuses_in_its_own_shape(pools, data_client, fake_upstream, path):
    response = await data_client.get(CG + path)
    assert response.status_code in (400, 404), (path, response.status_code, response.text[:200])
    body = response.json()
    assert set(body) == {"error"} and isinstance(body["error"], str) and body["error"], (path, body)
    assert fake_upstream.calls() == 0, path


@pytest.mark.parametrize("path", BINANCE)
async def test_binance_refuses_in_its_own_shape(pools, data_client, fake_upstream, path):
    response = await data_client.get(BN + path)
    assert response.status_code in (400, 404), (path, response.status_code, response.text[:200])
    body = response.json()
    assert set(body) == {"code", "msg"} and body["code"] < 0 and body["msg"], (path, body)
    assert fake_upstream.calls() == 0, path


@pytest.mark.parametrize(("root", "shape"), [(CG, {"status"}), (BN, {"code", "msg"})])
async def test_an_overlong_query_string_is_a_414_in_the_dialects_shape(pools, data_client, fake_upstream, root, shape,
                                                                      settings):
    response = await data_client.get(root + "simple/price?ids=" + "a" * (settings.CRYPTOHUB_MAX_QUERY_BYTES + 1))
    assert response.status_code == 414 and set(response.json()) == shape
    assert fake_upstream.calls() == 0
