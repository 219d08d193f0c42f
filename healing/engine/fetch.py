"""The healing engine: fetch a capability (or a raw provider call) resiliently. ORM-free, async.

`fetch_capability()` is DESIGN.md's "one data request, end to end":

1. cache (healing.engine.cache): a fresh hit is one Redis GET; in the stale-while-revalidate window the
   stale copy is answered at once and one background refresh runs for all processes;
2. a miss goes through single-flight (healing.engine.singleflight): one caller per key in all
   processes fetches, the others get its result;
3-9. the fallback chain (healing.engine.chain): strategy order, skips, budgets, retries, hedging;
10. success is cached (fresh + stale) and answered with its provenance; if everything failed
   the stale copy is answered with its age, else AllProvidersFailed says what was tried and
   what to do next.

Everything the engine touches comes in `Deps` (Redis client, HTTP client, clock, sleep, RNG,
settings), so tests control time. Deadlines run on the event loop's monotonic clock; the
injected `clock` (epoch seconds) drives cache ages, breakers, budgets and cool-downs.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import math
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from types import MappingProxyType
from typing import Any

import httpx
import redis.asyncio

from healing.engine import cache, singleflight
from healing.engine.breaker import HALF_OPEN, OPEN, BreakerState, BreakerStore, decode_state
from healing.engine.chain import (
    Candidate,
    Chain,
    Exhausted,
    OrderPlan,
    adapter_for,
    order_candidates,
    plan_order,
    serves,
)
from healing.engine.config import ProviderConfig, Snapshot
from healing.engine.errors import (
    SKIPPED_BREAKER_OPEN,
    SKIPPED_BUDGET,
    SKIPPED_NO_KEY,
    AllProvidersFailed,
    Attempt,
    UnknownCapability,
)
from healing.engine.http import Failure, call_provider, classify_status, parse_answer
from healing.engine.ratelimit import Budget, describe_budgets
from providers.adapters.base import Adapter, AdapterError, Outcome, RequestSpec
from providers.schemas import check_not_future

logger = logging.getLogger(__name__)

__all__ = [
    "AllProvidersFailed", "Answer", "Attempt", "Deps", "EngineSettings", "RawAnswer", "UnknownCapability",
    "drain_background", "fetch_capability", "fetch_raw", "flush_counters", "suggestions",
]

# Fresh TTL per capability in seconds (settings.CRYPTOHUB_FRESH_TTL overrides any of them).
DEFAULT_FRESH_TTL: Mapping[str, float] = MappingProxyType({
    "price": 10, "markets": 60, "global": 60, "fear_greed": 3600, "trending": 300, "tvl": 600,
    "gas": 15, "news": 300, "sentiment": 300, "raw": 0,
})
# How long the stale copy is kept for stale-if-error (seconds).
DEFAULT_STALE_TTL_S = 86400.0
# After the fresh TTL, for this long: answer the stale copy at once and refresh in the background.
DEFAULT_SWR_WINDOW_S = 60.0
DEFAULT_DEADLINE_S = 8.0
DEFAULT_HEDGE_FLOOR_MS = 200.0
DEFAULT_MAX_BODY_BYTES = 5_000_000
# Consensus flags a provider whose value lies more than this many percent from the median.
DEFAULT_CONSENSUS_OUTLIER_PCT = 2.0
# Padding added to every rate-limit window (seconds; see healing.engine.ratelimit). Exact windows here;
# the served default comes from settings.CRYPTOHUB_RATE_LIMIT_GUARD_S (0.5 s).
DEFAULT_RATE_LIMIT_GUARD_S = 0.0
# Single-flight followers stop waiting this share of the deadline before it ends (at most
# SF_RESERVE_MAX_S), keeping time to try themselves if the leader never answers.
SF_RESERVE_SHARE = 0.25
SF_RESERVE_MAX_S = 2.0
# Longest a success's deferred breaker record waits for its request's answer (seconds).
LATE_GATE_MAX_S = 0.05
# A background refresh's lock outlives its deadline by this much (seconds).
REFRESH_LOCK_SLACK_S = cache.REFRESH_LOCK_SLACK_S

# Answers derived from another capability's data stay fresh exactly as long as their source
# (scored headlines are as old as the headlines).
TTL_FROM: Mapping[str, str] = MappingProxyType({"sentiment": "news"})

SERVED_LIVE, SERVED_CACHE, SERVED_STALE, SERVED_CONSENSUS = "live", "cache", "stale", "consensus"
# Where each capability's answer carries the provider's own timestamp: one far in the future
# (beyond providers.schemas.MAX_FUTURE_SKEW_S of the engine clock) is bad data, not news.
TIMESTAMP_FIELDS: Mapping[str, str] = MappingProxyType({
    "price": "last_updated", "markets": "last_updated", "global": "updated_at", "gas": "source_time",
    "fear_greed": "timestamp",
})


@dataclass(frozen=True)
class EngineSettings:
    fresh_ttl_s: Mapping[str, float] = field(default_factory=lambda: DEFAULT_FRESH_TTL)
    stale_ttl_s: float = DEFAULT_STALE_TTL_S
    swr_window_s: float = DEFAULT_SWR_WINDOW_S
    deadline_s: float = DEFAULT_DEADLINE_S
    hedge_floor_ms: float = DEFAULT_HEDGE_FLOOR_MS
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    consensus_outlier_pct: float = DEFAULT_CONSENSUS_OUTLIER_PCT
    rate_limit_guard_s: float = DEFAULT_RATE_LIMIT_GUARD_S
    local_cache_entries: int = cache.LOCAL_MAX_ENTRIES

    @classmethod
    def from_settings(cls, settings: Any) -> "EngineSettings":
        """The engine's settings from a settings object (Django's, passed in by the caller)."""
        ttl = dict(DEFAULT_FRESH_TTL)
        ttl.update(getattr(settings, "CRYPTOHUB_FRESH_TTL", {}) or {})
        return cls(
            fresh_ttl_s=MappingProxyType({k: float(v) for k, v in ttl.items()}),
            stale_ttl_s=float(getattr(settings, "CRYPTOHUB_STALE_TTL_S", DEFAULT_STALE_TTL_S)),
            swr_window_s=float(getattr(settings, "CRYPTOHUB_SWR_WINDOW_S", DEFAULT_SWR_WINDOW_S)),
            deadline_s=float(getattr(settings, "CRYPTOHUB_DEADLINE_S", DEFAULT_DEADLINE_S)),
            hedge_floor_ms=float(getattr(settings, "CRYPTOHUB_HEDGE_FLOOR_MS", DEFAULT_HEDGE_FLOOR_MS)),
            max_body_bytes=int(getattr(settings, "CRYPTOHUB_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES)),
            consensus_outlier_pct=float(
                getattr(settings, "CRYPTOHUB_CONSENSUS_OUTLIER_PCT", DEFAULT_CONSENSUS_OUTLIER_PCT)
            ),
            rate_limit_guard_s=float(getattr(settings, "CRYPTOHUB_RATE_LIMIT_GUARD_S", DEFAULT_RATE_LIMIT_GUARD_S)),
            local_cache_entries=int(getattr(settings, "CRYPTOHUB_LOCAL_CACHE_ENTRIES", cache.LOCAL_MAX_ENTRIES)),
        )

    def fresh_ttl(self, capability: str) -> float:
        return float(self.fresh_ttl_s.get(TTL_FROM.get(capability, capability), 0.0))


@dataclass
class Deps:
    redis: redis.asyncio.Redis  # decode_responses=False
    http: httpx.AsyncClient  # one per process: healing.engine.http.get_client()
    clock: Callable[[], float] = time.time  # epoch seconds; tests move it
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    rng: random.Random = field(default_factory=random.Random)
    settings: EngineSettings = field(default_factory=EngineSettings)
    counters: cache.CacheCounters = field(default_factory=cache.CacheCounters)
    # slug -> (p90 latency ms or None, engine-clock time read): hedging.order_candidates' memo.
    p90_memo: dict[str, tuple[float | None, float]] = field(default_factory=dict)

    @functools.cached_property
    def breakers(self) -> "OrderedBreakers":
        return OrderedBreakers(self.redis, self.clock)

    @functools.cached_property
    def budget(self) -> Budget:
        return Budget(self.redis, clock=self.clock, guard_s=self.settings.rate_limit_guard_s)

    @functools.cached_property
    def local(self) -> cache.LocalCache:
        """This process's coalesced, decode-once cache reads (one Deps per process; cache.LocalCache)."""
        return cache.LocalCache(max_entries=self.settings.local_cache_entries)


class OrderedBreakers(BreakerStore):
    """The breaker store, plus success records deferred past the answer (`record_later`).

    A deferred record must not overtake a later one: every read or update of a provider's
    breaker in this process first waits for that provider's deferred records, so the breaker
    sees outcomes in the order they happened. Other processes see a success a few hundred
    microseconds late, which is what "after the answer" costs; it is never skipped.
    """

    def __init__(self, redis_client: redis.asyncio.Redis, clock: Callable[[], float] = time.time):
        super().__init__(redis_client, clock)
        self._later: dict[str, set[asyncio.Task]] = {}

    def record_later(self, cfg: Any, ok: bool, gate: asyncio.Event | None = None) -> None:
        """Record after the caller's answer is out: a tracked task (drain_background waits for it).

        With `gate`, the record waits until the caller sets it (once its answer is ready), at
        most LATE_GATE_MAX_S, so its round trips never delay that answer.
        """
        async def late() -> None:
            if gate is None:
                await asyncio.sleep(0)  # the request's own remaining round trips go first
            else:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(LATE_GATE_MAX_S):
                        await gate.wait()
            try:
                await BreakerStore.record(self, cfg, ok)
            except Exception as exc:  # noqa: BLE001 - bookkeeping must not crash the loop
                logger.warning("deferred breaker record for %s failed: %r", cfg.slug, exc)

        task = asyncio.ensure_future(late())
        pending = self._later.setdefault(cfg.slug, set())
        pending.add(task)
        task.add_done_callback(pending.discard)
        _background.add(task)
        task.add_done_callback(_background.discard)

    async def _settle(self, slugs: Iterable[str]) -> None:
        loop = asyncio.get_running_loop()
        waiting = [t for slug in slugs for t in self._later.get(slug, ()) if t.get_loop() is loop and not t.done()]
        if waiting and asyncio.current_task() not in waiting:
            await asyncio.gather(*waiting, return_exceptions=True)

    async def state(self, slug: str) -> BreakerState:
        await self._settle([slug])
        return await super().state(slug)

    async def states(self, slugs: Iterable[str]) -> dict[str, BreakerState]:
        slugs = list(slugs)
        await self._settle(slugs)
        return await super().states(slugs)

    async def allow(self, cfg: Any) -> bool:
        await self._settle([cfg.slug])
        return await super().allow(cfg)

    async def record(self, cfg: Any, ok: bool) -> BreakerState:
        await self._settle([cfg.slug])
        return await super().record(cfg, ok)

    async def reset(self, slug: str) -> None:
        await self._settle([slug])
        await super().reset(slug)


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Answer:
    data: Any
    source: str
    served: str  # live | cache | stale
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


# --- background refreshes (stale-while-revalidate) ------------------------------------------

_background: set[asyncio.Task] = set()


def _spawn(coro: Awaitable[Any]) -> None:
    task = asyncio.ensure_future(coro)
    _background.add(task)  # a strong reference, or the task may be collected mid-flight
    task.add_done_callback(_background.discard)


async def drain_background() -> None:
    """Wait for this loop's background refreshes and counter flushes (tests, graceful shutdown)."""
    loop = asyncio.get_running_loop()
    while pending := [t for t in _background if t.get_loop() is loop and not t.done()]:
        await asyncio.gather(*pending, return_exceptions=True)


# --- capabilities ---------------------------------------------------------------------------


def _entry_answer(entry: cache.Entry, served: str, now: float, attempts: list[Attempt] | None = None) -> Answer:
    """An answer from an entry; `attempts` None means "this request made none" (a cache hit)."""
    return Answer(entry.data, entry.source, served, entry.age(now), iso(entry.fetched_at), attempts or [],
                  entry.fetched_at)


entry_answer = _entry_answer


async def store_entry(deps: Deps, key: str, entry: cache.Entry) -> None:
    """Cache an entry built outside fetch_capability (derived answers), kept the stale TTL."""
    await cache.write(deps.redis, key, entry, keep_s=deps.settings.stale_ttl_s)


async def local_hit(capability: str, key: str, version: int, deps: Deps) -> cache.LocalEntry | None:
    """The entry for `key` if it is fresh now (counted as a cache hit), else None (nothing counted).

    The data plane's fast path calls this with a key it memoized for the query string; anything
    but a fresh hit then takes the full path through `fetch_capability`.
    """
    held = await deps.local.read(deps.redis, key, version, capability)
    if held is None or held.entry.freshness(deps.clock(), deps.settings.fresh_ttl(capability), 0) != cache.FRESH:
        return None
    _count(deps, cache.HIT, capability)
    return held


def _count(deps: Deps, kind: str, capability: str) -> None:
    if deps.counters.add(kind, capability):
        _spawn(deps.counters.flush(deps.redis))


async def flush_counters(deps: Deps) -> None:
    """Write the buffered cache counters now (tests, shutdown)."""
    await deps.counters.flush(deps.redis)


def check_plausible(capability: str, data: Any, now: float, slug: str) -> None:
    """BadData when an answer's own timestamps lie far in the future of the engine clock."""
    name = TIMESTAMP_FIELDS.get(capability)
    if name is None:
        return
    for item in data if isinstance(data, list) else [data]:
        if isinstance(item, Mapping) and isinstance(item.get(name), str):
            check_not_future(item[name], now, slug=slug)


def _providers_of(
    snapshot: Snapshot, capability: str, only_provider: str | None, params: Mapping[str, Any] | None = None
):
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


def order_plan(
    deps: Deps, pool: Any, providers: list[ProviderConfig], capability: str, params: Mapping[str, Any]
) -> OrderPlan:
    """The order reads of a pool request (a pool gets the all-open last resort, as in _live)."""
    return plan_order(deps, pool, providers, capability, last_resort=pool is not None, params=params)


async def _live(
    capability: str, params: Mapping[str, Any], snapshot: Snapshot, deps: Deps, only_provider: str | None,
    deadline: float, release: list[Callable[[Any], None]] | None = None, gate: asyncio.Event | None = None,
    prefetched: list[Candidate] | None = None,
) -> tuple[cache.Entry | None, list[Attempt], list[str]]:
    """Walk the chain once: (entry, attempts, []) on success, (None, attempts, suggestions) if not.

    With `release`, a success's stats writes are queued there for the caller's next pipeline;
    `prefetched` are the candidates when the caller already read the order inputs.
    """
    pool, providers = _providers_of(snapshot, capability, only_provider, params)
    # Only a pool gets the all-open last resort: a single provider's open breaker means "not now"
    # (consensus asks providers one by one and must not wake them all).
    if prefetched is not None:
        candidates = prefetched
    else:
        candidates = await order_candidates(
            deps, pool, providers, capability, last_resort=pool is not None, params=params
        )

    async def op(cand: Candidate, spec: RequestSpec, until: float) -> tuple[Any, str]:
        response = await call_provider(
            deps.http, cand.cfg, spec, deadline=until, max_body_bytes=deps.settings.max_body_bytes
        )
        if not 200 <= response.status < 300:
            raise classify_status(cand.adapter, response, deps.clock())
        data = parse_answer(cand.adapter, capability, params, response)
        try:
            check_plausible(capability, data, deps.clock(), cand.cfg.slug)
        except AdapterError as exc:
            raise Failure(exc.outcome.value, str(exc)) from None
        return data, Outcome.OK.value

    chain = Chain(deps, capability, deadline, build=lambda c: c.adapter.build_request(capability, params), op=op,
                  release=release, gate=gate)
    try:
        winner, data = await chain.run(candidates)
    except Exhausted:
        if not candidates:
            where = f"pool {pool.slug}" if pool is not None else only_provider
            return None, chain.attempts, [f"{where}: no enabled provider with an adapter serves {capability}"]
        return None, chain.attempts, await suggestions(deps, [c.cfg for c in candidates], chain.attempts)
    entry = cache.Entry(data, winner.cfg.slug, deps.clock(), tuple(a.as_dict() for a in chain.attempts))
    return entry, chain.attempts, []


def _encode_result(entry: cache.Entry | None, attempts: list[Attempt], hints: list[str], served: str) -> bytes:
    if entry is not None:
        return json.dumps({"ok": True, "served": served, "entry": entry.dumps().decode()}).encode()
    return json.dumps({"ok": False, "attempts": [a.as_dict() for a in attempts], "suggestions": hints}).encode()


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
    loop = asyncio.get_running_loop()
    settings = deps.settings
    budget_s = settings.deadline_s if deadline_s is None else deadline_s
    deadline = loop.time() + budget_s

    if only_provider is not None:
        entry, attempts, hints = await _live(capability, params, snapshot, deps, only_provider, deadline)
        if entry is None:
            raise AllProvidersFailed(capability, attempts, hints)
        return _entry_answer(entry, SERVED_LIVE, deps.clock(), attempts)

    _providers_of(snapshot, capability, None)  # unknown capability: 404 before touching Redis
    key = cache.data_key(capability, params)
    fresh_ttl = settings.fresh_ttl(capability)
    held = await deps.local.read(deps.redis, key, snapshot.version, capability)
    stale = held.entry if held is not None else None
    if stale is not None:
        now = deps.clock()
        state = stale.freshness(now, fresh_ttl, settings.swr_window_s)
        if state == cache.FRESH:
            _count(deps, cache.HIT, capability)
            return _entry_answer(stale, SERVED_CACHE, now)
        if state == cache.REVALIDATE:
            _count(deps, cache.STALE_SERVED, capability)
            token = uuid.uuid4().hex
            if await cache.claim_refresh(deps.redis, key, token, budget_s + REFRESH_LOCK_SLACK_S):
                _spawn(_refresh(capability, params, snapshot, deps, key, budget_s))
            return _entry_answer(stale, SERVED_STALE, now)
    _count(deps, cache.MISS, capability)

    fetched: list[cache.Entry] = []
    bookkeeping: list[Callable[[Any], None]] = []
    answered = asyncio.Event()  # set once the answer is ready: deferred breaker records go then

    # Read with the lock attempt (one round trip for both): the entry, for the double-check, and
    # when that has no side effect, everything the provider order needs.
    pool, providers = _providers_of(snapshot, capability, None, params)
    plan = order_plan(deps, pool, providers, capability, params)
    speculative = plan if plan.speculative else None

    def peek(pipe: Any) -> None:
        pipe.get(key)
        if speculative is not None:
            speculative.queue(pipe)

    async def produce(peeked: list[Any]) -> bytes:
        # Double-check: a leader elected just after another one finished finds its result here.
        current = cache.loads_or_none(peeked[0])
        if current is not None and current.freshness(deps.clock(), fresh_ttl, 0) == cache.FRESH:
            return _encode_result(current, [], [], SERVED_CACHE)
        prefetched = speculative.finish(peeked[1:]) if speculative is not None else None
        entry, attempts, hints = await _live(capability, params, snapshot, deps, None, deadline, bookkeeping, answered,
                                             prefetched)
        if entry is not None:
            fetched.append(entry)  # written by on_release, on the lock's release round trip
        return _encode_result(entry, attempts, hints, SERVED_LIVE)

    def on_release(pipe: Any) -> None:
        for entry in fetched:
            cache.queue_write(pipe, key, entry, keep_s=settings.stale_ttl_s)
        for queue in bookkeeping:
            queue(pipe)

    reserve = min(SF_RESERVE_MAX_S, SF_RESERVE_SHARE * budget_s)
    try:
        payload, _led = await singleflight.run(
            deps.redis, key, produce, deadline=deadline, reserve_s=reserve, peek=peek, on_release=on_release
        )
    finally:
        answered.set()
    result = json.loads(payload)
    now = deps.clock()
    if result["ok"]:
        # Followers report the leader's attempts: that fetch is what answered them too.
        entry = cache.Entry.loads(result["entry"])
        made = [Attempt.from_dict(a) for a in entry.attempts] if result["served"] == SERVED_LIVE else None
        return _entry_answer(entry, result["served"], now, made)
    attempts = [Attempt.from_dict(a) for a in result["attempts"]]
    if stale is not None:
        logger.warning("all providers failed for %s; serving stale copy from %s", capability, iso(stale.fetched_at))
        _count(deps, cache.STALE_SERVED, capability)
        return _entry_answer(stale, SERVED_STALE, now, attempts)
    raise AllProvidersFailed(capability, attempts, list(result["suggestions"]))


async def _refresh(
    capability: str, params: Mapping[str, Any], snapshot: Snapshot, deps: Deps, key: str, budget_s: float
) -> None:
    """The one background refresh of a stale-while-revalidate key (across all processes)."""
    try:
        deadline = asyncio.get_running_loop().time() + budget_s
        entry, attempts, _ = await _live(capability, params, snapshot, deps, None, deadline)
        if entry is None:
            # The lock is left to expire: a failing refresh is not retried by every request.
            logger.warning("background refresh of %s failed: %s", capability,
                           ", ".join(f"{a.provider}={a.outcome}" for a in attempts))
            return
        await cache.write(deps.redis, key, entry, keep_s=deps.settings.stale_ttl_s)
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
    loop = asyncio.get_running_loop()
    deadline = loop.time() + (deps.settings.deadline_s if deadline_s is None else deadline_s)
    cacheable = cache_ttl_s > 0 and spec.method.upper() in ("GET", "HEAD") and spec.json_body is None
    key = cache.raw_key(provider.slug, spec.method, spec.path, spec.params) if cacheable else ""
    if cacheable:
        hit = await cache.read(deps.redis, key)
        if hit is not None and hit.age(deps.clock()) < cache_ttl_s:
            d = hit.data
            return RawAnswer(d["status"], d["headers"], cache.decode_bytes(d["body"]), provider.slug, SERVED_CACHE, [])

    adapter = adapter_for(provider.slug) or Adapter()
    candidates = await _raw_candidates(deps, provider, adapter)

    async def op(cand: Candidate, req: RequestSpec, until: float) -> tuple[Any, str]:
        response = await call_provider(
            deps.http, cand.cfg, req, deadline=until, max_body_bytes=deps.settings.max_body_bytes
        )
        if 200 <= response.status < 300:
            return response, Outcome.OK.value
        failure = classify_status(cand.adapter, response, deps.clock())
        if failure.outcome == Outcome.PERMANENT.value:
            return response, Outcome.PERMANENT.value  # the provider's own answer: the caller sees it
        raise failure

    chain = Chain(deps, "raw", deadline, build=lambda c: spec, op=op, hedge=False)
    try:
        _, response = await chain.run(candidates)
    except Exhausted:
        raise AllProvidersFailed("raw", chain.attempts, await suggestions(deps, [provider], chain.attempts)) from None
    if cacheable and 200 <= response.status < 300:
        data = {"status": response.status, "headers": response.headers, "body": cache.encode_bytes(response.body)}
        entry = cache.Entry(data, provider.slug, deps.clock(), tuple(a.as_dict() for a in chain.attempts))
        await cache.write(deps.redis, key, entry, keep_s=cache_ttl_s)
    return RawAnswer(response.status, response.headers, response.body, provider.slug, SERVED_LIVE, chain.attempts)


async def _raw_candidates(deps: Deps, provider: ProviderConfig, adapter: Adapter) -> list[Candidate]:
    """The single provider of a raw call, with the same skip rules as a pool member."""
    if not provider.enabled:
        raise UnknownCapability(f"provider {provider.slug!r} is disabled")
    pipe = deps.redis.pipeline(transaction=False)
    deps.breakers.queue_read(pipe, provider.slug)
    deps.budget.queue_cooling(pipe, provider.slug)
    raw_state, raw_cooling = await pipe.execute()
    now = deps.clock()
    state = decode_state(raw_state).at(now)
    cooling = deps.budget.parse_cooling(raw_cooling)
    cand = Candidate(provider, adapter)
    if provider.key_required and not provider.api_key():
        cand.skip, cand.skip_detail = SKIPPED_NO_KEY, f"needs an API key in {provider.api_key_env}"
    elif cooling is not None:
        cand.skip, cand.skip_detail = SKIPPED_BUDGET, f"cooling down for {math.ceil(cooling - now)} s (Retry-After)"
    elif state.state == OPEN:
        cand.skip, cand.reopens_at = SKIPPED_BREAKER_OPEN, state.reopens_at
        cand.skip_detail = f"breaker open for {math.ceil(state.reopens_at - now)} s"
    elif state.state == HALF_OPEN:
        cand.needs_probe = True
    return [cand]


# --- what to do next --------------------------------------------------------------------------


async def suggestions(deps: Deps, providers: list[ProviderConfig], attempts: list[Attempt]) -> list[str]:
    """One line per provider that can recover: when its breaker reopens, when its budget frees."""
    seen: dict[str, ProviderConfig] = {}
    for cfg in providers:
        seen.setdefault(cfg.slug, cfg)
    states = await deps.breakers.states(seen)
    now = deps.clock()
    out: list[str] = []
    for slug, cfg in seen.items():
        state = states[slug]
        if cfg.key_required and not cfg.api_key():
            out.append(f"{slug}: set the API key variable {cfg.api_key_env} to use it")
            continue
        if state.state == OPEN and state.reopens_at is not None:
            out.append(f"{slug}: breaker reopens at {iso(state.reopens_at)} (in {math.ceil(state.reopens_at - now)} s)")
        cooling = await deps.budget.cooling_until(slug)
        if cooling is not None:
            out.append(f"{slug}: rate-limited by the provider until {iso(cooling)} (in {math.ceil(cooling - now)} s)")
        if cfg.rate_limits:
            out.extend(describe_budgets(slug, await deps.budget.remaining(cfg), now))
    if not out:
        tried = {a.outcome for a in attempts}
        if tried & {Outcome.TIMEOUT.value, Outcome.TRANSIENT.value}:
            out.append("providers are timing out or failing; retry in a few seconds")
        elif tried:
            out.append("no provider had usable data for this request; check the parameters")
    return out

