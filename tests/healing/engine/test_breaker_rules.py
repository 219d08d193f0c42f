"""The breaker's rules pinned from both sides: the failure-ratio boundary, the window, the
policy's limits, and the shape a reader sees (`at`, `as_dict`).

Each test states one rule; a changed threshold, comparison or constant must fail one of them
(this file is part of what `make mutate` measures for healing/engine/breaker.py).
"""

import pytest

from healing.engine import breaker
from healing.engine.breaker import CLOSED, CLOSED_STATE, HALF_OPEN, OPEN, BreakerPolicy, BreakerState
from healing.engine.config import ProviderConfig
from tests.fixtures.clock import T0

# Never five failures in a row, so only the ratio rule can trip these.
NO_RUN_POLICY = BreakerPolicy(failure_threshold=1000)


def cfg(**kw):
    return ProviderConfig(slug="alpha", name="alpha", category="market_data", base_url="http://127.0.0.1:1", **kw)


def run(events, policy=NO_RUN_POLICY, state=CLOSED_STATE, now=T0):
    for ok in events:
        state = breaker.record(state, ok, now, policy)
    return state


def closed_with(window: str) -> BreakerState:
    """A closed breaker remembering `window` ("1" failed), with no run of consecutive failures."""
    return BreakerState(window=window, window_calls=len(window), window_failures=window.count("1"))


def fail_once(window: str) -> BreakerState:
    return breaker.record(closed_with(window), False, T0, NO_RUN_POLICY)


@pytest.mark.parametrize("failures", [1, 2, 3, 4])
def test_fewer_than_half_failed_in_ten_calls_keeps_it_closed(failures):
    # e.g. 3 failures in 10 calls is 30 %: below the 50 % ratio, the breaker stays closed.
    state = run([True] * (10 - failures) + [False] * failures)
    assert (state.state, state.window_calls, state.window_failures) == (CLOSED, 10, failures)


def test_exactly_half_failed_in_ten_calls_trips_it():
    events = [True] * 5 + [False] * 5
    assert run(events[:-1]).state == CLOSED  # 9 calls: below the minimum of ten
    assert run(events).state == OPEN
    assert fail_once("0" * 5 + "1" * 4).state == OPEN  # 5 of 10
    assert fail_once("0" * 6 + "1" * 3).state == CLOSED  # 4 of 10


def test_the_ratio_boundary_from_both_sides_in_a_full_window():
    # The window holds 20 calls; the failure pushes the oldest out.
    below = fail_once("1" + "0" * 11 + "1" * 8)  # a failure leaves: 9 of 20 (45 %)
    assert (below.state, below.window_calls, below.window_failures) == (CLOSED, 20, 9)
    at = fail_once("0" * 11 + "1" * 9)  # a success leaves: 10 of 20 (50 %)
    assert (at.state, at.trips) == (OPEN, 1)


def test_the_ratio_is_only_judged_on_a_failure():
    # A success recorded while the window is mostly failures keeps it closed.
    after = breaker.record(closed_with("1" * 12), True, T0, NO_RUN_POLICY)
    assert after.state == CLOSED
    assert after.window == "1" * 12 + "0"


def test_min_calls_counts_the_window_not_the_failures():
    policy = BreakerPolicy(failure_threshold=1000, min_calls=4, failure_ratio=0.5)
    assert run([True, True, False], policy=policy).state == CLOSED  # 3 calls < 4
    assert run([True, False, True, False], policy=policy).state == OPEN  # 2 of 4 -> trips


def test_the_window_remembers_exactly_window_calls_outcomes():
    state = run([False] + [True] * breaker.WINDOW_CALLS)
    assert state.window == "0" * 20
    assert (state.window_calls, state.window_failures) == (20, 0)
    state = run([False] + [True] * 19)
    assert state.window == "1" + "0" * 19


def test_the_module_defaults_are_the_documented_rule():
    # Half of the last twenty calls, once ten were seen; a day of idleness forgets a breaker.
    policy = BreakerPolicy()
    assert (policy.window, policy.min_calls, policy.failure_ratio) == (20, 10, 0.5)
    assert (policy.failure_threshold, policy.open_s, policy.max_open_s) == (5, 30.0, 600.0)
    assert breaker.STATE_TTL_S == 24 * 3600
    assert breaker.PROBE_LEASE_S == 15.0


def test_policy_from_provider_clamps_to_at_least_one_failure_and_one_second():
    policy = BreakerPolicy.for_provider(cfg(breaker_failure_threshold=0, breaker_open_s=0))
    assert (policy.failure_threshold, policy.open_s) == (1, 1.0)
    policy = BreakerPolicy.for_provider(cfg(breaker_failure_threshold=2, breaker_open_s=3))
    assert (policy.failure_threshold, policy.open_s) == (2, 3.0)
    defaults = BreakerPolicy.for_provider(object())
    assert (defaults.failure_threshold, defaults.open_s) == (5, 30.0)


def test_open_period_doubles_per_trip_and_stops_at_the_maximum():
    policy = BreakerPolicy(open_s=10.0, max_open_s=70.0)
    assert [policy.open_period(t) for t in (0, 1, 2, 3, 4)] == [10.0, 10.0, 20.0, 40.0, 70.0]


def test_at_turns_an_ended_open_period_into_half_open_and_frees_the_probe():
    state = BreakerState(state=OPEN, reopens_at=T0 + 10, trips=1, probe_until=T0 + 99)
    assert state.at(T0 + 9.999) is state
    half = state.at(T0 + 10)
    assert (half.state, half.probe_until, half.trips, half.reopens_at) == (HALF_OPEN, None, 1, T0 + 10)
    assert BreakerState(state=OPEN).at(T0) == BreakerState(state=OPEN)  # no reopen time: stays open
    assert CLOSED_STATE.at(T0 + 1e9) is CLOSED_STATE


def test_as_dict_shows_every_public_field():
    state = BreakerState(
        state=OPEN,
        reopens_at=T0 + 5,
        consecutive_failures=3,
        window_failures=4,
        window_calls=11,
        trips=2,
        window="x",
        probe_until=T0,
    )
    assert state.as_dict() == {
        "state": OPEN,
        "reopens_at": T0 + 5,
        "consecutive_failures": 3,
        "window_failures": 4,
        "window_calls": 11,
        "trips": 2,
    }


def test_a_trip_starts_a_fresh_open_state_counting_trips():
    state = run([False] * 5, policy=BreakerPolicy())
    assert state == BreakerState(state=OPEN, reopens_at=T0 + 30, trips=1)
    closed_again = breaker.record(state, True, T0 + 1, BreakerPolicy())
    assert closed_again == CLOSED_STATE


def test_a_failure_while_half_open_but_before_the_probe_reopens_doubles():
    state = BreakerState(state=HALF_OPEN, reopens_at=T0, trips=2)
    after = breaker.record(state, False, T0 + 1, BreakerPolicy())
    assert (after.state, after.trips, after.reopens_at) == (OPEN, 3, T0 + 1 + 120)


def test_a_claimed_probe_blocks_others_until_its_lease_ends():
    state = BreakerState(state=OPEN, reopens_at=T0, trips=1)
    ok, claimed = breaker.allow(state, T0)
    assert ok and claimed.probe_until == T0 + 15 and claimed.state == HALF_OPEN
    assert breaker.allow(claimed, T0 + 14.999) == (False, claimed)
    ok, reclaimed = breaker.allow(claimed, T0 + 15)
    assert ok and reclaimed.probe_until == T0 + 30
    assert breaker.allow(state, T0 - 1) == (False, state)
    assert breaker.allow(CLOSED_STATE, T0) == (True, CLOSED_STATE)
