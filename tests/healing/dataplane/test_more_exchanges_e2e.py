"""Bybit, Gate.io, Bitstamp and Gemini end to end: the data plane in process, the engine, real Redis
and real sockets to the fake upstream, over the four pools as fixtures/providers.json ships them.
With every earlier member broken, each new exchange in turn answers candles, the order book, the
24 h ticker and prices in the same normalized shape and values as the pool's first member."""

import dataclasses
import json
from pathlib import Path

import pytest

from providers.market_depth import Candle, OrderBook
from providers.schemas import Quote
from providers.tickers import Ticker
from tests.fake_upstream.market import MARKET
from tests.fixtures.clock import T0
from tests.fixtures.dataplane import clear_cache, pools_over_fake

SHIPPED = Path(__file__).resolve().parents[3] / "fixtures" / "providers.json"
NEW = ["bybit", "gateio", "bitstamp", "gemini"]
AGGREGATORS = {"coingecko", "coinpaprika", "coincap", "cryptocompare", "coinlore", "coinbase"}
# (path, record type) per pool; 1h because Gemini has no 4h candles.
CASES = {
    "candles": ("/api/data/candles?id=bitcoin&vs=usd&interval=1h&limit=5", Candle),
    "orderbook": ("/api/data/orderbook?id=bitcoin&vs=usd&depth=5", OrderBook),
    "ticker": ("/api/data/ticker?id=ethereum&vs=usd", Ticker),
    "price": ("/api/data/price?ids=bitcoin,ethereum&vs=usd", Quote),
}
# Each new exchange's own name of the ticker's pair.
PAIRS = {"bybit": "ETHUSDT", "gateio": "ETH_USDT", "bitstamp": "ethusd", "gemini": "ETHUSD"}


def shipped_pool(capability: str) -> list[str]:
    pool = next(p for p in json.loads(SHIPPED.read_text())["pools"] if p["slug"] == capability)
    return [m["provider"] for m in sorted(pool["members"], key=lambda m: -m["priority"]) if m["enabled"]]


@pytest.fixture
def shipped_pools(transactional_db, fake_upstream):
    providers = pools_over_fake(fake_upstream, {capability: shipped_pool(capability) for capability in CASES},
                                category=lambda slug: "market_data" if slug in AGGREGATORS else "exchange")
    # The fake's candles and ticker times follow its own clock: put it just behind the engine's.
    fake_upstream.set_clock(T0 - 90)
    return providers


def test_the_new_exchanges_follow_every_earlier_member_of_the_shipped_pools():
    for capability in CASES:
        assert shipped_pool(capability)[-4:] == NEW, capability


def same_values(capability: str, data, first) -> bool:
    if capability == "candles":
        return [(c["open_time"], c["close"]) for c in data] == [(c["open_time"], c["close"]) for c in first]
    if capability == "orderbook":
        return (data["best_bid"], data["best_ask"]) == (first["best_bid"], first["best_ask"])
    if capability == "ticker":
        return data["last"] == pytest.approx(first["last"])
    return [q["price"] for q in data] == pytest.approx([q["price"] for q in first])


@pytest.mark.parametrize("capability", sorted(CASES))
async def test_each_new_exchange_answers_the_same_record_when_the_earlier_ones_are_broken(
        shipped_pools, fake_upstream, engine_client, redis_client, capability):
    path, cls = CASES[capability]
    pool = shipped_pool(capability)
    first = await engine_client.get(path)
    assert first.status_code == 200, first.text
    baseline = first.json()
    assert baseline["meta"]["source"] == pool[0]
    fields = {f.name for f in dataclasses.fields(cls)}
    for slug in NEW:
        for broken in pool[: pool.index(slug)]:
            fake_upstream.fault(broken, "status", status=503)
        clear_cache(redis_client)
        before = fake_upstream.calls(slug)
        response = await engine_client.get(path)
        assert response.status_code == 200, (slug, response.text)
        body = response.json()
        assert body["meta"]["source"] == slug, (slug, body["meta"]["attempts"])
        assert fake_upstream.calls(slug) == before + 1, slug  # one call, several coins or one
        records = body["data"] if isinstance(body["data"], list) else [body["data"]]
        assert all(set(r) == fields for r in records), slug
        assert same_values(capability, body["data"], baseline["data"]), slug
        if capability == "ticker":
            assert body["data"]["pair"] == PAIRS[slug]
            assert body["data"]["last"] == pytest.approx(MARKET["ethereum"][0])


async def test_a_rate_limited_exchange_hands_over_to_the_next(shipped_pools, fake_upstream, engine_client):
    pool = shipped_pool("orderbook")
    for broken in pool[: pool.index("bybit")]:
        fake_upstream.fault(broken, "status", status=503)
    # Bybit's rate limit inside HTTP 200, then Gate.io's with a 429.
    fake_upstream.fault("bybit", "error_in_200", variant="rate_limit")
    fake_upstream.fault("gateio", "rate_limit")
    body = (await engine_client.get(CASES["orderbook"][0])).json()
    assert body["meta"]["source"] == "bitstamp", body["meta"]["attempts"]
    outcomes = {a["provider"]: a["outcome"] for a in body["meta"]["attempts"]}
    assert outcomes["bybit"] == outcomes["gateio"] == "rate_limited"
    assert body["data"]["best_bid"] < body["data"]["mid"] < body["data"]["best_ask"]


async def test_gemini_is_passed_over_for_4h_without_a_call(shipped_pools, fake_upstream, engine_client):
    pool = shipped_pool("candles")
    for broken in pool[: pool.index("gemini")]:
        fake_upstream.fault(broken, "status", status=503)
    response = await engine_client.get("/api/data/candles?id=bitcoin&interval=4h&limit=3")
    assert response.status_code == 503, response.text
    outcomes = {a["provider"]: a["outcome"] for a in response.json()["attempts"]}
    assert outcomes["gemini"] == "permanent"
    assert fake_upstream.calls("gemini") == 0


async def test_a_pair_the_new_exchanges_do_not_list_is_not_found_there(shipped_pools, fake_upstream,
                                                                       engine_client):
    # KRW books: Gemini and Gate.io name the pair unknown, Bybit inside HTTP 200; the rest are broken.
    pool = shipped_pool("ticker")
    for broken in pool[: pool.index("bybit")] + ["bitstamp"]:
        fake_upstream.fault(broken, "status", status=503)
    response = await engine_client.get("/api/data/ticker?id=bitcoin&vs=krw")
    outcomes = {a["provider"]: a["outcome"] for a in response.json()["attempts"]}
    assert {slug: outcomes[slug] for slug in ("bybit", "gateio", "gemini")} == dict.fromkeys(
        ("bybit", "gateio", "gemini"), "not_found")
    assert response.status_code == 503  # the broken ones did not say "not found"
