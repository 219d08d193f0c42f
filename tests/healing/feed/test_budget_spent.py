"""Spent budgets as the live feed is told them: a refused token tells the observers at most once
per SPENT_NOTICE_S per provider, a cool-down's start tells them, a granted token never does."""

import logging

import pytest

from healing.engine import ratelimit
from healing.engine.config import ProviderConfig
from healing.engine.ratelimit import SPENT_NOTICE_S, Budget
from tests.fixtures.clock import FakeClock


def cfg(limits, slug="alpha"):
    return ProviderConfig(slug=slug, name=slug, category="m", base_url="http://127.0.0.1:1", rate_limits=limits)


@pytest.fixture
def told(monkeypatch):
    """The observers of this test only: (budget, slug) per notice."""
    heard = []

    async def observer(budget, slug):
        heard.append((budget, slug))

    monkeypatch.setattr(ratelimit, "SPENT_OBSERVERS", [observer])
    return heard


async def test_granted_tokens_never_tell(aredis, told):
    budget = Budget(aredis, clock=FakeClock())
    assert [await budget.acquire(cfg("5/minute")) for _ in range(5)] == [None] * 5
    assert all([await budget.try_acquire(cfg("")) for _ in range(20)])  # no limit at all
    assert told == []


async def test_repeated_refusals_tell_once_per_notice_period(aredis, told):
    clock = FakeClock()
    budget = Budget(aredis, clock=clock)
    p = cfg("2/minute")
    assert [await budget.acquire(p) for _ in range(5)] == [None, None, "2/minute", "2/minute", "2/minute"]
    assert told == [(budget, "alpha")]  # three refusals at one moment: one notice
    clock.advance(SPENT_NOTICE_S / 2)
    assert await budget.acquire(p) == "2/minute"
    assert len(told) == 1
    clock.advance(SPENT_NOTICE_S / 2)  # a whole notice period after the first notice
    assert await budget.acquire(p) == "2/minute"
    assert told == [(budget, "alpha")] * 2
    clock.advance(SPENT_NOTICE_S * 0.9)
    assert await budget.acquire(p) == "2/minute"
    assert len(told) == 2


async def test_notices_are_per_provider(aredis, told):
    budget = Budget(aredis, clock=FakeClock())
    for slug in ("alpha", "beta", "alpha", "beta"):
        await budget.acquire(cfg("1/minute", slug))
        await budget.acquire(cfg("1/minute", slug))
    assert [slug for _, slug in told] == ["alpha", "beta"]


async def test_a_budget_spent_in_a_longer_window_tells_too(aredis, told):
    clock = FakeClock()
    budget = Budget(aredis, clock=clock)
    p = cfg("10/second;2/minute")
    assert [await budget.acquire(p) for _ in range(3)] == [None, None, "2/minute"]
    assert [slug for _, slug in told] == ["alpha"]


async def test_a_cool_down_start_tells_every_time(aredis, told):
    clock = FakeClock()
    budget = Budget(aredis, clock=clock)
    await budget.cool_down("alpha", 5)
    assert told == [(budget, "alpha")]
    await budget.cool_down("alpha", 5)  # another 429: the cool-down starts again
    assert len(told) == 2
    # Reading a cool-down tells nothing.
    assert await budget.cooling_until("alpha") == clock() + 5
    assert len(told) == 2


async def test_an_observer_that_raises_fails_no_acquire_and_no_cool_down(aredis, monkeypatch, caplog):
    heard = []

    async def broken(budget, slug):
        raise RuntimeError("feed down")

    async def listening(budget, slug):
        heard.append(slug)

    monkeypatch.setattr(ratelimit, "SPENT_OBSERVERS", [broken, listening])
    budget = Budget(aredis, clock=FakeClock())
    with caplog.at_level(logging.WARNING, logger="healing.engine.ratelimit"):
        assert [await budget.acquire(cfg("1/minute")) for _ in range(2)] == [None, "1/minute"]
        assert await budget.cool_down("alpha", 3) == budget.clock() + 3
    assert heard == ["alpha", "alpha"]
    assert sum("budget observer failed for alpha" in r.getMessage() for r in caplog.records) == 2


async def test_each_budget_object_keeps_its_own_notice(aredis, told):
    """Two processes (two Budget objects) sharing one spent window each tell their own observers once."""
    clock = FakeClock()
    first, second = Budget(aredis, clock=clock), Budget(aredis, clock=clock)
    p = cfg("1/minute")
    assert await first.acquire(p) is None
    for _ in range(3):
        assert await first.acquire(p) == "1/minute"
        assert await second.acquire(p) == "1/minute"
    assert [b for b, _ in told] == [first, second]
