"""The hot-path shortcuts keep the engine's answers exact: coalesced cache reads, the data plane's
fast path, the rate-limit guard interval, and the token taken last before the call."""

import asyncio
import dataclasses

import pytest

from healing.dataplane.app import _render_hit
from healing.engine import cache
from healing.engine import chain as hedging
from healing.engine import fetch as engine
from healing.engine.ratelimit import Budget
from providers.runtime import rkey
from tests.healing.engine_fixtures import *  # noqa: F401,F403
from tests.healing.engine_fixtures import T0, FakeClock, provider, snapshot


async def ask(snap, deps, coin="bitcoin"):
    return await engine.fetch_capability("price", {"ids": [coin], "vs": "usd"}, snapshot=snap, deps=deps)


def key_of(coin="bitcoin"):
    return cache.data_key("price", {"ids": [coin], "vs": "usd"})


# --- the in-process read cache ---------------------------------------------------------------------


async def test_a_hit_is_served_cache_with_its_exact_age(up, deps, clock):
    snap = snapshot(provider(up, "alpha"))
    first = await ask(snap, deps)
    clock.advance(3.25)
    second = await ask(snap, deps)
    assert (first.served, second.served) == ("live", "cache")
    assert second.age_s == pytest.approx(3.25)
    assert second.attempts == [] and second.data == first.data
    assert up.count("alpha") == 1


async def test_a_cached_copy_expires_with_the_entry(up, deps, clock):
    snap = snapshot(provider(up, "alpha"))
    await ask(snap, deps)
    clock.advance(9.99)
    assert (await ask(snap, deps)).served == "cache"
    clock.advance(0.02)  # past the 10 s fresh TTL: the held copy must not extend it
    assert await engine.local_hit("price", key_of(), snap.version, deps) is None
    assert (await ask(snap, deps)).served == "stale"  # stale-while-revalidate, as without the cache
    await engine.drain_background()
    assert up.count("alpha") == 2


async def test_a_purge_in_redis_is_seen_by_the_next_request(up, deps, redis_client):
    snap = snapshot(provider(up, "alpha"))
    await ask(snap, deps)
    assert (await ask(snap, deps)).served == "cache"
    for key in redis_client.scan_iter(rkey("cache", "*")):
        redis_client.delete(key)
    assert (await ask(snap, deps)).served == "live"
    assert up.count("alpha") == 2


async def test_a_newer_entry_in_redis_replaces_the_decoded_copy(up, deps, clock, aredis):
    snap = snapshot(provider(up, "alpha"))
    await ask(snap, deps)
    newer = cache.Entry({"bitcoin": {"usd": 1.0}}, "beta", clock() - 1.0)
    await cache.write(aredis, key_of(), newer, keep_s=60)
    answer = await ask(snap, deps)
    assert (answer.source, answer.served, answer.data, answer.age_s) == ("beta", "cache", newer.data, 1.0)


async def test_config_version_change_empties_the_cache(up, deps):
    snap = snapshot(provider(up, "alpha"))
    await ask(snap, deps)
    await ask(snap, deps)
    assert len(deps.local) == 1
    edited = dataclasses.replace(snap, version=snap.version + 1)
    await engine.local_hit("price", key_of(), edited.version, deps)
    assert len(deps.local) == 1  # re-read under the new version, not the old copy
    assert deps.local._version == edited.version


async def test_concurrent_hits_share_one_redis_get(up, deps):
    snap = snapshot(provider(up, "alpha"))
    await ask(snap, deps)
    before = deps.local.gets
    answers = await asyncio.gather(*(ask(snap, deps) for _ in range(50)))
    assert {a.served for a in answers} == {"cache"}
    assert 1 <= deps.local.gets - before <= 2  # one read, plus at most one for late arrivals
    assert up.count("alpha") == 1


async def test_a_read_started_before_a_request_never_answers_it(aredis):
    local = cache.LocalCache()
    key = rkey("cache", "price", "x")
    first = asyncio.ensure_future(local.read(aredis, key, 1, "price"))
    await asyncio.sleep(0)  # the first read is now in flight
    entry = cache.Entry({"v": 1}, "alpha", T0)
    await cache.write(aredis, key, entry, keep_s=60)
    second = await local.read(aredis, key, 1, "price")
    await first
    assert second is not None and second.entry == entry
    assert local.gets == 2


async def test_the_fast_path_renders_what_the_full_path_answers(up, deps, clock):
    import json

    snap = snapshot(provider(up, "alpha"))
    await ask(snap, deps)
    clock.advance(1.234)
    full = await ask(snap, deps)
    held = await engine.local_hit("price", key_of(), snap.version, deps)
    headers, body = _render_hit(held, clock())
    assert json.loads(body) == {"data": full.data, "meta": full.meta("price")}
    assert json.loads(body)["meta"]["age_s"] == 1.23
    assert dict(headers)[b"x-cryptohub-cache"] == b"cache"
    assert dict(headers)[b"content-length"] == str(len(body)).encode()


# --- rate limits -----------------------------------------------------------------------------------


async def test_guard_interval_holds_a_token_past_the_window(aredis):
    clock = FakeClock()
    budget = Budget(aredis, clock=clock, guard_s=0.3)
    cfg = provider_cfg("2/second")
    assert [await budget.acquire(cfg) for _ in range(3)] == [None, None, "2/second"]
    clock.advance(1.01)
    assert await budget.acquire(cfg) == "2/second"  # an exact window would have freed it
    [window] = await budget.remaining(cfg)
    assert window["resets_at"] == pytest.approx(T0 + 1.3)
    clock.advance(0.3)
    assert await budget.acquire(cfg) is None


async def test_without_a_guard_the_window_is_exact(aredis):
    clock = FakeClock()
    budget = Budget(aredis, clock=clock)
    cfg = provider_cfg("2/second")
    assert [await budget.acquire(cfg) for _ in range(3)] == [None, None, "2/second"]
    clock.advance(1.01)
    assert await budget.acquire(cfg) is None


def provider_cfg(limits):
    from healing.engine.config import ProviderConfig

    return ProviderConfig(slug="guarded", name="Guarded", category="market_data", base_url="http://127.0.0.1:9/",
                          rate_limits=limits)


async def test_engine_takes_the_guard_from_its_settings(deps):
    guarded = dataclasses.replace(deps, settings=dataclasses.replace(deps.settings, rate_limit_guard_s=0.4))
    assert guarded.budget.guard_s == 0.4 and guarded.budget.storage.guard_s == 0.4


async def test_the_token_is_the_last_redis_step_before_the_call(up, deps, monkeypatch):
    log: list[str] = []
    original_take, original_call = hedging.Chain._take_token, engine.call_provider

    async def take(self, cand):
        spent = await original_take(self, cand)
        log.append("token")
        return spent

    async def call(*args, **kwargs):
        log.append("call")
        return await original_call(*args, **kwargs)

    import redis.asyncio.client

    real_pipe_execute, real_execute = redis.asyncio.client.Pipeline.execute, deps.redis.execute_command

    async def pipe_execute(self, *args, **kwargs):
        log.append("redis")
        return await real_pipe_execute(self, *args, **kwargs)

    async def execute_command(*args, **kwargs):
        log.append("redis")
        return await real_execute(*args, **kwargs)

    monkeypatch.setattr(hedging.Chain, "_take_token", take)
    monkeypatch.setattr(engine, "call_provider", call)
    monkeypatch.setattr(redis.asyncio.client.Pipeline, "execute", pipe_execute)
    monkeypatch.setattr(deps.redis, "execute_command", execute_command)
    snap = snapshot(provider(up, "alpha", rate_limits="100/second"), provider(up, "beta"))
    assert (await ask(snap, deps)).source == "alpha"
    i = log.index("call")
    assert log[i - 1] == "token", log
    assert "redis" in log[:i - 1]  # the reads ran, all of them before the token


async def test_order_candidates_reads_everything_in_one_round_trip(up, deps, monkeypatch):
    rounds = []
    real_pipeline = deps.redis.pipeline

    def pipeline(*a, **kw):
        rounds.append("pipeline")
        return real_pipeline(*a, **kw)

    async def no_single_reads(*args, **kwargs):
        raise AssertionError(f"unexpected single command {args[:1]}")

    snap = snapshot(provider(up, "alpha"), provider(up, "beta"), strategy="round_robin")
    monkeypatch.setattr(deps.redis, "pipeline", pipeline)
    monkeypatch.setattr(deps.redis, "execute_command", no_single_reads)
    pool = snap.pool_for("price")
    cands = await hedging.order_candidates(deps, pool, list(snap.providers.values()), "price")
    assert rounds == ["pipeline"]
    assert [c.cfg.slug for c in cands] and all(c.p90_ms is None for c in cands)



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
        await hedging.order_candidates(deps, pool, list(snap.providers.values()), "price")
    assert len(lranges) == 2  # alpha and beta, once
    clock.advance(hedging.P90_REFRESH_S)
    await hedging.order_candidates(deps, pool, list(snap.providers.values()), "price")
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
