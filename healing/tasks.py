"""Celery tasks of the healing app: thin wrappers that take ids/slugs and call one function.

Schedules live in settings.CELERY_BEAT_SCHEDULE (keyed by these dotted names); the
django-celery-beat DatabaseScheduler copies them into the database, where the admin edits them.
Retries cover infrastructure failures only; provider failures are results, not task errors.
This module is where alerting meets Celery: the sweep and the alert task hand alerting
`enqueue_notification`, so every delivery runs as its own task (healing.monitoring never imports
this module).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import redis
from celery import shared_task
from django.db import OperationalError

from healing.monitoring import alerts, history, incidents, maintenance, notifications, outbox, sweep

logger = logging.getLogger(__name__)

INFRA_ERRORS = (OperationalError, redis.ConnectionError)
# A sweep is bounded by probe timeouts x rounds; the Redis lock (not this limit) prevents
# overlap, this only stops a sweep that hangs. Kept below the lock TTL so the lock outlives it.
SWEEP_SOFT_LIMIT_S = 110
SWEEP_HARD_LIMIT_S = 120


@shared_task(autoretry_for=INFRA_ERRORS, retry_backoff=True, retry_jitter=True, max_retries=3,
             soft_time_limit=SWEEP_SOFT_LIMIT_S, time_limit=SWEEP_HARD_LIMIT_S)
def health_sweep_task(provider_slugs: list[str] | None = None) -> dict[str, Any]:
    """Probe every enabled provider (or the given slugs), record, then evaluate alerts."""
    return sweep.health_sweep(slugs=provider_slugs, notify=enqueue_notification).summary()


@shared_task(autoretry_for=INFRA_ERRORS, retry_backoff=True, retry_jitter=True, max_retries=3, soft_time_limit=50)
def evaluate_alerts_task() -> dict[str, int]:
    """Breaker, budget and error-rate rules change between sweeps; repeats come due; deliveries
    that could not be queued (the broker was down) are queued again."""
    summary = alerts.alerts_evaluate(notify=enqueue_notification).summary()
    summary["requeued"] = outbox.requeue(enqueue_notification, datetime.now(UTC))
    return summary


@shared_task(autoretry_for=INFRA_ERRORS, retry_backoff=True, retry_jitter=True, max_retries=3, soft_time_limit=300)
def send_alert_notification_task(alert_id: int, channel_id: int, event: str, seq: int) -> bool:
    """One delivery (retried with backoff inside); idempotent per (alert, channel, event, seq)."""
    record = notifications.deliver(alert_id=alert_id, channel_id=channel_id, event=event, seq=seq)
    return bool(record and record.ok)


def enqueue_notification(alert_id: int, channel_id: int, event: str, seq: int) -> None:
    """The notifier handed to alerting (an alerts.Notifier): one Celery task per delivery."""
    try:
        send_alert_notification_task.delay(alert_id, channel_id, event, seq)
    except Exception as exc:  # broker down: the alert row stays, the next repeat tries again
        logger.warning("notification for alert %s not queued: %s", alert_id, exc)


@shared_task(autoretry_for=INFRA_ERRORS, retry_backoff=True, retry_jitter=True, max_retries=3, soft_time_limit=300)
def rollup_stats_task() -> int:
    return history.stats_rollup()


@shared_task(autoretry_for=INFRA_ERRORS, retry_backoff=True, retry_jitter=True, max_retries=3, soft_time_limit=600)
def prune_history_task() -> dict[str, int]:
    return history.history_prune()


@shared_task(autoretry_for=INFRA_ERRORS, retry_backoff=True, retry_jitter=True, max_retries=3, soft_time_limit=50)
def sync_maintenance_task() -> dict[str, list[str]]:
    drained = maintenance.maintenance_sync()
    return {k: sorted(v) for k, v in drained.items()}


@shared_task(autoretry_for=INFRA_ERRORS, retry_backoff=True, retry_jitter=True, max_retries=3, soft_time_limit=50)
def evaluate_incidents_task() -> dict[str, int]:
    """Open and resolve the status page's incidents (a pool without a healthy member, an open
    breaker on a pool's first member); idempotent, so a late or repeated run is harmless."""
    return incidents.evaluate_incidents().summary()


@shared_task(autoretry_for=INFRA_ERRORS, retry_backoff=True, retry_jitter=True, max_retries=3,
             soft_time_limit=240, time_limit=270)
def cache_warmup_task() -> dict[str, int]:
    """Ask again for the most wanted answers whose cached copy is gone or old (healing.cache_warmup)."""
    from healing import cache_warmup  # the engine and the data plane load only in the worker that warms

    return cache_warmup.warm().summary()


def enqueue_cache_warmup() -> None:
    """After a purge: the warm-up runs in a worker, never in the request that purged."""
    try:
        cache_warmup_task.apply_async(countdown=2, expires=120)
    except Exception as exc:  # broker down: the next scheduled warm-up does it
        logger.warning("cache warm-up not queued: %s", exc)


@shared_task(autoretry_for=INFRA_ERRORS, retry_backoff=True, retry_jitter=True, max_retries=3,
             soft_time_limit=600, time_limit=660)
def revalidate_discovered_task() -> dict[str, int]:
    """Weekly: probe the disabled providers discovery added again and refresh their findings."""
    from healing.discovery import service  # httpx and the probe load only in the worker that runs it

    return service.revalidate()


@shared_task(autoretry_for=INFRA_ERRORS, retry_backoff=True, retry_jitter=True, max_retries=3,
             soft_time_limit=600, time_limit=660)
def sync_assets_task() -> dict:
    """Daily: the asset registry from the providers' listings (healing.asset_listings)."""
    from healing import asset_listings

    return asset_listings.sync_assets().as_dict()
