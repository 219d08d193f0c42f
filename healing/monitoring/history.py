"""Health history and usage history: latest checks, uptime, hourly roll-ups, pruning, exports.

The sweep (healing.monitoring.sweep) writes HealthCheck rows; this module reads them back
(latest check per provider, uptime per window, a provider's history) and keeps the hourly
StatsRollup rows, written from the live Redis counters (`live_totals`) and exported as plain rows.
`history_prune` keeps both tables within their retention.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import redis
import redis.asyncio
from django.conf import settings
from django.db.models import Count, F, OuterRef, Q, Subquery

from healing.engine import stats
from healing.models.monitoring import Alert, AlertDelivery, AlertState, HealthCheck, StatsRollup
from pools.models import Pool, PoolMembership
from providers.measures import iso_precise, percentile
from providers.models import Provider
from providers.runtime import rkey, sync_redis

logger = logging.getLogger(__name__)

# Uptime windows.
UPTIME_WINDOWS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}
# Default history retention in days (settings.CRYPTOHUB_HISTORY_DAYS); uptime needs 30.
DEFAULT_HISTORY_DAYS = 35
# Default roll-up retention in days (settings.CRYPTOHUB_ROLLUP_DAYS).
DEFAULT_ROLLUP_DAYS = 400
# Rows deleted per statement when pruning, so SQLite never holds its write lock for long.
PRUNE_BATCH = 5000
# Hour baselines of the live counters are kept this long in Redis (seconds).
ROLLUP_BASE_TTL_S = 3 * 86400
GATEWAY = "_gateway"  # the totals key of the whole gateway (cache counters)


def _utcnow() -> datetime:
    return datetime.now(UTC)


# --- latest checks ------------------------------------------------------------------------------


def latest_checks(provider_ids: Iterable[int], *, include_skipped: bool = True) -> dict[int, dict[str, Any]]:
    """Each provider's latest check (ok, streak, skipped...), in one query. Alerting reads it with
    skipped checks included; the sweep's streaks count only checks that were made."""
    checks = HealthCheck.objects.filter(provider_id=OuterRef("pk"))
    if not include_skipped:
        checks = checks.filter(skipped=False)
    checks = checks.order_by("-checked_at", "-id")
    rows = Provider.objects.filter(pk__in=list(provider_ids)).annotate(
        last_id=Subquery(checks.values("id")[:1]),
    ).values_list("pk", "last_id")
    last_ids = {pk: last for pk, last in rows if last is not None}
    by_id = HealthCheck.objects.in_bulk(list(last_ids.values()))
    return {
        pk: {"ok": c.ok, "streak": c.streak, "skipped": c.skipped, "checked_at": c.checked_at,
             "error_class": c.error_class, "message": c.message}
        for pk, cid in last_ids.items() if (c := by_id.get(cid)) is not None
    }


# --- uptime -------------------------------------------------------------------------------------


def _pct(up: int, total: int) -> float | None:
    return round(100.0 * up / total, 3) if total else None


def provider_uptime(slugs: Iterable[str] | None = None, *, now: datetime | None = None) -> dict[str, dict]:
    """Uptime % per provider for 24 h / 7 d / 30 d (None when there is no check in the window).
    Skipped checks (no key) are neither up nor down."""
    now = now or _utcnow()
    out: dict[str, dict] = {}
    base = HealthCheck.objects.filter(skipped=False, checked_at__lte=now)
    if slugs is not None:
        slugs = list(slugs)
        base = base.filter(provider__slug__in=slugs)
        out = {s: {w: None for w in UPTIME_WINDOWS} for s in slugs}
    for name, span in UPTIME_WINDOWS.items():
        rows = (base.filter(checked_at__gt=now - span).values("provider__slug")
                .annotate(total=Count("id"), up=Count("id", filter=Q(ok=True))))
        for row in rows:
            windows = out.setdefault(row["provider__slug"], {w: None for w in UPTIME_WINDOWS})
            windows[name] = _pct(row["up"], row["total"])
    return out


def pool_uptime(pool: Pool | str, *, now: datetime | None = None) -> dict[str, float | None]:
    """A pool is up at a sweep when any member answered; uptime % of sweeps per window.

    Every row of one sweep shares `checked_at`, so counting distinct sweep times counts sweeps.
    """
    now = now or _utcnow()
    pool = pool if isinstance(pool, Pool) else Pool.objects.get(slug=pool)
    members = PoolMembership.objects.filter(pool=pool, enabled=True).values("provider_id")
    base = HealthCheck.objects.filter(provider_id__in=members, skipped=False, manual=False, checked_at__lte=now)
    out = {}
    for name, span in UPTIME_WINDOWS.items():
        agg = base.filter(checked_at__gt=now - span).aggregate(
            total=Count("checked_at", distinct=True),
            up=Count("checked_at", distinct=True, filter=Q(ok=True)),
        )
        out[name] = _pct(agg["up"], agg["total"])
    return out


def health_history(provider: Provider, *, since: datetime, limit: int = 1000) -> list[dict[str, Any]]:
    """A provider's checks since `since`, newest first, as plain dicts."""
    rows = (HealthCheck.objects.filter(provider=provider, checked_at__gte=since)
            .order_by("-checked_at", "-id")[:limit])
    return [
        {"checked_at": iso_precise(c.checked_at), "ok": c.ok, "skipped": c.skipped, "status_code": c.status_code,
         "latency_ms": c.latency_ms, "error_class": c.error_class, "message": c.message}
        for c in rows
    ]


# --- live totals (Redis) ------------------------------------------------------------------------


def cache_stats_key() -> str:
    """Hash of cache counters, fields "hit:<capability>", "miss:<capability>", "stale:<capability>"
    (HINCRBY by the engine)."""
    return rkey("stats", "cache")


async def read_live_totals(redis_url: str, slugs: list[str]) -> dict[str, dict]:
    """`live_totals` for callers already in an event loop (one client of their own, closed after)."""
    r = redis.asyncio.Redis.from_url(redis_url)
    try:
        live = await stats.read_stats(r, slugs)
        pipe = r.pipeline(transaction=False)
        for slug in slugs:
            pipe.lrange(stats.latency_key(slug), 0, -1)
        pipe.hgetall(cache_stats_key())
        raw = await pipe.execute()
    finally:
        await r.aclose()
    out: dict[str, dict] = {}
    for slug, samples_raw in zip(slugs, raw[:-1]):
        row = live.get(slug) or {}
        samples = sorted(float(v) for v in samples_raw)
        out[slug] = {
            "counters": {"requests": row.get("requests", 0), "ok": row.get("ok", 0),
                         "outcomes": dict(row.get("failures") or {})},
            "samples": samples,
            "p50_ms": percentile(samples, 0.5),
            "p95_ms": percentile(samples, 0.95),
        }
    cache: dict[str, int] = {}
    for k, v in raw[-1].items():
        key = k.decode() if isinstance(k, bytes) else k
        cache[key] = int(v)
    out[GATEWAY] = {"counters": {
        "cache_hits": sum(v for k, v in cache.items() if k.startswith("hit:")),
        "cache_misses": sum(v for k, v in cache.items() if k.startswith("miss:")),
    }, "cache": cache}
    return out


def live_totals(slugs: Sequence[str]) -> dict[str, dict]:
    """The live Redis counters per provider (plus GATEWAY: cache counters), as plain data."""
    return asyncio.run(read_live_totals(settings.REDIS_URL, list(slugs)))


# --- hourly roll-ups of the live counters -------------------------------------------------------


def _hour(dt: datetime) -> datetime:
    return dt.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _rollup_base_key(slug: str, hour: datetime) -> str:
    return rkey("rollup", "base", slug, int(hour.timestamp()))


def _delta(now_totals: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """Counters since the baseline; a counter that went backwards (Redis flushed) restarts at 0."""
    out: dict[str, Any] = {}
    for key, value in now_totals.items():
        if isinstance(value, dict):
            out[key] = _delta(value, base.get(key) or {})
        elif isinstance(value, (int, float)):
            before = base.get(key, 0) or 0
            out[key] = value - before if value >= before else value
    return out


def stats_rollup(*, now: datetime | None = None, r: redis.Redis | None = None,
                 totals: dict[str, dict] | None = None) -> int:
    """Write this hour's StatsRollup rows from the live Redis counters; returns rows written.

    The counters only ever grow, so the first run in an hour stores the totals as that hour's
    baseline (in Redis) and also closes the previous hour (its baseline to this one). Every run
    rewrites the current hour's row (update_or_create): running it twice changes nothing.
    """
    now = now or _utcnow()
    r = r or sync_redis()
    hour = _hour(now)
    previous_hour = hour - timedelta(hours=1)
    ids: dict[str, int | None] = dict(Provider.objects.values_list("slug", "pk"))
    totals = totals if totals is not None else live_totals(list(ids))
    ids[GATEWAY] = None
    written = 0
    for slug, current in totals.items():
        if slug not in ids or not current:
            continue
        base_key = _rollup_base_key(slug, hour)
        # SET NX: the first run of the hour wins; later runs read the same baseline.
        r.set(base_key, json.dumps(current["counters"]), nx=True, ex=ROLLUP_BASE_TTL_S)
        base = json.loads(r.get(base_key) or "{}")
        prev_raw = r.get(_rollup_base_key(slug, previous_hour))
        if prev_raw is not None:
            _write_rollup(ids[slug], previous_hour, _delta(base, json.loads(prev_raw)), None)
        _write_rollup(ids[slug], hour, _delta(current["counters"], base), current)
        written += 1
    return written


def _write_rollup(provider_id: int | None, hour: datetime, counts: dict[str, Any], live: dict | None) -> None:
    requests = int(counts.get("requests", 0))
    ok = int(counts.get("ok", 0))
    hits, misses = int(counts.get("cache_hits", 0)), int(counts.get("cache_misses", 0))
    defaults: dict[str, Any] = {
        "requests": requests, "ok": ok, "failures": max(0, requests - ok),
        "outcomes": {k: int(v) for k, v in (counts.get("outcomes") or {}).items() if v},
        "success_rate": round(ok / requests, 4) if requests else None,
        "cache_hits": hits, "cache_misses": misses,
        "cache_hit_ratio": round(hits / (hits + misses), 4) if hits + misses else None,
    }
    if live is not None and provider_id is not None:
        # Latency percentiles are of the recent samples, so they belong to the hour being written.
        defaults["latency_p50_ms"] = live.get("p50_ms")
        defaults["latency_p95_ms"] = live.get("p95_ms")
    StatsRollup.objects.update_or_create(provider_id=provider_id, hour=hour, defaults=defaults)


# --- pruning ------------------------------------------------------------------------------------


def history_prune(*, now: datetime | None = None, days: int | None = None, rollup_days: int | None = None) -> dict:
    """Delete health checks, resolved alerts and test deliveries older than `days`, and roll-ups
    older than `rollup_days`. Returns the rows deleted per kind."""
    now = now or _utcnow()
    days = days if days is not None else int(getattr(settings, "CRYPTOHUB_HISTORY_DAYS", DEFAULT_HISTORY_DAYS))
    rollup_days = rollup_days if rollup_days is not None else int(
        getattr(settings, "CRYPTOHUB_ROLLUP_DAYS", DEFAULT_ROLLUP_DAYS))
    cutoff = now - timedelta(days=days)
    deleted = {
        "health_checks": _delete_in_batches(HealthCheck.objects.filter(checked_at__lt=cutoff)),
        "alerts": Alert.objects.filter(state=AlertState.RESOLVED, resolved_at__lt=cutoff).delete()[0],
        "deliveries": AlertDelivery.objects.filter(alert__isnull=True, created_at__lt=cutoff).delete()[0],
        "rollups": StatsRollup.objects.filter(hour__lt=now - timedelta(days=rollup_days)).delete()[0],
    }
    logger.info("history pruned (older than %d days): %s", days, deleted)
    return deleted


def _delete_in_batches(qs) -> int:
    total = 0
    while True:
        ids = list(qs.values_list("pk", flat=True)[:PRUNE_BATCH])
        if not ids:
            return total
        total += HealthCheck.objects.filter(pk__in=ids).delete()[0]


# --- roll-up rows for the exports ---------------------------------------------------------------

ROLLUP_FIELDS = [
    "hour", "provider", "requests", "ok", "failures", "success_rate", "latency_p50_ms", "latency_p95_ms",
    "cache_hits", "cache_misses", "cache_hit_ratio", "outcomes",
]


# Roll-up rows fetched per query when iterating (an export of a year never sits in memory).
ROLLUP_CHUNK = 2000


def rollup_rows(*, since: datetime | None = None) -> list[dict[str, Any]]:
    """StatsRollup rows as plain dicts (oldest first), "provider" empty for the gateway row."""
    return list(iter_rollup_rows(since=since))


def iter_rollup_rows(*, since: datetime | None = None) -> Iterator[dict[str, Any]]:
    """rollup_rows() one row at a time, read from the database in chunks."""
    # The gateway row (no provider) first in its hour on every database (PostgreSQL sorts NULL last).
    qs = StatsRollup.objects.select_related("provider").order_by("hour", F("provider__slug").asc(nulls_first=True))
    if since is not None:
        qs = qs.filter(hour__gte=since)
    for row in qs.iterator(chunk_size=ROLLUP_CHUNK):
        yield {"hour": iso_precise(row.hour), "provider": row.provider.slug if row.provider_id else "",
               "requests": row.requests, "ok": row.ok, "failures": row.failures, "success_rate": row.success_rate,
               "latency_p50_ms": row.latency_p50_ms, "latency_p95_ms": row.latency_p95_ms,
               "cache_hits": row.cache_hits, "cache_misses": row.cache_misses,
               "cache_hit_ratio": row.cache_hit_ratio, "outcomes": row.outcomes}
