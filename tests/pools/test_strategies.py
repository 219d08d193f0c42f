import random
from collections import Counter

import pytest

from pools.strategies import (
    EXPLORE_RATE,
    STRATEGIES,
    Member,
    expected_order,
    order_members,
)

A = Member("a", priority=30, weight=100)
B = Member("b", priority=20, weight=50)
C = Member("c", priority=10, weight=30)
D = Member("d", priority=0, weight=20)
MEMBERS = [C, A, D, B]  # deliberately not in priority order

# Chi-square critical values at p = 0.001 (fixed, so no scipy): the seeded tests sit far below.
CHI2_CRIT_001 = {2: 13.816, 3: 16.266}


def providers(order):
    return [m.provider for m in order]


def chi_square(observed: Counter, expected: dict[str, float]) -> float:
    return sum((observed[k] - e) ** 2 / e for k, e in expected.items())


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_every_strategy_returns_every_member_exactly_once(strategy):
    rng = random.Random(1)
    for cursor in range(6):
        order = order_members(
            strategy, MEMBERS, cursor=cursor, usage={"b": 3}, latency_ms={"c": 12.0}, rng=rng, explore_rate=0.5
        )
        assert sorted(providers(order)) == ["a", "b", "c", "d"]
        assert len(order) == 4


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_every_strategy_handles_an_empty_pool(strategy):
    assert order_members(strategy, []) == []


def test_priority_puts_the_highest_first_and_the_rest_in_priority_order_as_fallback():
    assert providers(order_members("priority", MEMBERS)) == ["a", "b", "c", "d"]


def test_priority_ties_are_broken_by_slug():
    members = [Member("z", 5), Member("m", 5), Member("top", 9)]
    assert providers(order_members("priority", members)) == ["top", "m", "z"]


def test_round_robin_cycles_through_the_members_with_the_cursor():
    heads = [order_members("round_robin", MEMBERS, cursor=c)[0].provider for c in range(9)]
    assert heads == ["a", "b", "c", "d", "a", "b", "c", "d", "a"]
    assert providers(order_members("round_robin", MEMBERS, cursor=2)) == ["c", "d", "a", "b"]


def test_round_robin_wraps_large_cursors():
    assert providers(order_members("round_robin", MEMBERS, cursor=4 * 1_000_003 + 1)) == ["b", "c", "d", "a"]


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_demoted_members_go_last_keeping_their_relative_order(strategy):
    order = order_members(
        strategy, MEMBERS, demoted={"a", "c"}, rng=random.Random(3), latency_ms={"a": 1, "b": 2, "c": 3, "d": 4}
    )
    assert set(providers(order[:2])) == {"b", "d"}
    assert set(providers(order[2:])) == {"a", "c"}
    if strategy in ("priority", "round_robin", "least_used"):
        assert providers(order) == ["b", "d", "a", "c"]


def test_demoting_everyone_keeps_the_strategy_order():
    assert providers(order_members("priority", MEMBERS, demoted={"a", "b", "c", "d"})) == ["a", "b", "c", "d"]


def test_unknown_strategy_is_a_value_error_naming_the_choices():
    with pytest.raises(ValueError, match="unknown strategy 'random'.*round_robin"):
        order_members("random", MEMBERS)
    with pytest.raises(ValueError):
        order_members("random", [])


def test_weighted_first_pick_frequencies_follow_the_weights():
    rng = random.Random(20240601)
    draws = 20_000
    zero = Member("zero", priority=99, weight=0)
    firsts = Counter(order_members("weighted", MEMBERS + [zero], rng=rng)[0].provider for _ in range(draws))
    assert firsts["zero"] == 0
    total = sum(m.weight for m in MEMBERS)
    expected = {m.provider: draws * m.weight / total for m in MEMBERS}
    assert chi_square(firsts, expected) < CHI2_CRIT_001[3]
    # And each share is within two percentage points of its weight.
    for m in MEMBERS:
        assert abs(firsts[m.provider] / draws - m.weight / total) < 0.02


def test_weighted_second_pick_follows_the_remaining_weights():
    rng = random.Random(7)
    draws = 20_000
    seconds = Counter()
    after_a = Counter()
    for _ in range(draws):
        order = order_members("weighted", MEMBERS, rng=rng)
        seconds[order[1].provider] += 1
        if order[0].provider == "a":
            after_a[order[1].provider] += 1
    weights = {m.provider: m.weight for m in MEMBERS}
    total = sum(weights.values())
    # P(second = x) = sum over first y != x of P(y) * w_x / (total - w_y)
    expected = {
        x: draws * sum(wy / total * wx / (total - wy) for y, wy in weights.items() if y != x)
        for x, wx in weights.items()
    }
    assert chi_square(seconds, expected) < CHI2_CRIT_001[3]
    n_a = sum(after_a.values())
    rest = total - weights["a"]
    expected_after_a = {x: n_a * weights[x] / rest for x in ("b", "c", "d")}
    assert chi_square(after_a, expected_after_a) < CHI2_CRIT_001[2]


def test_weighted_puts_zero_weight_members_last():
    members = [Member("z1", 50, 0), Member("z0", 60, 0), Member("x", 0, 1), Member("y", 0, 1)]
    rng = random.Random(5)
    for _ in range(200):
        assert providers(order_members("weighted", members, rng=rng)[2:]) == ["z0", "z1"]


def test_weighted_with_all_zero_weights_still_returns_everyone():
    members = [Member("p", 1, 0), Member("q", 2, 0)]
    assert providers(order_members("weighted", members, rng=random.Random(0))) == ["q", "p"]


def test_least_used_orders_by_recent_usage_then_priority():
    usage = {"a": 40, "b": 3, "c": 3, "d": 9}
    assert providers(order_members("least_used", MEMBERS, usage=usage)) == ["b", "c", "d", "a"]


def test_least_used_counts_a_provider_without_usage_as_zero():
    assert providers(order_members("least_used", MEMBERS, usage={"a": 1, "b": 1, "c": 1})) == ["d", "a", "b", "c"]


def test_fastest_response_orders_by_latency_without_exploration():
    latency = {"a": 300.0, "b": 80.5, "c": 120.0, "d": 81.0}
    order = order_members("fastest_response", MEMBERS, latency_ms=latency, explore_rate=0.0)
    assert providers(order) == ["b", "d", "c", "a"]


def test_fastest_response_tries_a_never_measured_provider_first():
    latency = {"a": 300.0, "b": 80.5, "c": 120.0}
    order = order_members("fastest_response", MEMBERS, latency_ms=latency, explore_rate=0.0)
    assert providers(order) == ["d", "b", "c", "a"]


def test_fastest_response_explores_at_roughly_the_explore_rate():
    rng = random.Random(99)
    draws = 20_000
    rate = 0.1
    latency = {"a": 300.0, "b": 80.0, "c": 120.0, "d": 90.0}
    firsts = Counter(
        order_members("fastest_response", MEMBERS, latency_ms=latency, rng=rng, explore_rate=rate)[0].provider
        for _ in range(draws)
    )
    explored = draws - firsts["b"]
    # Binomial(20000, 0.1): sd ≈ 42; allow four of them.
    assert abs(explored - draws * rate) < 4 * (draws * rate * (1 - rate)) ** 0.5
    # The promoted member is chosen uniformly among the others, so the slowest gets re-measured too.
    expected = {p: explored / 3 for p in ("a", "c", "d")}
    assert chi_square(firsts, expected) < CHI2_CRIT_001[2]


def test_exploration_keeps_demoted_members_last():
    rng = random.Random(4)
    latency = {"a": 1.0, "b": 2.0, "c": 3.0, "d": 4.0}
    for _ in range(500):
        order = order_members("fastest_response", MEMBERS, latency_ms=latency, demoted={"d"}, rng=rng, explore_rate=1)
        assert order[-1].provider == "d"
        assert order[0].provider in {"b", "c"}


def test_default_explore_rate_is_small_but_not_zero():
    assert 0.01 <= EXPLORE_RATE <= 0.1


def test_expected_order_is_deterministic_and_never_explores():
    latency = {"a": 300.0, "b": 80.0, "c": 120.0, "d": 90.0}
    orders = {tuple(providers(expected_order("fastest_response", MEMBERS, latency_ms=latency))) for _ in range(200)}
    assert orders == {("b", "d", "c", "a")}


def test_expected_order_shows_weighted_heaviest_first_with_demotion_last():
    assert providers(expected_order("weighted", MEMBERS)) == ["a", "b", "c", "d"]
    assert providers(expected_order("weighted", MEMBERS, demoted={"a"})) == ["b", "c", "d", "a"]
