"""What the engine runs with: its settings and `Deps`, everything it touches from outside.

`Deps` carries the Redis client, the HTTP client, the clock, sleep, RNG and settings, so tests
control time. Deadlines run on the event loop's monotonic clock; the injected `clock` (epoch
seconds) drives cache ages, breakers, budgets and cool-downs. One `Deps` per process: the
breaker store, the budget and the local cache it builds are shared by all its requests.
"""

from __future__ import annotations

import asyncio
import functools
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import httpx
import redis.asyncio

from healing.engine import cache
from healing.engine.breaker import OrderedBreakers
from healing.engine.degraded import LocalStore, RedisHealth
from healing.engine.ratelimit import Budget

# Fresh TTL per capability in seconds (settings.CRYPTOHUB_FRESH_TTL overrides any of them).
DEFAULT_FRESH_TTL: Mapping[str, float] = MappingProxyType({
    "price": 10, "markets": 60, "global": 60, "fear_greed": 3600, "trending": 300, "tvl": 600,
    "gas": 15, "news": 300, "sentiment": 300, "raw": 0,
    # A balance moves with each block; a transaction's confirmations too, so briefly.
    "address": 30, "tx": 10,
    # A forming candle moves with every trade, a book faster still: short, but enough to absorb bursts.
    "candles": 30, "orderbook": 2,
    # A 24 h ticker's last price moves as a price does: fresh as long.
    "ticker": 10,
    # DEX prices move by the block; stablecoin supplies and yields are refreshed upstream hourly-ish.
    "dex": 30, "stablecoins": 300, "yields": 600,
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

# Answers derived from another capability's data stay fresh exactly as long as their source
# (scored headlines are as old as the headlines).
TTL_FROM: Mapping[str, str] = MappingProxyType({"sentiment": "news"})


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
    # Server processes sharing the budgets: while Redis is down each takes 1/process_count of them.
    process_count: int = 1

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
            process_count=max(1, int(getattr(settings, "CRYPTOHUB_PROCESS_COUNT", 1))),
        )

    def fresh_ttl(self, capability: str) -> float:
        return float(self.fresh_ttl_s.get(TTL_FROM.get(capability, capability), 0.0))


@dataclass
class Deps:
    redis: redis.asyncio.Redis  # decode_responses=False
    http: httpx.AsyncClient  # one per process: healing.engine.http.make_client()
    clock: Callable[[], float] = time.time  # epoch seconds; tests move it
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    rng: random.Random = field(default_factory=random.Random)
    settings: EngineSettings = field(default_factory=EngineSettings)
    counters: cache.CacheCounters = field(default_factory=cache.CacheCounters)
    # slug -> (p90 latency ms or None, engine-clock time read): healing.engine.candidates' memo.
    p90_memo: dict[str, tuple[float | None, float]] = field(default_factory=dict)
    # Processes splitting every provider budget this Deps spends (N for a degraded twin: 1/N each).
    budget_processes: int = 1
    # The degraded twin and the outage it was built for (degraded_twin).
    _twin: "Deps | None" = field(default=None, init=False, repr=False, compare=False)
    _twin_outage: int = field(default=-1, init=False, repr=False, compare=False)

    @functools.cached_property
    def breakers(self) -> OrderedBreakers:
        return OrderedBreakers(self.redis, self.clock)

    @functools.cached_property
    def budget(self) -> Budget:
        return Budget(self.redis, clock=self.clock, guard_s=self.settings.rate_limit_guard_s,
                      processes=self.budget_processes)

    @functools.cached_property
    def health(self) -> RedisHealth:
        """Whether this process sees Redis as down (healing.engine.degraded; one per process)."""
        return RedisHealth()

    @functools.cached_property
    def local(self) -> cache.LocalCache:
        """This process's coalesced, decode-once cache reads (one Deps per process; cache.LocalCache)."""
        return cache.LocalCache(max_entries=self.settings.local_cache_entries)

    def degraded_twin(self) -> "Deps":
        """The engine on this process's own state, for while Redis is down (healing.engine.degraded).

        Built afresh at each outage, seeded with the cache copies held then: breaker and budget
        state from an earlier outage says nothing about now. The HTTP client, clock and latency
        memo are shared with this Deps; each budget is split process_count ways.
        """
        if self._twin is None or self._twin_outage != self.health.outages:
            store = LocalStore()
            store.seed(self.local.held(), keep_s=self.settings.stale_ttl_s)
            self._twin = Deps(
                redis=store.client, http=self.http, clock=self.clock, sleep=self.sleep, rng=self.rng,
                settings=self.settings, p90_memo=self.p90_memo, budget_processes=self.settings.process_count,
            )
            self._twin_outage = self.health.outages
        return self._twin
