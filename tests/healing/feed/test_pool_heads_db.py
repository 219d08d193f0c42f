"""The `pools` channel from the database's side: manual rotations (a RotationEvent, published once its
transaction commits) and maintenance windows moving a pool's head, over the price pool of the data
plane tests (coingecko > coinpaprika > coincap) and real Redis."""

import pytest
import redis.asyncio
from asgiref.sync import async_to_sync
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from healing import pool_heads
from healing.catalogue import build_snapshot
from healing.models.monitoring import MaintenanceWindow
from healing.monitoring import maintenance
from pools.models import Pool, RotationEvent
from pools.rotation import pool_rotate
from tests.healing.feed.listen import Listener


class Rollback(Exception):
    pass


@pytest.fixture
def heads_from_catalogue(monkeypatch, price_pool):
    """Heads judged on the database's catalogue (the default; a data plane test may have swapped it),
    each pool's head remembered as at startup."""
    monkeypatch.setattr(pool_heads, "_snapshots", [pool_heads._snapshot_from_catalogue])
    snapshot = build_snapshot()
    async_to_sync(_with_redis)(lambda r: pool_heads.seed_heads(r, snapshot))


async def _with_redis(work):
    r = redis.asyncio.Redis.from_url(settings.REDIS_URL)
    try:
        return await work(r)
    finally:
        await r.aclose()


def recompute(provider, reason):
    """What a breaker or budget change of `provider` in some process does to the heads."""
    return async_to_sync(_with_redis)(lambda r: pool_heads.heads_changed(r, provider, reason))


def listen():
    return async_to_sync(Listener.on)("pools")


def published(listener):
    return async_to_sync(listener.data)()


# --- manual rotations ---------------------------------------------------------------------------


def test_a_committed_rotation_publishes_a_manual_event(price_pool):
    listener = listen()
    with transaction.atomic():
        pool_rotate(pool="price", reason="coingecko upgrade", actor="ops")
        assert published(listener) == []  # not before the commit
    assert published(listener) == [{"pool": "price", "from": "coingecko", "to": "coinpaprika",
                                     "reason": "coingecko upgrade", "actor": "ops", "kind": "manual"}]


def test_a_rolled_back_rotation_publishes_nothing(price_pool):
    listener = listen()
    with pytest.raises(Rollback), transaction.atomic():
        pool_rotate(pool="price", reason="try", actor="ops")
        raise Rollback
    assert RotationEvent.objects.count() == 0
    assert published(listener) == []


def test_only_a_new_rotation_event_is_published(price_pool):
    event = pool_rotate(pool="price", reason="first", actor="ops")
    listener = listen()
    event.reason = "edited later"
    event.save()
    assert published(listener) == []


def test_a_rotation_with_a_deleted_provider_says_null(price_pool):
    listener = listen()
    pool = Pool.objects.get(slug="price")
    RotationEvent.objects.create(pool=pool, from_provider=None, to_provider=price_pool["coincap"], reason="gone")
    assert published(listener) == [{"pool": "price", "from": None, "to": "coincap", "reason": "gone",
                                     "actor": "system", "kind": "manual"}]


def test_a_round_robin_rotation_is_published_and_remembers_no_head(price_pool, redis_client):
    Pool.objects.filter(slug="price").update(strategy="round_robin")
    listener = listen()
    pool_rotate(pool="price", reason="spin", actor="ops")
    assert [(d["kind"], d["actor"]) for d in published(listener)] == [("manual", "ops")]
    assert redis_client.get(pool_heads.head_key("price")) is None


def test_a_manual_rotation_is_not_announced_again_as_an_automatic_change(heads_from_catalogue, redis_client):
    """The rotation moved the head, and said so as "manual": a later recompute for an unrelated cause
    must not publish that same move again as "auto" with the cause's reason."""
    listener = listen()
    pool_rotate(pool="price", reason="coingecko upgrade", actor="ops")
    assert redis_client.get(pool_heads.head_key("price")) == "coinpaprika"
    assert recompute("coincap", pool_heads.BREAKER_OPEN) == []
    assert [(d["kind"], d["from"], d["to"]) for d in published(listener)] == [("manual", "coingecko", "coinpaprika")]


# --- maintenance windows ------------------------------------------------------------------------


def _window(**target):
    now = timezone.now()
    return MaintenanceWindow.objects.create(starts_at=now - timezone.timedelta(minutes=1),
                                            ends_at=now + timezone.timedelta(hours=1), reason="upgrade", **target)


def test_a_provider_window_moves_the_head_and_its_end_moves_it_back(heads_from_catalogue, price_pool):
    listener = listen()
    window = _window(provider=price_pool["coingecko"])
    assert maintenance.maintenance_sync()["providers"] == {"coingecko"}
    maintenance.maintenance_sync()  # the same windows again: no change
    window.delete()
    maintenance.maintenance_sync()
    assert published(listener) == [
        {"pool": "price", "from": "coingecko", "to": "coinpaprika", "reason": "maintenance", "kind": "auto"},
        {"pool": "price", "from": "coinpaprika", "to": "coingecko", "reason": "recovered", "kind": "auto"},
    ]


def test_a_pool_window_leaves_the_pool_without_a_head(heads_from_catalogue):
    listener = listen()
    window = _window(pool=Pool.objects.get(slug="price"))
    maintenance.maintenance_sync()
    window.delete()
    maintenance.maintenance_sync()
    assert [(d["from"], d["to"], d["reason"]) for d in published(listener)] == [
        ("coingecko", None, "maintenance"), (None, "coingecko", "recovered")]


def test_a_window_on_a_member_behind_the_head_moves_nothing(heads_from_catalogue, price_pool):
    listener = listen()
    _window(provider=price_pool["coincap"])
    assert maintenance.maintenance_sync()["providers"] == {"coincap"}
    assert published(listener) == []
