"""The live feed's shared state in Redis: which coins are watched, the last price tick, the last stats summary.

Every process sees the same state: the WebSocket consumers mark the coins their clients watch
(`watch_prices`, renewed on every heartbeat, so a coin nobody watches any more falls out after
`ttl_s`), the one price ticker of the cluster reads them (`watched_prices`) and stores each tick
(`store_tick`), the one stats publisher stores its summary (`store_summary`) for a new subscriber's
snapshot. No ORM: plain values over a `redis.asyncio.Redis` client (bytes or str replies alike).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from typing import Any

import redis.asyncio

from providers.runtime import rkey

# How long a stored tick or summary is worth keeping for a late subscriber's snapshot (seconds).
STATE_TTL_S = 3600


def watch_key() -> str:
    """A sorted set: coin id -> epoch second its watch expires."""
    return rkey("feed", "prices", "watched")


def tick_key(coin: str) -> str:
    return rkey("feed", "prices", "tick", coin)


def summary_key() -> str:
    return rkey("feed", "stats", "summary")


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def watch_prices(redis_client: redis.asyncio.Redis, coins: Iterable[str], ttl_s: float = 60) -> None:
    """Mark `coins` as watched for the next `ttl_s` seconds (a later expiry is never shortened)."""
    until = time.time() + ttl_s
    mapping = {coin: until for coin in coins}
    if mapping:
        # GT adds new coins and never lowers a score: two clients watching one coin keep the later expiry.
        await redis_client.zadd(watch_key(), mapping, gt=True)


async def watched_prices(redis_client: redis.asyncio.Redis) -> list[str]:
    """The coins some live client still watches (sorted); expired watches are dropped on the way."""
    now = time.time()
    pipe = redis_client.pipeline(transaction=True)
    pipe.zremrangebyscore(watch_key(), "-inf", f"({now!r}")
    pipe.zrangebyscore(watch_key(), f"({now!r}", "+inf")
    _, coins = await pipe.execute()
    return sorted(_text(c) for c in coins)


async def store_tick(redis_client: redis.asyncio.Redis, coin: str, data: dict[str, Any]) -> None:
    await redis_client.set(tick_key(coin), json.dumps(data), ex=STATE_TTL_S)


async def last_tick(redis_client: redis.asyncio.Redis, coin: str) -> dict[str, Any] | None:
    raw = await redis_client.get(tick_key(coin))
    return None if raw is None else json.loads(raw)


async def store_summary(redis_client: redis.asyncio.Redis, data: dict[str, Any]) -> None:
    await redis_client.set(summary_key(), json.dumps(data), ex=STATE_TTL_S)


async def last_summary(redis_client: redis.asyncio.Redis) -> dict[str, Any] | None:
    raw = await redis_client.get(summary_key())
    return None if raw is None else json.loads(raw)
