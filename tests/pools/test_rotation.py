import pytest

from pools import state
from pools.models import Pool, PoolMembership, RotationEvent
from pools.rotation import (
    ROTATION_DEMOTE_S,
    NotEnoughMembers,
    RotationError,
    current_order,
    pool_rotate,
)
from pools.selectors import pool_members
from pools.strategies import Member
from providers.models import Provider

NOW = 1_700_000_000.0


@pytest.fixture
def make_pool(db, make_provider):
    def make(strategy="priority", members=(("alpha", 30, 100), ("beta", 20, 50), ("gamma", 10, 25)), slug="price"):
        pool = Pool.objects.create(slug=slug, name=slug.title(), capability="price", strategy=strategy)
        for provider_slug, priority, weight in members:
            provider = make_provider(slug=provider_slug)
            PoolMembership.objects.create(pool=pool, provider=provider, priority=priority, weight=weight)
        return pool

    return make


def heads(order):
    return [m.provider for m in order]


def test_pool_members_are_the_enabled_memberships_of_enabled_providers(make_pool, django_assert_num_queries):
    pool = make_pool(members=(("alpha", 30, 100), ("beta", 20, 50), ("gamma", 10, 25), ("delta", 5, 10)))
    PoolMembership.objects.filter(pool=pool, provider__slug="beta").update(enabled=False)
    Provider.objects.filter(slug="gamma").update(enabled=False)
    with django_assert_num_queries(1):
        members = pool_members(pool)
    assert members == [Member("alpha", 30, 100), Member("delta", 5, 10)]
    assert pool_members("price") == members
    assert pool_members("no-such-pool") == []


def test_current_order_never_rotates_the_pool(make_pool, redis_client):
    pool = make_pool(strategy="round_robin")
    state.rr_advance(redis_client, pool.slug)
    orders = {tuple(heads(current_order(pool, r=redis_client, now=NOW))) for _ in range(10)}
    assert orders == {("beta", "gamma", "alpha")}
    assert state.rr_cursor(redis_client, pool.slug) == 1
    assert state.demoted(redis_client, pool.slug, NOW) == set()
    assert RotationEvent.objects.count() == 0


def test_current_order_follows_the_shared_cursor(make_pool, redis_client):
    pool = make_pool(strategy="round_robin")
    assert heads(current_order(pool, r=redis_client, now=NOW))[0] == "alpha"
    assert state.rr_advance(redis_client, "price") == 0  # the request that used alpha
    assert heads(current_order("price", r=redis_client, now=NOW))[0] == "beta"


def test_current_order_uses_recent_usage_and_latency(make_pool, redis_client):
    least = make_pool(strategy="least_used")
    for _ in range(3):
        state.record_use(redis_client, "alpha", None, NOW)
    state.record_use(redis_client, "gamma", None, NOW)
    assert heads(current_order(least, r=redis_client, now=NOW)) == ["beta", "gamma", "alpha"]

    least.strategy = "fastest_response"
    least.save()
    state.record_use(redis_client, "alpha", 300.0, NOW)
    state.record_use(redis_client, "beta", 90.0, NOW)
    state.record_use(redis_client, "gamma", 120.0, NOW)
    assert heads(current_order(least, r=redis_client, now=NOW)) == ["beta", "gamma", "alpha"]


def test_current_order_of_a_pool_without_members_is_empty(make_pool, redis_client):
    assert current_order(make_pool(members=()), r=redis_client, now=NOW) == []


def test_rotate_makes_the_next_member_primary_and_records_the_event(make_pool, redis_client):
    pool = make_pool(strategy="priority")
    event = pool_rotate(pool=pool, reason="alpha answers stale prices", actor="ops", r=redis_client, now=NOW)

    assert (event.from_provider.slug, event.to_provider.slug) == ("alpha", "beta")
    assert (event.reason, event.actor, event.pool_id) == ("alpha answers stale prices", "ops", pool.pk)
    assert RotationEvent.objects.count() == 1
    assert heads(current_order(pool, r=redis_client, now=NOW)) == ["beta", "gamma", "alpha"]
    assert state.rr_cursor(redis_client, pool.slug) == 0  # only round robin moves its cursor


def test_rotated_away_provider_returns_after_the_demotion_ends(make_pool, redis_client):
    pool = make_pool(strategy="priority")
    pool_rotate(pool=pool, reason="test", actor="ops", r=redis_client, now=NOW)
    assert heads(current_order(pool, r=redis_client, now=NOW + ROTATION_DEMOTE_S - 1))[0] == "beta"
    assert heads(current_order(pool, r=redis_client, now=NOW + ROTATION_DEMOTE_S))[0] == "alpha"


def test_rotate_round_robin_advances_the_cursor(make_pool, redis_client):
    pool = make_pool(strategy="round_robin")
    event = pool_rotate(pool=pool, reason="manual", actor="ops", r=redis_client, now=NOW)
    assert (event.from_provider.slug, event.to_provider.slug) == ("alpha", "beta")
    assert state.rr_cursor(redis_client, pool.slug) == 1
    assert heads(current_order(pool, r=redis_client, now=NOW)) == ["beta", "gamma", "alpha"]


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [("priority", ("alpha", "beta")), ("weighted", ("alpha", "beta")), ("least_used", ("beta", "alpha")),
     ("fastest_response", ("gamma", "alpha"))],
)
def test_rotate_moves_off_the_head_for_every_strategy(make_pool, redis_client, strategy, expected):
    pool = make_pool(strategy=strategy)
    # Usage: beta 1 < alpha 2 < gamma 3. Latency: gamma 10 < alpha 50 < beta 90 ms.
    for slug, ms, uses in (("alpha", 50.0, 2), ("beta", 90.0, 1), ("gamma", 10.0, 3)):
        for _ in range(uses):
            state.record_use(redis_client, slug, ms, NOW)
    event = pool_rotate(pool=pool, reason="manual", actor="ops", r=redis_client, now=NOW)
    assert (event.from_provider.slug, event.to_provider.slug) == expected
    assert heads(current_order(pool, r=redis_client, now=NOW))[0] == expected[1]


def test_rotating_repeatedly_cycles_through_every_member(make_pool, redis_client):
    pool = make_pool(strategy="priority")
    moves = [
        (e.from_provider.slug, e.to_provider.slug)
        for e in (pool_rotate(pool=pool, reason="cycle", actor="ops", r=redis_client, now=NOW) for _ in range(4))
    ]
    assert moves == [("alpha", "beta"), ("beta", "gamma"), ("gamma", "alpha"), ("alpha", "beta")]


def test_rotating_a_single_member_pool_keeps_the_head_and_records_the_request(make_pool, redis_client):
    pool = make_pool(members=(("alpha", 30, 100),))
    event = pool_rotate(pool=pool, reason="manual", actor="ops", r=redis_client, now=NOW)
    assert (event.from_provider.slug, event.to_provider.slug, event.reason, event.actor) == (
        "alpha", "alpha", "manual", "ops")
    assert RotationEvent.objects.count() == 1
    assert state.demoted(redis_client, pool.slug, NOW) == set()  # the only member is not sent away
    assert state.rr_cursor(redis_client, pool.slug) == 0


def test_rotating_a_pool_without_eligible_members_fails_cleanly(make_pool, redis_client):
    pool = make_pool(members=(("alpha", 30, 100),))
    pool.memberships.update(enabled=False)
    with pytest.raises(NotEnoughMembers, match="no eligible member"):
        pool_rotate(pool=pool, reason="manual", actor="ops", r=redis_client, now=NOW)
    assert RotationEvent.objects.count() == 0


def test_disabled_members_do_not_count_towards_rotation(make_pool, redis_client):
    pool = make_pool(members=(("alpha", 30, 100), ("beta", 20, 50)))
    PoolMembership.objects.filter(provider__slug="beta").update(enabled=False)
    event = pool_rotate(pool=pool, reason="manual", actor="ops", r=redis_client, now=NOW)
    assert event.from_provider.slug == event.to_provider.slug == "alpha"  # beta is not eligible to take over


@pytest.mark.parametrize(("reason", "message"), [("", "reason: give a reason"), ("x" * 301, "reason: at most 300")])
def test_rotate_requires_a_reason(make_pool, redis_client, reason, message):
    pool = make_pool()
    with pytest.raises(RotationError, match=message):
        pool_rotate(pool=pool, reason=reason, actor="ops", r=redis_client, now=NOW)
    assert RotationEvent.objects.count() == 0
    assert state.demoted(redis_client, pool.slug, NOW) == set()


def test_rotate_uses_the_process_redis_by_default(make_pool, redis_client):
    pool = make_pool()
    event = pool_rotate(pool=pool, reason="default client", actor="")
    assert event.actor == "system"
    assert heads(current_order(pool))[0] == "beta"
    assert len(state.demoted(redis_client, pool.slug, NOW)) == 1
