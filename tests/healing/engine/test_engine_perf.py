"""The hot-path shortcuts keep the engine's answers exact: coalesced cache reads, the data plane's
fast path, the rate-limit guard interval, and the token taken last before the call. The cached coin
sentiment and a miss's fewer round trips: test_engine_perf_miss_path.py."""

import asyncio
import dataclasses

import pytest

from healing.dataplane.hit import render_hit
from healing.engine import cache, candidates, ledger
from healing.engine import fetch as engine
from healing.engine.ratelimit import Budget
from providers.runtime import rkey
from tests.fixtures.clock import T0, FakeClock
from tests.healing.engine_doubles import ask, log_round_trips, provider, snapshot


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
    headers, body = render_hit(held, clock())
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
    original_take = ledger.Ledger._take_token

    async def take(self, cand):
        spent = await original_take(self, cand)
        log.append("token")
        return spent

    log_round_trips(monkeypatch, deps, log)
    monkeypatch.setattr(ledger.Ledger, "_take_token", take)
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
    cands = await candidates.order_candidates(deps, pool, list(snap.providers.values()), "price")
    assert rounds == ["pipeline"]
    assert [c.cfg.slug for c in cands] and all(c.p90_ms is None for c in cands)
