"""Health, status and statistics reports as plain dicts, for /health, /api/status, /api/stats,
and the roll-up export behind /api/stats/export and `manage.py export_stats`.

Views only serialize what these functions return, so the engine can add its own figures
(breaker states, cache hit rates) here later without touching the API. Redis being down never
raises out of this module: the reports say so instead. The stats combine the live part (Redis:
recent usage and latency) with history (database: hourly roll-ups, uptime from health checks).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import redis
from django.db import DatabaseError, connection
from django.db.models import Count, Q
from django.utils.dateparse import parse_date, parse_datetime

from healing.models.monitoring import StatsRollup
from healing.monitoring import history
from pools import state
from pools.models import Pool, PoolMembership, RotationEvent
from providers.measures import iso_precise
from providers.models import Category, Provider
from providers.runtime import CONFIG_VERSION_KEY, rkey, sync_redis

logger = logging.getLogger(__name__)

# "Recent" rotations in the stats: the last day, in seconds.
RECENT_ROTATIONS_WINDOW_S = 24 * 3600

# Roll-up window of /api/stats when neither ?hours= nor ?since= is given (hours).
DEFAULT_ROLLUP_HOURS = 24
# Largest ?hours= accepted: ten years, far past the roll-up retention, and small enough that
# the date arithmetic cannot overflow.
MAX_ROLLUP_HOURS = 24 * 3650
# Export formats: CSV (a header, one line per provider per hour) and JSON (the same rows).
EXPORT_FORMATS = ("csv", "json")
# Rows written per chunk of an export: big enough to keep the per-chunk overhead small, small
# enough that a streamed download starts at once.
EXPORT_CHUNK_ROWS = 500


class BadParameter(ValueError):
    """A query or command parameter that cannot be used; `field` names it for the 400 answer."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


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
        "time": iso_precise(time.time() if now is None else now),
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
        "time": iso_precise(time.time() if now is None else now),
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


def stats_report(*, r: redis.Redis | None = None, now: float | None = None,
                 since: datetime | None = None) -> dict[str, Any]:
    """Catalogue counts, rotation counts, recent usage/latency per provider and per pool (live,
    from Redis), and history from the database: the hourly roll-ups since `since` (default: the
    last DEFAULT_ROLLUP_HOURS) and uptime over 24 h / 7 d / 30 d per provider and per pool."""
    r = r or sync_redis()
    now = time.time() if now is None else now
    now_dt = datetime.fromtimestamp(now, UTC)
    since = since if since is not None else now_dt - timedelta(hours=DEFAULT_ROLLUP_HOURS)
    providers = list(Provider.objects.annotate(pool_count=Count("memberships")).order_by("slug"))
    usage, latency, redis_up = _runtime_figures(r, [p.slug for p in providers], now)
    rollups = rollup_report(since=since, now=now_dt)
    provider_rows = _provider_rows(providers, usage if redis_up else None, latency, rollups, now_dt)
    recent = now_dt - timedelta(seconds=RECENT_ROTATIONS_WINDOW_S)
    pool_rows = _pool_rows(usage if redis_up else None, recent, now_dt)
    rotations = RotationEvent.objects.aggregate(total=Count("id"), recent=Count("id", filter=Q(created_at__gte=recent)))
    return {
        "generated_at": iso_precise(now),
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
        "rollups": {k: v for k, v in rollups.items() if k != "providers"},
        "uptime_windows": list(history.UPTIME_WINDOWS),
        "runtime": {"redis": redis_up},
    }


def _provider_rows(providers: list[Provider], usage: dict[str, int] | None, latency: dict[str, float],
                   rollups: dict[str, Any], now: datetime) -> list[dict[str, Any]]:
    """One stats row per provider; `usage` None when Redis is down (recent usage unknown)."""
    uptime = history.provider_uptime([p.slug for p in providers], now=now)
    no_traffic = rollup_summary([])
    return [
        {
            "slug": p.slug,
            "name": p.name,
            "category": p.category,
            "enabled": p.enabled,
            "key_required": p.key_required,
            "api_key_set": p.api_key_is_set,
            "pools": p.pool_count,
            "recent_usage": usage.get(p.slug, 0) if usage is not None else None,
            "recent_latency_ms": round(latency[p.slug], 1) if p.slug in latency else None,
            "rollup": rollups["providers"].get(p.slug, no_traffic),
            "uptime": uptime[p.slug],
        }
        for p in providers
    ]


def _pool_rows(usage: dict[str, int] | None, recent: datetime, now: datetime) -> list[dict[str, Any]]:
    """One stats row per pool: members, eligible members, rotations (all, and since `recent`),
    the members' recent usage (None when Redis is down) and uptime."""
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
        recent_rotations=Count("rotations", filter=Q(rotations__created_at__gte=recent), distinct=True),
    ).order_by("slug")
    return [
        {
            "slug": pool.slug,
            "capability": pool.capability,
            "strategy": pool.strategy,
            "enabled": pool.enabled,
            "members": pool.member_count,
            "eligible_members": eligible[pool.pk],
            "rotations": pool.rotation_count,
            "recent_rotations": pool.recent_rotations,
            "recent_usage": sum(usage.get(s, 0) for s in members_by_pool.get(pool.pk, []))
            if usage is not None else None,
            "uptime": history.pool_uptime(pool, now=now),
        }
        for pool in pools
    ]


# --- hourly roll-ups and uptime ------------------------------------------------------------------


def parse_window(*, since: str | None = None, hours: str | int | None = None, now: datetime,
                 default_hours: int | None = DEFAULT_ROLLUP_HOURS) -> datetime | None:
    """The start of a roll-up window: `since` (ISO-8601 date or date-time, naive means UTC) or
    the last `hours` hours; neither gives `default_hours` (None: no limit). Raises BadParameter."""
    since = since.strip() if isinstance(since, str) else since
    hours = hours.strip() if isinstance(hours, str) else hours
    if since and hours not in (None, ""):
        raise BadParameter("since", "give either since or hours, not both")
    if since:
        try:
            # An unencoded "+00:00" in a query string arrives as a space.
            parsed = parse_datetime(since.replace(" ", "+"))
            if parsed is None and (day := parse_date(since)) is not None:
                parsed = datetime(day.year, day.month, day.day)
        except ValueError:
            parsed = None
        if parsed is None:
            raise BadParameter("since", f"expected an ISO-8601 date or date-time, got {since!r}")
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if hours not in (None, ""):
        text = str(hours)
        if not text.isdigit() or not 1 <= int(text) <= MAX_ROLLUP_HOURS:
            raise BadParameter("hours", f"must be a whole number of hours from 1 to {MAX_ROLLUP_HOURS}, got {text!r}")
        return now - timedelta(hours=int(text))
    return None if default_hours is None else now - timedelta(hours=default_hours)


def _weighted(rows: list[dict[str, Any]], field: str) -> float | None:
    """Request-weighted mean of an hourly figure. Percentiles of different hours cannot be merged
    exactly (the samples are gone); weighting by traffic keeps a quiet hour from counting as much
    as a busy one. The hourly rows keep the exact figures."""
    pairs = [(row[field], row["requests"]) for row in rows if row.get(field) is not None and row["requests"]]
    weight = sum(w for _, w in pairs)
    return round(sum(v * w for v, w in pairs) / weight, 1) if weight else None


def rollup_summary(rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Totals of roll-up rows (requests, success rate, latency p50/p95, cache hit ratio).

    Provider rows carry requests and latency, the gateway row carries the cache counters, so
    the summary of an hour's rows (all providers plus the gateway) is the whole gateway's hour.
    """
    rows = list(rows)
    requests = sum(r["requests"] for r in rows)
    ok = sum(r["ok"] for r in rows)
    hits = sum(r["cache_hits"] for r in rows)
    misses = sum(r["cache_misses"] for r in rows)
    return {
        "requests": requests, "ok": ok, "failures": sum(r["failures"] for r in rows),
        "success_rate": round(ok / requests, 4) if requests else None,
        "latency_p50_ms": _weighted(rows, "latency_p50_ms"),
        "latency_p95_ms": _weighted(rows, "latency_p95_ms"),
        "cache_hits": hits, "cache_misses": misses,
        "cache_hit_ratio": round(hits / (hits + misses), 4) if hits + misses else None,
    }


def rollup_report(*, since: datetime, now: datetime) -> dict[str, Any]:
    """The hourly roll-ups since `since`: per provider and gateway totals, and the gateway by hour."""
    rows = history.rollup_rows(since=since)
    by_provider: dict[str, list[dict[str, Any]]] = defaultdict(list)
    by_hour: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        if row["provider"]:
            by_provider[row["provider"]].append(row)
        by_hour[row["hour"]].append(row)
    return {
        "since": iso_precise(since),
        "until": iso_precise(now),
        "hours_with_data": len(by_hour),
        "gateway": rollup_summary(rows),
        "providers": {slug: rollup_summary(provider_rows) for slug, provider_rows in sorted(by_provider.items())},
        "hourly": [{"hour": hour, **rollup_summary(hour_rows)} for hour, hour_rows in sorted(by_hour.items())],
    }


def export_rollups(fmt: str, *, since: datetime | None = None,
                   on_row: Callable[[], None] | None = None) -> Iterator[str]:
    """The roll-ups since `since` as text chunks: CSV (a header, then one line per provider per
    hour; the gateway's line has an empty provider) or JSON (an array of the same rows, one per
    line). /api/stats/export streams it and `manage.py export_stats` writes it, so both give the
    same bytes. Rows are read in chunks, so a long history never sits in memory at once."""
    if fmt not in EXPORT_FORMATS:
        raise BadParameter("format", f"must be one of {list(EXPORT_FORMATS)}, got {fmt!r}")
    rows = history.iter_rollup_rows(since=since)
    return _csv_chunks(rows, on_row) if fmt == "csv" else _json_chunks(rows, on_row)


def _csv_chunks(rows: Iterable[dict[str, Any]], on_row: Callable[[], None] | None) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=history.ROLLUP_FIELDS)
    writer.writeheader()
    for n, row in enumerate(rows, 1):
        # A nested mapping in one CSV cell: JSON, keys sorted so equal hours give equal text.
        writer.writerow({**row, "outcomes": json.dumps(row["outcomes"] or {}, sort_keys=True)})
        if on_row is not None:
            on_row()
        if n % EXPORT_CHUNK_ROWS == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _json_chunks(rows: Iterable[dict[str, Any]], on_row: Callable[[], None] | None) -> Iterator[str]:
    parts = ["["]
    n = 0
    for n, row in enumerate(rows, 1):
        parts.append(("\n" if n == 1 else ",\n") + json.dumps(row, sort_keys=True))
        if on_row is not None:
            on_row()
        if n % EXPORT_CHUNK_ROWS == 0:
            yield "".join(parts)
            parts = []
    parts.append("\n]\n" if n else "]\n")
    yield "".join(parts)


def rollup_count(*, since: datetime | None = None) -> int:
    """How many rows export_rollups(since=...) writes (for a progress bar)."""
    qs = StatsRollup.objects.all()
    return (qs.filter(hour__gte=since) if since is not None else qs).count()
