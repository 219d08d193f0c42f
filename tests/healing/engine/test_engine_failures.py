"""The engine end to end when providers fail: classification, retries and the deadline, breakers,
hedging, success bookkeeping and stale-if-error, and raw calls (real Redis, real sockets, an injected
clock)."""

import asyncio
import dataclasses
from datetime import datetime, timezone
from email.utils import format_datetime

import pytest

from healing.engine import cache, stats
from healing.engine.breaker import CLOSED, OPEN
from healing.engine.chain import backoff_cap
from healing.engine.fetch import (
    AllProvidersFailed,
    UnknownCapability,
    fetch_capability,
    fetch_raw,
)
from healing.engine.ratelimit import Budget
from pools import state as pool_state
from providers.adapters.base import RequestSpec
from tests.fixtures.clock import T0
from tests.healing.engine_doubles import (
    ERROR_IN_200,
    HANG,
    MALFORMED,
    OK,
    RESET,
    SLOW_DOWN_IN_200,
    TEAPOT,
    ask,
    latency,
    outcomes,
    provider,
    redirect,
    snapshot,
    status,
    too_many,
    trip,
    two,
)

# --- 6. classification ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("behaviour", "outcome", "calls"),
    [
        (status(503), "transient", 2),
        (status(500), "transient", 2),
        (RESET, "transient", 2),
        (status(400), "permanent", 1),
        (status(401), "permanent", 1),
        (status(403), "permanent", 1),
        (status(404), "permanent", 1),
        (MALFORMED, "bad_data", 1),
        (ERROR_IN_200, "bad_data", 1),
        (TEAPOT, "rate_limited", 1),
        (too_many("7"), "rate_limited", 1),
        (SLOW_DOWN_IN_200, "rate_limited", 1),
    ],
)
async def test_every_outcome_is_classified(up, deps, behaviour, outcome, calls):
    up.script("alpha", behaviour)
    answer = await ask(two(up), deps)
    assert outcomes(answer) == [("alpha", outcome)] * calls + [("beta", "ok")]
    assert up.count("alpha") == calls


async def test_429_cools_the_provider_down_for_retry_after_in_every_process(up, deps, clock):
    up.script("alpha", too_many("7"), OK)
    snap = two(up)
    await ask(snap, deps, coin="a")
    assert await Budget(deps.redis, clock=clock).cooling_until("alpha") == T0 + 7
    answer = await ask(snap, deps, coin="b")
    assert outcomes(answer) == [("alpha", "skipped_budget"), ("beta", "ok")]
    assert up.count("alpha") == 1
    clock.advance(7)
    assert (await ask(snap, deps, coin="c")).source == "alpha"


async def test_retry_after_as_an_http_date(up, deps):
    when = datetime.fromtimestamp(T0 + 120, timezone.utc)
    up.script("alpha", too_many(format_datetime(when, usegmt=True)))
    await ask(two(up), deps)
    assert await deps.budget.cooling_until("alpha") == T0 + 120


async def test_teapot_without_retry_after_cools_down_for_the_default(up, deps):
    up.script("alpha", TEAPOT)
    await ask(two(up), deps)
    assert await deps.budget.cooling_until("alpha") == T0 + 60


async def test_adapter_rate_limit_inside_200_uses_its_retry_after(up, deps):
    up.script("alpha", SLOW_DOWN_IN_200)
    await ask(two(up), deps)
    assert await deps.budget.cooling_until("alpha") == T0 + 30


async def test_rate_limited_and_permanent_outcomes_do_not_count_against_the_breaker(up, deps):
    up.script("alpha", status(404), status(404), status(404), status(429), status(418), status(404), status(404))
    snap = two(up)
    for i in range(3):
        await ask(snap, deps, coin=f"p{i}")
    await deps.budget.reset("alpha")
    state = await deps.breakers.state("alpha")
    assert (state.state, state.window_calls, state.consecutive_failures) == (CLOSED, 0, 0)


async def test_unknown_symbol_is_permanent_everywhere_without_a_call(up, deps):
    with pytest.raises(AllProvidersFailed) as err:
        await ask(two(up), deps, coin="unknown-coin")
    assert outcomes(err.value) == [("alpha", "permanent"), ("beta", "permanent")]
    assert (up.count("alpha"), up.count("beta")) == (0, 0)


# --- 7. retries and the deadline ------------------------------------------------------------------


async def test_transient_failure_is_retried_once_after_a_jittered_backoff(up, deps, sleeper):
    up.script("alpha", status(503), OK)
    answer = await ask(two(up), deps)
    assert outcomes(answer) == [("alpha", "transient"), ("alpha", "ok")]
    assert len(sleeper.delays) == 1
    assert 0 <= sleeper.delays[0] <= backoff_cap(1) == 0.1


def test_backoff_grows_exponentially_up_to_its_cap():
    assert [backoff_cap(n) for n in (1, 2, 3, 4, 5, 6)] == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]


async def test_timeout_is_transient_and_retried_then_the_next_provider(up, deps):
    up.script("alpha", HANG)
    snap = snapshot(provider(up, "alpha", timeout_s=0.1), provider(up, "beta"))  # below the hedge floor
    answer = await ask(snap, deps, deadline_s=3)
    assert answer.source == "beta"
    assert [o for p, o in outcomes(answer) if p == "alpha"][:1] == ["timeout"]


async def test_no_request_outlives_the_deadline(up, deps):
    for slug in ("alpha", "beta", "gamma"):
        up.script(slug, HANG)
    snap = snapshot(provider(up, "alpha"), provider(up, "beta"), provider(up, "gamma"))
    loop = asyncio.get_running_loop()
    start = loop.time()
    with pytest.raises(AllProvidersFailed) as err:
        await ask(snap, deps, deadline_s=0.5)
    assert {o for _, o in outcomes(err.value)} == {"timeout"}
    # Every upstream request started before the deadline...
    assert up.arrivals and all(at <= start + 0.5 for _, at in up.arrivals)
    # ...and none is still open: the engine hung up on each of them.
    assert await asyncio.to_thread(up.wait_idle, 2)
    assert err.value.suggestions == ["providers are timing out or failing; retry in a few seconds"]


# --- 8. breaker through the engine ----------------------------------------------------------------


async def test_failing_provider_trips_its_breaker_and_is_skipped_until_it_reopens(up, deps, clock):
    up.script("alpha", *[status(503)] * 5, OK)
    snap = two(up)
    await ask(snap, deps, coin="a")  # 2 failures
    await ask(snap, deps, coin="b")  # 4 failures
    third = await ask(snap, deps, coin="c")  # 5th failure trips it; the retry is skipped
    assert outcomes(third)[:2] == [("alpha", "transient"), ("alpha", "skipped_breaker_open")]
    assert (await deps.breakers.state("alpha")).state == OPEN
    fourth = await ask(snap, deps, coin="d")
    assert outcomes(fourth) == [("alpha", "skipped_breaker_open"), ("beta", "ok")]
    assert up.count("alpha") == 5
    clock.advance(30)
    probe = await ask(snap, deps, coin="e")
    assert outcomes(probe) == [("alpha", "ok")]
    assert (await deps.breakers.state("alpha")).state == CLOSED


async def test_failed_probe_reopens_the_breaker_for_twice_as_long(up, deps, clock):
    up.script("alpha", status(503))
    snap = two(up)
    await trip(deps, snap.providers["alpha"])
    clock.advance(30)
    answer = await ask(snap, deps)
    assert outcomes(answer)[:2] == [("alpha", "transient"), ("alpha", "skipped_breaker_open")]
    state = await deps.breakers.state("alpha")
    assert (state.state, state.reopens_at) == (OPEN, T0 + 30 + 60)


# --- 9. hedging -----------------------------------------------------------------------------------


async def test_slow_attempt_is_hedged_and_the_loser_cancelled(up, deps):
    deps.settings = dataclasses.replace(deps.settings, hedge_floor_ms=200)
    up.script("alpha", latency(2.0))
    answer = await ask(two(up), deps)
    assert answer.source == "beta"
    assert sorted(outcomes(answer)) == [("alpha", "cancelled"), ("beta", "ok")]
    assert (up.count("alpha"), up.count("beta")) == (1, 1)
    assert await asyncio.to_thread(up.wait_idle, 2)  # the loser's request was hung up on
    # It had overrun its usual latency: that counts against its breaker.
    assert (await deps.breakers.state("alpha")).consecutive_failures == 1


async def test_no_hedge_while_the_provider_is_within_its_usual_latency(up, deps, clock, redis_client):
    deps.settings = dataclasses.replace(deps.settings, hedge_floor_ms=200)
    for _ in range(10):
        pool_state.record_use(redis_client, "alpha", 1500.0, clock())
    up.script("alpha", latency(0.3))
    answer = await ask(two(up), deps)
    assert outcomes(answer) == [("alpha", "ok")]
    assert up.count("beta") == 0


# --- 10. success bookkeeping, stale-if-error, failure report --------------------------------------


async def test_success_records_stats_and_usage(up, deps, clock, redis_client):
    up.script("alpha", status(503), OK)
    await ask(two(up), deps)
    got = await stats.read_stats(deps.redis, ["alpha", "beta"])
    assert got["alpha"]["requests"] == 2
    assert got["alpha"]["ok"] == 1
    assert got["alpha"]["failures"] == {"transient": 1}
    assert got["alpha"]["latency_ms"]["samples"] == 1
    assert got["beta"]["requests"] == 0
    # Read back as the control plane does (the sync client), from the keys the engine wrote.
    assert pool_state.recent_usage(redis_client, ["alpha", "beta"], clock()) == {"alpha": 2, "beta": 0}
    assert pool_state.latency_p90(redis_client, "alpha") is not None


async def test_all_failed_serves_the_stale_copy_with_its_age(up, deps, clock):
    snap = two(up)
    first = await ask(snap, deps)
    clock.advance(500)
    up.script("alpha", status(503))
    up.script("beta", status(503))
    answer = await ask(snap, deps)
    assert (answer.served, answer.age_s, answer.data, answer.fetched_at) == ("stale", 500, first.data, first.fetched_at)
    assert {o for _, o in outcomes(answer)} == {"transient"}


async def test_all_failed_without_a_stale_copy_reports_attempts_and_suggestions(up, deps):
    up.script("alpha", status(503))
    snap = two(up)
    await trip(deps, snap.providers["beta"])
    with pytest.raises(AllProvidersFailed) as err:
        await ask(snap, deps)
    assert outcomes(err.value) == [("alpha", "transient"), ("alpha", "transient"), ("beta", "skipped_breaker_open")]
    reopens = datetime.fromtimestamp(T0 + 30, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert err.value.suggestions == [f"beta: breaker reopens at {reopens} (in 30 s)"]
    assert err.value.as_dict()["attempts"][0]["provider"] == "alpha"


async def test_meta_block_has_the_design_shape(up, deps):
    answer = await ask(two(up), deps)
    meta = answer.meta("price")
    assert set(meta) == {"capability", "source", "served", "age_s", "fetched_at", "attempts"}
    assert meta["fetched_at"] == datetime.fromtimestamp(T0, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert meta["attempts"][0]["provider"] == "alpha" and meta["attempts"][0]["outcome"] == "ok"
    assert set(meta["attempts"][0]) == {"provider", "outcome", "ms"}


async def test_only_provider_asks_that_provider_alone_and_skips_the_cache(up, deps):
    snap = two(up)
    answer = await ask(snap, deps, only_provider="beta")
    assert (answer.source, answer.served) == ("beta", "live")
    assert await deps.redis.exists(cache.data_key("price", {"ids": ["bitcoin"], "vs": "usd"})) == 0
    up.script("alpha", status(404))
    with pytest.raises(AllProvidersFailed):
        await ask(snap, deps, only_provider="alpha")
    assert (up.count("alpha"), up.count("beta")) == (1, 1)


async def test_unknown_capability_or_provider(up, deps):
    with pytest.raises(UnknownCapability):
        await fetch_capability("gas", {}, snapshot=two(up), deps=deps)
    with pytest.raises(UnknownCapability):
        await ask(two(up), deps, only_provider="nobody")


# --- raw calls (the proxy's engine side) ----------------------------------------------------------


async def test_raw_call_passes_answers_and_caches_when_asked(up, deps):
    cfg = provider(up, "alpha")
    spec = RequestSpec(path="/anything", params={"ids": "bitcoin"})
    first = await fetch_raw(cfg, spec, deps=deps, cache_ttl_s=30)
    assert (first.status, first.served, first.source) == (200, "live", "alpha")
    assert b'"bitcoin"' in first.body
    second = await fetch_raw(cfg, spec, deps=deps, cache_ttl_s=30)
    assert (second.status, second.served, second.body) == (200, "cache", first.body)
    assert up.count("alpha") == 1


async def test_raw_call_returns_the_providers_own_4xx(up, deps):
    up.script("alpha", status(404))
    answer = await fetch_raw(provider(up, "alpha"), RequestSpec(path="/missing"), deps=deps)
    assert answer.status == 404
    assert [(a.provider, a.outcome) for a in answer.attempts] == [("alpha", "permanent")]


async def test_raw_call_fails_after_its_retry_and_never_follows_a_foreign_redirect(up, deps):
    up.script("alpha", status(502))
    with pytest.raises(AllProvidersFailed) as err:
        await fetch_raw(provider(up, "alpha"), RequestSpec(path="/x"), deps=deps)
    assert outcomes(err.value) == [("alpha", "transient"), ("alpha", "transient")]
    up.script("alpha", redirect(f"http://localhost:{up.port}/p/gamma/x"))
    with pytest.raises(AllProvidersFailed) as err:
        await fetch_raw(provider(up, "alpha"), RequestSpec(path="/x"), deps=deps)
    assert outcomes(err.value) == [("alpha", "permanent")]
    assert up.count("gamma") == 0


async def test_raw_call_respects_the_budget(up, deps):
    cfg = provider(up, "alpha", rate_limits="1/minute")
    await fetch_raw(cfg, RequestSpec(path="/x"), deps=deps)
    with pytest.raises(AllProvidersFailed) as err:
        await fetch_raw(cfg, RequestSpec(path="/x"), deps=deps)
    assert outcomes(err.value) == [("alpha", "skipped_budget")]
    assert err.value.suggestions == ["alpha: budget 1/minute frees in 60.0 s"]
    assert up.count("alpha") == 1


def test_engine_settings_come_from_django_settings(settings):
    from healing.engine.fetch import EngineSettings

    settings.CRYPTOHUB_FRESH_TTL = {"price": 3}
    settings.CRYPTOHUB_DEADLINE_S = 2.5
    got = EngineSettings.from_settings(settings)
    assert got.fresh_ttl("price") == 3
    assert got.fresh_ttl("gas") == 15
    assert got.deadline_s == 2.5
    assert dataclasses.replace(got, deadline_s=1).deadline_s == 1


async def test_cache_hit_reports_no_attempts(up, deps):
    snap = two(up)
    await ask(snap, deps)
    hit = await ask(snap, deps)
    assert (hit.served, hit.attempts) == ("cache", [])


async def test_open_breaker_refuses_a_raw_call_without_calling(up, deps):
    cfg = provider(up, "alpha")
    await trip(deps, cfg)
    with pytest.raises(AllProvidersFailed) as err:
        await fetch_raw(cfg, RequestSpec(path="/x"), deps=deps)
    assert outcomes(err.value) == [("alpha", "skipped_breaker_open")]
    assert err.value.suggestions[0].startswith("alpha: breaker reopens at ")
    assert up.count("alpha") == 0


async def test_only_provider_with_an_open_breaker_is_not_woken(up, deps):
    snap = two(up)
    await trip(deps, snap.providers["beta"])
    with pytest.raises(AllProvidersFailed) as err:
        await ask(snap, deps, only_provider="beta")
    assert outcomes(err.value) == [("beta", "skipped_breaker_open")]
    assert up.count("beta") == 0


async def test_timeouts_at_the_deadline_count_against_the_breaker(up, deps):
    up.script("alpha", HANG)
    snap = snapshot(provider(up, "alpha"))
    with pytest.raises(AllProvidersFailed) as err:
        await ask(snap, deps, deadline_s=0.3)
    assert outcomes(err.value) == [("alpha", "timeout")]
    assert (await deps.breakers.state("alpha")).consecutive_failures == 1
