"""The fake's 24 h tickers over real HTTP, fed to the real adapters: every exchange answers from the
one price table (last = the table's price, the open 24 h ago from its change), fails an unlisted
pair its own way, and a price lie moves that exchange's ticker only."""

import pytest

from providers.adapters.base import AdapterError, Outcome
from providers.registry import get_adapter
from tests.fake_upstream.market import MARKET
from tests.test_fake_upstream_capabilities import answer, fetch

SLUGS = ["binance", "okx", "kraken", "coinbase_exchange", "kucoin", "bitfinex"]
# Which fields each exchange's ticker fills (the rest stay null).
FILLED = {
    "binance": {"open", "high", "low", "volume", "quote_volume", "change", "change_pct", "vwap", "bid", "bid_size",
                "ask", "ask_size", "open_time", "close_time", "trades"},
    "okx": {"open", "high", "low", "volume", "quote_volume", "change", "change_pct", "bid", "bid_size", "ask",
            "ask_size", "close_time"},
    "kraken": {"high", "low", "volume", "quote_volume", "vwap", "bid", "bid_size", "ask", "ask_size", "trades"},
    "coinbase_exchange": {"open", "high", "low", "volume", "change", "change_pct"},
    "kucoin": {"open", "high", "low", "volume", "quote_volume", "change", "change_pct", "vwap", "bid", "ask",
               "close_time"},
    "bitfinex": {"open", "high", "low", "volume", "change", "change_pct", "bid", "ask"},
}
ALWAYS = {"id", "vs", "pair", "last"}


@pytest.mark.parametrize("slug", SLUGS)
@pytest.mark.parametrize(("coin", "vs"), [("bitcoin", "usdt"), ("ethereum", "usd"), ("solana", "usdt")])
def test_every_exchange_answers_a_ticker_from_the_price_table(fake_upstream, slug, coin, vs):
    fake_upstream.set_clock(1749556800)
    ticker = answer(fake_upstream, slug, "ticker", {"id": coin, "vs": vs})
    assert {name for name, value in ticker.items() if value is not None} == ALWAYS | FILLED[slug]
    price, change_pct = MARKET[coin][0], MARKET[coin][3]
    assert (ticker["id"], ticker["vs"], ticker["last"]) == (coin, vs, pytest.approx(price))
    assert ticker["low"] <= ticker["last"] <= ticker["high"]
    if ticker["open"] is not None:
        assert ticker["open"] == pytest.approx(price / (1 + change_pct / 100), rel=1e-6)
        assert ticker["change_pct"] == pytest.approx(change_pct, abs=0.01)
    if ticker["close_time"] is not None:
        assert ticker["close_time"].startswith("2025-06-10T1")


@pytest.mark.parametrize("slug", ["okx", "kucoin", "bitfinex"])
def test_the_majors_have_eur_tickers_too(fake_upstream, slug):
    ticker = answer(fake_upstream, slug, "ticker", {"id": "ethereum", "vs": "eur"})
    assert ticker["last"] == pytest.approx(2770.0 * 0.8771)


@pytest.mark.parametrize(("slug", "outcome"), [
    ("binance", Outcome.NOT_FOUND), ("okx", Outcome.NOT_FOUND), ("kraken", Outcome.NOT_FOUND),
    ("coinbase_exchange", Outcome.NOT_FOUND), ("kucoin", Outcome.NOT_FOUND), ("bitfinex", Outcome.NOT_FOUND)])
def test_an_unlisted_pair_fails_the_way_each_exchange_fails_it(fake_upstream, slug, outcome):
    params = {"id": "bitcoin", "vs": "krw"}
    response = fetch(fake_upstream, slug, "ticker", params)
    adapter = get_adapter(slug)
    if response.status_code != 200:
        assert adapter.classify_http_error(response.status_code, response.json()) == outcome
        return
    with pytest.raises(AdapterError) as caught:
        adapter.parse("ticker", params, adapter.decode(response.content))
    assert caught.value.outcome == outcome


@pytest.mark.parametrize("slug", SLUGS)
def test_a_price_lie_moves_that_exchange_s_ticker_only(fake_upstream, slug):
    fake_upstream.set_price(slug, "bitcoin", "usd", 120_000.0)
    params = {"id": "bitcoin", "vs": "usd"}
    assert answer(fake_upstream, slug, "ticker", params)["last"] == pytest.approx(120_000.0)
    other = "okx" if slug != "okx" else "binance"
    assert answer(fake_upstream, other, "ticker", params)["last"] == pytest.approx(MARKET["bitcoin"][0])


@pytest.mark.parametrize(("slug", "outcome"), [
    ("binance", Outcome.BAD_DATA), ("okx", Outcome.TRANSIENT), ("kraken", Outcome.TRANSIENT),
    ("coinbase_exchange", Outcome.BAD_DATA), ("kucoin", Outcome.BAD_DATA), ("bitfinex", Outcome.TRANSIENT)])
def test_error_in_200_reaches_the_ticker(fake_upstream, slug, outcome):
    fake_upstream.fault(slug, "error_in_200")
    params = {"id": "bitcoin", "vs": "usd"}
    response = fetch(fake_upstream, slug, "ticker", params)
    assert response.status_code == 200
    adapter = get_adapter(slug)
    with pytest.raises(AdapterError) as caught:
        adapter.parse("ticker", params, adapter.decode(response.content))
    assert caught.value.outcome == outcome
