"""Every data capability end to end over the fake upstream: the data plane (in process, and once
through a real uvicorn process), the engine, real Redis and real sockets to the fake providers."""

import contextlib
import dataclasses

import httpx
import pytest

from healing.engine import stats
from healing.engine.breaker import BreakerStore
from healing.engine.config import ProviderConfig
from providers import schemas
from providers.runtime import rkey
from tests.fixtures.dataplane import POOLS, clear_cache

# (path, the providers that can serve it in pool order, the dataclass of its items)
CASES = {
    # DIA, last in the pool, answers one coin per call: a two-coin request never gets to it.
    "price": ("/api/data/price?ids=bitcoin,ethereum&vs=usd", [s for s in POOLS["price"] if s != "dia"], schemas.Quote),
    "markets": ("/api/data/markets?limit=5", POOLS["markets"], schemas.MarketRow),
    "global": ("/api/data/global", POOLS["global"], schemas.GlobalStats),
    "fear-greed": ("/api/data/fear-greed?limit=3", POOLS["fear_greed"], schemas.FearGreedReading),
    "trending": ("/api/data/trending?limit=3", POOLS["trending"], schemas.TrendingCoin),
    "tvl-yearn": ("/api/data/tvl?protocol=yearn-finance&chain=ethereum", POOLS["tvl"], schemas.TvlProtocol),
    "tvl-chains": ("/api/data/tvl?chain=ethereum", ["defillama"], schemas.TvlChain),
    "gas-ethereum": ("/api/data/gas?chain=ethereum", ["etherscan", "blockchair", "publicnode_eth"],
                     schemas.GasEstimate),
    "gas-bitcoin": ("/api/data/gas?chain=bitcoin", ["mempool_space", "blockchair"], schemas.GasEstimate),
    "news": ("/api/data/news?limit=5", POOLS["news"], schemas.NewsItem),
}


def fields(cls) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def items_of(data):
    """The records of an answer, whatever its container (list, object, TVL's two lists)."""
    if isinstance(data, dict) and set(data) == {"protocols", "chains"}:
        return data["protocols"] or data["chains"]
    return data if isinstance(data, list) else [data]


def shape(value):
    """Keys all the way down (values ignored): two answers with one shape differ only in numbers."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items() if not isinstance(v, dict) or k != "chain_tvls"}
    if isinstance(value, list):
        return [shape(value[0])] if value and isinstance(value[0], dict | list) else "list"
    return "scalar"


@contextlib.asynccontextmanager
async def breakers(clock):
    import redis.asyncio
    from django.conf import settings

    r = redis.asyncio.Redis.from_url(settings.REDIS_URL)
    try:
        yield BreakerStore(r, clock)
    finally:
        await r.aclose()


def cfg(slug: str) -> ProviderConfig:
    return ProviderConfig(slug=slug, name=slug, category="market_data", base_url="http://127.0.0.1:9")


# --- every capability, and fallback through every provider ------------------------------------------


@pytest.mark.parametrize("case", sorted(CASES))
async def test_every_capability_answers_the_normalized_shape(catalogue, fake_upstream, engine_client, case):
    path, providers, cls = CASES[case]
    response = await engine_client.get(path)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["meta"]["source"] == providers[0]
    assert body["meta"]["served"] == "live"
    assert response.headers["x-cryptohub-source"] == providers[0]
    records = items_of(body["data"])
    assert records and all(set(r) == fields(cls) for r in records)
    assert fake_upstream.calls() >= 1


@pytest.mark.parametrize("case", sorted(c for c in CASES if len(CASES[c][1]) > 1))
async def test_fallback_from_each_provider_to_the_next_keeps_the_shape(catalogue, fake_upstream, engine_client,
                                                                      redis_client, case):
    path, providers, _ = CASES[case]
    first = await engine_client.get(path)
    assert first.json()["meta"]["source"] == providers[0]
    baseline = shape(first.json()["data"])
    for broken, expected in zip(providers, providers[1:], strict=False):
        fake_upstream.fault(broken, "status", status=503)
        clear_cache(redis_client)
        response = await engine_client.get(path)
        assert response.status_code == 200, (broken, response.text)
        meta = response.json()["meta"]
        assert meta["source"] == expected, (broken, meta["attempts"])
        assert shape(response.json()["data"]) == baseline, expected
        assert meta["attempts"][-1] == {"provider": expected, "outcome": "ok", "ms": meta["attempts"][-1]["ms"]}
        assert {a["provider"] for a in meta["attempts"][:-1]} == set(providers[: providers.index(expected)])


async def test_a_gas_request_never_asks_a_provider_without_that_chain(catalogue, fake_upstream, engine_client):
    fake_upstream.fault("*", "status", status=503)
    response = await engine_client.get("/api/data/gas?chain=bitcoin")
    assert response.status_code == 503
    assert {a["provider"] for a in response.json()["attempts"]} == {"mempool_space", "blockchair"}
    assert fake_upstream.calls("etherscan") == fake_upstream.calls("publicnode_eth") == 0


async def test_consensus_flags_a_lying_provider_and_counts_it_as_bad_data(catalogue, fake_upstream, engine_client,
                                                                         redis_client, clock):
    fake_upstream.set_price("coinpaprika", "bitcoin", "usd", 125_000.0)
    response = await engine_client.get("/api/data/price?ids=bitcoin,ethereum&consensus=3")
    assert response.status_code == 200, response.text
    body = response.json()
    data, meta = body["data"], body["meta"]
    assert meta["served"] == "consensus" and response.headers["x-cryptohub-cache"] == "consensus"
    assert meta["source"] == "coingecko,coinpaprika,coincap"
    assert data["outliers"] == ["coinpaprika"]
    assert (data["asked"], data["answered"], data["requested"], data["missing"]) == (3, 3, 3, [])
    bitcoin = data["values"]["bitcoin"]
    assert bitcoin["median"] == 109600.0
    assert bitcoin["by_provider"] == {"coingecko": 109600.0, "coinpaprika": 125000.0, "coincap": 109600.0}
    assert bitcoin["outliers"] == ["coinpaprika"]
    assert bitcoin["deviation_pct"]["coinpaprika"] == pytest.approx(14.0511, abs=1e-3)
    assert data["values"]["ethereum"]["outliers"] == []
    assert [(q["id"], q["price"]) for q in data["median"]] == [("bitcoin", 109600.0), ("ethereum", 2770.0)]
    assert set(data["median"][0]) == fields(schemas.Quote)
    assert data["providers"]["coinpaprika"][0]["price"] == 125000.0
    assert {"provider": "coinpaprika", "outcome": "bad_data", "ms": 0.0,
            "detail": "outlier: 14.05 % from the median of 3"} in meta["attempts"]
    # Counted against its health: a bad_data outcome and a breaker failure; the others are clean.
    assert redis_client.hget(stats.counters_key("coinpaprika"), "bad_data") == "1"
    assert redis_client.hget(stats.counters_key("coingecko"), "bad_data") is None
    async with breakers(clock) as store:
        assert (await store.state("coinpaprika")).consecutive_failures == 1
        assert (await store.state("coingecko")).consecutive_failures == 0
    # Consensus never writes the cache.
    assert list(redis_client.scan_iter(rkey("cache", "*"))) == []


async def test_partial_consensus_says_who_did_not_answer_and_why(catalogue, fake_upstream, engine_client):
    fake_upstream.fault("coincap", "status", status=503)
    response = await engine_client.get("/api/data/price?ids=bitcoin&consensus=3")
    assert response.status_code == 200
    data = response.json()["data"]
    assert (data["asked"], data["answered"]) == (3, 2)
    assert data["missing"] == [{"provider": "coincap", "reason": data["missing"][0]["reason"]}]
    assert data["missing"][0]["reason"].startswith("transient")
    assert data["outliers"] == []  # two voters: no majority to judge by
    assert response.json()["meta"]["source"] == "coingecko,coinpaprika"


async def test_consensus_skips_open_breakers_and_says_when_the_pool_is_short(catalogue, fake_upstream, engine_client,
                                                                           clock):
    async with breakers(clock) as store:
        for _ in range(5):
            await store.record(cfg("coingecko"), False)
    response = await engine_client.get("/api/data/global?consensus=5")
    data = response.json()["data"]
    assert response.json()["meta"]["source"] == "coinpaprika,coinlore"
    assert (data["asked"], data["requested"]) == (2, 5)
    assert data["missing"][0]["provider"] == "coingecko"
    assert data["missing"][0]["reason"].startswith("skipped_breaker_open")
    assert fake_upstream.calls("coingecko") == 0
    assert set(data["median"]) == fields(schemas.GlobalStats)


async def test_gas_consensus_over_the_chains_providers(catalogue, fake_upstream, engine_client):
    fake_upstream.set_gas("publicnode_eth", "ethereum", 5.0)
    response = await engine_client.get("/api/data/gas?chain=ethereum&consensus=3")
    data = response.json()["data"]
    assert data["values"]["standard"]["by_provider"] == {"etherscan": 0.52, "blockchair": 0.52, "publicnode_eth": 5.0}
    assert data["outliers"] == ["publicnode_eth"]
    assert data["median"]["standard"] == 0.52 and data["median"]["chain"] == "ethereum"


async def test_consensus_with_nobody_answering_is_a_503(catalogue, fake_upstream, engine_client):
    fake_upstream.fault("*", "status", status=502)
    response = await engine_client.get("/api/data/gas?chain=bitcoin&consensus=2")
    assert response.status_code == 503
    assert {a["provider"] for a in response.json()["attempts"]} == {"mempool_space", "blockchair"}


async def test_an_iso_8859_1_feed_with_html_and_tracking_links_comes_out_clean(catalogue, engine_client):
    response = await engine_client.get("/api/data/news?provider=cointelegraph&limit=10")
    assert response.status_code == 200
    items = response.json()["data"]
    titles = [i["title"] for i in items]
    assert "Société Générale's Euro Stablecoin Wins Approval, a Great Step for Adoption" in titles
    assert all("utm_" not in (i["url"] or "") for i in items)
    assert all("<" not in (i["summary"] or "") for i in items)
    assert any("Málaga" in (i["summary"] or "") for i in items)
    assert {i["source"] for i in items} == {"Cointelegraph"}


async def test_a_feed_with_missing_fields_keeps_what_it_can(catalogue, engine_client):
    items = (await engine_client.get("/api/data/news?provider=bitcoinist&limit=10")).json()["data"]
    assert len(items) == 3  # the title-less item is dropped
    undated = [i for i in items if i["published_at"] is None]
    assert [i["title"] for i in undated] == ["Analysts Warn of Painful Bitcoin Correction Ahead"]
    assert items[-1]["published_at"] is None  # undated news sorts last


async def test_atom_feed_and_search_through_the_data_plane(catalogue, engine_client):
    items = (await engine_client.get("/api/data/news?provider=decrypt")).json()["data"]
    assert [i["source"] for i in items] == ["Decrypt", "Decrypt"]
    found = (await engine_client.get("/api/data/news?q=stablecoin&provider=cointelegraph")).json()["data"]
    assert [i["title"][:24] for i in found] == ["Société Générale's Euro "]


@pytest.mark.parametrize("kind", ["error_in_200", "malformed"])  # malformed: the feed cut in half, items and all
async def test_a_broken_feed_falls_back_to_the_next_one(catalogue, fake_upstream, engine_client, kind):
    fake_upstream.fault("coindesk", kind)
    response = await engine_client.get("/api/data/news")
    assert response.json()["meta"]["source"] == "cointelegraph"
    assert response.json()["meta"]["attempts"][0]["outcome"] == "bad_data"


# --- sentiment ------------------------------------------------------------------------------------------


async def test_coin_sentiment_scores_the_headlines_that_mention_each_coin(catalogue, engine_client):
    response = await engine_client.get("/api/data/sentiment?ids=bitcoin,dogecoin,ethereum&provider=bitcoinist")
    assert response.status_code == 200, response.text
    body = response.json()
    coins = body["data"]["coins"]
    assert body["data"]["backend"] == "vader"
    assert body["meta"]["capability"] == "sentiment" and body["meta"]["source"] == "bitcoinist"
    assert coins["dogecoin"]["label"] == "positive"
    assert [h["title"] for h in coins["dogecoin"]["headlines"]] == ["Dogecoin Surges 12% as Whales Accumulate"]
    assert coins["bitcoin"]["label"] == "negative"
    assert coins["bitcoin"]["count"] == 1
    assert coins["ethereum"]["count"] == 1
    assert body["data"]["headlines_scanned"] == 3


async def test_coin_sentiment_without_a_provider_uses_the_news_pool_and_its_cache(catalogue, fake_upstream,
                                                                                  engine_client):
    first = await engine_client.get("/api/data/sentiment?ids=bitcoin")
    second = await engine_client.get("/api/data/sentiment?ids=ethereum")
    assert first.json()["meta"]["source"] == "coindesk"
    assert (first.json()["meta"]["served"], second.json()["meta"]["served"]) == ("live", "cache")
    assert fake_upstream.calls("coindesk") == 1
    assert first.json()["data"]["coins"]["bitcoin"]["count"] >= 1


async def test_sentiment_of_posted_texts(catalogue, engine_client):
    texts = ["Bitcoin soars to a record high as investors celebrate",
             "Exchange hacked, users fear massive losses as prices crash",
             "The committee meets on Tuesday"]
    response = await engine_client.post("/api/data/sentiment", json={"texts": texts})
    assert response.status_code == 200
    scores = response.json()["data"]["scores"]
    assert [s["text"] for s in scores] == texts
    assert [s["label"] for s in scores] == ["positive", "negative", "neutral"]
    assert response.json()["data"]["summary"]["count"] == 3
    assert response.json()["meta"]["source"] == "vader"


@pytest.mark.parametrize("body,status,field", [
    (b"not json", 400, "body"),
    (b'{"texts": []}', 400, "texts"),
    (b'{"texts": "one"}', 400, "texts"),
    (b'{"texts": [1]}', 400, "texts"),
    (b'["x"]', 400, "body"),
    (b'{"texts": ["' + b"x" * 1_400_000 + b'"]}', 413, "body"),
], ids=["not-json", "no-texts", "texts-not-a-list", "text-not-a-string", "not-an-object", "oversized"])
async def test_bad_sentiment_bodies_are_refused(catalogue, engine_client, body, status, field):
    response = await engine_client.post("/api/data/sentiment", content=body)
    assert response.status_code == status
    assert response.json()["field"] == field


# --- ?provider=, and the error answers ---------------------------------------------------------------------


async def test_provider_asks_that_provider_only_and_never_writes_the_cache(catalogue, fake_upstream, engine_client,
                                                                         redis_client):
    response = await engine_client.get("/api/data/markets?limit=3&provider=coinlore")
    assert response.json()["meta"]["source"] == "coinlore"
    assert list(redis_client.scan_iter(rkey("cache", "*"))) == []
    fake_upstream.fault("coinlore", "status", status=503)
    failed = await engine_client.get("/api/data/markets?limit=3&provider=coinlore")
    assert failed.status_code == 503
    assert {a["provider"] for a in failed.json()["attempts"]} == {"coinlore"}
    assert fake_upstream.calls("coingecko") == fake_upstream.calls("coinpaprika") == 0


async def test_provider_that_cannot_serve_the_request_is_a_400(catalogue, fake_upstream, engine_client):
    for path in ("/api/data/gas?chain=ethereum&provider=mempool_space", "/api/data/news?provider=coingecko",
                 "/api/data/global?provider=nobody"):
        response = await engine_client.get(path)
        assert response.status_code == 400, path
        assert response.json()["field"] == "provider"
    assert fake_upstream.calls() == 0


@pytest.mark.parametrize("path,status,field", [
    ("/api/data/gas?chain=dogechain", 400, "chain"),
    ("/api/data/markets?limit=1000", 400, "limit"),
    ("/api/data/fear-greed?limit=-1", 400, "limit"),
    ("/api/data/news?q=" + "x" * 200, 400, "q"),
    ("/api/data/tvl?protocol=%3Cscript%3E", 400, "protocol"),
    ("/api/data/trending?consensus=3", 400, "consensus"),
    ("/api/data/sentiment?ids=notacoin", 404, "ids"),  # outside the registry: unknown, asked of nobody
    ("/api/data/price?ids=bitcoin&consensus=3&provider=kraken", 400, "consensus"),
])
async def test_bad_parameters_are_a_400_naming_them(catalogue, fake_upstream, engine_client, path, status, field):
    response = await engine_client.get(path)
    assert response.status_code == status
    assert response.json()["field"] == field
    assert fake_upstream.calls() == 0


async def test_unknown_ids_are_404s_naming_them_and_never_open_a_breaker(catalogue, fake_upstream, engine_client,
                                                                         clock):
    body = (await engine_client.get("/api/data/price?ids=bitcoinn")).json()
    assert (body["field"], body["values"], body["close_matches"]["bitcoinn"][0]) == ("ids", ["bitcoinn"], "bitcoin")
    for n in range(1000):  # distinct ids: no cache or coalescing absorbs them
        assert (await engine_client.get(f"/api/data/price?ids=notacoin{n}")).status_code == 404
    assert fake_upstream.calls("coingecko") >= 1000
    async with breakers(clock) as store:
        states = await store.states(["coingecko", "coinpaprika", "coincap"])
    assert all((s.state, s.consecutive_failures, s.window_failures) == ("closed", 0, 0) for s in states.values())
    assert (await engine_client.get("/api/data/price?ids=bitcoin")).json()["meta"]["source"] == "coingecko"


async def test_unknown_capability_is_a_404_with_the_list(catalogue, engine_client):
    response = await engine_client.get("/api/data/volcano")
    assert response.status_code == 404
    assert "fear-greed" in response.json()["capabilities"] and "sentiment" in response.json()["capabilities"]


async def test_nothing_anywhere_is_a_503_with_every_attempt(catalogue, fake_upstream, engine_client):
    fake_upstream.fault("*", "status", status=500)
    response = await engine_client.get("/api/data/fear-greed")
    assert response.status_code == 503
    body = response.json()
    assert [a["provider"] for a in body["attempts"]].count("alternative_me") == 2  # one retry
    assert {a["provider"] for a in body["attempts"]} == {"alternative_me", "coinmarketcap"}
    assert body["suggestions"]


async def test_a_capability_whose_pool_is_missing_is_a_404(transactional_db, engine_client):
    response = await engine_client.get("/api/data/trending")
    assert response.status_code == 404
    assert "trending" in response.json()["detail"]


# --- one real server process ----------------------------------------------------------------------------


@pytest.mark.slow
def test_capabilities_through_a_real_uvicorn_process(catalogue, fake_upstream, live_servers):
    server = live_servers()
    with httpx.Client(base_url=server.url, timeout=20, trust_env=False) as http:
        gas = http.get("/api/data/gas?chain=bitcoin")
        assert gas.status_code == 200, server.output()
        assert gas.json()["data"]["unit"] == "sat/vB"
        assert gas.headers["x-cryptohub-source"] == "mempool_space"
        fake_upstream.set_price("coingecko", "ethereum", "usd", 3000.0)
        price = http.get("/api/data/price?ids=ethereum&consensus=3")
        assert price.json()["data"]["outliers"] == ["coingecko"]
        scored = http.post("/api/data/sentiment", json={"texts": ["Bitcoin rally lifts the whole market"]})
        assert scored.json()["data"]["scores"][0]["label"] == "positive"
        index = http.get("/api/data/")
        assert set(index.json()["capabilities"]) >= {"markets", "global", "fear-greed", "tvl", "gas", "news"}


async def test_consensus_with_every_breaker_open_is_a_503_saying_so(catalogue, fake_upstream, engine_client, clock):
    async with breakers(clock) as store:
        for slug in ("mempool_space", "blockchair"):
            for _ in range(5):
                await store.record(cfg(slug), False)
    response = await engine_client.get("/api/data/gas?chain=bitcoin&consensus=2")
    assert response.status_code == 503
    assert [(a["provider"], a["outcome"]) for a in response.json()["attempts"]] == [
        ("mempool_space", "skipped_breaker_open"), ("blockchair", "skipped_breaker_open")]
    assert fake_upstream.calls() == 0
