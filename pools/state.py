"""Runtime state the strategies read, kept in Redis so every process shares it.

- round-robin cursor per pool (one INCR per request: atomic across processes),
- request counts per provider in the recent window (bucketed counters, see USAGE_BUCKET_S),
- recent latency samples per provider: ONE capped list, shared with healing.engine.stats (its
  dashboard p50/p90 read all LATENCY_SAMPLES; the strategies and the hedging timer rank only the
  newest LATENCY_RANKED, so they follow a provider that changed quickly),
- manual demotions per pool (a sorted set scored by the time the demotion ends).

`order_inputs` fetches all a strategy needs for one request in one round trip.

The operations are sync (redis.Redis). The async engine pipelines the same commands with its own
client through `queue_order_inputs` / `parse_order_inputs` and `queue_record_use`, so there are no
async twins. Clients with or without decode_responses work.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Iterable
from typing import Any

import redis

from providers.measures import percentile
from providers.runtime import rkey

# The "recent" in least_used: requests counted over this many seconds.
USAGE_WINDOW_S = 300
# Usage is counted in buckets of this many seconds, so the window slides in these steps and a
# provider costs WINDOW/BUCKET counters however busy it is (a timestamp per request would not).
USAGE_BUCKET_S = 10
# Latency samples kept per provider (the one list every latency figure is read from).
LATENCY_SAMPLES = 200
# The newest samples fastest_response's median and the hedging p90 rank.
LATENCY_RANKED = 50
# An idle provider's latency samples expire after this long, so a stale figure is not trusted forever.
LATENCY_TTL_S = 24 * 3600


# --- keys -------------------------------------------------------------------------------------


def _slug(pool: Any) -> str:
    # Accepts a Pool instance (its __str__ is its slug) or a slug.
    return str(getattr(pool, "slug", pool))


def rr_key(pool: Any) -> str:
    return rkey("pool", _slug(pool), "rr")


def demoted_key(pool: Any) -> str:
    return rkey("pool", _slug(pool), "demoted")


def usage_key(provider: str, bucket: int) -> str:
    return rkey("usage", provider, bucket)


def latency_key(provider: str) -> str:
    return rkey("latency", provider)


def _buckets(now: float) -> range:
    """The buckets inside the window ending at `now` (the current, partial one included)."""
    last = int(now // USAGE_BUCKET_S)
    return range(last - USAGE_WINDOW_S // USAGE_BUCKET_S + 1, last + 1)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


# --- commands queued on a (sync or async) pipeline, and result parsers -----------------------


def queue_record_use(pipe: Any, provider: str, latency_ms: float | None, now: float) -> None:
    """Queue on `pipe` (sync or async) the writes of record_use, for callers batching their own."""
    key = usage_key(provider, int(now // USAGE_BUCKET_S))
    pipe.incr(key)
    pipe.expire(key, USAGE_WINDOW_S + USAGE_BUCKET_S)
    if latency_ms is not None:
        queue_latency(pipe, provider, latency_ms)


def queue_latency(pipe: Any, provider: str, latency_ms: float) -> None:
    """Queue one latency sample (ms, to 0.1 ms) on the provider's capped list."""
    lkey = latency_key(provider)
    pipe.lpush(lkey, f"{latency_ms:.1f}")
    pipe.ltrim(lkey, 0, LATENCY_SAMPLES - 1)
    pipe.expire(lkey, LATENCY_TTL_S)


def queue_latency_read(pipe: Any, provider: str) -> None:
    """Queue the read of the provider's newest LATENCY_RANKED samples (parse with p90_of or a median)."""
    pipe.lrange(latency_key(provider), 0, LATENCY_RANKED - 1)


def _usage_keys(providers: list[str], now: float) -> list[str]:
    return [usage_key(p, b) for p in providers for b in _buckets(now)]


def _parse_usage(providers: list[str], values: list[Any]) -> dict[str, int]:
    per = len(values) // len(providers) if providers else 0
    return {p: sum(int(v) for v in values[i * per:(i + 1) * per] if v is not None) for i, p in enumerate(providers)}


def _q_latency(pipe: Any, providers: list[str]) -> None:
    for p in providers:
        queue_latency_read(pipe, p)


def _samples(raw: list[Any]) -> list[float]:
    return [float(v) for v in raw]


def _parse_latency(providers: list[str], results: list[list[Any]]) -> dict[str, float]:
    out = {}
    for p, raw in zip(providers, results):
        if raw:
            out[p] = float(statistics.median(_samples(raw)))
    return out


def p90_of(raw: list[Any]) -> float | None:
    """The 90th percentile of raw latency samples as read from Redis (None when unmeasured)."""
    return percentile(sorted(_samples(raw)), 0.9)


def _q_demote(pipe: Any, pool: Any, provider: str, seconds: float, now: float) -> None:
    key = demoted_key(pool)
    pipe.zadd(key, {provider: now + seconds})
    pipe.zremrangebyscore(key, "-inf", now)  # expired demotions, pruned on write
    # The key lives as long as its longest demotion: NX sets a first TTL, GT only ever extends it.
    ttl = max(1, math.ceil(seconds))
    pipe.expire(key, ttl, nx=True)
    pipe.expire(key, ttl, gt=True)


def _parse_demoted(raw: Iterable[Any]) -> set[str]:
    return {_text(v) for v in raw}


def _parse_cursor(raw: Any) -> int:
    return int(raw) if raw is not None else 0


def queue_order_inputs(pipe: Any, pool: Any, strategy: str, providers: list[str], now: float, advance: bool) -> None:
    """Queue on `pipe` the reads a strategy needs; parse_order_inputs() turns their results into
    keyword arguments for order_members()."""
    # Only what the strategy reads, plus demotions, which every strategy honours.
    if strategy == "round_robin":
        if advance:
            pipe.incr(rr_key(pool))
        else:
            pipe.get(rr_key(pool))
    elif strategy == "least_used":
        pipe.mget(_usage_keys(providers, now))
    elif strategy == "fastest_response":
        _q_latency(pipe, providers)
    pipe.zrangebyscore(demoted_key(pool), f"({now!r}", "+inf")


def parse_order_inputs(strategy: str, providers: list[str], results: list[Any], advance: bool) -> dict[str, Any]:
    inputs: dict[str, Any] = {"demoted": _parse_demoted(results[-1])}
    if strategy == "round_robin":
        inputs["cursor"] = int(results[0]) - 1 if advance else _parse_cursor(results[0])
    elif strategy == "least_used":
        inputs["usage"] = _parse_usage(providers, results[0])
    elif strategy == "fastest_response":
        inputs["latency_ms"] = _parse_latency(providers, results[:-1])
    return inputs


# --- sync ------------------------------------------------------------------------------------


def rr_cursor(r: redis.Redis, pool: Any) -> int:
    """The cursor the next request will use; reading it never advances it."""
    return _parse_cursor(r.get(rr_key(pool)))


def rr_advance(r: redis.Redis, pool: Any) -> int:
    """Claim a cursor for this request: atomic, so two processes never get the same value."""
    return int(r.incr(rr_key(pool))) - 1


def record_use(r: redis.Redis, provider: str, latency_ms: float | None, now: float) -> None:
    """Count one request to `provider` and, when it was measured, keep its latency sample."""
    pipe = r.pipeline(transaction=False)
    queue_record_use(pipe, provider, latency_ms, now)
    pipe.execute()


def recent_usage(r: redis.Redis, providers: Iterable[str], now: float) -> dict[str, int]:
    """Requests per provider over the last USAGE_WINDOW_S seconds (one MGET)."""
    providers = list(providers)
    if not providers:
        return {}
    return _parse_usage(providers, r.mget(_usage_keys(providers, now)))


def recent_latency(r: redis.Redis, providers: Iterable[str]) -> dict[str, float]:
    """Median of recent latency samples (ms), only for providers that have any (one round trip)."""
    providers = list(providers)
    if not providers:
        return {}
    pipe = r.pipeline(transaction=False)
    _q_latency(pipe, providers)
    return _parse_latency(providers, pipe.execute())


def latency_p90(r: redis.Redis, provider: str) -> float | None:
    return p90_of(r.lrange(latency_key(provider), 0, LATENCY_RANKED - 1))


def demote(r: redis.Redis, pool: Any, provider: str, seconds: float, now: float | None = None) -> None:
    """Push `provider` to the back of `pool`'s order until `now + seconds`."""
    pipe = r.pipeline(transaction=True)
    _q_demote(pipe, pool, provider, seconds, time.time() if now is None else now)
    pipe.execute()


def undemote(r: redis.Redis, pool: Any, providers: Iterable[str]) -> None:
    providers = list(providers)
    if providers:
        r.zrem(demoted_key(pool), *providers)


def demoted(r: redis.Redis, pool: Any, now: float) -> set[str]:
    """Providers of `pool` whose demotion has not ended at `now`."""
    return _parse_demoted(r.zrangebyscore(demoted_key(pool), f"({now!r}", "+inf"))


def order_inputs(
    r: redis.Redis, pool: Any, strategy: str, providers: Iterable[str], now: float, *, advance: bool = True
) -> dict[str, Any]:
    """Everything `order_members` needs for one request, in one round trip, as its keyword arguments.

    For round robin this claims a cursor (advance=True, what a request does); pass advance=False
    to peek without rotating.
    """
    providers = list(providers)
    pipe = r.pipeline(transaction=False)
    queue_order_inputs(pipe, pool, strategy, providers, now, advance)
    return parse_order_inputs(strategy, providers, pipe.execute(), advance)
