"""Candles and order books end to end: the data plane in process, the engine, real Redis and real
sockets to the fake exchanges; each provider in turn is broken to show the next answers the same
shape. Also `manage.py fetch candles|orderbook` over the same catalogue."""

import dataclasses
import io
import json

import pytest
from django.core.management import call_command

from providers.market_depth import Candle, OrderBook
from tests.fixtures.clock import T0
from tests.fixtures.dataplane import clear_cache, pools_over_fake

# Each pool in priority order, as fixtures/providers.json ships it up to Bybit, Gate.io, Bitstamp and Gemini
# (its last members, test_more_exchanges_e2e.py).
POOLS = {
    "candles": ["binance", "binance_vision", "okx", "kraken", "kucoin", "coinbase_exchange", "bitfinex", "binance_us",
                "coingecko"],
    "orderbook": ["binance", "binance_vision", "okx", "kraken", "kucoin", "coinbase_exchange", "bitfinex",
                  "binance_us"],
}
CANDLES_1H = "/api/data/candles?id=bitcoin&vs=usd&interval=1h&limit=5"
BOOK = "/api/data/orderbook?id=bitcoin&vs=usd&depth=5"
# (path, the providers that can serve it in pool order, the record type)
CASES = {
    "candles-1h": (CANDLES_1H, POOLS["candles"][:-1], Candle),  # CoinGecko's free /ohlc has no 1h
    "candles-4h": ("/api/data/candles?id=ethereum&interval=4h&limit=6",  # no 4h at Coinbase, Bitfinex
                   ["binance", "binance_vision", "okx", "kraken", "kucoin", "binance_us", "coingecko"], Candle),
    "orderbook": (BOOK, POOLS["orderbook"], OrderBook),
}


@pytest.fixture
def depth_catalogue(transactional_db, fake_upstream):
    providers = pools_over_fake(fake_upstream, POOLS,
                                category=lambda slug: "market_data" if slug == "coingecko" else "exchange")
    # The fake's candles follow its own clock: put it just behind the engine's.
    fake_upstream.set_clock(T0 - 90)
    return providers


def shape(value):
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value and isinstance(value[0], dict) else "list"
    return "scalar"


def records(data):
    return data if isinstance(data, list) else [data]


@pytest.mark.parametrize("case", sorted(CASES))
async def test_each_capability_answers_the_normalized_shape(depth_catalogue, fake_upstream, engine_client, case):
    path, providers, cls = CASES[case]
    response = await engine_client.get(path)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["meta"]["source"], body["meta"]["served"]) == (providers[0], "live")
    assert all(set(r) == {f.name for f in dataclasses.fields(cls)} for r in records(body["data"]))
    again = await engine_client.get(path)
    assert again.json()["meta"]["served"] == "cache"
    assert fake_upstream.calls(providers[0]) == 1


@pytest.mark.parametrize("case", sorted(CASES))
async def test_fallback_from_each_provider_to_the_next_keeps_the_shape(depth_catalogue, fake_upstream, engine_client,
                                                                      redis_client, case):
    path, providers, _ = CASES[case]
    first = (await engine_client.get(path)).json()
    baseline = shape(first["data"])
    for broken, expected in zip(providers, providers[1:], strict=False):
        fake_upstream.fault(broken, "status", status=503)
        clear_cache(redis_client)
        response = await engine_client.get(path)
        assert response.status_code == 200, (broken, response.text)
        body = response.json()
        assert body["meta"]["source"] == expected, (broken, body["meta"]["attempts"])
        assert shape(body["data"]) == baseline, expected
        if isinstance(body["data"], list):
            # The same boundaries and prices whichever exchange answered.
            assert [(c["open_time"], c["close"]) for c in body["data"]] == [
                (c["open_time"], c["close"]) for c in first["data"]], expected
        else:
            assert (body["data"]["best_bid"], body["data"]["best_ask"]) == (
                first["data"]["best_bid"], first["data"]["best_ask"]), expected


async def test_providers_without_the_interval_are_passed_over_without_a_call(depth_catalogue, fake_upstream,
                                                                             engine_client):
    for slug in ("binance", "binance_vision", "okx", "kraken", "kucoin", "binance_us"):
        fake_upstream.fault(slug, "status", status=503)
    response = await engine_client.get("/api/data/candles?id=bitcoin&interval=4h&limit=3")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["meta"]["source"] == "coingecko"
    outcomes = {a["provider"]: a["outcome"] for a in body["meta"]["attempts"]}
    assert outcomes["coinbase_exchange"] == outcomes["bitfinex"] == "permanent"
    assert fake_upstream.calls("coinbase_exchange") == fake_upstream.calls("bitfinex") == 0
    assert [c["volume"] for c in body["data"]] == [None, None, None]
    assert [c["partial"] for c in body["data"]] == [False, False, True]


async def test_the_forming_candle_closes_at_the_current_price(depth_catalogue, fake_upstream, engine_client):
    fake_upstream.set_price(None, "bitcoin", "usd", 111_111.0)
    candles = (await engine_client.get(CANDLES_1H)).json()["data"]
    assert candles[-1]["close"] == 111_111.0 and candles[-1]["partial"] is True
    assert candles[-1]["open_time"] == "2027-01-15T07:00:00Z"  # the hour holding the fake's "now"
    assert all(a["close"] == b["open"] for a, b in zip(candles, candles[1:], strict=False))


async def test_a_truncated_book_is_bad_data_and_the_next_exchange_answers(depth_catalogue, fake_upstream,
                                                                          engine_client):
    fake_upstream.fault("binance", "malformed")
    body = (await engine_client.get(BOOK)).json()
    assert body["meta"]["source"] == "binance_vision"
    assert body["meta"]["attempts"][0]["outcome"] == "bad_data"
    assert body["data"]["best_bid"] < body["data"]["mid"] < body["data"]["best_ask"]
    assert len(body["data"]["bids"]) == len(body["data"]["asks"]) == 5


async def test_an_unknown_coin_is_a_404_naming_id(depth_catalogue, fake_upstream, engine_client):
    response = await engine_client.get("/api/data/orderbook?id=no-such-coin")
    assert response.status_code == 404, response.text
    assert (response.json()["field"], response.json()["values"]) == ("id", ["no-such-coin"])
    assert fake_upstream.calls() == 0


async def test_bad_parameters_are_a_400_naming_the_field(depth_catalogue, engine_client):
    response = await engine_client.get("/api/data/candles?id=bitcoin&interval=2h")
    assert response.status_code == 400
    assert "interval" in response.text


# --- manage.py fetch ------------------------------------------------------------------------------------


def run(*args) -> str:
    out = io.StringIO()
    call_command("fetch", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_fetch_prints_candles_and_a_book(depth_catalogue, fake_upstream):
    # The command runs on the real clock, so the fake does too.
    fake_upstream.set_clock(None)
    lines = run("candles", "--id", "bitcoin", "--interval", "15m", "--limit", "3").splitlines()
    assert lines[0].split() == ["OPEN_TIME", "OPEN", "HIGH", "LOW", "CLOSE", "VOLUME", "PARTIAL"]
    assert len(lines) == 5 and "source binance, served live" in lines[-1]
    book = run("orderbook", "--id", "ethereum", "--depth", "2", "--provider", "kraken")
    assert "best_bid" in book and "source kraken" in book
    body = json.loads(run("orderbook", "--id", "ethereum", "--depth", "2", "--json"))
    assert len(body["data"]["asks"]) == 2


async def test_a_pair_no_exchange_lists_is_not_found_everywhere_and_opens_no_breaker(depth_catalogue, fake_upstream,
                                                                                     engine_client):
    for _ in range(8):  # more than any breaker's failure threshold
        response = await engine_client.get("/api/data/candles?id=bitcoin&vs=xyz&interval=1h&limit=5")
        assert response.status_code in (404, 503), response.text
        outcomes = {a["provider"]: a["outcome"] for a in response.json()["attempts"]}
        assert {outcomes[slug] for slug in POOLS["orderbook"]} == {"not_found"}, outcomes
    # Not one of those counted against an exchange: the head of the pool still answers at once.
    good = await engine_client.get(CANDLES_1H)
    assert good.status_code == 200 and good.json()["meta"]["source"] == "binance"
    assert len(good.json()["meta"]["attempts"]) == 1
