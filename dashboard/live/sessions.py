"""Who is connected to the live feed, across every server process: the sessions registry in Redis.

Two keys per deployment prefix:

- `live:sessions`, a sorted set: client id -> last seen (epoch seconds), written again on every
  heartbeat of the client's consumer;
- `live:session:<client id>`, a hash: channels (JSON list), connected_at (ISO), pid; it expires
  `ttl_s` after the last refresh.

An entry not refreshed within `ttl_s` (its process died) no longer counts and is removed by the
next reader, so the online count heals by itself. Consumers write with the async functions; the
REST view (`GET /api/sessions`) reads with `sessions_report` (sync). Nothing here holds an IP or
a key: a client id is a random name, good for nothing but telling sessions apart.
"""

from __future__ import annotations

import asyncio
import json
import time
import weakref
from typing import Any

import redis
import redis.asyncio
from django.conf import settings

from providers.measures import iso_precise
from providers.runtime import rkey

# An entry lives this many heartbeats after its last refresh: one late heartbeat is no death.
TTL_HEARTBEATS = 3
# Sessions `GET /api/sessions` lists at most (the count covers all of them).
LIST_MAX = 1000

_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, redis.asyncio.Redis] = weakref.WeakKeyDictionary()


def feed_redis() -> redis.asyncio.Redis:
    """The event loop's Redis client for the feed (one per process under a server: one loop)."""
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        client = _clients[loop] = redis.asyncio.Redis.from_url(
            settings.REDIS_URL, decode_responses=True, socket_timeout=2, socket_connect_timeout=2)
    return client


def ttl_s() -> float:
    return TTL_HEARTBEATS * float(settings.CRYPTOHUB_FEED_HEARTBEAT_S)


def index_key() -> str:
    return rkey("live", "sessions")


def session_key(client_id: str) -> str:
    return rkey("live", "session", client_id)


def _expire_ms(ttl: float) -> int:
    return max(1, int(ttl * 1000))


async def register(r: redis.asyncio.Redis, client_id: str, *, pid: int, connected_at: float,
                   channels: list[str] | None = None, now: float | None = None) -> None:
    """Write the client's whole entry and mark it seen now.

    The consumer's heartbeat calls this too, not a bare refresh: an entry that expired while its
    process stalled, or was never written because Redis was away at connect, comes back whole.
    """
    now = time.time() if now is None else now
    pipe = r.pipeline(transaction=True)
    pipe.zadd(index_key(), {client_id: now})
    pipe.hset(session_key(client_id), mapping={
        "channels": json.dumps(sorted(channels or [])), "connected_at": iso_precise(connected_at), "pid": pid})
    pipe.pexpire(session_key(client_id), _expire_ms(ttl_s()))
    await pipe.execute()


async def set_channels(r: redis.asyncio.Redis, client_id: str, channels: list[str]) -> None:
    await r.hset(session_key(client_id), "channels", json.dumps(sorted(channels)))


async def unregister(r: redis.asyncio.Redis, client_id: str) -> None:
    pipe = r.pipeline(transaction=True)
    pipe.zrem(index_key(), client_id)
    pipe.delete(session_key(client_id))
    await pipe.execute()


async def online_count(r: redis.asyncio.Redis, now: float | None = None) -> int:
    """Clients connected to any process now (stale entries are removed first)."""
    now = time.time() if now is None else now
    pipe = r.pipeline(transaction=True)
    pipe.zremrangebyscore(index_key(), "-inf", now - ttl_s())
    pipe.zcard(index_key())
    _, count = await pipe.execute()
    return int(count)


def _row(client_id: str, raw: dict[str, str]) -> dict[str, Any]:
    try:
        channels = json.loads(raw.get("channels") or "[]")
    except ValueError:
        channels = []
    pid = raw.get("pid", "")
    return {"client_id": client_id, "channels": channels, "connected_at": raw.get("connected_at"),
            "pid": int(pid) if pid.isdigit() else None}


def sessions_report(r: redis.Redis, *, now: float | None = None, limit: int = LIST_MAX) -> dict[str, Any]:
    """{"count", "results": [{client_id, channels, connected_at, pid}, ...]}, oldest connection first."""
    now = time.time() if now is None else now
    pipe = r.pipeline(transaction=True)
    pipe.zremrangebyscore(index_key(), "-inf", now - ttl_s())
    pipe.zrange(index_key(), 0, -1)
    _, ids = pipe.execute()
    pipe = r.pipeline(transaction=False)
    for client_id in ids:
        pipe.hgetall(session_key(client_id))
    # A hash that expired between the two reads is a session that just ended: left out.
    rows = [_row(cid, raw) for cid, raw in zip(ids, pipe.execute() if ids else []) if raw]
    rows.sort(key=lambda row: (row["connected_at"] or "", row["client_id"]))
    return {"count": len(rows), "results": rows[:limit]}
