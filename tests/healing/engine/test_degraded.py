"""Degraded mode against a real redis-server of the test's own, stopped and started again."""

import logging

import redis.asyncio

from healing.engine import cache, degraded
from healing.engine import fetch as engine
from healing.engine.http import make_client


async def test_copy_answers_while_redis_is_down_and_shared_service_returns(own_redis, caplog):
    r = redis.asyncio.Redis.from_url(own_redis.url, **degraded.client_options())
    deps = engine.Deps(redis=r, http=make_client())
    deps.health._probe_every_s = 0.0  # every request may try Redis: the test steps through the outage
    key = cache.data_key("price", {"ids": ["bitcoin"], "vs": ["usd"]})
    entry = cache.Entry({"bitcoin": {"usd": 1.0}}, "coingecko", deps.clock())
    await cache.write(r, key, entry, keep_s=60)
    held = await engine.local_hit("price", key, 1, deps)
    assert held is not None and not deps.health.down

    own_redis.stop()
    caplog.set_level(logging.INFO, logger="healing.engine.degraded")
    for _ in range(5):
        during = await engine.local_hit("price", key, 1, deps)
        assert during is not None and during.entry.data == {"bitcoin": {"usd": 1.0}}
    assert deps.health.down and deps.health.outages == 1
    warnings = [rec for rec in caplog.records
                if rec.name == "healing.engine.degraded" and rec.levelno == logging.WARNING]
    assert len(warnings) == 1  # one warning per outage, not one per request

    own_redis.start()
    for _ in range(50):  # bounded polls until the shared cache answers again
        if await engine.local_hit("price", key, 1, deps) is None or not deps.health.down:
            break
    assert not deps.health.down
    assert any("restored" in rec.getMessage() for rec in caplog.records)
    await deps.http.aclose()
    await r.aclose()


def test_health_tries_redis_at_most_once_per_interval():
    now = [100.0]
    health = degraded.RedisHealth(monotonic=lambda: now[0], probe_every_s=1.0)
    health.failed(ConnectionError("down"))
    assert [health.may_try() for _ in range(3)] == [False, False, False]
    now[0] += 1.0
    assert health.may_try() and not health.may_try()
    health.ok()
    assert health.may_try() and not health.down


async def test_misses_reach_providers_on_the_process_share_of_the_budget_while_redis_is_down(
    own_redis, up, adapters, clock, sleeper
):
    import random

    from healing.engine.errors import SKIPPED_BUDGET
    from tests.healing.engine_doubles import ask, provider, snapshot

    r = redis.asyncio.Redis.from_url(own_redis.url, **degraded.client_options())
    settings = engine.EngineSettings(fresh_ttl_s={"price": 10.0}, deadline_s=3.0, hedge_floor_ms=2500.0,
                                     process_count=2)
    deps = engine.Deps(redis=r, http=make_client(), clock=clock, sleep=sleeper, rng=random.Random(7),
                       settings=settings)
    deps.health._probe_every_s = 0.0
    # alpha allows 4 calls a minute in all; with two server processes, each may spend 2 while Redis is down.
    snap = snapshot(provider(up, "alpha", rate_limits="4/minute"), provider(up, "beta"))
    warm, was_degraded = await degraded.with_fallback(deps, lambda d: ask(snap, d, "bitcoin"))
    assert (warm.source, warm.served, was_degraded) == ("alpha", "live", False)

    own_redis.stop()
    cached, was_degraded = await degraded.with_fallback(deps, lambda d: ask(snap, d, "bitcoin"))
    # The copy this process held before the outage answers: no provider call.
    assert (cached.served, cached.source, was_degraded) == ("cache", "alpha", True)
    assert up.count("alpha") == 1
    sources = []
    for coin in ("ethereum", "solana", "cardano"):
        answer, was_degraded = await degraded.with_fallback(deps, lambda d, coin=coin: ask(snap, d, coin))
        assert was_degraded and answer.served == "live"
        sources.append((answer.source, [a.outcome for a in answer.attempts]))
    assert sources[:2] == [("alpha", ["ok"]), ("alpha", ["ok"])]
    assert sources[2] == ("beta", [SKIPPED_BUDGET, "ok"])  # alpha's share (4 / 2 processes) is spent
    assert up.count("alpha") == 3 and up.count("beta") == 1
    twin = deps.degraded_twin()
    assert twin.redis is not r and twin.budget.processes == 2

    own_redis.start()
    back, was_degraded = await degraded.with_fallback(deps, lambda d: ask(snap, d, "bitcoin"))
    assert not was_degraded and not deps.health.down
    assert back.source == "alpha"  # the shared cache again (or a live call), not the twin's copy
    await deps.http.aclose()
    await r.aclose()

