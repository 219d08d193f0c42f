import asyncio

import pytest
import redis
import redis.asyncio
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from healing.catalogue import build_snapshot, snapshot_builder
from healing.engine.config import MemberConfig, Snapshot
from healing.engine.snapshot import SnapshotHolder, read_config_version
from pools.models import Pool, PoolMembership
from providers.runtime import CONFIG_VERSION_KEY, rkey


@pytest.fixture
def catalogue(make_provider):
    cg = make_provider(slug="coingecko", base_url="https://api.coingecko.com/api/v3", api_key_env="CG_KEY",
                       auth_type="header", auth_param="x-cg-demo-api-key", breaker_failure_threshold=3)
    cp = make_provider(slug="coinpaprika", base_url="https://api.coinpaprika.com/v1")
    off = make_provider(slug="offline", enabled=False)
    muted = make_provider(slug="muted")
    pool = Pool.objects.create(slug="price", name="Price", capability="price", strategy="priority")
    PoolMembership.objects.create(pool=pool, provider=cp, priority=5)
    PoolMembership.objects.create(pool=pool, provider=cg, priority=10, weight=30)
    PoolMembership.objects.create(pool=pool, provider=off, priority=20)
    PoolMembership.objects.create(pool=pool, provider=muted, priority=30, enabled=False)
    Pool.objects.create(slug="empty-gas", name="Gas", capability="gas", strategy="round_robin", enabled=False)
    return pool


def test_build_snapshot_reads_the_catalogue_in_five_queries(catalogue):
    # Providers, pools with their members, API clients, and the asset registry's fingerprint (two
    # aggregates): never one query per row. The registry itself is read only when that moved.
    build_snapshot(6)
    with CaptureQueriesContext(connection) as queries:
        snapshot = build_snapshot(7)
    assert len(queries) == 5
    assert snapshot.version == 7
    assert sorted(snapshot.providers) == ["coingecko", "coinpaprika", "muted", "offline"]
    cg = snapshot.providers["coingecko"]
    assert (cg.base_url, cg.api_key_env, cg.auth_param, cg.breaker_failure_threshold) == (
        "https://api.coingecko.com/api/v3", "CG_KEY", "x-cg-demo-api-key", 3)
    assert snapshot.providers["offline"].enabled is False


def test_pool_members_are_enabled_rows_of_enabled_providers_by_priority(catalogue):
    snapshot = build_snapshot()
    price = snapshot.pools["price"]
    assert (price.capability, price.strategy, price.enabled) == ("price", "priority", True)
    assert price.members == (
        MemberConfig(provider="coingecko", priority=10, weight=30),
        MemberConfig(provider="coinpaprika", priority=5, weight=100),
    )
    assert snapshot.pool_for("price") is price
    # A pool without members still appears; a disabled one serves nothing.
    assert snapshot.pools["empty-gas"].members == ()
    assert snapshot.pool_for("gas") is None


def test_an_empty_catalogue_is_an_empty_snapshot(db):
    assert build_snapshot() == Snapshot(version=0)


async def _counting_builder(calls):
    async def build(version):
        calls.append(version)
        return Snapshot(version=version)

    return build


async def test_holder_rebuilds_only_when_the_version_moves():
    r = redis.asyncio.Redis.from_url(settings.REDIS_URL)
    calls = []
    holder = SnapshotHolder(r, builder=await _counting_builder(calls), check_interval_s=0)
    assert (await holder.get()).version == 0
    assert await holder.refresh() is False
    await r.incr(rkey(CONFIG_VERSION_KEY))
    assert await holder.refresh() is True
    assert (await holder.get()).version == 1
    assert await holder.refresh() is False
    assert calls == [0, 1]
    await r.aclose()


async def test_holder_checks_inline_at_most_once_per_interval_without_a_poller():
    r = redis.asyncio.Redis.from_url(settings.REDIS_URL)
    now = [100.0]
    calls = []
    holder = SnapshotHolder(r, builder=await _counting_builder(calls), check_interval_s=0.5,
                            monotonic=lambda: now[0])
    await holder.get()
    await r.incr(rkey(CONFIG_VERSION_KEY))
    now[0] += 0.4
    assert (await holder.get()).version == 0  # not yet time to look
    now[0] += 0.1
    assert (await holder.get()).version == 1
    assert calls == [0, 1]
    await r.aclose()


async def test_holder_keeps_its_snapshot_when_redis_fails():
    r = redis.asyncio.Redis.from_url(settings.REDIS_URL)
    calls = []
    holder = SnapshotHolder(r, builder=await _counting_builder(calls), check_interval_s=0)
    await holder.get()
    await r.aclose()
    # Nothing listens on port 1; no retries, so the failure is immediate.
    holder._redis = redis.asyncio.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2,
                                        retry=Retry(NoBackoff(), 0))
    assert await holder.refresh() is False
    assert (await holder.get()).version == 0
    assert calls == [0]


async def test_background_poller_picks_up_a_bump():
    r = redis.asyncio.Redis.from_url(settings.REDIS_URL)
    calls = []
    holder = SnapshotHolder(r, builder=await _counting_builder(calls), check_interval_s=0.01)
    await holder.start()
    await r.set(rkey(CONFIG_VERSION_KEY), 41)
    for _ in range(500):  # bounded: the poller looks every 10 ms
        if holder.current.version == 41:
            break
        await asyncio.sleep(0.01)
    await holder.stop()
    assert holder.current.version == 41
    assert calls == [0, 41]
    await r.aclose()


async def test_stop_ends_the_poller_even_when_a_rebuild_swallows_the_cancel():
    """asgiref's SyncToAsync, on cancel, waits for its thread and returns the result instead of
    raising: the poller must still end rather than go back to sleep with `stop` waiting on it."""
    r = redis.asyncio.Redis.from_url(settings.REDIS_URL)
    rebuilding = asyncio.Event()

    async def build(version):
        if version:
            rebuilding.set()
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                pass  # swallowed, as SyncToAsync does
        return Snapshot(version=version)

    holder = SnapshotHolder(r, builder=build, check_interval_s=0.01)
    await holder.start()
    await r.set(rkey(CONFIG_VERSION_KEY), 7)
    await asyncio.wait_for(rebuilding.wait(), timeout=10)
    poller = holder._task
    await asyncio.wait_for(holder.stop(), timeout=5)
    assert poller.done() and not poller.cancelled()  # it ended by itself, at the stop event
    assert holder.current.version == 7
    await r.aclose()


@pytest.mark.django_db(transaction=True)
async def test_an_orm_save_bumps_the_version_and_the_default_builder_sees_it(make_provider):
    from asgiref.sync import sync_to_async

    provider = await sync_to_async(make_provider)(slug="coingecko")
    r = redis.asyncio.Redis.from_url(settings.REDIS_URL)
    holder = SnapshotHolder(r, builder=snapshot_builder, check_interval_s=0)
    await holder.start()
    try:
        assert holder.current.providers["coingecko"].enabled is True
        before = await read_config_version(r)

        def disable():
            provider.enabled = False
            provider.save()

        await sync_to_async(disable)()
        assert await read_config_version(r) == before + 1
        await holder.refresh()
        assert holder.current.providers["coingecko"].enabled is False
        assert holder.current.version == before + 1
    finally:
        await holder.stop()
        await r.aclose()


def test_sync_redis_sees_the_same_version_key(redis_client):
    redis_client.set(rkey(CONFIG_VERSION_KEY), 5)
    assert int(redis.Redis.from_url(settings.REDIS_URL).get(rkey(CONFIG_VERSION_KEY))) == 5
