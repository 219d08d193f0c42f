"""The healing engine's front door: fetch a capability (or a raw provider call) resiliently. ORM-free, async.

`fetch_capability()` is DESIGN.md's "one data request, end to end":

1. cache (healing.engine.cache): a fresh hit is one Redis GET; in the stale-while-revalidate window the
   stale copy is answered at once and one background refresh runs for all processes;
2. a miss goes through single-flight (healing.engine.singleflight): one caller per key in all
   processes fetches, the others get its result;
3. the pool's usable members in strategy order, each marked with why it must be skipped
   (healing.engine.candidates), computed once per miss and read with the lock attempt;
4-9. the fallback chain (healing.engine.chain) runs them: retries, hedging, one deadline; each
   attempt is a call (healing.engine.attempt) with its gates and records (healing.engine.ledger);
10. success is cached (fresh + stale) and answered with its provenance; if everything failed
   the stale copy is answered with its age, else AllProvidersFailed says what was tried and
   what to do next (`suggestions`).

Everything the engine touches comes in `Deps` (healing.engine.deps), so tests control time.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from healing.engine import cache
from healing.engine.attempt import RawCall
from healing.engine.background import drain_background, spawn
from healing.engine.candidates import OrderPlan, adapter_for, plan_order, providers_of, raw_candidate
from healing.engine.chain import Exhausted
from healing.engine.config import ProviderConfig, Snapshot
from healing.engine.degraded import with_fallback
from healing.engine.deps import TTL_FROM, Deps, EngineSettings
from healing.engine.errors import AllProvidersFailed, Attempt, UnknownCapability
from healing.engine.flight import SERVED_CACHE, SERVED_CONSENSUS, SERVED_LIVE, SERVED_STALE, Flight, fly, live
from healing.engine.hints import suggestions
from healing.engine.ledger import Ledger
from providers.adapters.base import Adapter, RequestSpec
from providers.measures import iso_seconds

logger = logging.getLogger(__name__)

__all__ = [
    "SERVED_CACHE", "SERVED_CONSENSUS", "SERVED_LIVE", "SERVED_STALE", "TTL_FROM",
    "AllProvidersFailed", "Answer", "Attempt", "Deps", "EngineSettings", "RawAnswer", "UnknownCapability",
    "drain_background", "entry_answer", "fetch_capability", "fetch_raw", "flush_counters", "local_hit",
    "store_entry", "suggestions",
]

# A background refresh's lock outlives its deadline by this much (seconds).
REFRESH_LOCK_SLACK_S = cache.REFRESH_LOCK_SLACK_S


@dataclass
class Answer:
    data: Any
    source: str
    served: str  # live | cache | stale | consensus
    age_s: float
    fetched_at: str
    attempts: list[Attempt]
    fetched_ts: float = 0.0  # fetched_at as epoch seconds (exact, for answers derived from this one)

    def meta(self, capability: str) -> dict:
        return {
            "capability": capability,
            "source": self.source,
            "served": self.served,
            "age_s": round(self.age_s, 2),
            "fetched_at": self.fetched_at,
            "attempts": [a.as_dict() for a in self.attempts],
        }


@dataclass
class RawAnswer:
    status: int
    headers: dict[str, str]
    body: bytes
    source: str
    served: str
    attempts: list[Attempt]


def entry_answer(entry: cache.Entry, served: str, now: float, attempts: list[Attempt] | None = None) -> Answer:
    """An answer from an entry; `attempts` None means "this request made none" (a cache hit)."""
    return Answer(entry.data, entry.source, served, entry.age(now), iso_seconds(entry.fetched_at), attempts or [],
                  entry.fetched_at)


async def store_entry(deps: Deps, key: str, entry: cache.Entry) -> None:
    """Cache an entry built outside fetch_capability (derived answers), kept the stale TTL."""
    await cache.write(deps.redis, key, entry, keep_s=deps.settings.stale_ttl_s)


async def local_hit(capability: str, key: str, version: int, deps: Deps) -> cache.LocalEntry | None:
    """The entry for `key` if it is fresh now (counted as a cache hit), else None (nothing counted).

    The data plane's fast path calls this with a key it memoized for the query string; anything
    but a fresh hit then takes the full path through `fetch_capability`. While Redis is down
    (`deps.health.down`) the entry is read from the process's degraded twin, which started
    with this process's copies, and the caller marks the answer.
    """
    held, _ = await with_fallback(deps, lambda d: _fresh(d, capability, key, version))
    return held


async def _fresh(deps: Deps, capability: str, key: str, version: int) -> cache.LocalEntry | None:
    held = await deps.local.read(deps.redis, key, version, capability)
    if held is None or held.entry.freshness(deps.clock(), deps.settings.fresh_ttl(capability), 0) != cache.FRESH:
        return None
    _count(deps, cache.HIT, capability)
    return held


def _count(deps: Deps, kind: str, capability: str) -> None:
    if deps.counters.add(kind, capability):
        spawn(deps.counters.flush(deps.redis))


async def flush_counters(deps: Deps) -> None:
    """Write the buffered cache counters now (tests, shutdown)."""
    await deps.counters.flush(deps.redis)


# --- capabilities ---------------------------------------------------------------------------


async def fetch_capability(
    capability: str,
    params: Mapping[str, Any],
    *,
    snapshot: Snapshot,
    deps: Deps,
    only_provider: str | None = None,
    deadline_s: float | None = None,
) -> Answer:
    """Normalized data for `capability` with provenance; see the module docstring for the steps.

    `params` are already validated and normalized by the caller. `only_provider` asks that
    provider alone: no fallback, no cache read or write.
    """
    budget_s = deps.settings.deadline_s if deadline_s is None else deadline_s
    deadline = asyncio.get_running_loop().time() + budget_s
    # Once per request, and before Redis is touched: an unknown capability is a 404.
    pool, providers = providers_of(snapshot, capability, only_provider, params)
    if only_provider is not None:
        # Only a pool gets the all-open last resort: a single provider's open breaker means "not
        # now" (consensus asks providers one by one and must not wake them all).
        plan = plan_order(deps, None, providers, capability, last_resort=False, params=params)
        flight = await live(deps, plan, capability, params, deadline)
        if flight.entry is None:
            raise AllProvidersFailed(capability, flight.attempts, flight.hints)
        return entry_answer(flight.entry, SERVED_LIVE, deps.clock(), flight.attempts)

    key = cache.data_key(capability, params)
    if not deps.local.knows(key, snapshot.version):
        return await _miss(deps, key, pool, providers, capability, params, snapshot.version, deadline, budget_s)
    held = await deps.local.read(deps.redis, key, snapshot.version, capability)
    stale = held.entry if held is not None else None
    now = deps.clock()
    # No copy at all is a miss, like a copy past its revalidate window.
    state = cache.STALE if stale is None else stale.freshness(
        now, deps.settings.fresh_ttl(capability), deps.settings.swr_window_s
    )
    if state == cache.FRESH:
        _count(deps, cache.HIT, capability)
        return entry_answer(stale, SERVED_CACHE, now)
    plan = plan_order(deps, pool, providers, capability, params=params)
    if state == cache.REVALIDATE:
        _count(deps, cache.STALE_SERVED, capability)
        _revalidate(deps, plan, capability, params, key, budget_s)
        return entry_answer(stale, SERVED_STALE, now)
    _count(deps, cache.MISS, capability)
    flight = await fly(deps, key, plan, capability, params, deadline, budget_s)
    return _answer_flight(deps, flight, stale, capability)


async def _miss(
    deps: Deps, key: str, pool: Any, providers: list[ProviderConfig], capability: str, params: Mapping[str, Any],
    version: int, deadline: float, budget_s: float,
) -> Answer:
    """A key this process holds no copy of: its cache read rides on the single-flight lock attempt."""
    plan = plan_order(deps, pool, providers, capability, params=params)
    flight = await fly(deps, key, plan, capability, params, deadline, budget_s, cold=True)
    if flight.entry is not None:
        deps.local.put(key, version, flight.entry, capability)
    if flight.served == SERVED_STALE:
        _revalidate(deps, plan, capability, params, key, budget_s)
    _count(deps, {SERVED_CACHE: cache.HIT, SERVED_STALE: cache.STALE_SERVED}.get(flight.served, cache.MISS), capability)
    return _answer_flight(deps, flight, flight.held, capability)


def _answer_flight(deps: Deps, flight: Flight, stale: cache.Entry | None, capability: str) -> Answer:
    """The answer a flight gives: its entry, else the stale copy with its age, else the failure."""
    now = deps.clock()
    if flight.entry is not None:
        return entry_answer(flight.entry, flight.served, now, flight.attempts)
    if stale is not None:
        logger.warning("all providers failed for %s; serving stale copy from %s", capability,
                       iso_seconds(stale.fetched_at))
        _count(deps, cache.STALE_SERVED, capability)
        return entry_answer(stale, SERVED_STALE, now, flight.attempts)
    raise AllProvidersFailed(capability, flight.attempts, flight.hints)


def _revalidate(
    deps: Deps, plan: OrderPlan, capability: str, params: Mapping[str, Any], key: str, budget_s: float
) -> None:
    """Start the one background refresh of a key in its stale-while-revalidate window (all processes)."""

    async def claim_then_refresh() -> None:
        if await cache.claim_refresh(deps.redis, key, uuid.uuid4().hex, budget_s + REFRESH_LOCK_SLACK_S):
            await _refresh(deps, plan, capability, params, key, budget_s)

    spawn(claim_then_refresh())


async def _refresh(
    deps: Deps, plan: OrderPlan, capability: str, params: Mapping[str, Any], key: str, budget_s: float
) -> None:
    """The one background refresh of a stale-while-revalidate key (across all processes)."""
    try:
        deadline = asyncio.get_running_loop().time() + budget_s
        flight = await live(deps, plan, capability, params, deadline)
        if flight.entry is None:
            # The lock is left to expire: a failing refresh is not retried by every request.
            logger.warning("background refresh of %s failed: %s", capability,
                           ", ".join(f"{a.provider}={a.outcome}" for a in flight.attempts))
            return
        await cache.write(deps.redis, key, flight.entry, keep_s=deps.settings.stale_ttl_s)
        await cache.release_refresh(deps.redis, key)
    except Exception:
        logger.exception("background refresh of %s crashed", capability)


# --- raw provider calls (the safe proxy) ------------------------------------------------------


async def fetch_raw(
    provider: ProviderConfig,
    spec: RequestSpec,
    *,
    deps: Deps,
    deadline_s: float | None = None,
    cache_ttl_s: float = 0,
) -> RawAnswer:
    """A raw call to base_url + spec.path through the same breaker, budget, retries and cache.

    2xx answers and the provider's own 4xx answers (bad request, not found...) come back as they
    are; transport failures, 5xx, rate limits, oversized bodies and refused redirects raise
    AllProvidersFailed (after the same retry rules as data calls).
    """
    deadline = asyncio.get_running_loop().time() + (deps.settings.deadline_s if deadline_s is None else deadline_s)
    cacheable = cache_ttl_s > 0 and spec.method.upper() in ("GET", "HEAD") and spec.json_body is None
    key = cache.raw_key(provider.slug, spec.method, spec.path, spec.params) if cacheable else ""
    if cacheable:
        hit = await cache.read(deps.redis, key)
        if hit is not None and hit.age(deps.clock()) < cache_ttl_s:
            d = hit.data
            return RawAnswer(d["status"], d["headers"], cache.decode_bytes(d["body"]), provider.slug, SERVED_CACHE, [])

    cand = await raw_candidate(deps, provider, adapter_for(provider.slug) or Adapter())
    chain = Ledger(deps).chain(deadline, hedge=False)
    try:
        _, response = await chain.run([cand], RawCall(deps, spec))
    except Exhausted:
        raise AllProvidersFailed("raw", chain.attempts, await suggestions(deps, [provider], chain.attempts)) from None
    if cacheable and 200 <= response.status < 300:
        data = {"status": response.status, "headers": response.headers, "body": cache.encode_bytes(response.body)}
        entry = cache.Entry(data, provider.slug, deps.clock(), tuple(a.as_dict() for a in chain.attempts))
        await cache.write(deps.redis, key, entry, keep_s=cache_ttl_s)
    return RawAnswer(response.status, response.headers, response.body, provider.slug, SERVED_LIVE, chain.attempts)
