"""Health, status and statistics reports as plain dicts, for /health, /api/status, /api/stats.

Views only serialize what these functions return, so the engine can add its own figures
(breaker states, cache hit rates) here later without touching the API. Redis being down never
raises out of this module: the reports say so instead.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import redis
from django.db import DatabaseError, connection
from django.db.models import Count, Q

from pools import state
from pools.models import Pool, PoolMembership, RotationEvent
from providers.models import Category, Provider
from providers.runtime import CONFIG_VERSION_KEY, rkey, sync_redis

logger = logging.getLogger(__name__)

# "Recent" rotations in the stats: the last day, in seconds.
RECENT_ROTATIONS_WINDOW_S = 24 * 3600

# Columns of the CSV export, one row per provider.
STATS_CSV_FIELDS = [
    "slug", "name", "category", "enabled", "key_required", "api_key_set", "pools",
    "recent_usage", "recent_latency_ms",
]


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except DatabaseError as exc:
        logger.warning("health: database unavailable: %s", exc)
        return False


def redis_ok(r: redis.Redis) -> bool:
    try:
        return bool(r.ping())
    except redis.RedisError as exc:
        logger.warning("health: redis unavailable: %s", exc)
        return False


def health_report(*, r: redis.Redis | None = None, now: float | None = None) -> dict[str, Any]:
    """Liveness plus whether the database and Redis answer; `status` is "ok" only if both do."""
    db = database_ok()
    rd = redis_ok(r or sync_redis())
    return {
        "status": "ok" if db and rd else "degraded",
        "database": "ok" if db else "down",
        "redis": "ok" if rd else "down",
        "time": _iso(time.time() if now is None else now),
    }


def _config_version(r: redis.Redis) -> int | None:
    try:
        raw = r.get(rkey(CONFIG_VERSION_KEY))
    except redis.RedisError:
        return None
    return int(raw) if raw is not None else 0


def status_report(*, r: redis.Redis | None = None, now: float | None = None) -> dict[str, Any]:
    """Catalogue counts and runtime state: what an operator checks first."""
    r = r or sync_redis()
    by_category = {c: {"total": 0, "enabled": 0} for c in Category.values}
    rows = Provider.objects.values("category").annotate(
        total=Count("id"), enabled=Count("id", filter=Q(enabled=True))
    )
    for row in rows:
        by_category[row["category"]] = {"total": row["total"], "enabled": row["enabled"]}
    # Keys live in the environment, so "is it set" is a per-provider check, not a query.
    missing_keys = [p.slug for p in Provider.objects.filter(enabled=True, key_required=True) if not p.api_key_is_set]
    pools = Pool.objects.aggregate(total=Count("id"), enabled=Count("id", filter=Q(enabled=True)))
    redis_up = redis_ok(r)
    return {
        "status": "ok" if redis_up else "degraded",
        "time": _iso(time.time() if now is None else now),
        "providers": {
            "total": sum(c["total"] for c in by_category.values()),
            "enabled": sum(c["enabled"] for c in by_category.values()),
            "by_category": by_category,
            "key_required_without_key": len(missing_keys),
            "key_required_without_key_slugs": missing_keys,
        },
        "pools": {"total": pools["total"], "enabled": pools["enabled"]},
        "runtime": {
            "redis": redis_up,
            "config_version": _config_version(r) if redis_up else None,
        },
    }


def _runtime_figures(r: redis.Redis, slugs: list[str], now: float) -> tuple[dict[str, int], dict[str, float], bool]:
    try:
        return state.recent_usage(r, slugs, now), state.recent_latency(r, slugs), True
    except redis.RedisError as exc:
        logger.warning("stats: runtime figures unavailable, Redis down: %s", exc)
        return {}, {}, False


def stats_report(*, r: redis.Redis | None = None, now: float | None = None) -> dict[str, Any]:
    """Catalogue counts, rotation counts, and recent usage/latency per provider and per pool."""
    r = r or sync_redis()
    now = time.time() if now is None else now
    providers = list(Provider.objects.annotate(pool_count=Count("memberships")).order_by("slug"))
    slugs = [p.slug for p in providers]
    usage, latency, redis_up = _runtime_figures(r, slugs, now)

    provider_rows = [
        {
            "slug": p.slug,
            "name": p.name,
            "category": p.category,
            "enabled": p.enabled,
            "key_required": p.key_required,
            "api_key_set": p.api_key_is_set,
            "pools": p.pool_count,
            "recent_usage": usage.get(p.slug, 0) if redis_up else None,
            "recent_latency_ms": round(latency[p.slug], 1) if p.slug in latency else None,
        }
        for p in providers
    ]

    since = datetime.fromtimestamp(now, UTC) - timedelta(seconds=RECENT_ROTATIONS_WINDOW_S)
    rotations = RotationEvent.objects.aggregate(total=Count("id"), recent=Count("id", filter=Q(created_at__gte=since)))
    members_by_pool: dict[int, list[str]] = {}
    eligible: Counter[int] = Counter()
    for pool_id, slug, enabled, provider_enabled in PoolMembership.objects.values_list(
        "pool_id", "provider__slug", "enabled", "provider__enabled"
    ):
        members_by_pool.setdefault(pool_id, []).append(slug)
        eligible[pool_id] += int(enabled and provider_enabled)
    pools = Pool.objects.annotate(
        member_count=Count("memberships", distinct=True),
        rotation_count=Count("rotations", distinct=True),
        recent_rotations=Count("rotations", filter=Q(rotations__created_at__gte=since), distinct=True),
    ).order_by("slug")
    pool_rows = [
        {
            "slug": pool.slug,
            "capability": pool.capability,
            "strategy": pool.strategy,
            "enabled": pool.enabled,
            "members": pool.member_count,
            "eligible_members": eligible[pool.pk],
            "rotations": pool.rotation_count,
            "recent_rotations": pool.recent_rotations,
            "recent_usage": sum(usage.get(s, 0) for s in members_by_pool.get(pool.pk, [])) if redis_up else None,
        }
        for pool in pools
    ]

    return {
        "generated_at": _iso(now),
        "usage_window_s": state.USAGE_WINDOW_S,
        "catalogue": {
            "providers": len(providers),
            "providers_enabled": sum(p.enabled for p in providers),
            "categories": len({p.category for p in providers}),
            "pools": len(pool_rows),
            "pools_enabled": sum(p["enabled"] for p in pool_rows),
            "memberships": sum(p["members"] for p in pool_rows),
        },
        "rotations": {
            "total": rotations["total"],
            "recent": rotations["recent"],
            "recent_window_s": RECENT_ROTATIONS_WINDOW_S,
        },
        "providers": provider_rows,
        "pools": pool_rows,
        "runtime": {"redis": redis_up},
    }


def stats_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The stats flattened for CSV: one row per provider, STATS_CSV_FIELDS columns."""
    return [{field: row.get(field) for field in STATS_CSV_FIELDS} for row in report["providers"]]
