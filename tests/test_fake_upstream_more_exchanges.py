"""The fake's Bitstamp, Gemini, Bybit and Gate.io over real HTTP, fed to the real adapters: prices,
tickers, books, candles and listings from the one price table (agreeing candle for candle with the
other exchanges), an unlisted pair failing each exchange's own way, and the faults reaching them."""

import pytest

from providers.adapters.base import AdapterError, Outcome
from providers.registry import get_adapter
from tests.fake_upstream.market import MARKET
from tests.test_fake_upstream_capabilities import answer, fetch

SLUGS = ["bitstamp", "gemini", "bybit", "gateio"]
NOON = 1749556800
THREE = {"ids": ["bitcoin", "ethereum", "solana"], "vs": "usd"}


@pytest.mark.parametrize("slug", SLUGS)
@pytest.mark.parametrize("params", [{"ids": ["bitcoin"], "vs": "usd"}, THREE])
def test_prices_come_from_the_table_in_one_call(fake_upstream, slug, params):
    quotes = answer(fake_upstream, slug, "price", params)
    assert [q["id"] for q in quotes] == params["ids"]
    assert [q["price"] for q in quotes] == pytest.approx([MARKET[c][0] for c in params["ids"]], rel=1e-9)
    assert [q["change_24h_pct"] for q in quotes] == pytest.approx([MARKET[c][3] for c in params["ids"]], abs=0.01)
    assert fake_upstream.calls(slug) == 1


@pytest.mark.parametrize("slug", SLUGS)
@pytest.mark.parametrize(("coin", "vs"), [("bitcoin", "usd"), ("ethereum", "usd"), ("bitcoin", "eur")])
def test_tickers_come_from_the_table(fake_upstream, slug, coin, vs):
    fake_upstream.set_clock(NOON)
    ticker = answer(fake_upstream, slug, "ticker", {"id": coin, "vs": vs})
    price = MARKET[coin][0] * (0.8771 if vs == "eur" else 1)
    assert (ticker["id"], ticker["vs"], ticker["last"]) == (coin, vs, pytest.approx(price))
    assert ticker["low"] <= ticker["last"] <= ticker["high"]
    assert ticker["change_pct"] == pytest.approx(MARKET[coin][3], abs=0.01)
    if ticker["open"] is not None:  # Gate.io gives only the percentage
        assert ticker["open"] == pytest.approx(price / (1 + MARKET[coin][3] / 100), rel=1e-6)
    if ticker["close_time"] is not None:
        assert ticker["close_time"] == "2025-06-10T12:00:00Z"


@pytest.mark.parametrize("slug", SLUGS)
def test_books_are_centred_on_the_table_price(fake_upstream, slug):
    book = answer(fake_upstream, slug, "orderbook", {"id": "bitcoin", "vs": "usd", "depth": 5})
    assert book["best_bid"] < MARKET["bitcoin"][0] < book["best_ask"]
    assert len(book["bids"]) == len(book["asks"]) == 5


@pytest.mark.parametrize("slug", SLUGS)
@pytest.mark.parametrize("interval", ["1m", "1h", "1d"])
def test_candles_agree_with_binance_candle_for_candle(fake_upstream, slug, interval):
    fake_upstream.set_clock(NOON + 125)
    params = {"id": "bitcoin", "vs": "usd", "interval": interval, "limit": 4, "start": None}
    mine, binance = answer(fake_upstream, slug, "candles", params), answer(fake_upstream, "binance", "candles", params)
    assert [(c["open_time"], c["open"], c["close"], c["partial"]) for c in mine] == [
        (c["open_time"], c["open"], c["close"], c["partial"]) for c in binance]
    assert mine[-1]["close"] == pytest.approx(MARKET["bitcoin"][0]) and mine[-1]["partial"] is True


@pytest.mark.parametrize("slug", ["bitstamp", "bybit", "gateio"])
def test_candles_from_a_start_are_the_first_after_it(fake_upstream, slug):
    fake_upstream.set_clock(NOON + 125)
    params = {"id": "ethereum", "vs": "usd", "interval": "4h", "limit": 3, "start": NOON - 5 * 14400}
    candles = answer(fake_upstream, slug, "candles", params)
    assert [c["open_time"] for c in candles] == ["2025-06-09T16:00:00Z", "2025-06-09T20:00:00Z",
                                                 "2025-06-10T00:00:00Z"]
    # Gate.io says itself that the last one has closed; without such a flag the newest candle of an
    # answer counts as forming (market_depth.make_candles' safe reading).
    assert [c["partial"] for c in candles] == [False, False, slug != "gateio"]


@pytest.mark.parametrize(("slug", "outcome"), [
    ("bitstamp", Outcome.PERMANENT), ("gemini", Outcome.NOT_FOUND), ("bybit", Outcome.NOT_FOUND),
    ("gateio", Outcome.NOT_FOUND)])
@pytest.mark.parametrize("capability", ["ticker", "orderbook"])
def test_an_unlisted_pair_fails_the_way_each_exchange_fails_it(fake_upstream, slug, outcome, capability):
    params = {"id": "bitcoin", "vs": "krw", "depth": 5}
    response = fetch(fake_upstream, slug, capability, params)
    adapter = get_adapter(slug)
    if response.status_code != 200:
        payload = response.json() if "json" in response.headers["content-type"] else None
        assert adapter.classify_http_error(response.status_code, payload) == outcome
        return
    with pytest.raises(AdapterError) as caught:
        adapter.parse(capability, params, adapter.decode(response.content))
    assert caught.value.outcome == outcome


@pytest.mark.parametrize(("slug", "outcome"), [
    ("bitstamp", Outcome.BAD_DATA), ("gemini", Outcome.TRANSIENT), ("bybit", Outcome.TRANSIENT),
    ("gateio", Outcome.TRANSIENT)])
def test_error_in_200_and_rate_limits_reach_the_adapters(fake_upstream, slug, outcome):
    adapter, params = get_adapter(slug), {"id": "bitcoin", "vs": "usd"}
    fake_upstream.fault(slug, "error_in_200")
    with pytest.raises(AdapterError) as caught:
        adapter.parse("ticker", params, adapter.decode(fetch(fake_upstream, slug, "ticker", params).content))
    assert caught.value.outcome == outcome
    fake_upstream.fault(slug, "rate_limit")
    response = fetch(fake_upstream, slug, "ticker", params)
    assert response.status_code == 429
    assert adapter.classify_http_error(429, response.json()) == Outcome.RATE_LIMITED
    fake_upstream.fault(slug, "error_in_200", variant="rate_limit")
    with pytest.raises(AdapterError) as caught:
        adapter.parse("ticker", params, adapter.decode(fetch(fake_upstream, slug, "ticker", params).content))
    assert caught.value.outcome == Outcome.RATE_LIMITED


@pytest.mark.parametrize("slug", SLUGS)
def test_a_price_lie_moves_that_exchange_only(fake_upstream, slug):
    fake_upstream.set_price(slug, "bitcoin", "usd", 120_000.0)
    params = {"id": "bitcoin", "vs": "usd"}
    assert answer(fake_upstream, slug, "ticker", params)["last"] == pytest.approx(120_000.0)
    assert answer(fake_upstream, "okx", "ticker", params)["last"] == pytest.approx(MARKET["bitcoin"][0])


@pytest.mark.parametrize("slug", SLUGS)
def test_listings_name_every_coin_of_the_table(fake_upstream, slug):
    import httpx

    adapter = get_adapter(slug)
    spec = adapter.listing_request()
    response = httpx.get(fake_upstream.base_url(slug) + spec.path, params=dict(spec.params), timeout=5)
    rows = {row.key: row for row in adapter.parse_listing(response.json())}
    assert {"BTC", "ETH", "ZEC"} <= set(rows)
    assert len(rows) >= len(MARKET) - 1  # a stablecoin quote is not its own base
    assert rows["BTC"].symbol == "BTC" and rows["BTC"].quotes
