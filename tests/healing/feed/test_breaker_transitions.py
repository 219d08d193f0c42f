"""Breaker transitions as the live feed is told them: the pure `transition_of`/`record_reason`, and
the Redis store telling its observers exactly once per change of state, never on unchanged calls."""

import asyncio
import logging
from dataclasses import replace

import pytest
import redis.exceptions
import redis.asyncio.client

from healing.engine import breaker
from healing.engine.breaker import (
    CLOSED,
    CLOSED_STATE,
    HALF_OPEN,
    OPEN,
    BreakerPolicy,
    BreakerState,
    BreakerStore,
    Transition,
    record_reason,
    transition_of,
)
from healing.engine.config import ProviderConfig
from tests.fixtures.clock import T0, FakeClock

POLICY = BreakerPolicy()  # 5 consecutive failures trip it, 30 s first open period
OPENED = BreakerState(state=OPEN, reopens_at=T0 + 30, trips=1)


def cfg(slug="alpha"):
    return ProviderConfig(slug=slug, name=slug, category="market_data", base_url="http://127.0.0.1:1")


def recorded(old, ok, now):
    """(new state, Transition or None) of one recorded call, as the store computes them."""
    new = breaker.record(old, ok, now, POLICY)
    t = transition_of("alpha", old, new, now, "")
    return new, t if t is None else replace(t, reason=record_reason(old, ok, now, POLICY))


# --- pure ----------------------------------------------------------------------------------


def test_the_fifth_consecutive_failure_opens_with_a_failures_reason():
    four = BreakerState(consecutive_failures=4, window="1111", window_calls=4, window_failures=4)
    new, t = recorded(four, False, T0)
    assert t == Transition("alpha", CLOSED, OPEN, T0 + 30, 1, "failures: 5 consecutive", T0)
    assert new == OPENED


def test_a_failure_ratio_trip_says_error_rate():
    # 10 calls, 5 failed, never 5 in a row: the 11th (a failure) makes 6 of 11, over half.
    window = "0101010101"
    old = BreakerState(consecutive_failures=1, window=window, window_calls=10, window_failures=5)
    _, t = recorded(old, False, T0)
    assert (t.before, t.after, t.reason, t.reopens_at) == (CLOSED, OPEN, "error rate", T0 + 30)


def test_an_ended_open_period_becomes_half_open_when_the_probe_is_allowed():
    may, new = breaker.allow(OPENED, T0 + 30)
    assert may
    t = transition_of("alpha", OPENED, new, T0 + 30, "period ended, probe allowed")
    # Half-open has no reopening time; the trips carry on (they drive the doubling).
    assert t == Transition("alpha", OPEN, HALF_OPEN, None, 1, "period ended, probe allowed", T0 + 30)


def test_the_probe_succeeding_closes_it():
    probing = BreakerState(state=HALF_OPEN, reopens_at=T0 + 30, trips=1, probe_until=T0 + 45)
    new, t = recorded(probing, True, T0 + 31)
    assert new == CLOSED_STATE
    assert t == Transition("alpha", HALF_OPEN, CLOSED, None, 0, "probe succeeded", T0 + 31)


def test_a_success_on_an_open_breaker_whose_period_ended_closes_it_from_half_open():
    # Readers saw half-open (the period ended) even though nobody claimed the probe yet.
    _, t = recorded(OPENED, True, T0 + 40)
    assert (t.before, t.after, t.reason) == (HALF_OPEN, CLOSED, "probe succeeded")


def test_the_probe_failing_opens_it_again_for_twice_as_long():
    probing = BreakerState(state=HALF_OPEN, reopens_at=T0 + 30, trips=1, probe_until=T0 + 45)
    new, t = recorded(probing, False, T0 + 31)
    assert t == Transition("alpha", HALF_OPEN, OPEN, T0 + 31 + 60, 2, "probe failed", T0 + 31)
    assert new.reopens_at == T0 + 91


@pytest.mark.parametrize("old,ok,now", [
    (CLOSED_STATE, True, T0),  # a success on a closed breaker
    (BreakerState(consecutive_failures=3, window="111", window_calls=3, window_failures=3), False, T0),
    (OPENED, False, T0 + 1),  # a straggler failing while it is open
])
def test_a_record_that_keeps_the_state_is_no_transition(old, ok, now):
    new, t = recorded(old, ok, now)
    assert new.state == old.at(now).state
    assert t is None


def test_an_allow_that_keeps_the_state_is_no_transition():
    probing = BreakerState(state=HALF_OPEN, reopens_at=T0 + 30, trips=1, probe_until=T0 + 45)
    for state, now in ((CLOSED_STATE, T0), (OPENED, T0 + 29), (probing, T0 + 40), (probing, T0 + 46)):
        _, new = breaker.allow(state, now)
        assert transition_of("alpha", state, new, now, "period ended, probe allowed") is None, (state, now)


def test_a_reset_closes_whatever_readers_saw():
    assert transition_of("alpha", OPENED, CLOSED_STATE, T0 + 1, "reset by operator") == Transition(
        "alpha", OPEN, CLOSED, None, 0, "reset by operator", T0 + 1)
    assert transition_of("alpha", OPENED, CLOSED_STATE, T0 + 31, "reset by operator").before == HALF_OPEN
    failing = BreakerState(consecutive_failures=2, window="11", window_calls=2, window_failures=2)
    assert transition_of("alpha", failing, CLOSED_STATE, T0, "reset by operator") is None


# --- the Redis store -----------------------------------------------------------------------


@pytest.fixture
def told(monkeypatch):
    """The observers of this test only: a list of (store, Transition) each change appends to."""
    heard = []

    async def observer(store, t):
        heard.append((store, t))

    monkeypatch.setattr(breaker, "OBSERVERS", [observer])
    return heard


def moves(heard):
    return [(t.provider, t.before, t.after, t.reason) for _, t in heard]


async def test_a_store_tells_each_change_once_and_unchanged_calls_never(aredis, told):
    clock = FakeClock()
    store = BreakerStore(aredis, clock)
    for _ in range(4):
        await store.record(cfg(), False)
    assert told == []  # counting failures changes no state
    await store.record(cfg(), False)
    assert moves(told) == [("alpha", CLOSED, OPEN, "failures: 5 consecutive")]
    assert told[0][0] is store and told[0][1].reopens_at == T0 + 30 and told[0][1].at == T0
    # Open: refused calls, failing stragglers and reads are no change.
    assert not await store.allow(cfg())
    await store.record(cfg(), False)
    await store.state("alpha")
    await store.states(["alpha"])
    assert len(told) == 1
    clock.advance(30)
    assert await store.allow(cfg())
    assert not await store.allow(cfg())  # the probe is taken: no second claim, no second change
    await store.record(cfg(), True)
    await store.record(cfg(), True)
    assert moves(told)[1:] == [("alpha", OPEN, HALF_OPEN, "period ended, probe allowed"),
                               ("alpha", HALF_OPEN, CLOSED, "probe succeeded")]


async def test_a_failed_probe_is_told_with_the_doubled_period(aredis, told):
    clock = FakeClock()
    store = BreakerStore(aredis, clock)
    for _ in range(5):
        await store.record(cfg(), False)
    clock.advance(30)
    assert await store.allow(cfg())
    await store.record(cfg(), False)
    last = told[-1][1]
    assert (last.before, last.after, last.reason, last.trips, last.reopens_at) == (
        HALF_OPEN, OPEN, "probe failed", 2, T0 + 30 + 60)
    assert len(told) == 3


async def test_a_reset_is_told_once_and_a_reset_of_a_closed_breaker_never(aredis, told):
    store = BreakerStore(aredis, FakeClock())
    for _ in range(5):
        await store.record(cfg(), False)
    await store.reset("alpha")
    await store.reset("alpha")
    await store.reset("beta")
    assert moves(told) == [("alpha", CLOSED, OPEN, "failures: 5 consecutive"),
                           ("alpha", OPEN, CLOSED, "reset by operator")]
    assert await store.state("alpha") == CLOSED_STATE


async def test_two_processes_racing_for_the_probe_tell_the_change_once(aredis, redis_server, told):
    clock = FakeClock()
    other_redis = redis.asyncio.Redis.from_url(redis_server.url)
    mine, theirs = BreakerStore(aredis, clock), BreakerStore(other_redis, clock)
    try:
        for _ in range(5):
            await mine.record(cfg(), False)
        clock.advance(30)
        allowed = await asyncio.gather(*(store.allow(cfg()) for store in [mine, theirs] * 5))
    finally:
        await other_redis.aclose()
    assert allowed.count(True) == 1
    half_open = [(store, t) for store, t in told if t.after == HALF_OPEN]
    assert len(half_open) == 1
    # The one that claimed the probe is the one that wrote the change, and it alone told it.
    winner = [mine, theirs] * 5
    assert half_open[0][0] is winner[allowed.index(True)]


async def test_an_observer_that_raises_fails_nothing_and_the_next_is_still_told(aredis, monkeypatch, caplog):
    heard = []

    async def broken(store, t):
        raise RuntimeError("feed down")

    async def listening(store, t):
        heard.append(t.after)

    monkeypatch.setattr(breaker, "OBSERVERS", [broken, listening])
    store = BreakerStore(aredis, FakeClock())
    with caplog.at_level(logging.WARNING, logger="healing.engine.breaker"):
        states = [await store.record(cfg(), False) for _ in range(5)]
    assert states[-1] == OPENED
    assert heard == [OPEN]
    assert any("breaker observer failed for alpha" in r.getMessage() and "feed down" in r.getMessage()
               for r in caplog.records)


async def test_a_change_given_up_under_contention_is_never_told(aredis, told, monkeypatch):
    """Every compare-and-set losing its race (another process always wrote first) writes nothing,
    so nothing may be told: the transition the last attempt computed never happened."""
    store = BreakerStore(aredis, FakeClock())
    for _ in range(4):
        await store.record(cfg(), False)

    async def always_lost(self, *args, **kwargs):
        raise redis.exceptions.WatchError("another process wrote the key")

    with monkeypatch.context() as patched:
        patched.setattr(redis.asyncio.client.Pipeline, "execute", always_lost)
        assert await store.record(cfg(), False) is None  # given up
    assert (await store.state("alpha")).state == CLOSED
    assert told == []
