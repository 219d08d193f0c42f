"""Maintenance windows: what is drained when, the Redis sets routing reads, silenced alerts."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
import redis.asyncio
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from healing.engine import drained as routing_drains
from healing.models.monitoring import Alert, AlertRule, ChannelKind, MaintenanceWindow, NotificationChannel
from healing.monitoring import alerts, maintenance
from healing.monitoring.probes import ProbeResult
from healing.monitoring.sweep import probe_results_record
from pools.models import Pool, PoolMembership

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def window(start_h: float, end_h: float, **target) -> MaintenanceWindow:
    return MaintenanceWindow.objects.create(starts_at=T0 + start_h * HOUR, ends_at=T0 + end_h * HOUR,
                                            reason="upgrade", **target)


def record(slug: str, ok: bool, at: datetime) -> None:
    probe_results_record([ProbeResult(slug, at.timestamp(), ok=ok, error_class="" if ok else "timeout")],
                         checked_at=at)


@pytest.mark.django_db
def test_only_windows_in_progress_are_active(make_provider):
    a, b, c = make_provider(slug="a"), make_provider(slug="b"), make_provider(slug="c")
    pool = Pool.objects.create(slug="price", name="Price", capability="price")
    window(-1, 1, provider=a)
    window(-3, -1, provider=b)  # over
    window(1, 2, provider=c)  # not yet
    window(-1, 1, pool=pool)

    assert maintenance.active_maintenance(T0) == {"a"}
    assert maintenance.active_pool_maintenance(T0) == {"price"}
    assert maintenance.active_maintenance(T0 + 1.5 * HOUR) == {"c"}
    assert maintenance.active_maintenance(T0 - 2 * HOUR) == {"b"}


@pytest.mark.django_db
def test_sync_writes_the_drained_sets_and_a_window_ends_by_itself(make_provider, redis_client):
    a, b = make_provider(slug="a"), make_provider(slug="b")
    pool = Pool.objects.create(slug="price", name="Price", capability="price")
    window(-1, 1, provider=a)
    window(-1, 3, provider=b)
    window(-1, 2, pool=pool)

    drained = maintenance.maintenance_sync(now=T0, r=redis_client)

    assert drained == {"providers": {"a", "b"}, "pools": {"price"}}
    assert redis_client.zscore(routing_drains.providers_key(), "a") == (T0 + HOUR).timestamp()
    assert routing_drains.drained_providers(redis_client, T0.timestamp()) == {"a", "b"}
    assert routing_drains.drained_pools(redis_client, T0.timestamp()) == {"price"}
    # No task ran since: the window's end still brings the provider back.
    assert routing_drains.drained_providers(redis_client, (T0 + 1.5 * HOUR).timestamp()) == {"b"}
    assert routing_drains.drained_pools(redis_client, (T0 + 2 * HOUR).timestamp()) == set()


@pytest.mark.django_db
def test_sync_replaces_what_was_there_and_the_async_reader_agrees(make_provider, redis_client):
    a = make_provider(slug="a")
    window(-1, 1, provider=a)
    maintenance.maintenance_sync(now=T0, r=redis_client)
    maintenance.maintenance_sync(now=T0 + 2 * HOUR, r=redis_client)
    assert redis_client.exists(routing_drains.providers_key()) == 0

    maintenance.maintenance_sync(now=T0, r=redis_client)

    async def read():
        r = redis.asyncio.Redis.from_url(settings.REDIS_URL)
        try:
            return await routing_drains.adrained_providers(r, T0.timestamp())
        finally:
            await r.aclose()

    assert asyncio.run(read()) == {"a"}


@pytest.mark.django_db
def test_alerts_are_silenced_during_the_window_and_resume_after_it(
        make_provider, django_capture_on_commit_callbacks, monkeypatch):
    a = make_provider(slug="a")
    monkeypatch.setenv("MAINT_HOOK", "http://127.0.0.1:9/never-called")
    channel = NotificationChannel.objects.create(name="hook", kind=ChannelKind.WEBHOOK, secret_env="MAINT_HOOK")
    rule = AlertRule.objects.create(name="down", kind="provider_down", consecutive_checks=1, repeat_minutes=10)
    rule.channels.set([channel])
    window(0, 1, provider=a)
    sent = []

    def evaluate(now):
        with django_capture_on_commit_callbacks(execute=True):
            return alerts.alerts_evaluate(now=now, notify=lambda *args: sent.append(args))

    record("a", False, T0 + 0.25 * HOUR)
    report = evaluate(T0 + 0.25 * HOUR)
    assert report.silenced == ["provider:a"] and report.opened == []
    assert Alert.objects.count() == 0 and sent == []

    # The window is over and the provider is still down: now it alerts.
    record("a", False, T0 + 1.1 * HOUR)
    report = evaluate(T0 + 1.1 * HOUR)
    assert len(report.opened) == 1 and len(sent) == 1


@pytest.mark.django_db
def test_an_open_alert_is_neither_repeated_nor_resolved_during_a_window(
        make_provider, django_capture_on_commit_callbacks):
    a = make_provider(slug="a")
    AlertRule.objects.create(name="down", kind="provider_down", consecutive_checks=1, repeat_minutes=10)
    sent = []

    def evaluate(now):
        with django_capture_on_commit_callbacks(execute=True):
            return alerts.alerts_evaluate(now=now, notify=lambda *args: sent.append(args))

    record("a", False, T0)
    assert len(evaluate(T0).opened) == 1
    window(0.1, 1, provider=a)
    assert evaluate(T0 + 0.5 * HOUR).summary() == {"opened": 0, "repeated": 0, "resolved": 0, "silenced": 1}
    record("a", True, T0 + 0.6 * HOUR)
    assert evaluate(T0 + 0.6 * HOUR).resolved == []
    assert Alert.objects.get().state == "open"
    assert evaluate(T0 + 1.1 * HOUR).resolved == [Alert.objects.get().pk]


@pytest.mark.django_db
def test_a_pool_window_silences_the_pools_alerts(make_provider, django_capture_on_commit_callbacks):
    a = make_provider(slug="a")
    pool = Pool.objects.create(slug="price", name="Price", capability="price")
    PoolMembership.objects.create(pool=pool, provider=a)
    AlertRule.objects.create(name="empty", kind="pool_empty")
    window(-1, 1, pool=pool)
    record("a", False, T0)
    with django_capture_on_commit_callbacks(execute=True):
        report = alerts.alerts_evaluate(now=T0, notify=lambda *args: None)
    assert report.silenced == ["pool:price"] and Alert.objects.count() == 0


@pytest.mark.django_db
def test_a_window_names_exactly_one_of_provider_or_pool_and_ends_after_it_starts(make_provider):
    a = make_provider(slug="a")
    pool = Pool.objects.create(slug="price", name="Price", capability="price")
    with pytest.raises(ValidationError):
        MaintenanceWindow(provider=a, pool=pool, starts_at=T0, ends_at=T0 + HOUR, reason="x").clean()
    with pytest.raises(ValidationError):
        MaintenanceWindow(provider=a, starts_at=T0, ends_at=T0, reason="x").clean()
    for fields in ({"provider": a, "pool": pool, "ends_at": T0 + HOUR}, {"ends_at": T0 + HOUR},
                   {"provider": a, "ends_at": T0 - HOUR}):
        with pytest.raises(IntegrityError), transaction.atomic():
            MaintenanceWindow.objects.create(starts_at=T0, reason="x", **fields)
    assert MaintenanceWindow.objects.count() == 0
