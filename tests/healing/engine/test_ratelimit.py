import asyncio
from datetime import datetime, timezone
from email.utils import format_datetime

from healing.engine.config import ProviderConfig
from healing.engine.ratelimit import (
    DEFAULT_COOLDOWN_S,
    MAX_COOLDOWN_S,
    Budget,
    cooldown_seconds,
    describe_budgets,
    parse_limits,
    parse_retry_after,
)
from tests.fixtures.clock import T0, FakeClock


def cfg(limits, slug="alpha"):
    return ProviderConfig(slug=slug, name=slug, category="m", base_url="http://127.0.0.1:1", rate_limits=limits)


async def test_every_window_of_the_provider_is_enforced(aredis):
    clock = FakeClock()
    budget = Budget(aredis, clock=clock)
    p = cfg("2/second;3/minute")
    assert [await budget.acquire(p) for _ in range(3)] == [None, None, "2/second"]
    clock.advance(1.5)
    assert await budget.acquire(p) is None
    assert await budget.acquire(p) == "3/minute"
    clock.advance(60)
    assert await budget.try_acquire(p)


async def test_budget_is_shared_between_budget_objects(aredis):
    clock = FakeClock()
    first, second = Budget(aredis, clock=clock), Budget(aredis, clock=clock)
    p = cfg("3/minute")
    results = await asyncio.gather(*(b.try_acquire(p) for b in [first, second] * 5))
    assert results.count(True) == 3


async def test_budget_from_a_url_shares_the_same_windows(aredis, redis_server):
    clock = FakeClock()
    p = cfg("1/minute")
    assert await Budget(aredis, clock=clock).try_acquire(p)
    assert not await Budget(redis_server.url, clock=clock).try_acquire(p)


async def test_remaining_says_what_is_left_and_when_it_frees(aredis):
    clock = FakeClock()
    budget = Budget(aredis, clock=clock)
    p = cfg("1/second;10/minute")
    await budget.acquire(p)
    clock.advance(0.6)
    windows = await budget.remaining(p)
    assert windows == [
        {"limit": "1/second", "remaining": 0, "resets_at": T0 + 1},
        {"limit": "10/minute", "remaining": 9, "resets_at": T0 + 60},
    ]
    assert describe_budgets("alpha", windows, clock()) == ["alpha: budget 1/second frees in 0.4 s"]


async def test_no_limits_means_no_budget(aredis):
    budget = Budget(aredis, clock=FakeClock())
    assert all([await budget.try_acquire(cfg("")) for _ in range(50)])
    assert await budget.remaining(cfg("")) == []
    assert parse_limits("nonsense") == ()


async def test_cool_down_is_seen_by_others_until_it_ends(aredis):
    clock = FakeClock()
    budget = Budget(aredis, clock=clock)
    assert await budget.cool_down("alpha", 12) == T0 + 12
    assert await Budget(aredis, clock=clock).cooling_until("alpha") == T0 + 12
    clock.advance(12)
    assert await budget.cooling_until("alpha") is None


async def test_reset_forgets_cool_down_and_windows(aredis):
    clock = FakeClock()
    budget = Budget(aredis, clock=clock)
    p = cfg("1/hour")
    await budget.acquire(p)
    await budget.cool_down("alpha", 100)
    await budget.reset("alpha")
    assert await budget.cooling_until("alpha") is None
    assert await budget.try_acquire(p)
    assert await aredis.keys("*cooldown*") == []


def test_retry_after_in_seconds_or_http_date():
    assert parse_retry_after("17", T0) == 17
    when = datetime.fromtimestamp(T0 + 42, timezone.utc)
    assert parse_retry_after(format_datetime(when, usegmt=True), T0) == 42
    assert parse_retry_after("soon", T0) is None
    assert parse_retry_after(None, T0) is None


def test_cool_down_defaults_and_bounds():
    assert cooldown_seconds(None) == DEFAULT_COOLDOWN_S
    assert cooldown_seconds(0) == 1
    assert cooldown_seconds(10**9) == MAX_COOLDOWN_S
