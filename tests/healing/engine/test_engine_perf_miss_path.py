"""More hot-path shortcuts that keep the engine's answers exact: the scored coin sentiment is cached
with its news, and a miss makes fewer Redis round trips before the answer."""

import asyncio
import dataclasses

import pytest

from healing.engine import cache, candidates
from healing.engine import fetch as engine
from tests.healing.engine_doubles import ask, provider, snapshot

# --- coin sentiment: the scored answer is cached -----------------------------------------------------


def _news_stub(clock, fetched_at, calls):
    """engine.fetch_capability for the news pool: one headline per coin, fetched at `fetched_at`."""
    headlines = [{"title": "Bitcoin soars to a record high", "source": "coindesk"},
                 {"title": "Ethereum exchange hacked, funds lost", "source": "coindesk"}]

    async def fetch(capability, params, *, snapshot, deps, only_provider=None, deadline_s=None):
        calls.append((capability, only_provider))
        served = engine.SERVED_LIVE if len(calls) == 1 else engine.SERVED_CACHE
        return engine.entry_answer(cache.Entry(headlines, "coindesk", fetched_at), served, clock())

    return fetch


@pytest.fixture
def scored(monkeypatch):
    """Counts the headlines actually scored (a cache hit scores none)."""
    from healing.dataplane import requests as data_requests
    texts: list[str] = []
    real = data_requests._score

    async def counting(titles, backend):
        texts.extend(titles)
        return await real(titles, backend)

    monkeypatch.setattr(data_requests, "_score", counting)
    return texts


@pytest.fixture
def news_deps(deps):
    deps.settings = dataclasses.replace(deps.settings, fresh_ttl_s={"price": 10.0, "news": 300.0})
    return deps


async def test_coin_sentiment_is_cached_and_ages_with_its_news(news_deps, clock, monkeypatch, scored):
    from types import SimpleNamespace

    from healing.dataplane import requests as data_requests
    calls: list = []
    monkeypatch.setattr(engine, "fetch_capability", _news_stub(clock, clock() - 2.0, calls))
    snap = SimpleNamespace(version=1)
    first = await data_requests.coin_sentiment(["bitcoin", "ethereum"], snapshot=snap, deps=news_deps)
    clock.advance(5.5)
    second = await data_requests.coin_sentiment(["ethereum", "bitcoin"], snapshot=snap, deps=news_deps)
    assert (first.served, second.served) == ("live", "cache")
    assert second.meta["capability"] == "sentiment" and second.source == "coindesk"
    assert second.meta["age_s"] == pytest.approx(7.5)  # the headlines' age, not the scoring's
    assert second.meta["attempts"] == [] and second.data == first.data
    assert len(calls) == 1 and len(scored) == 2  # the repeat neither asked for news nor scored


async def test_coin_sentiment_cache_expires_with_the_news_ttl(news_deps, clock, monkeypatch, scored):
    from types import SimpleNamespace

    from healing.dataplane import requests as data_requests
    calls: list = []
    monkeypatch.setattr(engine, "fetch_capability", _news_stub(clock, clock(), calls))
    snap = SimpleNamespace(version=1)
    await data_requests.coin_sentiment(["bitcoin"], snapshot=snap, deps=news_deps)
    clock.advance(news_deps.settings.fresh_ttl("news") + 0.01)
    await data_requests.coin_sentiment(["bitcoin"], snapshot=snap, deps=news_deps)
    assert len(calls) == 2 and len(scored) == 2  # past the news TTL: rescored from the news path


async def test_coin_sentiment_for_one_provider_is_never_cached(news_deps, clock, monkeypatch, scored):
    from types import SimpleNamespace

    from healing.dataplane import requests as data_requests
    calls: list = []
    monkeypatch.setattr(engine, "fetch_capability", _news_stub(clock, clock(), calls))
    snap = SimpleNamespace(version=1)
    for _ in range(2):
        await data_requests.coin_sentiment(["bitcoin"], snapshot=snap, deps=news_deps, provider="coindesk")
    assert calls == [("news", "coindesk")] * 2 and len(scored) == 2


# --- a miss: fewer round trips before the answer ---------------------------------------------------


async def test_single_flight_peeks_with_the_lock_and_writes_with_the_release(aredis):
    from healing.engine import singleflight
    await aredis.set("peeked", b"entry-bytes")
    seen = []

    async def produce(peeked):
        seen.append(peeked)
        return b"payload"

    deadline = asyncio.get_running_loop().time() + 5
    payload, led = await singleflight.run(aredis, "k-peek", produce, deadline=deadline, reserve_s=1,
                                          peek=lambda pipe: pipe.get("peeked"),
                                          on_release=lambda pipe: pipe.set("written", b"1"))
    assert (payload, led, seen) == (b"payload", True, [[b"entry-bytes"]])
    assert await aredis.get("written") == b"1"
    assert await aredis.exists(singleflight.lock_key("k-peek")) == 0


async def test_a_success_is_counted_before_the_answer_and_its_breaker_record_after(up, deps, monkeypatch):
    from healing.engine import singleflight, stats
    from healing.engine.breaker import BreakerStore

    events = []
    real_lead, real_record = singleflight._lead, BreakerStore.record

    async def lead(*args, **kwargs):
        payload = await real_lead(*args, **kwargs)
        events.append("released")
        return payload

    async def record(self, cfg, ok):
        events.append(f"breaker {cfg.slug} {ok}")
        return await real_record(self, cfg, ok)

    monkeypatch.setattr(singleflight, "_lead", lead)
    monkeypatch.setattr(BreakerStore, "record", record)
    snap = snapshot(provider(up, "alpha"))
    answer = await ask(snap, deps)
    assert answer.served == "live"
    got = await stats.read_stats(deps.redis, ["alpha"])
    assert (got["alpha"]["requests"], got["alpha"]["ok"]) == (1, 1)  # written with the release
    await engine.drain_background()
    assert events == ["released", "breaker alpha True"]
    assert (await deps.breakers.state("alpha")).window == "0"


async def test_a_deferred_success_never_overtakes_a_later_failure(up, deps):
    snap = snapshot(provider(up, "alpha"))
    cfg = snap.providers["alpha"]
    await ask(snap, deps)
    await deps.breakers.record(cfg, False)  # right after the answer: the success must land first
    state = await deps.breakers.state("alpha")
    assert (state.window, state.consecutive_failures) == ("01", 1)


async def test_p90_latency_is_read_at_most_once_per_refresh(up, deps, clock, monkeypatch):
    snap = snapshot(provider(up, "alpha"), provider(up, "beta"))
    lranges = []
    real_pipeline = deps.redis.pipeline

    def pipeline(*a, **kw):
        pipe = real_pipeline(*a, **kw)
        real_lrange = pipe.lrange

        def lrange(key, *rest):
            lranges.append(key)
            return real_lrange(key, *rest)

        pipe.lrange = lrange
        return pipe

    monkeypatch.setattr(deps.redis, "pipeline", pipeline)
    pool = snap.pool_for("price")
    for _ in range(3):
        await candidates.order_candidates(deps, pool, list(snap.providers.values()), "price")
    assert len(lranges) == 2  # alpha and beta, once
    clock.advance(candidates.P90_REFRESH_S)
    await candidates.order_candidates(deps, pool, list(snap.providers.values()), "price")
    assert len(lranges) == 4


@pytest.mark.parametrize("strategy, pipelines", [("priority", 2), ("round_robin", 3)])
async def test_a_miss_reads_the_order_inputs_with_the_lock_unless_reading_has_a_side_effect(
    up, deps, monkeypatch, strategy, pipelines
):
    executed = []
    real_pipeline = deps.redis.pipeline
    await engine.flush_counters(deps)  # the buffered cache counters are not due during this request

    def pipeline(*a, **kw):
        pipe = real_pipeline(*a, **kw)
        real_execute = pipe.execute

        async def execute(*ea, **ekw):
            executed.append(len(pipe.command_stack))
            return await real_execute(*ea, **ekw)

        pipe.execute = execute
        return pipe

    monkeypatch.setattr(deps.redis, "pipeline", pipeline)
    snap = snapshot(provider(up, "alpha"), provider(up, "beta"), strategy=strategy)
    answer = await ask(snap, deps)
    assert (answer.served, answer.source) == ("live", "alpha" if strategy == "priority" else answer.source)
    # lock + reads, then the release (cache write, stats, result); round robin's cursor
    # advance is not speculative, so its order inputs take a round trip of their own.
    assert len(executed) == pipelines
