"""Maintenance windows: which providers and pools are scheduled out right now.

The database holds the windows (edited in the admin); Redis holds what routing needs: two sorted
sets, rkey("maintenance", "providers") and rkey("maintenance", "pools"), member = slug, score =
the epoch time its window ends. Readers take members whose score lies in the future (after
`now`), so a window ends on time even if no task runs at that moment; `maintenance_sync()`
(every sweep, every minute from the beat, and on every admin save or delete) adds windows as
they start. Both kinds drain routing: a provider's window takes that provider out of every
pool, a pool's window takes the whole pool out (its requests get a stale copy or a 503 with
Retry-After); both also silence the alerts about what they drain.
The Redis half (keys and readers) is healing.engine.drained, so routing reads it without the ORM.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import redis
import redis.asyncio
from asgiref.sync import async_to_sync
from django.conf import settings

from healing import pool_heads
from healing.engine.drained import pools_key, providers_key
from providers.runtime import sync_redis

logger = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


# --- reads from the database ---------------------------------------------------------------


def _active(now: datetime) -> Any:
    from healing.models.monitoring import MaintenanceWindow

    return MaintenanceWindow.objects.filter(starts_at__lte=now, ends_at__gt=now)


def _ends(now: datetime, field: str) -> dict[str, float]:
    """slug -> when its (latest-ending) active window ends, as epoch seconds."""
    out: dict[str, float] = {}
    for slug, ends_at in _active(now).filter(**{f"{field}__isnull": False}).values_list(f"{field}__slug", "ends_at"):
        out[slug] = max(out.get(slug, 0.0), ends_at.timestamp())
    return out


def active_maintenance(now: datetime | None = None) -> set[str]:
    """Slugs of the providers in a maintenance window at `now` (drained from routing)."""
    return set(_ends(now or _now(), "provider"))


def active_pool_maintenance(now: datetime | None = None) -> set[str]:
    """Slugs of the pools in a maintenance window at `now`."""
    return set(_ends(now or _now(), "pool"))


# --- Redis: what routing reads ---------------------------------------------------------------


def maintenance_sync(*, now: datetime | None = None, r: redis.Redis | None = None) -> dict[str, set[str]]:
    """Replace the drained sets in Redis with the windows active at `now`; returns them."""
    now = now or _now()
    providers, pools = _ends(now, "provider"), _ends(now, "pool")
    r = r or sync_redis()
    pipe = r.pipeline(transaction=True)
    pipe.delete(providers_key(), pools_key())
    if providers:
        pipe.zadd(providers_key(), providers)
    if pools:
        pipe.zadd(pools_key(), pools)
    pipe.execute()
    _publish_head_changes(set(providers), set(pools))
    return {"providers": set(providers), "pools": set(pools)}


def _publish_head_changes(providers: set[str], pools: set[str]) -> None:
    """Pools whose head a window's start (or end) moved, on the live feed (best-effort)."""
    def reason(pool: str, old_head: str | None) -> str:
        return pool_heads.MAINTENANCE if pool in pools or old_head in providers else pool_heads.RECOVERED

    async def recompute() -> None:
        r = redis.asyncio.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
        try:
            await pool_heads.heads_changed(r, None, reason)
        finally:
            await r.aclose()

    try:
        async_to_sync(recompute)()
    except Exception as exc:  # noqa: BLE001 - the windows are written; the feed is best-effort
        logger.warning("pool heads after maintenance sync not published: %s", exc)
