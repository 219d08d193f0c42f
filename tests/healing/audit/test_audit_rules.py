"""What the audit trail records and what it never holds: diffs of configuration models (many-to-
many included), changes written with update() (the catalogue, bulk enable), no secret (a
password hash, a client key or its hash, an API token), nothing for beat's own bookkeeping."""

import json

import pytest
from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django_celery_beat.models import IntervalSchedule, PeriodicTask
from rest_framework.authtoken.models import Token

from common import audit
from healing import audit as trail
from healing.models.clients import ApiClient
from healing.models.monitoring import AlertRule, ChannelKind, NotificationChannel, RuleKind
from providers.models import Provider
from providers.services import providers_set_enabled

pytestmark = pytest.mark.django_db


def _entries(model) -> list[LogEntry]:
    return list(LogEntry.objects.get_for_model(model).order_by("pk"))


def _everything() -> str:
    return json.dumps([{"repr": e.object_repr, "changes": e.changes, "text": e.changes_text,
                        "data": e.additional_data, "serialized": e.serialized_data}
                       for e in LogEntry.objects.all()], default=str)


def test_no_secret_reaches_the_trail():
    user = get_user_model().objects.create_user("alice", password="s3cret-pw", is_staff=True)
    token = Token.objects.create(user=user)
    client = ApiClient(name="mobile-app")
    key = client.set_new_key()
    client.save()
    user.set_password("another-pw")
    user.save()
    text = _everything()
    for secret in (user.password, token.key, key, client.key_hash, "s3cret-pw", "another-pw"):
        assert secret not in text
    assert [e.action for e in _entries(get_user_model())] == [LogEntry.Action.CREATE]  # a new password is no diff
    assert _entries(Token) == []
    (created,) = _entries(ApiClient)
    assert "key_hash" not in created.changes and created.changes["key_prefix"][1] == key[:10]


def test_a_rules_channels_are_part_of_its_diff():
    channel = NotificationChannel.objects.create(name="ops", kind=ChannelKind.WEBHOOK, secret_env="OPS_HOOK_URL")
    rule = AlertRule.objects.create(name="down", kind=RuleKind.PROVIDER_DOWN)
    with audit.acting_as("cli:test"):
        rule.channels.add(channel)
    added = _entries(AlertRule)[-1]
    assert added.changes["channels"]["operation"] == "add" and added.changes["channels"]["objects"] == ["ops"]
    assert added.additional_data["actor"] == "cli:test"
    assert "OPS_HOOK_URL" in _everything()  # the variable's name is configuration; its value is never stored


def test_a_bulk_enable_is_recorded_per_provider_with_its_actor(make_provider):
    first, second, already = make_provider(enabled=False), make_provider(enabled=False), make_provider()
    with audit.acting_as("command:test"):
        assert providers_set_enabled(providers=[first, second, already], enabled=True) == 2
    flips = [e for e in LogEntry.objects.filter(action=LogEntry.Action.UPDATE)]
    assert {e.object_repr for e in flips} == {str(first), str(second)}
    assert all(e.changes == {"enabled": [False, True]} and e.additional_data["actor"] == "command:test"
               for e in flips)


def test_beats_bookkeeping_is_not_a_change_but_an_edit_is():
    every = IntervalSchedule.objects.create(every=30, period=IntervalSchedule.SECONDS)
    task = PeriodicTask.objects.create(name="sweep", task="healing.tasks.sweep", interval=every)
    before = LogEntry.objects.count()
    task.total_run_count += 1
    task.save()  # what beat does after every run
    assert LogEntry.objects.count() == before
    task.enabled = False
    task.save()
    assert _entries(PeriodicTask)[-1].changes == {"enabled": [True, False]}


def test_queries_filter_by_model_object_actor_and_time(make_provider):
    with audit.acting_as("command:one"):
        make_provider(slug="first")
    with audit.acting_as("command:two"):
        make_provider(slug="second")
    assert [e.object_repr for e in trail.audit_entries(actor="command:two")] == [str(Provider.objects.get(slug="second"))]
    assert trail.audit_entries(model="providers.provider").count() == 2
    assert trail.audit_entries(model="pool").count() == 0
    pk = str(Provider.objects.get(slug="first").pk)
    assert [e.object_pk for e in trail.audit_entries(object=pk)] == [pk]
    assert trail.audit_entries(since="2999-01-01T00:00:00Z").count() == 0
    assert trail.audit_entries(until="2999-01-01T00:00:00+00:00").count() == 2
    rows = [trail.entry_as_dict(e) for e in trail.audit_entries()]
    assert [r["actor"] for r in rows] == ["command:two", "command:one"]  # newest first
    for bad, field in (({"model": "axes"}, "model"), ({"since": "2026-13-01T00:00:00Z"}, "since")):
        with pytest.raises(trail.AuditQueryError) as refused:
            trail.audit_entries(**bad)
        assert refused.value.field == field
