"""Live counters per provider in Redis: calls, successes, outcomes, latency samples.

`record()` queues everything for one attempt on one pipeline (one round trip); `read_stats()`
reads many providers in one round trip. Counters are cumulative; the hourly roll-up into the
database (and any reset) belongs to the tasks that read them, not to the hot path.

Latency samples are not kept twice: a success's sample goes on the provider's one latency list
(pools.state, whose strategies rank its newest samples), and the p50/p90 here read all of it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import redis.asyncio

from healing.engine.errors import SKIPPED
from pools import state as pool_state
from providers.measures import percentile
from providers.runtime import rkey


def counters_key(slug: str) -> str:
    return rkey("stats", slug)


def latency_key(slug: str) -> str:
    """The provider's one latency list (pools.state keeps it: LATENCY_SAMPLES, newest first)."""
    return pool_state.latency_key(slug)


def queue_record(pipe: Any, slug: str, outcome: str, ms: float | None, now: float) -> None:
    """Queue one attempt's counters: skipped attempts are counted apart from real calls."""
    key = counters_key(slug)
    if outcome in SKIPPED:
        pipe.hincrby(key, outcome, 1)
        return
    pipe.hincrby(key, "requests", 1)
    pipe.hincrby(key, outcome, 1)
    pipe.hset(key, "last_" + ("ok" if outcome == "ok" else "failure") + "_at", repr(now))
    if outcome == "ok" and ms is not None:
        pool_state.queue_latency(pipe, slug, ms)


async def record(r: redis.asyncio.Redis, slug: str, outcome: str, ms: float | None, now: float) -> None:
    pipe = r.pipeline(transaction=False)
    queue_record(pipe, slug, outcome, ms, now)
    await pipe.execute()


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def read_stats(r: redis.asyncio.Redis, slugs: Iterable[str]) -> dict[str, dict]:
    """Per provider: requests, ok, failures by outcome, skips, success rate, latency p50/p90 (ms)."""
    slugs = list(slugs)
    if not slugs:
        return {}
    pipe = r.pipeline(transaction=False)
    for slug in slugs:
        pipe.hgetall(counters_key(slug))
        pipe.lrange(latency_key(slug), 0, -1)
    raw = await pipe.execute()
    out = {}
    for i, slug in enumerate(slugs):
        fields = {_text(k): _text(v) for k, v in raw[2 * i].items()}
        samples = sorted(float(v) for v in raw[2 * i + 1])
        counts = {k: int(v) for k, v in fields.items() if not k.startswith("last_")}
        requests = counts.pop("requests", 0)
        ok = counts.pop("ok", 0)
        skipped = {k: counts.pop(k) for k in list(counts) if k in SKIPPED}
        out[slug] = {
            "requests": requests,
            "ok": ok,
            "failures": counts,  # by outcome; "cancelled" hedge losers included
            "skipped": skipped,
            "success_rate": round(ok / requests, 4) if requests else None,
            "latency_ms": {"p50": percentile(samples, 0.5), "p90": percentile(samples, 0.9), "samples": len(samples)},
            "last_ok_at": float(fields["last_ok_at"]) if "last_ok_at" in fields else None,
            "last_failure_at": float(fields["last_failure_at"]) if "last_failure_at" in fields else None,
        }
    return out


async def reset(r: redis.asyncio.Redis, slug: str) -> None:
    """Forget the provider's counters and its latency samples (the strategies' too: it is one list)."""
    await r.delete(counters_key(slug), latency_key(slug))
