"""The live feed's `stats` channel: a summary of the gateway's traffic every few seconds.

One process of the cluster publishes it (a `Lease`): it reads the counters the engine already
keeps in Redis (healing.engine.stats per provider, the cache's hit/miss/stale hash), and
publishes the difference since its previous reading, so every worker's traffic is counted once.
The summary is also stored (healing.feed_state) for a new subscriber's snapshot.

    {"requests_per_s": 12.4, "hit_ratio": 0.93, "errors": 1, "p50_ms": 41.0, "p95_ms": 180.5,
     "window_s": 5.0, "degraded": false}

`errors` counts failed upstream calls in the window; p50/p95 are of the providers' recent
latency samples; `degraded` says some provider's breaker is not closed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import redis.asyncio

from healing.engine import stats
from healing.engine.breaker import CLOSED, BreakerStore
from healing.engine.cache import counters_key as cache_counters_key
from providers.measures import percentile


@dataclass(frozen=True)
class Totals:
    """Cumulative counters at one moment (loop-clock seconds)."""

    at: float
    served: int  # data requests counted by the cache: hits, misses, stale answers
    hits: int
    misses: int
    errors: int  # failed upstream calls
    samples: tuple[float, ...]  # recent upstream latencies (ms)
    not_closed: int  # providers whose breaker is open or half-open


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def read_totals(redis_client: redis.asyncio.Redis, slugs: list[str], at: float) -> Totals:
    live = await stats.read_stats(redis_client, slugs)
    pipe = redis_client.pipeline(transaction=False)
    for slug in slugs:
        pipe.lrange(stats.latency_key(slug), 0, -1)
    pipe.hgetall(cache_counters_key())
    raw = await pipe.execute()
    cache = {_text(k): int(v) for k, v in raw[-1].items()}
    breakers = await BreakerStore(redis_client).states(slugs)
    return Totals(
        at=at,
        served=sum(cache.values()),
        hits=sum(v for k, v in cache.items() if k.startswith("hit:")),
        misses=sum(v for k, v in cache.items() if k.startswith("miss:")),
        errors=sum(row["requests"] - row["ok"] for row in live.values()),
        samples=tuple(float(v) for samples in raw[:-1] for v in samples),
        not_closed=sum(1 for s in breakers.values() if s.state != CLOSED),
    )


def summary(before: Totals, now: Totals) -> dict[str, Any]:
    """The `stats` event for the window between two readings (counters reset meanwhile count as 0)."""
    window = max(now.at - before.at, 1e-6)
    hits, misses = max(0, now.hits - before.hits), max(0, now.misses - before.misses)
    samples = sorted(now.samples)
    p50, p95 = percentile(samples, 0.5), percentile(samples, 0.95)
    return {
        "requests_per_s": round(max(0, now.served - before.served) / window, 2),
        "hit_ratio": round(hits / (hits + misses), 4) if hits + misses else None,
        "errors": max(0, now.errors - before.errors),
        "p50_ms": None if p50 is None else round(p50, 1),
        "p95_ms": None if p95 is None else round(p95, 1),
        "window_s": round(window, 2),
        "degraded": now.not_closed > 0,
    }
