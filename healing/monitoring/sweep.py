"""Health history: the sweep (read, probe, write), flips, uptime, hourly roll-ups and pruning.

The sweep follows STYLE §3: read the enabled providers once as plain configs, fan out the probes
asynchronously (healing.monitoring.probes, no ORM), then write every result in one transaction. A provider
whose state flips (up -> down or back) is published to the live feed after the commit. A Redis
lock keeps a second sweep from overlapping a running one, whichever process starts it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import math
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import redis
from django.conf import settings
from django.db import transaction
from django.db.models import Count, OuterRef, Q, Subquery

from healing.engine.config import ProviderConfig
from healing.models.monitoring import HealthCheck, StatsRollup
from healing.monitoring.probes import DEFAULT_CONCURRENCY, DEFAULT_PROBE_TIMEOUT_S, ProbeResult, run_probe_cycle
from pools.models import Pool, PoolMembership
from providers.models import Provider
from providers.runtime import rkey, sync_redis

logger = logging.getLogger(__name__)

# The live feed's group and event type (STYLE §5: "provider.status" -> consumer.provider_status).
STATUS_GROUP = "provider-status"
STATUS_EVENT = "provider.status"
# Lock TTL in seconds: longer than the slowest possible sweep (the task's hard time limit), so
# a crashed sweep frees the lock by itself and a running one is never overlapped.
SWEEP_LOCK_TTL_S = 150
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

_RELEASE_LOCK = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end
"""


def _utcnow() -> datetime:
    return datetime.now(UTC)


def iso_utc(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


# Provider columns a ProviderConfig is built from (the dataclass mirrors the model's fields).
_CONFIG_FIELDS = tuple(f.name for f in dataclasses.fields(ProviderConfig))

# --- read ---------------------------------------------------------------------------------------


def sweep_configs(*, slugs: Iterable[str] | None = None, category: str | None = None) -> list[ProviderConfig]:
    """Enabled providers with a health path, as plain configs (one query)."""
    qs = Provider.objects.enabled().exclude(health_path="")
    if slugs:
        qs = qs.filter(slug__in=list(slugs))
    if category:
        qs = qs.filter(category=category)
    return [ProviderConfig(**row) for row in qs.order_by("slug").values(*_CONFIG_FIELDS)]


# --- write --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Flip:
    """A provider that changed state with this sweep (previous None: its first check)."""

    slug: str
    status: str  # "up" | "down"
    previous: str | None
    at: datetime
    latency_ms: float | None = None
    error_class: str = ""
    message: str = ""

    def payload(self) -> dict[str, Any]:
        """The one shape of a provider.status event (live feed, webhooks)."""
        return {
            "provider": self.slug, "status": self.status, "previous": self.previous, "at": iso_utc(self.at),
            "latency_ms": self.latency_ms, "error_class": self.error_class, "message": self.message,
        }


def _latest(provider_ids: Iterable[int], *, include_skipped: bool) -> dict[int, dict[str, Any]]:
    """Each provider's latest check (ok, streak, skipped...), in one query."""
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


def latest_checks(provider_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """The latest check per provider, skipped ones included (alerting reads this)."""
    return _latest(provider_ids, include_skipped=True)


def probe_results_record(results: Sequence[ProbeResult], *, checked_at: datetime) -> list[Flip]:
    """Write one sweep's results as HealthCheck rows in one transaction; return the flips.

    Flips are published to the live feed once the transaction commits.
    """
    slugs = {r.slug for r in results}
    ids = dict(Provider.objects.filter(slug__in=slugs).values_list("slug", "pk"))
    flips: list[Flip] = []
    with transaction.atomic():
        previous = _latest(ids.values(), include_skipped=False)
        rows = []
        for r in results:
            pk = ids.get(r.slug)
            if pk is None:  # deleted while the sweep ran
                continue
            prev = previous.get(pk)
            if r.skipped:
                streak = 0
            else:
                streak = prev["streak"] + 1 if prev is not None and prev["ok"] == r.ok else 1
                was = None if prev is None else ("up" if prev["ok"] else "down")
                now_status = "up" if r.ok else "down"
                # A first check that comes back up is no news; a first check that is down is.
                if was != now_status and not (was is None and r.ok):
                    flips.append(Flip(r.slug, now_status, was, checked_at, r.latency_ms, r.error_class, r.message))
            rows.append(HealthCheck(
                provider_id=pk, checked_at=checked_at, ok=r.ok, skipped=r.skipped, status_code=r.status_code,
                latency_ms=r.latency_ms, error_class=r.error_class[:40], message=r.message[:300], streak=streak,
            ))
        HealthCheck.objects.bulk_create(rows, batch_size=500)
        if flips:
            transaction.on_commit(lambda: publish_status(flips))
    return flips


def publish_status(flips: Sequence[Flip]) -> None:
    """Send each flip to the live feed group; the feed being down never fails a sweep."""
    try:
        from asgiref.sync import async_to_sync
        from channels.layers import get_channel_layer

        layer = get_channel_layer()
        if layer is None:
            return

        async def send_all() -> None:
            for flip in flips:
                await layer.group_send(STATUS_GROUP, {"type": STATUS_EVENT, "payload": flip.payload()})

        async_to_sync(send_all)()
    except Exception as exc:
        logger.warning("provider status events not published (%d flips): %s", len(flips), exc)


# --- the sweep ----------------------------------------------------------------------------------


@dataclass
class SweepReport:
    started_at: datetime
    duration_s: float = 0.0
    results: list[ProbeResult] = field(default_factory=list)
    flips: list[Flip] = field(default_factory=list)
    locked_out: bool = False  # another sweep was running: nothing was done

    @property
    def up(self) -> int:
        return sum(1 for r in self.results if r.ok)

    @property
    def down(self) -> int:
        return sum(1 for r in self.results if not r.ok and not r.skipped)

    @property
    def skipped(self) -> int:
        return sum(1 for r in self.results if r.skipped)

    def summary(self) -> dict[str, Any]:
        return {"probed": len(self.results), "up": self.up, "down": self.down, "skipped": self.skipped,
                "flips": len(self.flips), "duration_s": round(self.duration_s, 3), "locked_out": self.locked_out}


def sweep_lock_key() -> str:
    return rkey("sweep", "lock")


def sweep_last_key() -> str:
    return rkey("sweep", "last")


def sweep_run(
    *,
    slugs: Iterable[str] | None = None,
    category: str | None = None,
    on_result: Callable[[ProbeResult], None] | None = None,
    on_targets: Callable[[int], None] | None = None,
    r: redis.Redis | None = None,
) -> SweepReport:
    """One health sweep, end to end. Unless another sweep holds the lock (then `locked_out`)."""
    r = r or sync_redis()
    report = SweepReport(started_at=_utcnow())
    token = uuid.uuid4().hex
    ttl = int(getattr(settings, "CRYPTOHUB_SWEEP_LOCK_TTL_S", SWEEP_LOCK_TTL_S))
    if not r.set(sweep_lock_key(), token, nx=True, ex=ttl):
        logger.info("health sweep skipped: another sweep is running")
        report.locked_out = True
        return report
    t0 = time.perf_counter()
    try:
        configs = sweep_configs(slugs=slugs, category=category)
        if on_targets is not None:
            on_targets(len(configs))
        report.results = asyncio.run(run_probe_cycle(
            configs,
            redis_url=settings.REDIS_URL,
            concurrency=int(getattr(settings, "CRYPTOHUB_SWEEP_CONCURRENCY", DEFAULT_CONCURRENCY)),
            timeout_s=float(getattr(settings, "CRYPTOHUB_HEALTH_TIMEOUT_S", DEFAULT_PROBE_TIMEOUT_S)),
            on_result=on_result,
        ))
        report.flips = probe_results_record(report.results, checked_at=report.started_at)
        report.duration_s = time.perf_counter() - t0
        _remember_sweep(r, report)
    finally:
        r.eval(_RELEASE_LOCK, 1, sweep_lock_key(), token)
    logger.info("health sweep: %s", report.summary())
    return report


def health_sweep(
    *,
    slugs: Iterable[str] | None = None,
    category: str | None = None,
    on_result: Callable[[ProbeResult], None] | None = None,
    on_targets: Callable[[int], None] | None = None,
) -> SweepReport:
    """What the beat task and `manage.py healthcheck` both run: refresh the drained set, sweep,
    then evaluate alerts (deliveries go to Celery, so a slow channel never holds the sweep)."""
    from healing.monitoring import alerts, maintenance
    try:
        maintenance.maintenance_sync()
    except redis.RedisError as exc:
        logger.warning("maintenance windows not synced: %s", exc)
    report = sweep_run(slugs=slugs, category=category, on_result=on_result, on_targets=on_targets)
    if not report.locked_out:
        try:
            alerts.alerts_evaluate()
        except Exception:  # alerting must never lose the sweep's history
            logger.exception("alert evaluation after the sweep failed")
    return report


def _remember_sweep(r: redis.Redis, report: SweepReport) -> None:
    """The last sweep's figures, for /metrics (any process may serve the scrape)."""
    try:
        r.hset(sweep_last_key(), mapping={
            "started_at": report.started_at.timestamp(), "duration_s": report.duration_s,
            "probed": len(report.results), "up": report.up, "down": report.down, "skipped": report.skipped,
        })
    except redis.RedisError as exc:
        logger.warning("sweep figures not stored: %s", exc)


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
            out.setdefault(row["provider__slug"], {w: None for w in UPTIME_WINDOWS})[name] = _pct(row["up"], row["total"])
    return out


def pool_uptime(pool: Pool | str, *, now: datetime | None = None) -> dict[str, float | None]:
    """A pool is up at a sweep when any member answered; uptime % of sweeps per window.

    Every row of one sweep shares `checked_at`, so counting distinct sweep times counts sweeps.
    """
    now = now or _utcnow()
    pool = pool if isinstance(pool, Pool) else Pool.objects.get(slug=pool)
    members = PoolMembership.objects.filter(pool=pool, enabled=True).values("provider_id")
    base = HealthCheck.objects.filter(provider_id__in=members, skipped=False, checked_at__lte=now)
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
        {"checked_at": iso_utc(c.checked_at), "ok": c.ok, "skipped": c.skipped, "status_code": c.status_code,
         "latency_ms": c.latency_ms, "error_class": c.error_class, "message": c.message}
        for c in rows
    ]


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


GATEWAY = "_gateway"  # the totals key of the whole gateway (cache counters)


def cache_stats_key() -> str:
    """Hash of cache counters, fields "hit:<capability>", "miss:<capability>", "stale:<capability>"
    (HINCRBY by the engine)."""
    return rkey("stats", "cache")


def _percentile(sorted_samples: list[float], pct: float) -> float | None:
    if not sorted_samples:
        return None
    return sorted_samples[max(0, math.ceil(pct * len(sorted_samples)) - 1)]


async def _aread_live(redis_url: str, slugs: list[str]) -> dict[str, dict]:
    import redis.asyncio

    from healing.engine import stats
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
            "p50_ms": _percentile(samples, 0.5),
            "p95_ms": _percentile(samples, 0.95),
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
    return asyncio.run(_aread_live(settings.REDIS_URL, list(slugs)))


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
    from healing.models.monitoring import Alert, AlertDelivery, AlertState

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


# --- exports and breaker wrappers for the commands -----------------------------------------------

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
    qs = StatsRollup.objects.select_related("provider").order_by("hour", "provider__slug")
    if since is not None:
        qs = qs.filter(hour__gte=since)
    for row in qs.iterator(chunk_size=ROLLUP_CHUNK):
        yield {"hour": iso_utc(row.hour), "provider": row.provider.slug if row.provider_id else "",
               "requests": row.requests, "ok": row.ok, "failures": row.failures, "success_rate": row.success_rate,
               "latency_p50_ms": row.latency_p50_ms, "latency_p95_ms": row.latency_p95_ms,
               "cache_hits": row.cache_hits, "cache_misses": row.cache_misses,
               "cache_hit_ratio": row.cache_hit_ratio, "outcomes": row.outcomes}


async def _with_breakers(fn: Callable[[Any], Any]) -> Any:
    import redis.asyncio

    from healing.engine.breaker import BreakerStore

    r = redis.asyncio.Redis.from_url(settings.REDIS_URL)
    try:
        return await fn(BreakerStore(r))
    finally:
        await r.aclose()


def breaker_states(slugs: Sequence[str]) -> dict[str, Any]:
    """slug -> BreakerState (sync, for commands and admin)."""
    return asyncio.run(_with_breakers(lambda store: store.states(slugs)))


def breaker_reset(slug: str) -> None:
    asyncio.run(_with_breakers(lambda store: store.reset(slug)))
