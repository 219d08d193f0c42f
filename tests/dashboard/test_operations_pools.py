"""The Pools tab's logic on the test database and the real Redis: the engine's order with the reason
each member is skipped, reading that never rotates, and rotating through pools.rotation."""

from __future__ import annotations

import asyncio
import time

import pytest
import redis.asyncio
from django.conf import settings

from dashboard.operations import pools as pools_page
from healing.catalogue import build_snapshot
from healing.engine import drained
from healing.engine.breaker import OPEN, BreakerState, breaker_key, encode_state
from healing.engine.ratelimit import Budget
from pools.models import Pool, PoolMembership, RotationEvent
from pools.state import rr_cursor

pytestmark = pytest.mark.django_db

SLUGS = ("coingecko", "coinpaprika", "coincap")


@pytest.fixture
def price_pool(make_provider):
    pool = Pool.objects.create(slug="price", name="Price", capability="price", strategy="priority")
    providers = {}
    for n, slug in enumerate(SLUGS):
        providers[slug] = make_provider(slug=slug, name=slug.title(), rate_limits="")
        PoolMembership.objects.create(pool=pool, provider=providers[slug], priority=100 - 10 * n)
    return pool, providers


def _order(slug="price"):
    return pools_page.pools_page(slug)["pools"][0]["order"]


def _open_breaker(redis_client, slug):
    state = BreakerState(state=OPEN, reopens_at=time.time() + 120, trips=1, consecutive_failures=5)
    redis_client.hset(breaker_key(slug), mapping=encode_state(state))


def test_a_healthy_pool_lists_its_members_by_priority_and_the_first_is_next(price_pool, redis_client):
    order = _order()
    assert [m["provider"] for m in order] == list(SLUGS)
    assert [m["next"] for m in order] == [True, False, False]
    assert all(m["skip"] == "" for m in order)


def test_an_open_breaker_skips_its_member_and_the_next_one_is_used(price_pool, redis_client):
    _open_breaker(redis_client, "coingecko")
    order = _order()
    head = order[0]
    assert head["provider"] == "coingecko" and head["skip"] == "breaker"
    assert "breaker open for" in head["detail"]
    assert [m["provider"] for m in order if m["next"]] == ["coinpaprika"]


def test_maintenance_key_and_budget_skips_are_named(price_pool, redis_client):
    pool, providers = price_pool
    redis_client.zadd(drained.providers_key(), {"coingecko": time.time() + 600})
    providers["coinpaprika"].key_required = True
    providers["coinpaprika"].api_key_env = "OPS_TEST_UNSET_KEY"
    providers["coinpaprika"].save()
    providers["coincap"].rate_limits = "1/hour"
    providers["coincap"].save()
    coincap = build_snapshot().providers["coincap"]

    async def spend():
        r = redis.asyncio.Redis.from_url(settings.REDIS_URL)
        try:
            assert await Budget(r).acquire(coincap) is None  # the hour's one token
        finally:
            await r.aclose()

    asyncio.run(spend())
    by_slug = {m["provider"]: m for m in _order()}
    assert by_slug["coingecko"]["skip"] == "maintenance"
    assert by_slug["coinpaprika"]["skip"] == "key" and "OPS_TEST_UNSET_KEY" in by_slug["coinpaprika"]["detail"]
    assert by_slug["coincap"]["skip"] == "budget" and "1/hour" in by_slug["coincap"]["detail"]
    assert not any(m["next"] for m in by_slug.values())


def test_every_breaker_open_keeps_a_last_resort(price_pool, redis_client):
    for slug in SLUGS:
        _open_breaker(redis_client, slug)
    order = _order()
    assert order[-1]["forced"] is True and "every breaker is open" in order[-1]["detail"]


def test_disabled_members_are_listed_apart_with_the_reason(price_pool, redis_client):
    pool, providers = price_pool
    PoolMembership.objects.filter(pool=pool, provider=providers["coincap"]).update(enabled=False)
    row = pools_page.pools_page("price")["pools"][0]
    assert [m["provider"] for m in row["order"]] == ["coingecko", "coinpaprika"]
    assert row["not_ordered"] == [{"provider": "coincap", "skip": "disabled", "detail": "membership disabled"}]


def test_reading_a_round_robin_pool_never_moves_its_cursor(price_pool, redis_client):
    pool, _ = price_pool
    Pool.objects.filter(pk=pool.pk).update(strategy="round_robin")
    firsts = [_order()[0]["provider"] for _ in range(3)]
    assert rr_cursor(redis_client, "price") == 0
    assert len(set(firsts)) == 1
    redis_client.set(pools_page.rr_key("price"), 1)
    assert _order()[0]["provider"] != firsts[0]
    assert rr_cursor(redis_client, "price") == 1


def test_unknown_pool_is_none():
    assert pools_page.pools_page("nope") is None


def test_rotate_records_the_actor_and_the_reason(price_pool, redis_client):
    event, error, status = pools_page.rotate("price", reason="drill", actor="alice")
    assert (error, status) == ("", 201)
    assert (event.from_provider.slug, event.to_provider.slug, event.actor) == ("coingecko", "coinpaprika", "alice")
    history = pools_page.pools_page("price")["pools"][0]["history"]
    assert history[0]["actor"] == "alice" and history[0]["reason"] == "drill"
    assert _order()[0]["provider"] == "coinpaprika"


def test_rotate_refuses_clearly(price_pool, redis_client):
    pool, providers = price_pool
    assert pools_page.rotate("nope", reason="x", actor="a")[1:] == ("no pool with slug 'nope'", 404)
    assert pools_page.rotate("price", reason="x" * 500, actor="a")[2] == 400
    PoolMembership.objects.filter(pool=pool).delete()
    event, error, status = pools_page.rotate("price", reason="x", actor="a")
    assert event is None and status == 409 and "no eligible member" in error
    assert not RotationEvent.objects.exists()


def test_redis_down_leaves_the_order_unknown_not_an_error(price_pool, redis_down):
    page = pools_page.pools_page(None)
    assert page["order_unavailable"] is True and page["pools"][0]["order"] is None
