"""The live feed's shared Redis state, its lease, its stats summary and the breaker transitions it
publishes, as units: real Redis (the session's test server), no channel layer."""

import asyncio

import pytest
import redis.asyncio

from healing import feed_state
from healing.dataplane import live_stats
from healing.dataplane.lease import Lease
from healing.engine import breaker
from healing.engine.breaker import BreakerPolicy, BreakerState, record_reason, transition_of
from tests.fixtures.clock import T0


@pytest.fixture
async def r(redis_server):
    client = redis.asyncio.Redis.from_url(redis_server.url)
    yield client
    await client.aclose()


# --- watched coins, ticks, summaries -------------------------------------------------------------


async def test_watched_coins_are_listed_until_their_watch_expires(r):
    await feed_state.watch_prices(r, ["ethereum", "bitcoin"], ttl_s=60)
    await feed_state.watch_prices(r, ["solana"], ttl_s=0.2)
    assert await feed_state.watched_prices(r) == ["bitcoin", "ethereum", "solana"]

    deadline = asyncio.get_running_loop().time() + 5
    while "solana" in await feed_state.watched_prices(r):
        assert asyncio.get_running_loop().time() < deadline, "an expired watch is still listed"
        await asyncio.sleep(0.05)
    assert await feed_state.watched_prices(r) == ["bitcoin", "ethereum"]
    # Expired watches are dropped from Redis, not just hidden.
    assert await r.zcard(feed_state.watch_key()) == 2


async def test_a_shorter_watch_never_cuts_a_longer_one(r):
    await feed_state.watch_prices(r, ["bitcoin"], ttl_s=600)
    long_until = await r.zscore(feed_state.watch_key(), "bitcoin")
    await feed_state.watch_prices(r, ["bitcoin"], ttl_s=1)
    assert await r.zscore(feed_state.watch_key(), "bitcoin") == long_until


async def test_watching_nothing_writes_nothing(r):
    await feed_state.watch_prices(r, [])
    assert await r.exists(feed_state.watch_key()) == 0
    assert await feed_state.watched_prices(r) == []


async def test_ticks_and_summaries_read_back_as_stored(r):
    assert await feed_state.last_tick(r, "bitcoin") is None
    assert await feed_state.last_summary(r) is None
    tick = {"coin": "bitcoin", "prices": {"usd": 109600.0}, "source": "coingecko", "age_s": 0.0, "stale": False}
    await feed_state.store_tick(r, "bitcoin", tick)
    await feed_state.store_summary(r, {"requests_per_s": 2.5, "hit_ratio": None})
    assert await feed_state.last_tick(r, "bitcoin") == tick
    assert await feed_state.last_tick(r, "ethereum") is None
    assert await feed_state.last_summary(r) == {"requests_per_s": 2.5, "hit_ratio": None}


async def test_the_keys_live_under_the_deployments_prefix(r, settings):
    await feed_state.watch_prices(r, ["bitcoin"])
    await feed_state.store_tick(r, "bitcoin", {})
    keys = sorted(k.decode() for k in await r.keys("*feed*"))
    assert keys and all(k.startswith(settings.CRYPTOHUB_REDIS_PREFIX + "feed:") for k in keys)


# --- the lease -------------------------------------------------------------------------------------


async def test_one_holder_at_a_time_and_another_takes_over_when_it_stops_renewing(r):
    first, second = Lease(r, "job", ttl_s=0.3), Lease(r, "job", ttl_s=0.3)
    assert await first.hold() is True
    assert await second.hold() is False
    assert await first.hold() is True  # renewed
    deadline = asyncio.get_running_loop().time() + 5
    while not await second.hold():  # the first stopped renewing: its lease runs out
        assert asyncio.get_running_loop().time() < deadline, "the lease never expired"
        await asyncio.sleep(0.05)
    assert await first.hold() is False


async def test_a_released_lease_is_free_at_once_and_only_its_holder_can_release_it(r):
    first, second = Lease(r, "job", ttl_s=60), Lease(r, "job", ttl_s=60)
    assert await first.hold()
    await second.release()  # not its lease: nothing happens
    assert await second.hold() is False
    await first.release()
    assert await second.hold() is True


# --- the stats summary ---------------------------------------------------------------------------


def totals(at, served, hits, misses, errors, samples=(), not_closed=0):
    return live_stats.Totals(at, served, hits, misses, errors, tuple(samples), not_closed)


def test_the_summary_is_the_window_between_two_readings():
    before = totals(100.0, served=40, hits=30, misses=10, errors=3)
    now = totals(105.0, served=90, hits=70, misses=20, errors=5, samples=[30, 10, 20, 40, 200])
    assert live_stats.summary(before, now) == {
        "requests_per_s": 10.0, "hit_ratio": 0.8, "errors": 2, "p50_ms": 30.0, "p95_ms": 200.0,
        "window_s": 5.0, "degraded": False,
    }


def test_an_idle_window_has_no_ratio_and_counters_reset_meanwhile_count_as_zero():
    before = totals(0.0, served=50, hits=40, misses=10, errors=9)
    summary = live_stats.summary(before, totals(5.0, served=0, hits=0, misses=0, errors=0, not_closed=1))
    assert (summary["requests_per_s"], summary["hit_ratio"], summary["errors"]) == (0.0, None, 0)
    assert (summary["p50_ms"], summary["p95_ms"], summary["degraded"]) == (None, None, True)


# --- breaker transitions (pure) ------------------------------------------------------------------


POLICY = BreakerPolicy(failure_threshold=3, open_s=30)


def test_a_trip_by_consecutive_failures_says_how_many():
    old = BreakerState(consecutive_failures=2, window="011")
    new = breaker.record(old, False, T0, POLICY)
    t = transition_of("alpha", old, new, T0, record_reason(old, False, T0, POLICY))
    assert (t.before, t.after, t.reopens_at, t.trips, t.reason) == ("closed", "open", T0 + 30, 1, "failures: 3 consecutive")


def test_a_trip_by_the_failure_ratio_says_error_rate():
    old = BreakerState(window="0101010101", consecutive_failures=0)
    new = breaker.record(old, False, T0, POLICY)
    assert new.state == breaker.OPEN
    assert record_reason(old, False, T0, POLICY) == "error rate"


def test_the_half_open_steps_are_named():
    opened = BreakerState(state=breaker.OPEN, reopens_at=T0 + 30, trips=1)
    later = T0 + 31
    _, claimed = breaker.allow(opened, later)
    t = transition_of("alpha", opened, claimed, later, "period ended, probe allowed")
    assert (t.before, t.after, t.reopens_at) == ("open", "half_open", None)
    failed = breaker.record(claimed, False, later, POLICY)
    t = transition_of("alpha", claimed, failed, later, record_reason(claimed, False, later, POLICY))
    assert (t.before, t.after, t.reason, t.trips, t.reopens_at) == ("half_open", "open", "probe failed", 2, later + 60)
    closed = breaker.record(claimed, True, later, POLICY)
    t = transition_of("alpha", claimed, closed, later, record_reason(claimed, True, later, POLICY))
    assert (t.before, t.after, t.reason, t.trips) == ("half_open", "closed", "probe succeeded", 0)


def test_no_transition_when_the_state_stays():
    closed = BreakerState(window="0")
    assert transition_of("alpha", closed, breaker.record(closed, True, T0, POLICY), T0, "") is None
    opened = BreakerState(state=breaker.OPEN, reopens_at=T0 + 30, trips=1)
    straggler = breaker.record(opened, False, T0 + 1, POLICY)
    assert transition_of("alpha", opened, straggler, T0 + 1, "") is None
    claimed = breaker.allow(opened, T0 + 31)[1]
    # Re-claiming a half-open probe whose lease ran out is no transition either.
    assert transition_of("alpha", claimed, breaker.allow(claimed, T0 + 60)[1], T0 + 60, "") is None
