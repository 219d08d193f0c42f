"""Rotation strategies at their edges: pools of one and two with exploration on, equal small
weights, the draw's boundaries, and the deterministic read order.

The statistical bounds are six standard deviations wide: a fair draw passes them with
probability above 1 - 2e-9 (and the RNGs are seeded, so a run is reproducible), while a draw
that is off by one member fails them by hundreds of standard deviations.
"""

import random
from collections import Counter

import pytest

from pools import strategies
from pools.strategies import FASTEST_RESPONSE, STRATEGIES, WEIGHTED, Member, expected_order, order_members

FAST = Member("fast", priority=0)
SLOW = Member("slow", priority=9)
LATENCY = {"fast": 10.0, "slow": 500.0}


def providers(order):
    return [m.provider for m in order]


def within_six_sd(count: int, draws: int, p: float) -> bool:
    return abs(count - draws * p) < 6 * (draws * p * (1 - p)) ** 0.5


class FixedRng:
    """An RNG that always answers the same `random()` (and records `randrange` calls)."""

    def __init__(self, value: float):
        self.value = value
        self.ranges: list[tuple[int, int]] = []

    def random(self) -> float:
        return self.value

    def randrange(self, start: int, stop: int) -> int:
        self.ranges.append((start, stop))
        return stop - 1


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_a_pool_of_one_always_answers_its_one_member(strategy):
    rng = random.Random(11)
    for _ in range(50):
        order = order_members(strategy, [FAST], latency_ms=LATENCY, rng=rng, explore_rate=1.0)
        assert order == [FAST]


def test_a_pool_of_one_never_asks_the_rng_for_an_explore_pick():
    rng = FixedRng(0.0)  # would explore on every call if there were anyone to promote
    assert order_members(FASTEST_RESPONSE, [FAST], latency_ms=LATENCY, rng=rng, explore_rate=1.0) == [FAST]
    assert rng.ranges == []


def test_a_pool_of_two_explores_by_promoting_the_slower_member():
    rng = random.Random(5)
    for _ in range(50):
        assert order_members(FASTEST_RESPONSE, [SLOW, FAST], latency_ms=LATENCY, rng=rng, explore_rate=1.0) == [
            SLOW,
            FAST,
        ]
        assert order_members(FASTEST_RESPONSE, [SLOW, FAST], latency_ms=LATENCY, rng=rng, explore_rate=0.0) == [
            FAST,
            SLOW,
        ]


def test_a_pool_of_two_explores_at_the_explore_rate():
    rng = random.Random(2024)
    draws, rate = 20_000, 0.2
    firsts = Counter(
        order_members(FASTEST_RESPONSE, [FAST, SLOW], latency_ms=LATENCY, rng=rng, explore_rate=rate)[0].provider
        for _ in range(draws)
    )
    assert firsts["fast"] + firsts["slow"] == draws
    assert within_six_sd(firsts["slow"], draws, rate)


def test_exploration_happens_only_when_the_draw_is_below_the_rate():
    members = [FAST, SLOW]
    assert order_members(FASTEST_RESPONSE, members, latency_ms=LATENCY, rng=FixedRng(0.25), explore_rate=0.25) == [
        FAST,
        SLOW,
    ]
    rng = FixedRng(0.2499)
    assert order_members(FASTEST_RESPONSE, members, latency_ms=LATENCY, rng=rng, explore_rate=0.25) == [SLOW, FAST]
    assert rng.ranges == [(1, 2)]  # the promoted member is drawn from everyone but the fastest


def test_the_default_explore_rate_is_five_percent():
    assert strategies.EXPLORE_RATE == 0.05
    rng = random.Random(77)
    draws = 40_000
    explored = sum(
        order_members(FASTEST_RESPONSE, [FAST, SLOW], latency_ms=LATENCY, rng=rng)[0] is SLOW for _ in range(draws)
    )
    assert within_six_sd(explored, draws, 0.05)


@pytest.mark.parametrize("weights", [(1, 1), (2, 2), (1, 1, 1)])
def test_equal_small_weights_win_equally_often(weights):
    members = [Member(f"m{i}", priority=i, weight=w) for i, w in enumerate(weights)]
    rng = random.Random(31337)
    draws = 12_000
    firsts = Counter(order_members(WEIGHTED, members, rng=rng)[0].provider for _ in range(draws))
    for m in members:
        assert within_six_sd(firsts[m.provider], draws, 1 / len(members)), firsts


def test_small_unequal_weights_win_in_proportion():
    members = [Member("one", weight=1), Member("two", weight=2)]
    rng = random.Random(8)
    draws = 12_000
    firsts = Counter(order_members(WEIGHTED, members, rng=rng)[0].provider for _ in range(draws))
    assert within_six_sd(firsts["one"], draws, 1 / 3)


def test_each_weighted_draw_maps_its_point_to_the_member_whose_span_holds_it():
    a, b = Member("a", priority=2, weight=1), Member("b", priority=1, weight=3)  # spans [0, 1) and [1, 4)
    assert providers(order_members(WEIGHTED, [a, b], rng=FixedRng(0.0))) == ["a", "b"]
    assert providers(order_members(WEIGHTED, [a, b], rng=FixedRng(0.2499))) == ["a", "b"]  # point 0.9996
    assert providers(order_members(WEIGHTED, [a, b], rng=FixedRng(0.25))) == ["b", "a"]  # point 1.0
    assert providers(order_members(WEIGHTED, [a, b], rng=FixedRng(0.9999))) == ["b", "a"]


def test_a_draw_at_the_very_top_of_the_range_picks_the_last_member():
    # Float rounding can leave the point at the total: the last member is taken, nobody is lost.
    members = [Member("a", priority=3, weight=2), Member("b", priority=2, weight=2), Member("c", priority=1)]
    assert providers(order_members(WEIGHTED, members, rng=FixedRng(1.0))) == ["c", "b", "a"]


def test_negative_weights_are_never_drawn():
    members = [Member("neg", priority=9, weight=-5), Member("pos", priority=0, weight=1)]
    rng = random.Random(3)
    for _ in range(100):
        assert providers(order_members(WEIGHTED, members, rng=rng)) == ["pos", "neg"]


def test_without_an_rng_the_module_default_is_used():
    members = [Member("x", weight=1), Member("y", weight=1)]
    strategies._default_rng.seed(0)
    first = [providers(order_members(WEIGHTED, members)) for _ in range(30)]
    strategies._default_rng.seed(0)
    again = [providers(order_members(WEIGHTED, members)) for _ in range(30)]
    assert first == again
    assert {tuple(o) for o in first} == {("x", "y"), ("y", "x")}


def test_fastest_response_breaks_latency_ties_by_priority_then_slug():
    members = [Member("b", priority=1), Member("a", priority=1), Member("top", priority=5)]
    latency = {"a": 5.0, "b": 5.0, "top": 5.0}
    assert providers(order_members(FASTEST_RESPONSE, members, latency_ms=latency, explore_rate=0)) == ["top", "a", "b"]


def test_round_robin_and_least_used_ignore_exploration():
    rng = FixedRng(0.0)
    members = [FAST, SLOW]
    assert order_members("round_robin", members, cursor=1, rng=rng, explore_rate=1.0) == [FAST, SLOW]
    assert order_members("least_used", members, usage={"slow": 1}, rng=rng, explore_rate=1.0) == [FAST, SLOW]
    assert rng.ranges == []


def test_expected_order_of_fastest_response_is_the_plain_latency_order():
    assert expected_order(FASTEST_RESPONSE, [FAST, SLOW], latency_ms=LATENCY) == [FAST, SLOW]
    assert expected_order(FASTEST_RESPONSE, [FAST, SLOW], latency_ms=LATENCY, demoted={"fast"}) == [SLOW, FAST]
    assert expected_order("round_robin", [FAST, SLOW]) == [SLOW, FAST]  # cursor 0: priority order
    assert expected_order("round_robin", [FAST, SLOW], cursor=1) == [FAST, SLOW]
    assert expected_order("least_used", [FAST, SLOW], usage={"slow": 3, "fast": 0}) == [FAST, SLOW]


def test_expected_weighted_order_breaks_weight_ties_by_priority_then_slug():
    members = [Member("b", priority=1, weight=5), Member("a", priority=1, weight=5), Member("p", priority=2, weight=5)]
    assert providers(expected_order(WEIGHTED, members)) == ["p", "a", "b"]


def test_an_unknown_strategy_names_every_choice_comma_separated():
    with pytest.raises(ValueError) as caught:
        order_members("random", [FAST])
    assert str(caught.value) == (
        "unknown strategy 'random'; choose from round_robin, priority, weighted, least_used, fastest_response"
    )
