"""Alert rules and the alert lifecycle with an injected clock; deliveries to local receivers
(a loopback HTTP server standing in for webhook, Slack and Telegram) and the locmem outbox."""

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest
import redis.asyncio
from django.conf import settings
from django.contrib.admin.sites import AdminSite
from django.test import RequestFactory

from healing.engine.breaker import BreakerStore
from healing.engine.config import ProviderConfig
from healing.models.monitoring import (
    Alert,
    AlertDelivery,
    AlertRule,
    AlertState,
    ChannelKind,
    HealthCheck,
    NotificationChannel,
)
from healing.monitoring import alerts, notifications
from healing.monitoring.probes import ProbeResult
from healing.monitoring.sweep import probe_results_record
from pools.models import Pool, PoolMembership
from tests.redis_server import free_port

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
TG_TOKEN = "123456:TEST-token"


@pytest.fixture
def fast_retries(settings):
    settings.CRYPTOHUB_NOTIFY_ATTEMPTS = 4
    settings.CRYPTOHUB_NOTIFY_BACKOFF_S = 1.0


@pytest.fixture
def channels(loopback, monkeypatch, settings, db):
    monkeypatch.setenv("CH_WEBHOOK_URL", loopback.url + "/hook")
    monkeypatch.setenv("CH_SLACK_URL", loopback.url + "/slack")
    monkeypatch.setenv("CH_TG_TOKEN", TG_TOKEN)
    settings.CRYPTOHUB_TELEGRAM_API_BASE = loopback.url
    return {
        "email": NotificationChannel.objects.create(name="ops mail", kind=ChannelKind.EMAIL, target="ops@example.com"),
        "webhook": NotificationChannel.objects.create(name="hook", kind=ChannelKind.WEBHOOK, secret_env="CH_WEBHOOK_URL"),
        "slack": NotificationChannel.objects.create(name="slack", kind=ChannelKind.SLACK, secret_env="CH_SLACK_URL"),
        "telegram": NotificationChannel.objects.create(name="tg", kind=ChannelKind.TELEGRAM, secret_env="CH_TG_TOKEN",
                                                       target="42"),
    }


class DirectNotifier:
    """Delivers at once (instead of via Celery) and remembers what it was asked to send."""

    def __init__(self):
        self.calls = []
        self.sleeps = []

    def __call__(self, alert_id, channel_id, event, seq):
        self.calls.append((alert_id, channel_id, event, seq))
        notifications.deliver(alert_id=alert_id, channel_id=channel_id, event=event, seq=seq, sleep=self.sleeps.append)


def record(slug: str, ok: bool, at: datetime) -> None:
    probe_results_record([ProbeResult(slug, at.timestamp(), ok=ok, status_code=200 if ok else 503,
                                      error_class="" if ok else "server_error", message="" if ok else "HTTP 503")],
                         checked_at=at)


def evaluate(now, notifier, capture):
    with capture(execute=True):
        return alerts.alerts_evaluate(now=now, notify=notifier)


def test_alert_opens_once_repeats_and_resolves_on_every_channel(
        channels, loopback, make_provider, mailoutbox, django_capture_on_commit_callbacks, fast_retries):
    make_provider(slug="alpha")
    rule = AlertRule.objects.create(name="alpha down", kind="provider_down", severity="critical",
                                    consecutive_checks=2, repeat_minutes=30)
    rule.channels.set(channels.values())
    notify = DirectNotifier()

    record("alpha", False, T0)
    assert evaluate(T0, notify, django_capture_on_commit_callbacks).summary()["opened"] == 0  # 1 of 2 checks

    record("alpha", False, T0 + timedelta(seconds=30))
    report = evaluate(T0 + timedelta(seconds=31), notify, django_capture_on_commit_callbacks)
    alert = Alert.objects.get()
    assert report.opened == [alert.pk]
    assert (alert.state, alert.severity, alert.subject, alert.notify_count) == ("open", "critical", "provider:alpha", 1)
    assert "2 failed checks in a row" in alert.message

    # Every channel got the "opened" message.
    hook = loopback.requests_to("/hook")[0].json()
    assert (hook["event"], hook["alert"]["provider"], hook["alert"]["state"]) == ("opened", "alpha", "open")
    assert "provider:alpha" in loopback.requests_to("/slack")[0].json()["text"]
    telegram = loopback.requests_to(f"/bot{TG_TOKEN}/sendMessage")[0].json()
    assert telegram["chat_id"] == "42" and "ALERT" in telegram["text"]
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["ops@example.com"]
    assert "[cryptohub ALERT] [critical] provider:alpha" == mailoutbox[0].subject

    # Still down 10 minutes later: no new alert, no repeat yet.
    record("alpha", False, T0 + timedelta(minutes=10))
    report = evaluate(T0 + timedelta(minutes=10), notify, django_capture_on_commit_callbacks)
    assert report.summary() == {"opened": 0, "repeated": 0, "resolved": 0, "silenced": 0}
    assert len(loopback.requests_to("/hook")) == 1

    # 30 minutes after the last notification: one repeat.
    report = evaluate(T0 + timedelta(minutes=31), notify, django_capture_on_commit_callbacks)
    assert report.repeated == [alert.pk]
    assert [r.json()["event"] for r in loopback.requests_to("/hook")] == ["opened", "repeat"]
    assert len(mailoutbox) == 2 and "STILL FIRING" in mailoutbox[1].subject

    # Back up: resolved, and said so once.
    record("alpha", True, T0 + timedelta(minutes=32))
    report = evaluate(T0 + timedelta(minutes=32), notify, django_capture_on_commit_callbacks)
    alert.refresh_from_db()
    assert report.resolved == [alert.pk]
    assert (alert.state, alert.resolved_at) == ("resolved", T0 + timedelta(minutes=32))
    assert [r.json()["event"] for r in loopback.requests_to("/hook")] == ["opened", "repeat", "resolved"]
    assert "RESOLVED" in mailoutbox[2].subject
    assert evaluate(T0 + timedelta(minutes=40), notify, django_capture_on_commit_callbacks).summary()["resolved"] == 0

    deliveries = AlertDelivery.objects.filter(alert=alert)
    assert deliveries.count() == 12 and all(d.ok and d.attempts == 1 for d in deliveries)
    assert Alert.objects.count() == 1


def test_deliveries_are_queued_as_tasks_by_default_not_sent_inline(
        channels, loopback, make_provider, monkeypatch, django_capture_on_commit_callbacks):
    from healing import tasks
    make_provider(slug="alpha")
    rule = AlertRule.objects.create(name="alpha down", kind="provider_down", consecutive_checks=1)
    rule.channels.set([channels["webhook"]])
    queued = []
    monkeypatch.setattr(tasks.send_alert_notification_task, "delay", lambda *a: queued.append(a))
    record("alpha", False, T0)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.evaluate_alerts_task()
    alert = Alert.objects.get()
    assert queued == [(alert.pk, channels["webhook"].pk, "opened", 1)]
    assert loopback.requests == []


def test_failed_delivery_is_retried_with_backoff_and_recorded(channels, loopback, make_provider, fast_retries):
    make_provider(slug="alpha")
    rule = AlertRule.objects.create(name="r", kind="provider_down")
    alert = Alert.objects.create(rule=rule, subject="provider:alpha", severity="warning", message="m", opened_at=T0)
    loopback.fail_next("/hook", 2, status=500)
    sleeps = []
    delivery = notifications.deliver(alert_id=alert.pk, channel_id=channels["webhook"].pk, event="opened", seq=1,
                                     sleep=sleeps.append)
    assert (delivery.ok, delivery.attempts, delivery.error) == (True, 3, "")
    assert sleeps == [1.0, 2.0]
    assert len(loopback.requests_to("/hook")) == 3


def test_delivery_gives_up_after_its_attempts_and_records_why(channels, loopback, make_provider, fast_retries):
    make_provider(slug="alpha")
    rule = AlertRule.objects.create(name="r", kind="provider_down")
    alert = Alert.objects.create(rule=rule, subject="provider:alpha", severity="warning", message="m", opened_at=T0)
    loopback.fail_next("/slack", 10, status=503)
    delivery = notifications.deliver(alert_id=alert.pk, channel_id=channels["slack"].pk, event="opened", seq=1,
                                     sleep=lambda _: None)
    assert (delivery.ok, delivery.attempts, delivery.error, delivery.delivered_at) == (False, 4, "HTTP 503", None)
    assert len(loopback.requests_to("/slack")) == 4


def test_a_permanent_failure_is_not_retried(channels, loopback, make_provider, fast_retries):
    rule = AlertRule.objects.create(name="r", kind="provider_down")
    alert = Alert.objects.create(rule=rule, subject="provider:x", severity="warning", message="m", opened_at=T0)
    loopback.fail_next("/hook", 1, status=404)
    delivery = notifications.deliver(alert_id=alert.pk, channel_id=channels["webhook"].pk, event="opened", seq=1,
                                     sleep=lambda _: None)
    assert (delivery.ok, delivery.attempts, delivery.error) == (False, 1, "HTTP 404")


def test_unset_secret_is_recorded_without_any_call(channels, loopback, monkeypatch, fast_retries):
    monkeypatch.delenv("CH_WEBHOOK_URL")
    rule = AlertRule.objects.create(name="r", kind="provider_down")
    alert = Alert.objects.create(rule=rule, subject="provider:x", severity="warning", message="m", opened_at=T0)
    delivery = notifications.deliver(alert_id=alert.pk, channel_id=channels["webhook"].pk, event="opened", seq=1)
    assert (delivery.ok, delivery.attempts, delivery.error) == (False, 1, "environment variable CH_WEBHOOK_URL is not set")
    assert loopback.requests == []


def test_the_secret_never_reaches_the_record_or_the_log(channels, monkeypatch, caplog, fast_retries):
    monkeypatch.setenv("CH_WEBHOOK_URL", f"http://127.0.0.1:{free_port()}/hook?token=VERY-SECRET-123")
    rule = AlertRule.objects.create(name="r", kind="provider_down")
    alert = Alert.objects.create(rule=rule, subject="provider:x", severity="warning", message="m", opened_at=T0)
    with caplog.at_level(logging.DEBUG):
        delivery = notifications.deliver(alert_id=alert.pk, channel_id=channels["webhook"].pk, event="opened",
                                         seq=1, sleep=lambda _: None)
    assert (delivery.ok, delivery.attempts) == (False, 4)
    assert delivery.error == "ConnectError while posting"
    assert "VERY-SECRET" not in caplog.text
    assert TG_TOKEN not in caplog.text


def test_the_same_delivery_is_not_sent_twice(channels, loopback, fast_retries):
    rule = AlertRule.objects.create(name="r", kind="provider_down")
    alert = Alert.objects.create(rule=rule, subject="provider:x", severity="warning", message="m", opened_at=T0)
    for _ in range(2):
        notifications.deliver(alert_id=alert.pk, channel_id=channels["webhook"].pk, event="opened", seq=1)
    assert len(loopback.requests_to("/hook")) == 1
    assert AlertDelivery.objects.count() == 1


def test_pool_with_no_healthy_member_fires_and_resolves(make_provider, django_capture_on_commit_callbacks):
    a, b = make_provider(slug="a"), make_provider(slug="b")
    pool = Pool.objects.create(slug="price", name="Price", capability="price")
    PoolMembership.objects.create(pool=pool, provider=a)
    PoolMembership.objects.create(pool=pool, provider=b)
    AlertRule.objects.create(name="pool empty", kind="pool_empty", severity="critical")
    notify = DirectNotifier()

    record("a", False, T0)
    assert evaluate(T0, notify, django_capture_on_commit_callbacks).opened == []  # b not checked yet
    record("b", False, T0)
    report = evaluate(T0, notify, django_capture_on_commit_callbacks)
    alert = Alert.objects.get()
    assert report.opened == [alert.pk] and alert.subject == "pool:price" and alert.pool == pool
    record("b", True, T0 + timedelta(seconds=30))
    assert evaluate(T0 + timedelta(seconds=30), notify, django_capture_on_commit_callbacks).resolved == [alert.pk]
    assert notify.calls == []  # the rule has no channels


def test_breaker_rule_reads_the_shared_breaker(make_provider, django_capture_on_commit_callbacks):
    make_provider(slug="alpha", breaker_failure_threshold=1)
    AlertRule.objects.create(name="breaker", kind="breaker_open")
    now = datetime.now(UTC)

    async def trip():
        r = redis.asyncio.Redis.from_url(settings.REDIS_URL)
        config = ProviderConfig(slug="alpha", name="a", category="market_data", base_url="http://x",
                                breaker_failure_threshold=1)
        await BreakerStore(r, now.timestamp).record(config, False)
        await r.aclose()

    assert evaluate(now, DirectNotifier(), django_capture_on_commit_callbacks).opened == []
    asyncio.run(trip())
    evaluate(now, DirectNotifier(), django_capture_on_commit_callbacks)
    alert = Alert.objects.get()
    assert alert.subject == "provider:alpha" and "breaker for alpha is open" in alert.message


def test_error_rate_rule_uses_the_checks_in_its_window(make_provider, django_capture_on_commit_callbacks):
    make_provider(slug="alpha")
    AlertRule.objects.create(name="errors", kind="error_rate", error_rate_pct=50, window_minutes=9)
    # Old failures fall out of the window; inside it 2 of 4 failed: 50 % is not above 50 %.
    for i, ok in enumerate([False, False, False, False, False, True, False, True]):
        record("alpha", ok, T0 + timedelta(minutes=2 * i))
    now = T0 + timedelta(minutes=15)
    assert evaluate(now, DirectNotifier(), django_capture_on_commit_callbacks).opened == []
    record("alpha", False, now)
    report = evaluate(now, DirectNotifier(), django_capture_on_commit_callbacks)
    assert len(report.opened) == 1
    assert "error rate 60 % over 9 min" in Alert.objects.get().message


def test_budget_rule_fires_when_a_limit_is_nearly_spent(make_provider, django_capture_on_commit_callbacks):
    from healing.engine.ratelimit import Budget

    make_provider(slug="alpha", rate_limits="10/minute")
    AlertRule.objects.create(name="budget", kind="budget_low", budget_left_pct=10)
    config = ProviderConfig(slug="alpha", name="a", category="market_data", base_url="http://x", rate_limits="10/minute")

    async def spend(n):
        r = redis.asyncio.Redis.from_url(settings.REDIS_URL)
        budget = Budget(r)
        for _ in range(n):
            assert await budget.try_acquire(config)
        await r.aclose()

    asyncio.run(spend(8))
    assert evaluate(datetime.now(UTC), DirectNotifier(), django_capture_on_commit_callbacks).opened == []
    asyncio.run(spend(1))
    evaluate(datetime.now(UTC), DirectNotifier(), django_capture_on_commit_callbacks)
    assert "budget 10/minute has 1 left (10 %)" in Alert.objects.get().message


def test_disabled_provider_resolves_its_open_alert(make_provider, django_capture_on_commit_callbacks):
    alpha = make_provider(slug="alpha")
    AlertRule.objects.create(name="down", kind="provider_down", consecutive_checks=1)
    record("alpha", False, T0)
    evaluate(T0, DirectNotifier(), django_capture_on_commit_callbacks)
    alpha.enabled = False
    alpha.save()
    evaluate(T0 + timedelta(minutes=1), DirectNotifier(), django_capture_on_commit_callbacks)
    assert Alert.objects.get().state == AlertState.RESOLVED


def test_admin_send_test_action_and_secret_shown_only_as_set_or_unset(channels, loopback, monkeypatch):
    from healing.admin.monitoring import NotificationChannelAdmin

    model_admin = NotificationChannelAdmin(NotificationChannel, AdminSite())
    said = []
    monkeypatch.setattr(model_admin, "message_user", lambda request, text, level=None: said.append(text))
    request = RequestFactory().post("/admin/")

    model_admin.send_test(request, NotificationChannel.objects.filter(pk=channels["telegram"].pk))

    assert said == ["tg: test delivered (1 attempt(s))"]
    sent = loopback.requests_to(f"/bot{TG_TOKEN}/sendMessage")[0].json()
    assert sent["chat_id"] == "42" and "Test notification" in sent["text"]
    assert AlertDelivery.objects.get().event == "test"
    assert model_admin.secret_state(channels["telegram"]) == "set"
    monkeypatch.delenv("CH_TG_TOKEN")
    assert model_admin.secret_state(channels["telegram"]) == "unset"
    assert model_admin.secret_state(channels["email"]) == "-"
    assert HealthCheck.objects.count() == 0
