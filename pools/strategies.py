"""Rotation strategies: pure functions that order a pool's eligible members.

No Redis, no ORM, no clock: the caller passes the runtime facts (round-robin cursor, recent
usage, recent latency, manual demotions) and, for the random strategies, an RNG. Every strategy
returns the whole list, each member exactly once, so fallback always has somewhere to go.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

# Probability that fastest_response promotes a random non-first member to the front, so a
# provider that was slow (or down) and has since recovered gets measured again.
EXPLORE_RATE = 0.05

ROUND_ROBIN = "round_robin"
PRIORITY = "priority"
WEIGHTED = "weighted"
LEAST_USED = "least_used"
FASTEST_RESPONSE = "fastest_response"
STRATEGIES = (ROUND_ROBIN, PRIORITY, WEIGHTED, LEAST_USED, FASTEST_RESPONSE)

# Used only when the caller passes no RNG; holds nothing another process must see.
_default_rng = random.Random()


@dataclass(frozen=True)
class Member:
    provider: str
    priority: int = 0
    weight: int = 100


def _base_key(m: Member) -> tuple[int, str]:
    return (-m.priority, m.provider)


def _weighted_order(members: list[Member], rng: random.Random) -> list[Member]:
    """Sequential weighted draws without replacement; weight 0 (or less) is never drawn, only appended."""
    pending = [m for m in members if m.weight > 0]
    zero = [m for m in members if m.weight <= 0]
    out: list[Member] = []
    while pending:
        total = sum(m.weight for m in pending)
        point = rng.random() * total
        idx = len(pending) - 1  # float rounding can leave `point` just past the last boundary
        for i, m in enumerate(pending):
            point -= m.weight
            if point < 0:
                idx = i
                break
        out.append(pending.pop(idx))
    return out + zero


def _strategy_order(
    strategy: str,
    base: list[Member],
    *,
    cursor: int,
    usage: Mapping[str, int],
    latency_ms: Mapping[str, float],
    rng: random.Random,
) -> list[Member]:
    if strategy == PRIORITY:
        return base
    if strategy == ROUND_ROBIN:
        k = cursor % len(base)
        return base[k:] + base[:k]
    if strategy == WEIGHTED:
        return _weighted_order(base, rng)
    if strategy == LEAST_USED:
        # sorted() is stable, so ties keep the priority order of `base`.
        return sorted(base, key=lambda m: usage.get(m.provider, 0))
    if strategy == FASTEST_RESPONSE:
        # Unmeasured providers come first: one request measures them, then they take their place.
        return sorted(base, key=lambda m: (m.provider in latency_ms, latency_ms.get(m.provider, 0.0)))
    raise ValueError(f"unknown strategy {strategy!r}; choose from {', '.join(STRATEGIES)}")


def order_members(
    strategy: str,
    members: Sequence[Member],
    *,
    cursor: int = 0,
    usage: Mapping[str, int] | None = None,
    latency_ms: Mapping[str, float] | None = None,
    demoted: Collection[str] = (),
    rng: random.Random | None = None,
    explore_rate: float = EXPLORE_RATE,
) -> list[Member]:
    """Every member once, in the order a request should try them.

    Members in `demoted` (manually rotated away) go last, keeping their relative order.
    `cursor` matters only to round_robin, `usage` to least_used, `latency_ms` to
    fastest_response (which also explores with probability `explore_rate`).
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; choose from {', '.join(STRATEGIES)}")
    if not members:
        return []
    rng = rng or _default_rng
    base = sorted(members, key=_base_key)
    ordered = _strategy_order(
        strategy, base, cursor=cursor, usage=usage or {}, latency_ms=latency_ms or {}, rng=rng
    )
    demoted_set = set(demoted)
    active = [m for m in ordered if m.provider not in demoted_set]
    pushed_back = [m for m in ordered if m.provider in demoted_set]
    if strategy == FASTEST_RESPONSE and len(active) > 1 and rng.random() < explore_rate:
        active.insert(0, active.pop(rng.randrange(1, len(active))))
    return active + pushed_back


def expected_order(
    strategy: str,
    members: Sequence[Member],
    *,
    cursor: int = 0,
    usage: Mapping[str, int] | None = None,
    latency_ms: Mapping[str, float] | None = None,
    demoted: Collection[str] = (),
) -> list[Member]:
    """The deterministic order a read shows: no exploration, and weighted as its most likely
    order (heaviest first), so reading a pool twice gives the same answer."""
    if strategy == WEIGHTED:
        members = sorted(members, key=lambda m: (-m.weight, -m.priority, m.provider))
        # PRIORITY re-sorts by priority, so apply demotion by hand to keep the weight order.
        demoted_set = set(demoted)
        return [m for m in members if m.provider not in demoted_set] + [
            m for m in members if m.provider in demoted_set
        ]
    return order_members(
        strategy, members, cursor=cursor, usage=usage, latency_ms=latency_ms, demoted=demoted, explore_rate=0.0
    )
