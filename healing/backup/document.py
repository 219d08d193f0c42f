"""The configuration as a document: its sections, each entry's natural key and canonical form.

One canonical form serves the export, the validation of an imported document and the diff
between them: an entry is a dict of JSON values (times in UTC ISO 8601 with "Z", decimals as
numbers, time zones by name), references by natural key (slugs, names), never a database id.
The export writes these entries; the validator builds the same entries from a document (through
the model fields, so "10" and 10.0 or two spellings of one time compare equal), and the diff is
a comparison of two dicts of them.

Internally memberships are a section of their own ("pool:provider"); in the document they sit in
their pool's `members`, as in fixtures/providers.json.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from typing import Any

from django.db import models
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)

from healing.models import AlertRule, ApiClient, MaintenanceWindow, NotificationChannel
from pools.catalogue_validation import POOL_FIELDS, managed_provider_fields
from pools.models import Pool, PoolMembership
from providers.models import Provider

# The document's format version; its providers and pools are the catalogue's entries (version 1).
BACKUP_VERSION = 1
SECTIONS = ("providers", "pools", "memberships", "notification_channels", "alert_rules",
            "maintenance_windows", "periodic_tasks", "api_clients")
# Top-level lists of a document (memberships live inside pools).
DOCUMENT_LISTS = tuple(s for s in SECTIONS if s != "memberships")
# Read-only: written by --with-audit, ignored by an import.
AUDIT_KEY = "audit"

# The provider's fingerprint goes along: it tells `load_providers` which providers an operator
# edited, so a restored database keeps refusing to overwrite those edits.
PROVIDER_FIELDS = (*(f.name for f in managed_provider_fields()), "catalogue_hash")
MEMBER_FIELDS = ("priority", "weight", "enabled")
CHANNEL_FIELDS = ("name", "kind", "target", "secret_env", "enabled")
RULE_FIELDS = ("name", "kind", "severity", "consecutive_checks", "error_rate_pct", "window_minutes",
               "budget_left_pct", "repeat_minutes", "notify_resolved", "enabled")
WINDOW_FIELDS = ("starts_at", "ends_at", "reason", "created_by")
TASK_FIELDS = ("name", "task", "args", "kwargs", "queue", "exchange", "routing_key", "headers", "priority",
               "expires", "expire_seconds", "one_off", "start_time", "enabled", "description")
CLIENT_FIELDS = ("name", "key_prefix", "key_hash", "enabled", "capabilities", "limits")
# A periodic task's schedule, inline: {"interval": {"every": 30, "period": "seconds"}}.
SCHEDULES: dict[str, tuple[type[models.Model], tuple[str, ...]]] = {
    "interval": (IntervalSchedule, ("every", "period")),
    "crontab": (CrontabSchedule, ("minute", "hour", "day_of_month", "month_of_year", "day_of_week", "timezone")),
    "solar": (SolarSchedule, ("event", "latitude", "longitude")),
    "clocked": (ClockedSchedule, ("clocked_time",)),
}

Entries = dict[str, dict[str, Any]]  # natural key -> canonical entry


@dataclass
class Current:
    """What the database holds, section by section: canonical entries and their rows."""

    entries: dict[str, Entries]
    rows: dict[str, dict[str, models.Model]]


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, tzinfo):
        return str(value)
    return value


def values_of(obj: models.Model, fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: jsonable(getattr(obj, name)) for name in fields}


def membership_key(pool: str, provider: str) -> str:
    return f"{pool}:{provider}"


def window_key(entry: dict[str, Any]) -> str:
    target = f"provider:{entry['provider']}" if entry.get("provider") else f"pool:{entry.get('pool')}"
    return f"{target} {entry['starts_at']}/{entry['ends_at']}"


def schedule_of(task: PeriodicTask) -> dict[str, Any]:
    for kind, (_, fields) in SCHEDULES.items():
        schedule = getattr(task, kind)
        if schedule is not None:
            return {kind: values_of(schedule, fields)}
    return {}


def read_current() -> Current:
    """Every configuration row, as canonical entries keyed naturally (a handful of queries)."""
    rows: dict[str, dict[str, models.Model]] = {}
    entries: dict[str, Entries] = {}

    def add(section: str, key: str, entry: dict[str, Any], row: models.Model) -> None:
        entries.setdefault(section, {})[key] = entry
        rows.setdefault(section, {})[key] = row

    for provider in Provider.objects.all():
        add("providers", provider.slug, values_of(provider, PROVIDER_FIELDS), provider)
    for pool in Pool.objects.all():
        add("pools", pool.slug, values_of(pool, POOL_FIELDS), pool)
    for member in PoolMembership.objects.select_related("pool", "provider"):
        entry = {"pool": member.pool.slug, "provider": member.provider.slug, **values_of(member, MEMBER_FIELDS)}
        add("memberships", membership_key(member.pool.slug, member.provider.slug), entry, member)
    for channel in NotificationChannel.objects.all():
        add("notification_channels", channel.name, values_of(channel, CHANNEL_FIELDS), channel)
    for rule in AlertRule.objects.select_related("provider", "pool").prefetch_related("channels"):
        add("alert_rules", rule.name, rule_entry(rule), rule)
    for window in MaintenanceWindow.objects.select_related("provider", "pool"):
        entry = {"provider": window.provider.slug if window.provider_id else None,
                 "pool": window.pool.slug if window.pool_id else None, **values_of(window, WINDOW_FIELDS)}
        add("maintenance_windows", window_key(entry), entry, window)
    for task in PeriodicTask.objects.select_related(*SCHEDULES):
        add("periodic_tasks", task.name, {**values_of(task, TASK_FIELDS), "schedule": schedule_of(task)}, task)
    for client in ApiClient.objects.all():
        add("api_clients", client.name, values_of(client, CLIENT_FIELDS), client)
    for section in SECTIONS:
        entries.setdefault(section, {})
        rows.setdefault(section, {})
    return Current(entries=entries, rows=rows)


def rule_entry(rule: AlertRule) -> dict[str, Any]:
    values = values_of(rule, RULE_FIELDS)
    return {**values, "provider": rule.provider.slug if rule.provider_id else None,
            "pool": rule.pool.slug if rule.pool_id else None,
            "channels": sorted(channel.name for channel in rule.channels.all())}


def as_document(entries: dict[str, Entries]) -> dict[str, Any]:
    """The document of canonical entries, in a stable order (so equal configurations give
    byte-identical documents)."""
    members: dict[str, list[dict[str, Any]]] = {}
    for entry in entries["memberships"].values():
        members.setdefault(entry["pool"], []).append({k: v for k, v in entry.items() if k != "pool"})
    pools = []
    for slug in sorted(entries["pools"]):
        listed = sorted(members.get(slug, []), key=lambda m: (-m["priority"], m["provider"]))
        pools.append({**entries["pools"][slug], "members": listed})
    document: dict[str, Any] = {"version": BACKUP_VERSION}
    for section in DOCUMENT_LISTS:
        document[section] = pools if section == "pools" else [entries[section][k] for k in sorted(entries[section])]
    return document
