import asyncio
import multiprocessing

import pytest

from healing.engine import breaker
from healing.engine.breaker import CLOSED, CLOSED_STATE, HALF_OPEN, OPEN, BreakerPolicy, BreakerStore
from healing.engine.config import ProviderConfig
from tests.fixtures.clock import T0, FakeClock

POLICY = BreakerPolicy()


def cfg(slug="alpha", **kw):
    return ProviderConfig(slug=slug, name=slug, category="market_data", base_url="http://127.0.0.1:1", **kw)


def run(events, now=T0, policy=POLICY, state=CLOSED_STATE):
    for ok in events:
        state = breaker.record(state, ok, now, policy)
    return state


# --- the pure state machine -----------------------------------------------------------------


def test_opens_after_five_consecutive_failures():
    assert run([False] * 4).state == CLOSED
    state = run([False] * 5)
    assert state.state == OPEN
    assert state.reopens_at == T0 + 30
    assert state.trips == 1


def test_a_success_resets_the_consecutive_count():
    state = run([False] * 4 + [True] + [False] * 4)
    assert state.state == CLOSED
    assert state.consecutive_failures == 4


def test_opens_at_half_failures_of_the_window_once_ten_calls_were_seen():
    # 9 calls with 4 failures, never 5 in a row: below the minimum, stays closed.
    pattern = [True, False, False, True, False, False, True, True, True]
    assert run(pattern).state == CLOSED
    # The 10th call fails: 5 of 10 failed -> open.
    state = run(pattern + [False])
    assert state.state == OPEN


def test_ratio_rule_looks_at_the_last_twenty_calls_only():
    state = run([False, True] * 4 + [True] * 12)  # 4 failures in 20
    assert (state.window_calls, state.window_failures) == (20, 4)
    state = run([False, True, True] * 3, state=state)  # the oldest 9 dropped: 3 of the last 20
    assert state.state == CLOSED
    assert (state.window_calls, state.window_failures) == (20, 3)


def test_threshold_comes_from_the_provider():
    policy = BreakerPolicy.for_provider(cfg(breaker_failure_threshold=2, breaker_open_s=7))
    state = run([False, False], policy=policy)
    assert state.state == OPEN
    assert state.reopens_at == T0 + 7


def test_open_breaker_becomes_half_open_when_its_period_ends():
    state = run([False] * 5)
    assert state.at(T0 + 29.9).state == OPEN
    assert state.at(T0 + 30).state == HALF_OPEN


def test_half_open_admits_one_probe_and_success_closes():
    state = run([False] * 5)
    allowed, state = breaker.allow(state, T0 + 30)
    assert allowed
    again, _ = breaker.allow(state, T0 + 30.5)
    assert not again
    assert breaker.record(state, True, T0 + 31, POLICY) == CLOSED_STATE


def test_failed_probe_reopens_for_twice_as_long_up_to_ten_minutes():
    state = run([False] * 5)
    now, periods = T0, []
    for _ in range(7):
        now = state.reopens_at
        _, state = breaker.allow(state, now)
        state = breaker.record(state, False, now, POLICY)
        periods.append(state.reopens_at - now)
    assert periods == [60, 120, 240, 480, 600, 600, 600]


def test_after_closing_the_next_trip_is_thirty_seconds_again():
    state = run([False] * 5)
    _, state = breaker.allow(state, T0 + 30)
    state = breaker.record(state, False, T0 + 30, POLICY)  # 60 s
    _, state = breaker.allow(state, T0 + 90)
    state = breaker.record(state, True, T0 + 90, POLICY)
    state = run([False] * 5, now=T0 + 100, state=state)
    assert state.reopens_at == T0 + 130


def test_a_straggler_failure_while_open_changes_nothing():
    state = run([False] * 5)
    assert breaker.record(state, False, T0 + 5, POLICY) == state


def test_probe_lease_expires_so_a_dead_probe_does_not_block_forever():
    state = run([False] * 5)
    _, state = breaker.allow(state, T0 + 30)
    assert not breaker.allow(state, T0 + 30 + breaker.PROBE_LEASE_S - 1)[0]
    assert breaker.allow(state, T0 + 30 + breaker.PROBE_LEASE_S)[0]


# --- the Redis store ----------------------------------------------------------------------------


async def test_store_trips_and_reports_state_in_redis(aredis):
    clock = FakeClock()
    store = BreakerStore(aredis, clock)
    for _ in range(5):
        await store.record(cfg(), False)
    state = await store.state("alpha")
    assert (state.state, state.reopens_at, state.trips) == (OPEN, T0 + 30, 1)
    assert not await store.allow(cfg())
    # Another store (another process) sees the same state.
    assert (await BreakerStore(aredis, clock).state("alpha")).state == OPEN
    clock.advance(30)
    assert (await store.state("alpha")).state == HALF_OPEN
    assert await store.allow(cfg())
    await store.record(cfg(), True)
    assert (await store.state("alpha")) == CLOSED_STATE
    assert await aredis.exists(breaker.breaker_key("alpha")) == 0


async def test_half_open_admits_exactly_one_of_many_concurrent_callers(aredis):
    clock = FakeClock()
    store = BreakerStore(aredis, clock)
    for _ in range(5):
        await store.record(cfg(), False)
    clock.advance(30)
    stores = [BreakerStore(aredis, clock) for _ in range(30)]
    results = await asyncio.gather(*(s.allow(cfg()) for s in stores))
    assert results.count(True) == 1


async def test_reset_closes_the_breaker(aredis):
    store = BreakerStore(aredis, FakeClock())
    for _ in range(5):
        await store.record(cfg(), False)
    await store.reset("alpha")
    assert (await store.state("alpha")).state == CLOSED
    assert await store.allow(cfg())


def _claim_probe(redis_url, start, out):
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()
    import redis.asyncio

    async def main():
        r = redis.asyncio.Redis.from_url(redis_url)
        store = BreakerStore(r, lambda: T0 + 31)
        start.wait(30)
        results = await asyncio.gather(*(store.allow(cfg()) for _ in range(10)))
        await r.aclose()
        return results.count(True)

    out.put(asyncio.run(main()))


@pytest.mark.slow
async def test_half_open_admits_one_probe_across_two_processes(aredis, redis_server):
    store = BreakerStore(aredis, FakeClock())
    for _ in range(5):
        await store.record(cfg(), False)
    ctx = multiprocessing.get_context("spawn")
    start, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_claim_probe, args=(redis_server.url, start, out)) for _ in range(2)]
    for p in procs:
        p.start()
    await asyncio.sleep(0)
    await asyncio.to_thread(_settle_then_set, start)
    granted = [await asyncio.to_thread(out.get, True, 60) for _ in procs]
    for p in procs:
        await asyncio.to_thread(p.join, 30)
    assert sum(granted) == 1


def _settle_then_set(event):
    import time

    time.sleep(1.0)  # both children import Django and connect before the race starts
    event.set()
