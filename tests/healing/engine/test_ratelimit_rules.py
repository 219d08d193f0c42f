"""The rules of budgets and cool-downs that test_ratelimit.py leaves unpinned: the guard window,
the Redis keys and TTLs, every way to build a Budget, and the edges of the small helpers."""

import logging
from datetime import datetime, timezone
from email.utils import format_datetime

from healing.engine.config import ProviderConfig
from healing.engine.ratelimit import (
    Budget,
    ClockedRedisStorage,
    cooldown_key,
    cooldown_seconds,
    describe_budgets,
    limit_text,
    parse_limits,
    parse_retry_after,
)
from providers.runtime import rkey
from tests.fixtures.clock import T0, FakeClock


def cfg(limits, slug="alpha"):
    return ProviderConfig(slug=slug, name=slug, category="m", base_url="http://127.0.0.1:1", rate_limits=limits)


def window_keys(slug="alpha"):
    return rkey("rl") + f":LIMITER/{slug}/*"


async def test_the_guard_holds_a_token_for_window_plus_guard(aredis):
    clock = FakeClock()
    budget = Budget(aredis, clock=clock, guard_s=0.5)
    p = cfg("1/second")
    assert await budget.try_acquire(p)
    clock.advance(1.2)  # past the window, inside window + guard
    assert not await budget.try_acquire(p)
    assert await budget.remaining(p) == [{"limit": "1/second", "remaining": 0, "resets_at": T0 + 1.5}]
    clock.advance(0.4)  # 1.6 s: past window + guard
    assert await budget.try_acquire(p)


async def test_the_guarded_window_key_expires_after_the_whole_guarded_window(aredis):
    budget = Budget(aredis, clock=FakeClock(), guard_s=0.5)
    assert await budget.try_acquire(cfg("1/second"))
    [key] = await aredis.keys(window_keys())
    assert await aredis.ttl(key) == 2  # ceil(1 + 0.5): EXPIRE takes whole seconds
    assert await aredis.llen(key) == 1


async def test_the_guard_counts_every_grant_up_to_the_limit(aredis):
    clock = FakeClock()
    budget = Budget(aredis, clock=clock, guard_s=0.25)
    p = cfg("3/second")
    assert [await budget.try_acquire(p) for _ in range(4)] == [True, True, True, False]
    clock.advance(1.3)
    assert await budget.try_acquire(p)


async def test_without_a_guard_a_token_frees_exactly_after_the_window(aredis):
    clock = FakeClock()
    storage = ClockedRedisStorage("async+redis://", clock=clock, key_prefix=rkey("rl"),
                                  connection_pool=aredis.connection_pool)
    assert storage.guard_s == 0.0
    budget = Budget(storage, clock=clock)
    p = cfg("1/second")
    assert await budget.try_acquire(p)
    clock.advance(1.01)  # a grant exactly one window old still counts (limits: entry >= now - window)
    assert await budget.try_acquire(p)


async def test_a_negative_guard_counts_as_none(aredis):
    storage = ClockedRedisStorage("async+redis://", guard_s=-3, connection_pool=aredis.connection_pool)
    assert storage.guard_s == 0.0


async def test_a_direct_acquire_takes_one_token_by_default(aredis):
    clock = FakeClock()
    for guard in (0.0, 0.5):
        storage = ClockedRedisStorage("async+redis://", clock=clock, guard_s=guard,
                                      connection_pool=aredis.connection_pool)
        key = f"direct-{guard}"
        assert [await storage.acquire_entry(key, 2, 60) for _ in range(3)] == [True, True, False]


async def test_an_untouched_window_has_its_whole_limit(aredis):
    clock = FakeClock()
    budget = Budget(aredis, clock=clock, guard_s=0.5)
    assert await budget.remaining(cfg("2/second")) == [{"limit": "2/second", "remaining": 2, "resets_at": T0 + 1.5}]
    assert describe_budgets("alpha", await budget.remaining(cfg("2/second")), clock()) == []


async def test_budget_windows_live_under_the_rl_prefix(aredis):
    budget = Budget(aredis, clock=FakeClock())
    assert await budget.try_acquire(cfg("1/minute"))
    assert len(await aredis.keys(window_keys())) == 1
    assert len(await aredis.keys("*")) == 1


async def test_a_budget_built_from_a_url_keeps_the_clock_and_the_guard(aredis, redis_server):
    for url in (redis_server.url, "async+" + redis_server.url):
        clock = FakeClock()
        await aredis.flushdb()
        budget = Budget(url, clock=clock, guard_s=0.5)
        p = cfg("1/minute")
        assert await budget.try_acquire(p)
        assert await budget.remaining(p) == [{"limit": "1/minute", "remaining": 0, "resets_at": T0 + 60.5}]
        clock.advance(60.2)
        assert not await budget.try_acquire(p)
        clock.advance(0.4)
        assert await budget.try_acquire(p)
        assert len(await aredis.keys(window_keys())) == 1
        until = await budget.cool_down("alpha", 5)
        assert until == clock() + 5 and await budget.cooling_until("alpha") == until


async def test_a_budget_built_from_a_storage_uses_it(aredis):
    clock = FakeClock()
    storage = ClockedRedisStorage("async+redis://", clock=clock, guard_s=0.5, key_prefix=rkey("rl"),
                                  connection_pool=aredis.connection_pool)
    budget = Budget(storage, clock=clock)
    assert budget.storage is storage
    assert await budget.try_acquire(cfg("1/second"))
    clock.advance(1.2)
    assert not await budget.try_acquire(cfg("1/second"))
    assert await budget.cool_down("alpha", 5) == T0 + 1.2 + 5
    assert await aredis.get(cooldown_key("alpha")) == repr(T0 + 1.2 + 5).encode()


async def test_cool_down_key_name_value_and_ttl(aredis):
    budget = Budget(aredis, clock=FakeClock())
    assert cooldown_key("alpha") == rkey("cooldown", "alpha") != cooldown_key("beta")
    await budget.cool_down("alpha", 12)
    assert await aredis.keys("*") == [rkey("cooldown", "alpha").encode()]
    assert 70 < await aredis.ttl(cooldown_key("alpha")) <= 72  # the cool-down plus a minute
    await budget.cool_down("beta", 0.5)
    assert 59 < await aredis.ttl(cooldown_key("beta")) <= 61  # at least one second, plus a minute


async def test_cool_down_is_logged_with_the_provider(aredis, caplog):
    with caplog.at_level(logging.INFO, logger="healing.engine.ratelimit"):
        await Budget(aredis, clock=FakeClock()).cool_down("alpha", 12)
    assert "provider alpha cooling down for 12.0 s" in caplog.messages


async def test_cooling_is_read_in_a_callers_pipeline(aredis):
    clock = FakeClock()
    budget = Budget(aredis, clock=clock)
    await budget.cool_down("alpha", 12)
    pipe = aredis.pipeline(transaction=False)
    budget.queue_cooling(pipe, "alpha")
    budget.queue_cooling(pipe, "beta")
    alpha, beta = await pipe.execute()
    assert budget.parse_cooling(alpha) == T0 + 12
    assert budget.parse_cooling(beta) is None


async def test_reset_forgets_only_that_provider(aredis):
    budget = Budget(aredis, clock=FakeClock())
    alpha, beta = cfg("1/hour"), cfg("1/hour", slug="beta")
    assert await budget.try_acquire(alpha) and await budget.try_acquire(beta)
    await budget.cool_down("alpha", 100)
    await budget.cool_down("beta", 100)
    await budget.reset("alpha")
    assert await budget.try_acquire(alpha)
    assert not await budget.try_acquire(beta)
    assert await budget.cooling_until("beta") == T0 + 100
    assert await budget.cooling_until("alpha") is None


def test_describe_budgets_names_only_spent_windows():
    windows = [
        {"limit": "1/second", "remaining": 0, "resets_at": T0 + 0.4},
        {"limit": "10/minute", "remaining": 1, "resets_at": T0 + 60},
        {"limit": "5/hour", "remaining": 0, "resets_at": T0 - 3},
    ]
    assert describe_budgets("alpha", windows, T0) == [
        "alpha: budget 1/second frees in 0.4 s",
        "alpha: budget 5/hour frees in 0.0 s",
    ]


def test_limit_text_writes_multiples():
    assert [limit_text(i) for i in parse_limits("10/6 seconds;5/2 minutes;1/second")] == [
        "1/second", "10/6 seconds", "5/2 minutes",
    ]


def test_retry_after_of_zero_or_in_the_past_is_zero():
    assert parse_retry_after("0", T0) == 0.0
    assert parse_retry_after(" 0.5 ", T0) == 0.5
    assert parse_retry_after("-4", T0) == 0.0
    past = format_datetime(datetime.fromtimestamp(T0 - 30, timezone.utc), usegmt=True)
    assert parse_retry_after(past, T0) == 0.0


def test_cool_down_is_a_minute_without_retry_after_and_at_most_an_hour():
    assert cooldown_seconds(None) == 60.0
    assert cooldown_seconds(float("nan")) == 60.0
    assert cooldown_seconds(3599.5) == 3599.5
    assert cooldown_seconds(3600.5) == 3600.0
    assert cooldown_seconds(1.5) == 1.5
    assert cooldown_seconds(0.5) == 1.0


def test_a_budget_share_keeps_at_least_one_call_per_window():
    from healing.engine.ratelimit import limit_text, shared_limits

    # While Redis is down each of N processes takes 1/N of a budget (rounded down, never 0).
    assert [limit_text(i) for i in shared_limits("10/second;1000/day", 4)] == ["2/second", "250/day"]
    assert [limit_text(i) for i in shared_limits("600/minute", 3)] == ["200/minute"]  # exact, not 199
    assert [limit_text(i) for i in shared_limits("1/second", 2)] == ["1/second"]
    assert [limit_text(i) for i in shared_limits("3/minute", 1)] == ["3/minute"]
    assert [limit_text(i) for i in shared_limits("3/minute", 0)] == ["3/minute"]


async def test_a_budget_with_a_share_grants_and_reports_only_that_share(aredis):
    budget = Budget(aredis, clock=FakeClock(), processes=2)
    p = cfg("4/minute")
    assert [await budget.acquire(p) for _ in range(3)] == [None, None, "2/minute"]
    assert [(w["limit"], w["remaining"]) for w in await budget.remaining(p)] == [("2/minute", 0)]


def test_one_process_part_of_a_window_is_the_integer_share_and_never_zero():
    from limits import RateLimitItemPerMinute

    from healing.engine.ratelimit import share_of

    window = RateLimitItemPerMinute(600)
    assert share_of(window, 1) is window and share_of(window, 0) is window
    assert (share_of(window, 3).amount, share_of(window, 3).get_expiry()) == (200, 60)
    assert share_of(window, 7).amount == 85  # rounded down: 7 x 85 stays within 600
    assert share_of(RateLimitItemPerMinute(2), 3).amount == 1
    assert share_of(window, 2).namespace == window.namespace and share_of(window, 2).amount == 300
    assert share_of(RateLimitItemPerMinute(600, 1, "inbound"), 2).namespace == "inbound"
    ten_minutes = RateLimitItemPerMinute(600, 10)
    assert (share_of(ten_minutes, 2).amount, share_of(ten_minutes, 2).get_expiry()) == (300, 600)
