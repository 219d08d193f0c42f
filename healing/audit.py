"""The audit trail: every configuration model registered with django-auditlog, and the one query
`GET /api/audit` and the admin's list use.

django-auditlog rather than django-simple-history: one table of entries with the field diff
(simple-history keeps a full copy of every row in a history table per model, a migration per
audited model, and leaves the diff to be computed on read), an admin for it out of the box, and
entries can be written for changes made without `save()` (common.audit.record_change). Who made a
change is decided in common.audit.

Audited: providers, pools, memberships, alert rules (their channels too), notification channels,
maintenance windows, client keys, users and groups, and Celery beat's periodic tasks and
schedules. Left out on purpose: what the system writes as it runs (health checks, alerts,
rotations and recovery events, which keep their own tables), the fields beat updates on every run,
and secrets: a user's password hash, a client key's hash, DRF tokens (a token's text is its own
name), none of which may appear in an entry.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q, QuerySet
from django.db.models.signals import post_save, pre_save
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from common import audit
from healing import activity

# app_label.Model -> fields left out of the diff (besides the timestamps every model keeps).
AUDITED: dict[str, dict[str, Any]] = {
    "providers.Provider": {"exclude_fields": ["catalogue_hash", "created_at", "updated_at"]},
    "pools.Pool": {"exclude_fields": ["created_at", "updated_at"]},
    "pools.PoolMembership": {},
    "healing.AlertRule": {"exclude_fields": ["created_at"], "m2m_fields": {"channels"}},
    "healing.NotificationChannel": {"exclude_fields": ["created_at"]},
    "healing.MaintenanceWindow": {"exclude_fields": ["created_at"]},
    "healing.ApiClient": {"exclude_fields": ["key_hash", "created_at"]},
    "auth.User": {"exclude_fields": ["password", "last_login"], "m2m_fields": {"groups"}},
    "auth.Group": {},
    "django_celery_beat.PeriodicTask": {"exclude_fields": ["last_run_at", "total_run_count", "date_changed"]},
    "django_celery_beat.IntervalSchedule": {},
    "django_celery_beat.CrontabSchedule": {},
}
ACTIONS = {value: label.lower() for value, label in LogEntry.Action.choices}
LIST_MAX = 500


def register() -> None:
    """Called once from HealingConfig.ready()."""
    for label, options in AUDITED.items():
        model = apps.get_model(label)
        if not auditlog.contains(model):
            auditlog.register(model, **options)
    pre_save.connect(audit.stamp_entry, sender=LogEntry, dispatch_uid="common.audit.stamp_entry")
    post_save.connect(_to_activity_log, sender=LogEntry, dispatch_uid="healing.audit.activity")


def _to_activity_log(sender: Any, instance: LogEntry, created: bool, **kwargs: Any) -> None:
    """Every configuration change also goes to the activity log, once its transaction commits."""
    if not created:
        return
    row = entry_as_dict(instance)
    item = activity.entry(activity.CONFIG, activity.INFO,
                          f"{row['model']} {row['object']} {row['action']} by {row['actor']}",
                          instance.timestamp.timestamp(), model=row["model"], object=row["object"],
                          actor=row["actor"], fields=sorted(row["changes"]) if row["action"] == "update" else None)
    transaction.on_commit(lambda: activity.record_now([item]))


def record_lockout(*, username: str, ip_address: str) -> None:
    """A login lockout in the trail: an `access` entry on the locked user (or on the attempt row
    when the name is no user's). Once per lockout: django-axes signals again on every attempt
    it turns away while the lock lasts."""
    from axes.models import AccessAttempt
    from django.contrib.auth import get_user_model

    lock_began = timezone.now() - timedelta(hours=float(settings.AXES_COOLOFF_TIME))
    if LogEntry.objects.filter(timestamp__gte=lock_began, additional_data__event="login_lockout",
                               additional_data__username=username,
                               additional_data__ip_address=ip_address).exists():
        return

    subject = get_user_model().objects.filter(username=username).first() if username else None
    if subject is None:
        subject = AccessAttempt.objects.filter(ip_address=ip_address).order_by("-attempt_time").first()
    if subject is None:
        return
    with audit.acting_as(audit.SYSTEM):
        audit.record_change(subject, {"locked_out": (False, True)}, action="access",
                            extra={"event": "login_lockout", "username": username, "ip_address": ip_address})


class AuditQueryError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def audit_entries(*, model: str = "", object: str = "", actor: str = "", since: str = "",
                  until: str = "") -> QuerySet[LogEntry]:
    """Entries newest first. model: `provider` or `providers.provider`; object: its id or its
    text (a slug, a name); actor: a user name, or a label (`command:rotate`, `system`)."""
    entries = LogEntry.objects.select_related("content_type", "actor").order_by("-timestamp", "-pk")
    if model:
        entries = entries.filter(content_type__in=_content_types(model))
    if object:
        match = Q(object_repr=object) | Q(object_pk=object)
        entries = entries.filter(match)
    if actor:
        entries = entries.filter(Q(actor__username=actor) | Q(additional_data__actor=actor))
    for name, value, lookup in (("since", since, "timestamp__gte"), ("until", until, "timestamp__lt")):
        if value:
            entries = entries.filter(**{lookup: _when(name, value)})
    return entries


def _content_types(model: str) -> list[ContentType]:
    wanted = model.lower()
    audited = [apps.get_model(label) for label in AUDITED]
    matches = [m for m in audited
               if wanted in (m._meta.model_name, m._meta.label_lower)]
    if not matches:
        names = ", ".join(sorted(m._meta.label_lower for m in audited))
        raise AuditQueryError("model", f"unknown model {model!r}; audited: {names}")
    return [ContentType.objects.get_for_model(m) for m in matches]


def _when(field: str, value: str) -> datetime:
    try:
        moment = parse_datetime(value)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise AuditQueryError(field, f"{field} must be an ISO 8601 time with a zone, e.g. 2026-12-01T00:00:00Z")
    return moment


def entry_as_dict(entry: LogEntry) -> dict[str, Any]:
    data = entry.additional_data or {}
    return {
        "id": entry.pk,
        "at": entry.timestamp.isoformat().replace("+00:00", "Z"),
        "action": ACTIONS.get(entry.action, str(entry.action)),
        "model": entry.content_type.model_class()._meta.label_lower if entry.content_type.model_class() else "",
        "object_id": entry.object_pk,
        "object": entry.object_repr,
        "actor": data.get("actor") or (f"user:{entry.actor.get_username()}" if entry.actor else audit.SYSTEM),
        "remote_addr": entry.remote_addr,
        "changes": entry.changes or {},
        "details": {k: v for k, v in data.items() if k != "actor"},
    }
