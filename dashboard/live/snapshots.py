"""The current state of each feed channel: what a client gets on subscribe (so a page needs no REST call).

One async function per channel, `await snapshot(channel, r)` picks it. Database reads run in a
worker thread (database_sync_to_async); Redis state is read with the feed's async client. The
shapes follow what the REST API answers for the same things (/api/pools/<slug>, /api/alerts).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import redis
import redis.asyncio
from channels.db import database_sync_to_async

from healing import events, feed_state
from healing.engine.breaker import BreakerStore
from healing.models.monitoring import Alert, AlertState
from healing.monitoring.history import latest_checks
from healing.monitoring.notifications import alert_payload
from pools.models import Pool
from pools.rotation import current_order
from providers.measures import iso_precise
from providers.models import Provider
from providers.runtime import sync_redis

logger = logging.getLogger(__name__)

# Open alerts a snapshot lists at most (newest first).
ALERTS_MAX = 200


def _check_status(check: dict[str, Any] | None) -> str:
    if check is None:
        return "unknown"
    if check["skipped"]:
        return "skipped"
    return "up" if check["ok"] else "down"


def health_rows() -> list[dict[str, Any]]:
    """Every enabled provider's latest health check ("unknown" before its first one)."""
    providers = list(Provider.objects.enabled().order_by("slug").values_list("pk", "slug"))
    checks = latest_checks([pk for pk, _ in providers])
    rows = []
    for pk, slug in providers:
        check = checks.get(pk)
        at: datetime | None = check["checked_at"] if check else None
        rows.append({
            "provider": slug, "status": _check_status(check), "at": iso_precise(at) if at else None,
            "streak": check["streak"] if check else 0,
            "error_class": check["error_class"] if check else "", "message": check["message"] if check else "",
        })
    return rows


def pool_rows() -> list[dict[str, Any]]:
    """Each pool's members in the order the next request would use them, and its head."""
    rows = []
    r = sync_redis()
    for pool in Pool.objects.order_by("slug"):
        try:
            order = [{"provider": m.provider, "priority": m.priority, "weight": m.weight}
                     for m in current_order(pool, r=r)]
        except redis.RedisError as exc:
            logger.warning("pool %s: current order unavailable for the feed: %s", pool.slug, exc)
            order = None
        rows.append({
            "pool": pool.slug, "name": pool.name, "capability": pool.capability, "strategy": pool.strategy,
            "enabled": pool.enabled, "members": order, "head": order[0]["provider"] if order else None,
        })
    return rows


def open_alerts() -> list[dict[str, Any]]:
    alerts = Alert.objects.select_related("rule", "provider", "pool").filter(state=AlertState.OPEN)
    return [alert_payload(alert) for alert in alerts[:ALERTS_MAX]]


def provider_slugs() -> list[str]:
    return list(Provider.objects.order_by("slug").values_list("slug", flat=True))


async def health(r: redis.asyncio.Redis) -> dict[str, Any]:
    return {"providers": await database_sync_to_async(health_rows)()}


async def breakers(r: redis.asyncio.Redis) -> dict[str, Any]:
    slugs = await database_sync_to_async(provider_slugs)()
    states = await BreakerStore(r).states(slugs)
    return {"providers": [{"provider": slug, **states[slug].as_dict()} for slug in slugs]}


async def pools(r: redis.asyncio.Redis) -> dict[str, Any]:
    return {"pools": await database_sync_to_async(pool_rows)()}


async def alerts(r: redis.asyncio.Redis) -> dict[str, Any]:
    return {"alerts": await database_sync_to_async(open_alerts)()}


async def stats(r: redis.asyncio.Redis) -> dict[str, Any]:
    return {"summary": await feed_state.last_summary(r)}


async def prices(r: redis.asyncio.Redis, coin: str) -> dict[str, Any]:
    return {"coin": coin, "tick": await feed_state.last_tick(r, coin)}


_BY_CHANNEL = {events.HEALTH: health, events.BREAKERS: breakers, events.POOLS: pools, events.ALERTS: alerts,
               events.STATS: stats}


async def snapshot(channel: str, r: redis.asyncio.Redis) -> dict[str, Any]:
    """The `snapshot` message of one channel; `data` is null (and `error` says why) when its store is down."""
    message: dict[str, Any] = {"type": "snapshot", "channel": channel}
    coin = events.coin_of(channel)
    try:
        data = await (prices(r, coin) if coin is not None else _BY_CHANNEL[channel](r))
    except (redis.RedisError, OSError) as exc:
        logger.warning("feed snapshot of %s unavailable: %s", channel, exc)
        return {**message, "data": None, "error": "unavailable", "at": iso_precise(_now())}
    return {**message, "data": data, "at": iso_precise(_now())}


def _now() -> float:
    import time

    return time.time()
