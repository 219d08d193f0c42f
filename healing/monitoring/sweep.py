"""The health sweep: read, probe, write, flips, and the lock that keeps two sweeps apart.

The sweep follows STYLE §3: read the enabled providers once as plain configs, fan out the probes
asynchronously (healing.monitoring.probes, no ORM), then write every result in one transaction. A provider
whose state flips (up -> down or back) is published to the live feed (healing.events) after the
commit. A Redis lock keeps a second sweep from overlapping a running one, whichever process starts
it. What the checks add up to (uptime, roll-ups, pruning) is healing.monitoring.history.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import redis
from django.conf import settings
from django.db import transaction

from healing import activity, events
from healing.engine.config import CONFIG_FIELDS, ProviderConfig
from healing.engine.locks import release_lock
from healing.models.monitoring import HealthCheck
from healing.monitoring import alerts, maintenance
from healing.monitoring.history import latest_checks
from healing.monitoring.probes import DEFAULT_CONCURRENCY, DEFAULT_PROBE_TIMEOUT_S, ProbeResult, run_probe_cycle
from providers.models import Provider
from providers.runtime import rkey, sync_redis

logger = logging.getLogger(__name__)

# Lock TTL in seconds: longer than the slowest possible sweep (the task's hard time limit), so
# a crashed sweep frees the lock by itself and a running one is never overlapped.
SWEEP_LOCK_TTL_S = 150


def _utcnow() -> datetime:
    return datetime.now(UTC)


# --- read ---------------------------------------------------------------------------------------


def sweep_configs(*, slugs: Iterable[str] | None = None, category: str | None = None) -> list[ProviderConfig]:
    """Enabled providers as plain configs (one query). One without a health path is probed at
    its base URL (an RSS feed, a JSON-RPC node with its health_method/health_body)."""
    qs = Provider.objects.enabled()
    if slugs:
        qs = qs.filter(slug__in=list(slugs))
    if category:
        qs = qs.filter(category=category)
    return [ProviderConfig(**row) for row in qs.order_by("slug").values(*CONFIG_FIELDS)]


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
        """This flip as a provider.status event (healing.events owns the shape)."""
        return events.status_payload(provider=self.slug, status=self.status, previous=self.previous, at=self.at,
                                     latency_ms=self.latency_ms, error_class=self.error_class, message=self.message)


def probe_results_record(results: Sequence[ProbeResult], *, checked_at: datetime, manual: bool = False) -> list[Flip]:
    """Write one sweep's results (or an operator's checks: `manual`) as HealthCheck rows in one
    transaction; return the flips.

    Flips are published to the live feed once the transaction commits.
    """
    slugs = {r.slug for r in results}
    ids = dict(Provider.objects.filter(slug__in=slugs).values_list("slug", "pk"))
    flips: list[Flip] = []
    # First checks that come back up: no flip (no news for alerts or counts), but the live feed
    # hears them, so a page showing "unknown" for a provider never checked before turns "up".
    first_up: list[Flip] = []
    with transaction.atomic():
        previous = latest_checks(ids.values(), include_skipped=False)
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
                elif was is None:
                    first_up.append(Flip(r.slug, now_status, None, checked_at, r.latency_ms))
            rows.append(HealthCheck(
                provider_id=pk, checked_at=checked_at, ok=r.ok, skipped=r.skipped, status_code=r.status_code,
                latency_ms=r.latency_ms, error_class=r.error_class[:40], message=r.message[:300], streak=streak,
                manual=manual,
            ))
        HealthCheck.objects.bulk_create(rows, batch_size=500)
        failures = [activity.entry(activity.PROBE, activity.WARNING,
                                   f"probe of {r.slug} failed: {r.error_class or r.status_code} {r.message[:120]}".strip(),
                                   checked_at.timestamp(), provider=r.slug, status=r.status_code,
                                   ms=r.latency_ms, manual=manual or None)
                    for r in results if not r.ok and not r.skipped]
        transaction.on_commit(lambda: activity.record_now(failures))
        if flips or first_up:
            transaction.on_commit(lambda: events.publish_status([f.payload() for f in (*flips, *first_up)]))
    return flips


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
        release_lock(r, sweep_lock_key(), token)
    logger.info("health sweep: %s", report.summary())
    return report


def health_sweep(
    *,
    notify: alerts.Notifier,
    slugs: Iterable[str] | None = None,
    category: str | None = None,
    on_result: Callable[[ProbeResult], None] | None = None,
    on_targets: Callable[[int], None] | None = None,
) -> SweepReport:
    """What the beat task and `manage.py healthcheck` both run: refresh the drained set, sweep,
    then evaluate alerts, handing deliveries to `notify` (the callers queue them as Celery tasks,
    so a slow channel never holds the sweep)."""
    try:
        maintenance.maintenance_sync()
    except redis.RedisError as exc:
        logger.warning("maintenance windows not synced: %s", exc)
    report = sweep_run(slugs=slugs, category=category, on_result=on_result, on_targets=on_targets)
    if not report.locked_out:
        try:
            alerts.alerts_evaluate(notify=notify)
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
