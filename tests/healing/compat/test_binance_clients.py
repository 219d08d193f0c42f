"""The real Binance client libraries against a real cryptohub (uvicorn, real sockets, real Redis) over
the fake exchanges: ccxt's binance with its public API pointed at /compat/binance/api/v3 and spot
markets only, and python-binance's Client with its API URL overridden. Binance answers first; made
to answer 451 (a restricted region) and then 429 with Retry-After, the same calls still succeed,
answered by OKX."""

import ccxt
import pytest
from binance.client import Client

from tests.fake_upstream.market import MARKET
from tests.fixtures.dataplane import clear_cache, pools_over_fake

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

COMPAT_ROOT = "/compat/binance/api/v3"
POOLS = {
    "candles": ["binance", "okx", "kraken", "kucoin", "coinbase_exchange", "bitfinex"],
    "orderbook": ["binance", "okx", "kraken", "kucoin", "coinbase_exchange", "bitfinex"],
    "ticker": ["binance", "okx", "kraken", "coinbase_exchange", "kucoin", "bitfinex"],
}
BTC_USD, ETH_USD = MARKET["bitcoin"][0], MARKET["ethereum"][0]


@pytest.fixture
def server(transactional_db, fake_upstream, live_servers):
    pools_over_fake(fake_upstream, POOLS, category=lambda slug: "exchange")
    return live_servers()


def ccxt_binance(server_url: str) -> ccxt.binance:
    """ccxt's binance, spot only (no futures, margin or wallet calls), its public API at the compat root."""
    return ccxt.binance({
        "urls": {"api": {"public": server_url + COMPAT_ROOT}},
        "options": {"fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False, "fetchMargins": False},
        "enableRateLimit": False,
        "timeout": 30_000,
    })


def source_of(exchange: ccxt.binance) -> str:
    return exchange.last_response_headers["X-Cryptohub-Source"]


def unified_calls(exchange: ccxt.binance) -> dict[str, str]:
    """Each unified call the issue names, checked; the exchange that answered each."""
    sources = {}
    ticker = exchange.fetch_ticker("BTC/USDT")
    assert ticker["symbol"] == "BTC/USDT" and ticker["last"] == pytest.approx(BTC_USD)
    assert ticker["low"] <= ticker["last"] <= ticker["high"]
    sources["fetch_ticker"] = source_of(exchange)
    tickers = exchange.fetch_tickers(["BTC/USDT", "ETH/USDT"])
    assert set(tickers) == {"BTC/USDT", "ETH/USDT"}
    assert tickers["ETH/USDT"]["last"] == pytest.approx(ETH_USD)
    sources["fetch_tickers"] = source_of(exchange)
    book = exchange.fetch_order_book("BTC/USDT", limit=5)
    assert len(book["bids"]) == len(book["asks"]) == 5
    assert book["bids"][0][0] < BTC_USD < book["asks"][0][0]
    sources["fetch_order_book"] = source_of(exchange)
    candles = exchange.fetch_ohlcv("BTC/USDT", "1h", limit=4)
    assert len(candles) == 4 and [c[0] - candles[0][0] for c in candles] == [0, 3_600_000, 7_200_000, 10_800_000]
    assert candles[-1][4] == pytest.approx(BTC_USD)
    sources["fetch_ohlcv"] = source_of(exchange)
    return sources


def test_ccxt_binance_spot_calls_work_and_keep_working_when_binance_is_blocked_then_limited(
        server, fake_upstream, redis_client):
    exchange = ccxt_binance(server.url)
    markets = exchange.load_markets()
    assert markets["BTC/USDT"]["id"] == "BTCUSDT" and markets["BTC/USDT"]["spot"] is True
    assert markets["BTC/USDT"]["precision"]["price"] == pytest.approx(1e-8)
    # load_markets called nothing beyond the compat root (a futures, margin or wallet call would
    # leave this machine and fail), and exchangeInfo came from the registry: no exchange was asked.
    assert fake_upstream.calls() == 0
    assert set(unified_calls(exchange).values()) == {"binance"}

    fake_upstream.fault("binance", "status", status=451, body="json")
    clear_cache(redis_client)
    assert set(unified_calls(exchange).values()) == {"okx"}

    fake_upstream.fault("binance", "rate_limit", retry_after=60)
    clear_cache(redis_client)
    asked_before = fake_upstream.calls("binance")
    assert set(unified_calls(exchange).values()) == {"okx"}
    # The 429 cooled Binance down: asked once, then routed around until its Retry-After.
    assert fake_upstream.calls("binance") == asked_before + 1


def test_python_binance_client_reads_tickers_and_klines_from_the_compat_root(server, fake_upstream):
    class CompatClient(Client):
        API_URL = server.url + "/compat/binance/api"

    client = CompatClient(api_key=None, api_secret=None)  # pings the compat root on construction
    ticker = client.get_symbol_ticker(symbol="BTCUSDT")
    assert ticker["symbol"] == "BTCUSDT" and float(ticker["price"]) == pytest.approx(BTC_USD)
    klines = client.get_klines(symbol="ETHUSDT", interval=Client.KLINE_INTERVAL_15MINUTE, limit=3)
    assert len(klines) == 3 and all(len(k) == 12 for k in klines)
    assert [k[0] - klines[0][0] for k in klines] == [0, 900_000, 1_800_000]
    assert float(klines[-1][4]) == pytest.approx(ETH_USD)
    assert client.get_server_time()["serverTime"] > 1_700_000_000_000
    assert fake_upstream.calls("binance") == 2  # the ticker and the klines; ping and time ask nobody
