"""The `alerts` channel: an alert opened, repeated and resolved by the real evaluation
(healing.monitoring.alerts over recorded health checks) is published once its transaction has
committed, built from the committed row; a rolled-back evaluation publishes nothing."""

from datetime import UTC, datetime, timedelta

import pytest
from asgiref.sync import async_to_sync
from django.db import transaction

from healing.models.monitoring import Alert, AlertRule
from healing.monitoring import alert_feed, alerts
from healing.monitoring.probes import ProbeResult
from healing.monitoring.sweep import probe_results_record
from tests.healing.feed.listen import Listener

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)

pytestmark = pytest.mark.django_db(transaction=True)  # on_commit runs on a real commit


class Rollback(Exception):
    pass


def check(slug, ok, at):
    probe_results_record([ProbeResult(slug, at.timestamp(), ok=ok, status_code=200 if ok else 503,
                                      error_class="" if ok else "server_error", message="" if ok else "HTTP 503")],
                         checked_at=at)


def evaluate(at):
    return alerts.alerts_evaluate(now=at, notify=lambda *args: None)


@pytest.fixture
def down_rule(make_provider):
    make_provider(slug="alpha")
    return AlertRule.objects.create(name="alpha down", kind="provider_down", severity="critical",
                                    consecutive_checks=2, repeat_minutes=30)


def listen():
    return async_to_sync(Listener.on)("alerts")


def published(listener):
    return async_to_sync(listener.drain)()


def test_open_repeat_and_resolve_are_each_published_once(down_rule):
    listener = listen()
    check("alpha", False, T0)
    evaluate(T0)  # one failed check of two: nothing yet
    assert published(listener) == []

    check("alpha", False, T0 + timedelta(seconds=30))
    assert evaluate(T0 + timedelta(seconds=31)).opened
    alert = Alert.objects.get()
    opened = published(listener)
    assert [(m["channel"], m["critical"]) for m in opened] == [("alerts", True)]
    assert opened[0]["data"] == {
        "id": alert.pk, "rule": "alpha down", "subject": "provider:alpha", "severity": "critical", "state": "open",
        "message": alert.message, "opened_at": "2026-11-21T12:00:31Z", "resolved_at": None, "event": "open",
    }
    assert "2 failed checks in a row" in opened[0]["data"]["message"]

    evaluate(T0 + timedelta(minutes=10))  # still firing, not yet time to repeat
    assert published(listener) == []
    assert evaluate(T0 + timedelta(minutes=31)).repeated == [alert.pk]
    assert [(m["data"]["event"], m["data"]["state"]) for m in published(listener)] == [("repeat", "open")]

    check("alpha", True, T0 + timedelta(minutes=32))
    assert evaluate(T0 + timedelta(minutes=32)).resolved == [alert.pk]
    resolved = [m["data"] for m in published(listener)]
    assert [(d["event"], d["state"], d["resolved_at"]) for d in resolved] == [
        ("resolve", "resolved", "2026-11-21T12:32:00Z")]
    evaluate(T0 + timedelta(minutes=40))  # resolved already: nothing more
    assert published(listener) == []


def test_nothing_is_published_before_the_commit_nor_after_a_rollback(down_rule):
    listener = listen()
    check("alpha", False, T0)
    check("alpha", False, T0 + timedelta(seconds=30))
    with pytest.raises(Rollback), transaction.atomic():
        assert evaluate(T0 + timedelta(seconds=31)).opened
        assert published(listener) == []  # opened inside the transaction: not yet
        raise Rollback
    assert Alert.objects.count() == 0
    assert published(listener) == []


def test_an_event_is_built_from_the_row_as_committed(down_rule):
    """Opened and resolved in one transaction: both events, after the commit, show the committed
    (resolved) alert, never a state the database does not hold."""
    listener = listen()
    check("alpha", False, T0)
    check("alpha", False, T0 + timedelta(seconds=30))
    with transaction.atomic():
        evaluate(T0 + timedelta(seconds=31))
        check("alpha", True, T0 + timedelta(seconds=40))
        evaluate(T0 + timedelta(seconds=41))
    got = [m["data"] for m in published(listener)]
    assert [(d["event"], d["state"]) for d in got] == [("open", "resolved"), ("resolve", "resolved")]


def test_an_alert_gone_by_the_commit_publishes_nothing(down_rule):
    listener = listen()
    alert = Alert.objects.create(rule=down_rule, subject="provider:alpha", severity="warning", message="m",
                                 opened_at=T0)
    with transaction.atomic():
        alert_feed.publish_on_commit(alert.pk, alert_feed.OPEN)
        alert.delete()
    assert published(listener) == []
    alert_feed.publish_now(10_000, alert_feed.RESOLVE)  # no such alert
    assert published(listener) == []
