"""A miss, fetched once for everyone: the chain walk (`live`) inside single-flight (`fly`).

`live` walks the chain once over a plan's candidates and answers a `Flight`: the new cache entry
with its attempts, or the attempts and suggestions of a failure. `fly` runs it through
healing.engine.singleflight so that one caller per key in all processes goes upstream:

- the lock attempt carries the reads (one round trip): the entry, for the double-check (a
  leader elected just after another finished finds its result) or, for a key the process holds
  no copy of, as the request's own cache read; and, when reading has no side effect, everything
  the provider order needs;
- the release carries the writes: the cache entry and the success's stats, before any follower
  is woken; the success's breaker record runs after the answer (healing.engine.ledger);
- the leader answers from its own `Flight`; only followers decode what it published.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from healing.engine import cache, singleflight
from healing.engine.attempt import DataCall
from healing.engine.candidates import Candidate, OrderPlan
from healing.engine.chain import Exhausted
from healing.engine.deps import Deps
from healing.engine.errors import Attempt
from healing.engine.hints import suggestions
from healing.engine.ledger import Ledger

SERVED_LIVE, SERVED_CACHE, SERVED_STALE, SERVED_CONSENSUS = "live", "cache", "stale", "consensus"
# Single-flight followers stop waiting this share of the deadline before it ends (at most
# SF_RESERVE_MAX_S), keeping time to try themselves if the leader never answers.
SF_RESERVE_SHARE = 0.25
SF_RESERVE_MAX_S = 2.0
# Published results: an entry ("E" + served + newline + the entry's own bytes) or a failure.
_ENTRY, _FAILURE = b"E", b"F"


@dataclass
class Flight:
    """What one fetch of a key produced, as every caller waiting for it is answered."""

    entry: cache.Entry | None  # None: every provider failed
    served: str  # live, or cache when the double-check found a fresh entry
    attempts: list[Attempt] = field(default_factory=list)  # what this fetch tried (none for cache)
    hints: list[str] = field(default_factory=list)  # suggestions, when it failed
    # The copy Redis held when this caller's lock attempt read the key (a cold read only; the
    # stale copy to answer if the fetch failed). Never published: each caller has its own.
    held: cache.Entry | None = None

    def encode(self) -> bytes:
        if self.entry is not None:
            return _ENTRY + self.served.encode() + b"\n" + self.entry.dumps()
        return _FAILURE + orjson.dumps({"attempts": [a.as_dict() for a in self.attempts], "suggestions": self.hints})

    @classmethod
    def decode(cls, payload: bytes) -> "Flight":
        if payload[:1] == _ENTRY:
            served, _, raw = payload[1:].partition(b"\n")
            entry = cache.Entry.loads(raw)
            # A live entry carries the leader's attempts: that fetch is what answered its followers too.
            made = [Attempt.from_dict(a) for a in entry.attempts] if served == SERVED_LIVE.encode() else []
            return cls(entry, served.decode(), made)
        failure = orjson.loads(payload[1:])
        return cls(None, SERVED_LIVE, [Attempt.from_dict(a) for a in failure["attempts"]], list(failure["suggestions"]))


async def live(
    deps: Deps, plan: OrderPlan, capability: str, params: Mapping[str, Any], deadline: float,
    *, candidates: list[Candidate] | None = None, ledger: Ledger | None = None,
) -> Flight:
    """Walk the chain once over the plan's candidates (read now unless given)."""
    if candidates is None:
        candidates = await plan.read()
    chain = (ledger or Ledger(deps)).chain(deadline)
    try:
        winner, data = await chain.run(candidates, DataCall(deps, capability, params))
    except Exhausted:
        if not candidates:
            hints = [f"{plan.where}: no enabled provider with an adapter serves {capability}"]
        else:
            hints = await suggestions(deps, [c.cfg for c in candidates], chain.attempts)
        return Flight(None, SERVED_LIVE, chain.attempts, hints)
    entry = cache.Entry(data, winner.slug, deps.clock(), tuple(a.as_dict() for a in chain.attempts))
    return Flight(entry, SERVED_LIVE, chain.attempts)


async def fly(
    deps: Deps, key: str, plan: OrderPlan, capability: str, params: Mapping[str, Any], deadline: float, budget_s: float,
    *, cold: bool = False,
) -> Flight:
    """The result of fetching `key` once for all its concurrent callers (see the module docstring).

    `cold`: this process holds no copy of the key, so the lock attempt's GET is the request's cache
    read (a round trip fewer); a fresh copy, or one to revalidate, answers whoever holds the lock.
    """
    fresh_ttl = deps.settings.fresh_ttl(capability)
    swr_s = deps.settings.swr_window_s if cold else 0.0
    answered = asyncio.Event()  # set once the answer is ready: deferred breaker records go then
    ledger = Ledger(deps, release=[], gate=answered)
    speculative = plan.speculative
    mine: list[Flight] = []
    held: list[cache.Entry | None] = []

    def peek(pipe: Any) -> None:
        pipe.get(key)
        if speculative:
            plan.queue(pipe)

    def judge(peeked: list[Any]) -> Flight | None:
        """The answer the read copy gives by itself, if it is usable as it is."""
        current = cache.loads_or_none(peeked[0])
        held.append(current)
        state = cache.STALE if current is None else current.freshness(deps.clock(), fresh_ttl, swr_s)
        if state == cache.FRESH:
            return Flight(current, SERVED_CACHE)
        return Flight(current, SERVED_STALE) if state == cache.REVALIDATE else None

    def settle(peeked: list[Any]) -> bytes | None:
        ready = judge(peeked)
        return ready.encode() if ready is not None else None

    async def produce(peeked: list[Any]) -> bytes:
        # Double-check: a leader elected just after another one finished finds its result here.
        result = judge(peeked)
        if result is None:
            candidates = plan.finish(peeked[1:]) if speculative else None
            result = await live(deps, plan, capability, params, deadline, candidates=candidates, ledger=ledger)
        mine.append(result)
        return result.encode()

    def on_release(pipe: Any) -> None:
        if mine and mine[-1].served == SERVED_LIVE and mine[-1].entry is not None:
            cache.queue_write(pipe, key, mine[-1].entry, keep_s=deps.settings.stale_ttl_s)
        ledger.queue_released(pipe)

    reserve = min(SF_RESERVE_MAX_S, SF_RESERVE_SHARE * budget_s)
    try:
        payload, _led = await singleflight.run(
            deps.redis, key, produce, deadline=deadline, reserve_s=reserve, peek=peek, on_release=on_release,
            settle=settle if cold else None,
        )
    finally:
        answered.set()
    result = mine[-1] if mine else Flight.decode(payload)
    result.held = held[-1] if cold and held else None
    return result
