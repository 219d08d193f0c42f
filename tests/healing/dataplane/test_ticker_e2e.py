"""/api/data/ticker end to end: the data plane in process, the engine, real Redis and real sockets
to the fake exchanges. Binance answers first; broken in the ways Binance breaks (500, 451 from a
restricted region, 429), its public data mirror answers, then each exchange after it in pool order,
in its own pair name but the one record shape. Also `manage.py fetch ticker` over the same catalogue."""

import dataclasses
import io
import json

import pytest
from django.core.management import call_command

from providers.tickers import Ticker
from tests.fake_upstream.market import MARKET
from tests.fixtures.clock import T0
from tests.fixtures.dataplane import clear_cache, pools_over_fake

# The ticker pool in priority order, as fixtures/providers.json ships it up to Bybit, Gate.io, Bitstamp and
# Gemini (its last members, test_more_exchanges_e2e.py).
POOL = ["binance", "binance_vision", "okx", "kraken", "coinbase_exchange", "kucoin", "bitfinex", "binance_us"]
TICKER = "/api/data/ticker?id=bitcoin&vs=usdt"
# Each exchange's own name for bitcoin against the dollar quote asked (USDT; Bitfinex calls it UST).
PAIRS = {"binance": "BTCUSDT", "binance_vision": "BTCUSDT", "okx": "BTC-USDT", "kraken": "XBTUSDT",
         "coinbase_exchange": "BTC-USDT", "kucoin": "BTC-USDT", "bitfinex": "tBTCUST", "binance_us": "BTCUSDT"}
BTC_USD = MARKET["bitcoin"][0]


@pytest.fixture
def ticker_catalogue(transactional_db, fake_upstream):
    providers = pools_over_fake(fake_upstream, {"ticker": POOL}, category=lambda slug: "exchange")
    # The fake's ticker times follow its own clock: put it just behind the engine's.
    fake_upstream.set_clock(T0 - 5)
    return providers


async def test_binance_answers_the_ticker_record_then_the_cache_does(ticker_catalogue, fake_upstream,
                                                                    engine_client):
    response = await engine_client.get(TICKER)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["meta"]["capability"], body["meta"]["source"], body["meta"]["served"]) == (
        "ticker", "binance", "live")
    data = body["data"]
    assert set(data) == {f.name for f in dataclasses.fields(Ticker)}
    assert (data["id"], data["vs"], data["pair"]) == ("bitcoin", "usdt", "BTCUSDT")
    assert data["last"] == pytest.approx(BTC_USD)
    assert data["low"] <= data["open"] <= data["high"] and data["low"] <= data["last"] <= data["high"]
    assert data["change"] == pytest.approx(data["last"] - data["open"])
    assert data["close_time"] == "2027-01-15T07:59:54Z" and data["open_time"] == "2027-01-14T07:59:55Z"
    assert data["trades"] == 1000 and data["bid"] <= data["ask"]
    again = await engine_client.get(TICKER)
    assert again.json()["meta"]["served"] == "cache"
    assert fake_upstream.calls("binance") == 1


@pytest.mark.parametrize(("fault", "outcome"), [
    ({"kind": "status", "status": 500}, "transient"),
    ({"kind": "status", "status": 451}, "permanent"),  # Binance from a restricted region
    ({"kind": "rate_limit"}, "rate_limited"),
])
async def test_binances_mirror_answers_when_binance_fails(ticker_catalogue, fake_upstream, engine_client, fault,
                                                          outcome):
    fake_upstream.fault("binance", **fault)
    response = await engine_client.get(TICKER)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["meta"]["source"] == "binance_vision", body["meta"]["attempts"]
    assert {a["outcome"] for a in body["meta"]["attempts"] if a["provider"] == "binance"} == {outcome}
    assert [a["provider"] for a in body["meta"]["attempts"]][-1] == "binance_vision"
    assert body["data"]["pair"] == "BTCUSDT"
    assert body["data"]["last"] == pytest.approx(BTC_USD)
    assert body["data"]["change"] == pytest.approx(body["data"]["last"] - body["data"]["open"])


async def test_each_exchange_in_turn_answers_the_same_record(ticker_catalogue, fake_upstream, engine_client,
                                                             redis_client):
    for broken, expected in zip(POOL, POOL[1:], strict=False):
        fake_upstream.fault(broken, "status", status=503)
        clear_cache(redis_client)
        response = await engine_client.get(TICKER)
        assert response.status_code == 200, (broken, response.text)
        body = response.json()
        assert body["meta"]["source"] == expected, (broken, body["meta"]["attempts"])
        assert set(body["data"]) == {f.name for f in dataclasses.fields(Ticker)}
        assert body["data"]["pair"] == PAIRS[expected]
        assert body["data"]["last"] == pytest.approx(BTC_USD), expected


async def test_a_malformed_ticker_is_bad_data_and_the_next_exchange_answers(ticker_catalogue, fake_upstream,
                                                                            engine_client):
    fake_upstream.fault("binance", "malformed")
    body = (await engine_client.get(TICKER)).json()
    assert body["meta"]["source"] == "binance_vision"
    assert body["meta"]["attempts"][0]["outcome"] == "bad_data"


async def test_an_unknown_coin_is_a_404_naming_id_without_an_upstream_call(ticker_catalogue, fake_upstream,
                                                                          engine_client):
    response = await engine_client.get("/api/data/ticker?id=no-such-coin&vs=usdt")
    assert response.status_code == 404, response.text
    assert (response.json()["field"], response.json()["values"]) == ("id", ["no-such-coin"])
    assert fake_upstream.calls() == 0


@pytest.mark.parametrize(("query", "field"), [("vs=usdt", "id"), ("id=bitcoin&vs=u$d", "vs"),
                                              ("id=bitcoin&depth=5", "depth"), ("id=bitcoin,ethereum", "id")])
async def test_bad_parameters_are_a_400_naming_the_field(ticker_catalogue, fake_upstream, engine_client, query, field):
    response = await engine_client.get(f"/api/data/ticker?{query}")
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field
    assert fake_upstream.calls() == 0


# --- manage.py fetch ------------------------------------------------------------------------------------


def run(*args) -> str:
    out = io.StringIO()
    call_command("fetch", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_fetch_prints_a_ticker(ticker_catalogue, fake_upstream):
    # The command runs on the real clock, so the fake does too.
    fake_upstream.set_clock(None)
    text = run("ticker", "--id", "bitcoin", "--vs", "usdt")
    assert "BTCUSDT" in text and "source binance, served live" in text
    body = json.loads(run("ticker", "--id", "ethereum", "--vs", "usdt", "--provider", "okx", "--json"))
    assert (body["meta"]["source"], body["data"]["pair"]) == ("okx", "ETH-USDT")
    assert body["data"]["last"] == pytest.approx(MARKET["ethereum"][0])
