"""The cluster-wide lease (one publisher of each periodic feed job) and the `stats` summary's
arithmetic and readings, against the session Redis."""

import asyncio
import os

import pytest
import redis.asyncio

from healing.dataplane import live_stats
from healing.dataplane.lease import Lease
from healing.dataplane.live_stats import Totals
from healing.engine import stats
from healing.engine.breaker import BreakerStore
from healing.engine.cache import counters_key
from healing.engine.config import ProviderConfig
from tests.fixtures.clock import T0, FakeClock

# Bounded wait for a key Redis expires (PEXPIRE 1 ms): checks every 10 ms, at most 2 s.
EXPIRY_CHECKS, EXPIRY_CHECK_S = 200, 0.01


@pytest.fixture
async def other_process(redis_server):
    """A second Redis client: another process of the cluster."""
    client = redis.asyncio.Redis.from_url(redis_server.url)
    yield client
    await client.aclose()


# --- the lease -------------------------------------------------------------------------------------


async def test_the_first_holder_takes_the_lease_and_the_second_is_refused(aredis, other_process):
    mine, theirs = Lease(aredis, "feed:stats", 15), Lease(other_process, "feed:stats", 15)
    assert await mine.hold()
    assert not await theirs.hold()
    assert await mine.hold()  # renewing is holding
    assert await aredis.get(mine.key) == mine.token.encode()
    assert mine.token.startswith(f"{os.getpid()}:") and mine.token != theirs.token
    assert 0 < await aredis.pttl(mine.key) <= 15_000


async def test_renewing_restores_the_whole_ttl(aredis):
    lease = Lease(aredis, "feed:stats", 15)
    assert await lease.hold()
    await aredis.pexpire(lease.key, 500)  # most of the lease has passed
    assert await lease.hold()
    assert await aredis.pttl(lease.key) > 500


async def test_leases_of_different_jobs_are_independent(aredis, other_process):
    assert await Lease(aredis, "feed:stats", 15).hold()
    assert await Lease(other_process, "feed:prices", 15).hold()


async def test_a_release_lets_another_take_over_at_once(aredis, other_process):
    mine, theirs = Lease(aredis, "feed:stats", 15), Lease(other_process, "feed:stats", 15)
    assert await mine.hold()
    await mine.release()
    assert await theirs.hold()
    assert not await mine.hold()


async def test_releasing_a_lease_held_by_another_leaves_it_alone(aredis, other_process):
    mine, theirs = Lease(aredis, "feed:stats", 15), Lease(other_process, "feed:stats", 15)
    assert await theirs.hold()
    await mine.release()
    assert await aredis.get(mine.key) == theirs.token.encode()
    assert not await mine.hold()


async def test_a_dead_holders_lease_expires_and_another_takes_it(aredis, other_process):
    dead, alive = Lease(aredis, "feed:stats", 15), Lease(other_process, "feed:stats", 15)
    assert await dead.hold()
    assert not await alive.hold()
    await aredis.pexpire(dead.key, 1)  # the holder stopped renewing; its ttl runs out
    for _ in range(EXPIRY_CHECKS):
        if not await aredis.exists(dead.key):
            break
        await asyncio.sleep(EXPIRY_CHECK_S)
    assert await alive.hold()
    assert not await dead.hold()  # back from the dead: it must not take it again


async def test_a_tiny_ttl_is_at_least_a_millisecond(aredis):
    assert Lease(aredis, "x", 0).ttl_ms == 1
    assert Lease(aredis, "x", 0.25).ttl_ms == 250


# --- the summary's arithmetic ------------------------------------------------------------------


def totals(at, served=0, hits=0, misses=0, errors=0, samples=(), not_closed=0):
    return Totals(at, served, hits, misses, errors, tuple(samples), not_closed)


def test_a_summary_is_the_difference_over_the_window():
    before = totals(100.0, served=40, hits=30, misses=10, errors=2)
    now = totals(105.0, served=102, hits=80, misses=20, errors=5, samples=[30, 10, 20, 40, 200])
    assert live_stats.summary(before, now) == {
        "requests_per_s": 12.4,  # 62 served in 5 s
        "hit_ratio": 0.8333,  # 50 hits of 60
        "errors": 3,
        "p50_ms": 30.0,
        "p95_ms": 200.0,  # nearest rank: the 5th of 5
        "window_s": 5.0,
        "degraded": False,
    }


def test_no_lookups_no_samples_say_none_not_zero():
    data = live_stats.summary(totals(0.0), totals(2.0, not_closed=1))
    assert (data["requests_per_s"], data["hit_ratio"], data["p50_ms"], data["p95_ms"]) == (0.0, None, None, None)
    assert data["errors"] == 0 and data["degraded"] is True


def test_counters_reset_meanwhile_count_as_zero_never_negative():
    before = totals(0.0, served=500, hits=400, misses=100, errors=50)
    data = live_stats.summary(before, totals(5.0, served=3, hits=2, misses=1, errors=1))
    assert (data["requests_per_s"], data["hit_ratio"], data["errors"]) == (0.0, None, 0)


def test_percentiles_of_many_samples_are_observed_values():
    samples = [float(n) for n in range(1, 101)]  # 1..100 ms
    data = live_stats.summary(totals(0.0), totals(1.0, samples=reversed(samples)))
    assert (data["p50_ms"], data["p95_ms"]) == (50.0, 95.0)


def test_a_zero_window_does_not_divide_by_zero():
    data = live_stats.summary(totals(7.0, served=1), totals(7.0, served=3))
    assert data["requests_per_s"] > 0 and data["window_s"] == 0.0


# --- the readings ----------------------------------------------------------------------------


async def test_read_totals_reads_the_counters_the_engine_keeps(aredis):
    await aredis.hset(counters_key(), mapping={"hit:price": 8, "miss:price": 2, "stale:price": 1, "hit:gas": 4})
    for outcome, ms in (("ok", 40.0), ("ok", 60.0), ("transient", None), ("timeout", None)):
        await stats.record(aredis, "alpha", outcome, ms, T0)
    await stats.record(aredis, "beta", "ok", 20.0, T0)
    await stats.record(aredis, "beta", "skipped_budget", None, T0)  # a skip is no call, no error
    store = BreakerStore(aredis, FakeClock())
    gamma = ProviderConfig(slug="gamma", name="gamma", category="m", base_url="http://127.0.0.1:1")
    for _ in range(5):
        await store.record(gamma, False)
    got = await live_stats.read_totals(aredis, ["alpha", "beta", "gamma"], at=12.5)
    assert (got.at, got.served, got.hits, got.misses, got.errors, got.not_closed) == (12.5, 15, 12, 2, 2, 1)
    assert sorted(got.samples) == [20.0, 40.0, 60.0]


async def test_read_totals_of_an_idle_gateway_is_all_zero(aredis):
    got = await live_stats.read_totals(aredis, ["alpha"], at=1.0)
    assert got == totals(1.0)
    assert live_stats.summary(got, await live_stats.read_totals(aredis, ["alpha"], at=2.0))["degraded"] is False
