"""Celery tasks of the healing app: thin wrappers that take ids/slugs and call one function.

Schedules live in settings.CELERY_BEAT_SCHEDULE (keyed by these dotted names); the
django-celery-beat DatabaseScheduler copies them into the database, where the admin edits them.
Retries cover infrastructure failures only; provider failures are results, not task errors.
"""

from __future__ import annotations

import logging
from typing import Any

import redis
from celery import shared_task
from django.db import OperationalError

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
    from healing.monitoring import sweep as monitoring
    return monitoring.health_sweep(slugs=provider_slugs).summary()


@shared_task(autoretry_for=INFRA_ERRORS, retry_backoff=True, retry_jitter=True, max_retries=3, soft_time_limit=50)
def evaluate_alerts_task() -> dict[str, int]:
    """Breaker, budget and error-rate rules change between sweeps; repeats come due."""
    from healing.monitoring import alerts
    return alerts.alerts_evaluate().summary()


@shared_task(autoretry_for=INFRA_ERRORS, retry_backoff=True, retry_jitter=True, max_retries=3, soft_time_limit=300)
def send_alert_notification_task(alert_id: int, channel_id: int, event: str, seq: int) -> bool:
    """One delivery (retried with backoff inside); idempotent per (alert, channel, event, seq)."""
    from healing.monitoring import notifications
    record = notifications.deliver(alert_id=alert_id, channel_id=channel_id, event=event, seq=seq)
    return bool(record and record.ok)


@shared_task(autoretry_for=INFRA_ERRORS, retry_backoff=True, retry_jitter=True, max_retries=3, soft_time_limit=300)
def rollup_stats_task() -> int:
    from healing.monitoring import sweep as monitoring
    return monitoring.stats_rollup()


@shared_task(autoretry_for=INFRA_ERRORS, retry_backoff=True, retry_jitter=True, max_retries=3, soft_time_limit=600)
def prune_history_task() -> dict[str, int]:
    from healing.monitoring import sweep as monitoring
    return monitoring.history_prune()


@shared_task(autoretry_for=INFRA_ERRORS, retry_backoff=True, retry_jitter=True, max_retries=3, soft_time_limit=50)
def sync_maintenance_task() -> dict[str, list[str]]:
    from healing.monitoring import maintenance
    drained = maintenance.maintenance_sync()
    return {k: sorted(v) for k, v in drained.items()}
