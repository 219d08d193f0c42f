"""Which providers and pools sit in a maintenance window now, as routing reads it from Redis.

Two sorted sets, member = slug, score = the epoch time its window ends; healing.monitoring.
maintenance writes them from the database. Readers take members whose score lies in the future
(`ZRANGEBYSCORE key (now +inf`), so a window ends on time even if no task runs at that moment.
Routing reads both in the round trip that reads the breakers (healing.engine.candidates): a
provider's window drains that provider, a pool's window drains every member for that pool's
requests (the same provider still serves other pools).
"""

from __future__ import annotations

from typing import Any

import redis
import redis.asyncio

from providers.runtime import rkey


def providers_key() -> str:
    return rkey("maintenance", "providers")


def pools_key() -> str:
    return rkey("maintenance", "pools")


def queue_end(pipe: Any, key: str, slug: str) -> None:
    """Queue the read of when `slug`'s window ends (the score); `active_end` judges the reply."""
    pipe.zscore(key, slug)


def active_end(raw: Any, now: float) -> float | None:
    """The end of a window read by `queue_end` if it lies after `now` (still drained), else None."""
    if raw is None:
        return None
    end = float(raw)
    return end if end > now else None


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def drained_providers(r: redis.Redis, now: float) -> set[str]:
    """Providers drained at epoch time `now` (sync reader)."""
    return {_text(m) for m in r.zrangebyscore(providers_key(), f"({now}", "+inf")}


def drained_pools(r: redis.Redis, now: float) -> set[str]:
    return {_text(m) for m in r.zrangebyscore(pools_key(), f"({now}", "+inf")}


async def adrained_providers(r: redis.asyncio.Redis, now: float) -> set[str]:
    """Providers drained at epoch time `now` (one Redis call)."""
    return {_text(m) for m in await r.zrangebyscore(providers_key(), f"({now}", "+inf")}
