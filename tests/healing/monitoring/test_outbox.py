"""Alert notifications decided while the broker was unreachable are sent by a later evaluation."""

from datetime import UTC, datetime, timedelta

import redis

from healing import tasks
from healing.models.monitoring import Alert, AlertDelivery, AlertRule
from healing.monitoring import notifications, outbox
from tests.healing.monitoring.test_alerts import channels, record  # noqa: F401 - the fixture


def test_an_alert_opened_while_the_broker_was_down_is_delivered_later_exactly_once(
        channels, loopback, make_provider, monkeypatch, django_capture_on_commit_callbacks):  # noqa: F811
    make_provider(slug="alpha")
    rule = AlertRule.objects.create(name="alpha down", kind="provider_down", consecutive_checks=1)
    rule.channels.set([channels["webhook"]])
    record("alpha", False, datetime.now(UTC))

    def broker_down(*args):
        raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.send_alert_notification_task, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        summary = tasks.evaluate_alerts_task()
    alert = Alert.objects.get()
    assert summary["opened"] == 1 and summary["requeued"] == 0  # just decided: maybe still in the queue
    assert not AlertDelivery.objects.exists() and loopback.requests == []

    # A minute later the broker is back; the next evaluation finds the owed "opened" and sends it.
    Alert.objects.filter(pk=alert.pk).update(opened_at=alert.opened_at - outbox.OWED_AFTER - timedelta(seconds=1),
                                             last_notified_at=alert.opened_at - outbox.OWED_AFTER)
    monkeypatch.setattr(tasks.send_alert_notification_task, "delay",
                        lambda *a: notifications.deliver(alert_id=a[0], channel_id=a[1], event=a[2], seq=a[3]))
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.evaluate_alerts_task()["requeued"] == 1
    assert [r.json()["event"] for r in loopback.requests_to("/hook")] == ["opened"]
    assert AlertDelivery.objects.get().ok
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.evaluate_alerts_task()["requeued"] == 0  # delivered: nothing owed, nothing sent twice
    assert len(loopback.requests_to("/hook")) == 1


def test_owed_skips_old_events_disabled_channels_and_silent_resolutions(channels, make_provider):  # noqa: F811
    now = datetime.now(UTC)
    make_provider(slug="alpha")
    rule = AlertRule.objects.create(name="r", kind="provider_down", notify_resolved=False)
    rule.channels.set([channels["webhook"], channels["slack"]])
    channels["slack"].enabled = False
    channels["slack"].save()
    fresh = Alert.objects.create(rule=rule, subject="a", severity="warning", message="m",
                                 opened_at=now - timedelta(minutes=5), notify_count=1)
    Alert.objects.create(rule=rule, subject="b", severity="warning", message="m",
                         opened_at=now - outbox.OWED_WITHIN - timedelta(minutes=1), notify_count=1)
    Alert.objects.create(rule=rule, subject="c", severity="warning", message="m", state="resolved",
                         opened_at=now - timedelta(minutes=9), resolved_at=now - timedelta(minutes=5), notify_count=2)
    repeated = Alert.objects.create(rule=rule, subject="d", severity="warning", message="m",
                                    opened_at=now - timedelta(hours=1), last_notified_at=now - timedelta(minutes=2),
                                    notify_count=3)
    assert sorted(outbox.owed(now)) == sorted([(fresh.pk, channels["webhook"].pk, "opened", 1),
                                               (repeated.pk, channels["webhook"].pk, "repeat", 3)])
