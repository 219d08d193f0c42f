"""The activity log: a bounded Redis stream, shared by every process, of what the gateway did
(data requests, proxy calls, breaker transitions, probe failures, configuration changes).

One stream, rkey("activity"), trimmed to about CRYPTOHUB_ACTIVITY_MAX entries (XADD MAXLEN ~, so
Redis trims whole nodes: cheap, and never below the bound). Each entry is one field, "e", holding
the entry as compact JSON: {"t": epoch seconds, "level", "category", "msg", ...details}.

Logging must cost a request next to nothing: an entry is a dict appended to this process's
buffer; the buffer goes to Redis in one pipelined round trip, started in the background by the
request that finds a flush due (every FLUSH_S, or at FLUSH_AT entries). While Redis is away the
buffer keeps at most KEEP_MAX entries (the oldest go first): a log must never grow a process.
Sync callers (Celery tasks, the control plane) write at once with `record_now`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import orjson
import redis
import redis.asyncio
from django.conf import settings

from providers.runtime import rkey

logger = logging.getLogger(__name__)

INFO, WARNING, ERROR = "info", "warning", "error"
LEVELS = (INFO, WARNING, ERROR)
REQUEST, PROXY, BREAKER, PROBE, CONFIG = "request", "proxy", "breaker", "probe", "config"
CATEGORIES = (REQUEST, PROXY, BREAKER, PROBE, CONFIG)
FLUSH_S = 0.5
FLUSH_AT = 200
KEEP_MAX = 5000
DEFAULT_MAX = 10_000


def stream_key() -> str:
    return rkey("activity")


def enabled() -> bool:
    return bool(getattr(settings, "CRYPTOHUB_ACTIVITY_LOG", True))


def max_entries() -> int:
    return int(getattr(settings, "CRYPTOHUB_ACTIVITY_MAX", DEFAULT_MAX))


def entry(category: str, level: str, msg: str, now: float, **details: Any) -> dict[str, Any]:
    """The one shape of an entry; details with a None value are left out."""
    return {"t": round(now, 3), "level": level, "category": category, "msg": msg,
            **{k: v for k, v in details.items() if v is not None}}


def encode(item: dict[str, Any]) -> bytes:
    return orjson.dumps(item)


def attempts_summary(attempts: Any) -> str:
    """"coingecko:ok coinpaprika:timeout": who was tried and how it went, in order."""
    parts = []
    for a in attempts or ():
        d = a if isinstance(a, dict) else a.as_dict()
        parts.append(f"{d.get('provider')}:{d.get('outcome')}")
    return " ".join(parts)


def _queue(pipe: Any, raw_entries: Any) -> None:
    """XADD each encoded entry on `pipe`, trimming the stream to about max_entries()."""
    for raw in raw_entries:
        pipe.xadd(stream_key(), {"e": raw}, maxlen=max_entries(), approximate=True)


class ActivityBuffer:
    """One process's entries not yet in Redis."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic, flush_s: float = FLUSH_S) -> None:
        self._pending: list[bytes] = []
        # Cache hits of one query by one client, folded until the flush: (capability, params,
        # client, source) -> [count, total ms]. A hit then costs a dict update, and a busy
        # query one entry per flush (with its count) instead of thousands.
        self._hits: dict[tuple, list[float]] = {}
        self._monotonic = monotonic
        self._flush_s = flush_s
        self._last_flush = monotonic()

    def __len__(self) -> int:
        return len(self._pending) + len(self._hits)

    def add_hit(self, capability: str, params: str | None, client: str | None, source: str, ms: float) -> bool:
        """One cache hit, folded with the others of its query; True when a flush is due."""
        folded = self._hits.get((capability, params, client, source))
        if folded is None:
            self._hits[(capability, params, client, source)] = [1, ms]
        else:
            folded[0] += 1
            folded[1] += ms
        return self._monotonic() - self._last_flush >= self._flush_s

    def _fold_hits(self) -> None:
        hits, self._hits = self._hits, {}
        now = time.time()
        for (capability, params, client, source), (count, total_ms) in hits.items():
            self._pending.append(encode(entry(
                REQUEST, INFO, f"GET /api/data/{capability} 200 (cache hit x{count})", now, status=200,
                ms=round(total_ms / count, 3), capability=capability, params=params, client=client, source=source,
                served="cache", count=count)))

    def add(self, item: dict[str, Any]) -> bool:
        """Buffer one entry; True when a flush is due (the caller starts it)."""
        self._pending.append(encode(item))
        if len(self._pending) > KEEP_MAX:
            del self._pending[: len(self._pending) - KEEP_MAX]
        return len(self._pending) >= FLUSH_AT or self._monotonic() - self._last_flush >= self._flush_s

    async def flush(self, r: redis.asyncio.Redis) -> int:
        """XADD everything buffered in one round trip; entries are kept when Redis fails."""
        self._last_flush = self._monotonic()
        self._fold_hits()
        batch, self._pending = self._pending[-KEEP_MAX:], []
        if not batch:
            return 0
        try:
            pipe = r.pipeline(transaction=False)
            _queue(pipe, batch)
            await pipe.execute()
        except Exception as exc:  # noqa: BLE001 - a log must never fail a request
            self._pending = (batch + self._pending)[-KEEP_MAX:]
            logger.debug("activity log not flushed: %s", exc.__class__.__name__)
            return 0
        return len(batch)


async def record_async(r: redis.asyncio.Redis, items: list[dict[str, Any]]) -> None:
    """Write rare entries at once from async code (a breaker transition); never raises."""
    if not items or not enabled():
        return
    try:
        pipe = r.pipeline(transaction=False)
        _queue(pipe, map(encode, items))
        await pipe.execute()
    except Exception as exc:  # noqa: BLE001 - a log must never fail what it records
        logger.debug("activity log entries lost: %s", exc.__class__.__name__)


def record_now(items: list[dict[str, Any]], r: redis.Redis | None = None) -> None:
    """Write entries at once (sync callers); best effort, never raises."""
    if not items or not enabled():
        return
    try:
        from providers.runtime import sync_redis

        client = r or sync_redis()
        pipe = client.pipeline(transaction=False)
        _queue(pipe, map(encode, items))
        pipe.execute()
    except Exception as exc:  # noqa: BLE001 - a log must never fail what it records
        logger.debug("activity log entries lost: %s", exc.__class__.__name__)
