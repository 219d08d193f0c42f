"""Which providers a request may try, in what order, and why any of them must be skipped.

Step 3 of "one data request" (DESIGN.md): the capability's pool (or the one provider asked
for), its members that are enabled and whose adapter serves the request, ordered by the pool's
strategy. Each is marked by ONE skip rule (`mark`), shared by pool members and the raw call's
single provider: a maintenance window, a missing required key, a cool-down (Retry-After) and an
open breaker skip it; a half-open breaker lets it through as the probe. Breakers alone never
empty a pool: the member whose breaker reopens soonest is still tried, last.

A maintenance window of the pool itself drains every member for that pool's requests, like a
window of each of them: no provider is called and the all-open last resort does not apply (the
operator took the pool out; only a stale copy may answer). Where a skip has a known end, the
candidate carries it (`skip_until`, epoch seconds) for the failure's Retry-After.

Everything the order needs is read in one round trip (`OrderPlan.queue` on any pipeline, then
`OrderPlan.finish` on the results), so the engine can ride those reads on its single-flight lock.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from healing.engine import drained
from healing.engine.breaker import HALF_OPEN, OPEN, BreakerState, decode_state
from healing.engine.config import PoolConfig, ProviderConfig, Snapshot
from healing.engine.deps import Deps
from healing.engine.errors import (
    SKIPPED_BREAKER_OPEN,
    SKIPPED_BUDGET,
    SKIPPED_MAINTENANCE,
    SKIPPED_NO_KEY,
    UnknownCapability,
)
from pools import state as pool_state
from pools.strategies import PRIORITY, Member, order_members
from providers.adapters.base import Adapter

logger = logging.getLogger(__name__)

# How long a provider's p90 latency (the hedging timer) is reused before it is read again
# (seconds of the engine clock; Deps.p90_memo, one per process).
P90_REFRESH_S = 1.0
# Capabilities whose `chain` parameter picks the providers: an adapter listing its chains is asked
# for those only (asking it for another would be a wasted, refused attempt).
CHAIN_SCOPED_CAPABILITIES = frozenset({"gas", "address", "tx"})


@dataclass
class Candidate:
    cfg: ProviderConfig
    adapter: Adapter
    skip: str = ""  # an attempt outcome (skipped_*) when it must not be called
    skip_detail: str = ""
    needs_probe: bool = False  # half-open: claim the single probe before calling
    forced: bool = False  # open breaker tried last because every member is open
    reopens_at: float | None = None
    skip_until: float | None = None  # when the skip ends (epoch seconds), if known
    p90_ms: float | None = None  # recent p90 latency (read with the other inputs; hedging timer)

    @property
    def slug(self) -> str:
        return self.cfg.slug


def adapter_for(slug: str) -> Adapter | None:
    from providers import registry  # looked up per call so tests (and reloads) can swap adapters

    return registry.get_adapter(slug)


def serves(adapter: Adapter | None, capability: str, params: Mapping[str, Any] | None = None) -> bool:
    """The adapter serves the capability and, when it lists its `chains`, the requested chain."""
    if adapter is None or (adapter.capabilities and capability not in adapter.capabilities):
        return False
    chains = getattr(adapter, "chains", None)  # an optional adapter attribute, not a probe of ours
    # An adapter serving other chains for one capability says so in capability_chains.
    chains = getattr(adapter, "capability_chains", {}).get(capability, chains)
    chain = (params or {}).get("chain")
    # Only chain-scoped capabilities filter by chain; elsewhere "chain" (TVL) is the adapter's to judge.
    return not (chains and chain and capability in CHAIN_SCOPED_CAPABILITIES and chain not in chains)


def providers_of(
    snapshot: Snapshot, capability: str, only_provider: str | None = None, params: Mapping[str, Any] | None = None
) -> tuple[PoolConfig | None, list[ProviderConfig]]:
    """(pool, provider configs) for a request; UnknownCapability if nothing can serve it."""
    if only_provider is not None:
        cfg = snapshot.providers.get(only_provider)
        if cfg is None or not serves(adapter_for(only_provider), capability, params):
            raise UnknownCapability(f"provider {only_provider!r} does not serve {capability!r}")
        return None, [cfg]
    pool = snapshot.pool_for(capability)
    if pool is None:
        raise UnknownCapability(f"no enabled pool serves {capability!r}")
    return pool, [snapshot.providers[m.provider] for m in pool.members if m.provider in snapshot.providers]


# --- the one skip rule ------------------------------------------------------------------------


def mark(
    cand: Candidate, now: float, *, breaker: BreakerState, cooling: float | None, drained_until: float | None = None,
    pool_window: tuple[str, float] | None = None,
) -> Candidate:
    """Mark `cand` with why it must be skipped now (or as the half-open probe); returns it.

    `drained_until` ends the provider's own maintenance window, `pool_window` is (pool slug,
    end) of a window of the pool the request asks (both epoch seconds, both still ahead).
    """
    cfg = cand.cfg
    if drained_until is not None or pool_window is not None:
        _drain(cand, now, drained_until, pool_window)
    elif cfg.key_required and not cfg.api_key():
        cand.skip, cand.skip_detail = SKIPPED_NO_KEY, f"needs an API key in {cfg.api_key_env or 'its key variable'}"
    elif cooling is not None:
        cand.skip, cand.skip_until = SKIPPED_BUDGET, cooling
        cand.skip_detail = f"cooling down for {math.ceil(cooling - now)} s (Retry-After)"
    elif breaker.state == OPEN:
        cand.skip, cand.reopens_at = SKIPPED_BREAKER_OPEN, breaker.reopens_at
        cand.skip_until = breaker.reopens_at
        cand.skip_detail = f"breaker open for {math.ceil(breaker.reopens_at - now)} s"
    elif breaker.state == HALF_OPEN:
        cand.needs_probe = True
    return cand


def _drain(cand: Candidate, now: float, own_until: float | None, pool_window: tuple[str, float] | None) -> None:
    """Skip a drained candidate; it is back only when every window on it has ended (the later end)."""
    cand.skip = SKIPPED_MAINTENANCE
    own = None if own_until is None else f"{math.ceil(own_until - now)} s"
    if pool_window is None:
        cand.skip_detail, cand.skip_until = f"in a maintenance window for {own}", own_until
        return
    pool_slug, pool_until = pool_window
    cand.skip_detail = f"pool {pool_slug} in a maintenance window for {math.ceil(pool_until - now)} s"
    if own_until is not None:
        cand.skip_detail += f"; the provider's own window for {own}"
    cand.skip_until = pool_until if own_until is None else max(own_until, pool_until)


async def raw_candidate(deps: Deps, provider: ProviderConfig, adapter: Adapter) -> Candidate:
    """The single provider of a raw call, marked by the same rule as a pool member (one round trip)."""
    if not provider.enabled:
        raise UnknownCapability(f"provider {provider.slug!r} is disabled")
    pipe = deps.redis.pipeline(transaction=False)
    deps.breakers.queue_read(pipe, provider.slug)
    deps.budget.queue_cooling(pipe, provider.slug)
    drained.queue_end(pipe, drained.providers_key(), provider.slug)
    raw_state, raw_cooling, raw_end = await pipe.execute()
    now = deps.clock()
    return mark(Candidate(provider, adapter), now, breaker=decode_state(raw_state).at(now),
                cooling=deps.budget.parse_cooling(raw_cooling), drained_until=drained.active_end(raw_end, now))


# --- the order ----------------------------------------------------------------------------------


def _memo_fresh(held: tuple[float | None, float] | None, now: float) -> bool:
    return held is not None and 0 <= now - held[1] < P90_REFRESH_S


@dataclass
class OrderPlan:
    """The reads the order needs, queued on any pipeline, and how to turn them into candidates.

    `read` sends them in a round trip of their own; the engine may queue them on the
    single-flight lock attempt instead (`speculative`: only when reading has no side effect).
    """

    deps: Deps
    pool: PoolConfig | None
    usable: dict[str, tuple[ProviderConfig, Adapter]]
    last_resort: bool
    asked: tuple[str, ...] = ()  # every provider the request named, usable or not
    now: float = 0.0  # engine-clock time of the last queue(): what the reads are judged at
    stale: list[str] = field(default_factory=list)  # slugs whose p90 is read (not memoized)

    @property
    def strategy(self) -> str:
        return self.pool.strategy if self.pool is not None else PRIORITY

    @property
    def where(self) -> str:
        """Who was asked, for a failure report: the pool, or the providers."""
        return f"pool {self.pool.slug}" if self.pool is not None else ", ".join(self.asked)

    @property
    def speculative(self) -> bool:
        """Safe to read before knowing the reads will be used (round robin advances a cursor)."""
        return bool(self.usable) and self.strategy != "round_robin"

    def queue(self, pipe: Any) -> None:
        deps, slugs = self.deps, list(self.usable)
        self.now = now = deps.clock()
        for slug in slugs:
            deps.breakers.queue_read(pipe, slug)
            deps.budget.queue_cooling(pipe, slug)
        pipe.zrangebyscore(drained.providers_key(), f"({now}", "+inf", withscores=True)
        if self.pool is not None:
            drained.queue_end(pipe, drained.pools_key(), self.pool.slug)
        # The latency samples cost more to parse than everything else here, and the hedging
        # timer needs only their p90: read at most once per P90_REFRESH_S.
        self.stale = [slug for slug in slugs if not _memo_fresh(deps.p90_memo.get(slug), now)]
        for slug in self.stale:
            pool_state.queue_latency_read(pipe, slug)
        if self.pool is not None:
            pool_state.queue_order_inputs(pipe, self.pool, self.strategy, slugs, now, True)

    async def read(self) -> list[Candidate]:
        """The candidates, from reads sent in one round trip of their own."""
        if not self.usable:
            return []
        pipe = self.deps.redis.pipeline(transaction=False)
        self.queue(pipe)
        return self.finish(await pipe.execute())

    def finish(self, raw: Sequence[Any]) -> list[Candidate]:
        """The usable members in strategy order, each marked; `raw` holds the queued reads' results."""
        if not self.usable:
            return []
        n = 2 * len(self.usable)
        drained_until = {(m.decode() if isinstance(m, bytes) else str(m)): float(end) for m, end in raw[n]}
        n += 1
        pool_window = None
        if self.pool is not None:
            pool_end = drained.active_end(raw[n], self.now)
            pool_window = None if pool_end is None else (self.pool.slug, pool_end)
            n += 1
        p90s = self._p90s(raw[n:n + len(self.stale)])
        out = []
        index = {slug: i for i, slug in enumerate(self.usable)}
        for slug in self._ordered(raw[n + len(self.stale):]):
            cfg, adapter = self.usable[slug]
            i = index[slug]
            cand = Candidate(cfg, adapter, p90_ms=p90s.get(slug))
            out.append(mark(cand, self.now, breaker=decode_state(raw[2 * i]).at(self.now),
                            cooling=self.deps.budget.parse_cooling(raw[2 * i + 1]),
                            drained_until=drained_until.get(slug), pool_window=pool_window))
        gated = [c for c in out if c.skip in ("", SKIPPED_BREAKER_OPEN)]
        if self.last_resort and gated and all(c.skip == SKIPPED_BREAKER_OPEN for c in gated):
            # A pool is never emptied by breakers alone: the member that reopens soonest goes last.
            # (A drained pool has nothing gated: the operator's window is no breaker to overrule.)
            soonest = min(gated, key=lambda c: c.reopens_at or 0.0)
            out.append(Candidate(soonest.cfg, soonest.adapter, forced=True, reopens_at=soonest.reopens_at))
        return out

    def _p90s(self, raw: Sequence[Any]) -> dict[str, float | None]:
        memo = self.deps.p90_memo
        p90s = {slug: pool_state.p90_of(samples) for slug, samples in zip(self.stale, raw)}
        memo.update((slug, (p90, self.now)) for slug, p90 in p90s.items())
        p90s.update((slug, memo[slug][0]) for slug in self.usable if slug not in p90s and slug in memo)
        return p90s

    def _ordered(self, raw_inputs: Sequence[Any]) -> list[str]:
        """The usable slugs in strategy order (priority when the strategy is unknown)."""
        slugs, pool, strategy = list(self.usable), self.pool, self.strategy
        extra: dict[str, Any] = {}
        if pool is not None:
            extra = pool_state.parse_order_inputs(strategy, slugs, list(raw_inputs), True)
            members = [Member(m.provider, m.priority, m.weight) for m in pool.members if m.provider in self.usable]
        else:
            members = [Member(slug) for slug in slugs]
        try:
            ordered = order_members(strategy, members, rng=self.deps.rng, **extra)
        except ValueError:
            logger.warning("pool %s has unknown strategy %r; using priority", getattr(pool, "slug", "-"), strategy)
            ordered = order_members(PRIORITY, members, demoted=extra.get("demoted", ()))
        return [m.provider for m in ordered]


def plan_order(
    deps: Deps, pool: PoolConfig | None, providers: Sequence[ProviderConfig], capability: str,
    *, last_resort: bool = True, params: Mapping[str, Any] | None = None,
) -> OrderPlan:
    """The order plan of a request: its providers that are enabled and whose adapter serves it.

    Members whose adapter cannot serve `params` (a gas adapter without that chain) are left out.
    With `last_resort`, an all-open pool still tries the member whose breaker reopens soonest.
    """
    usable: dict[str, tuple[ProviderConfig, Adapter]] = {}
    for cfg in providers:
        adapter = adapter_for(cfg.slug)
        if cfg.enabled and serves(adapter, capability, params):
            usable[cfg.slug] = (cfg, adapter)
    return OrderPlan(deps, pool, usable, last_resort, asked=tuple(cfg.slug for cfg in providers))


async def order_candidates(
    deps: Deps, pool: PoolConfig | None, providers: Sequence[ProviderConfig], capability: str,
    *, last_resort: bool = True, params: Mapping[str, Any] | None = None,
) -> list[Candidate]:
    """The usable members in strategy order, each marked with why it must be skipped (one round trip:
    breakers, cool-downs, maintenance of the providers and the pool, latency samples for the hedging
    p90, the strategy's inputs)."""
    return await plan_order(deps, pool, providers, capability, last_resort=last_resort, params=params).read()
