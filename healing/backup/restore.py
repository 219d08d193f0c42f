"""Importing a configuration document: validated whole, diffed against the database, then written
in one transaction (or, in a dry run, only diffed).

What the document does not list is reported and kept; only `prune=True` deletes it (and with it,
through the database's cascades, its history: a pruned provider's health checks and alerts go too).
Entries are written with `save()` and deleted with `delete()`, one row at a time, so the audit
trail records every change with its field diff and its actor (the request's user, or
`command:import_config`), and the config-version signals tell every process. An entry that is
already as the document says is not written at all: an unchanged import leaves no audit entry.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

import redis
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django_celery_beat.models import PeriodicTask

from healing.models import AlertRule, ApiClient, MaintenanceWindow, NotificationChannel
from healing.monitoring import maintenance
from pools.catalogue_report import FieldChange
from pools.catalogue_validation import POOL_FIELDS
from pools.models import Pool, PoolMembership
from providers.models import Provider

from .document import (
    AUDIT_KEY,
    CHANNEL_FIELDS,
    CLIENT_FIELDS,
    MEMBER_FIELDS,
    PROVIDER_FIELDS,
    RULE_FIELDS,
    SCHEDULES,
    SECTIONS,
    TASK_FIELDS,
    WINDOW_FIELDS,
    Current,
    Entries,
    read_current,
)
from .errors import BackupError, EntryError
from .report import ImportPlan, SectionPlan
from .validation import validate_document

logger = logging.getLogger(__name__)

# Fields whose values a diff never shows (the audit trail leaves them out too).
HIDDEN_VALUES = {("api_clients", "key_hash")}
# Deletes run after every create and update, dependants first, so a cascade only ever reaches
# rows that are being deleted anyway. Client keys go before anything is written: a document
# may give a pruned client's key to a client of another name.
DELETE_ORDER = ("maintenance_windows", "alert_rules", "periodic_tasks", "memberships", "notification_channels",
                "pools", "providers")


def import_config(data: Any, *, dry_run: bool = False, prune: bool = False) -> ImportPlan:
    """Validate `data`, diff it against the database and (unless `dry_run`) apply it, all or
    nothing. Raises BackupError (nothing written) naming the entry and field of every error."""
    desired = validate_document(data)
    with transaction.atomic():
        current = read_current()
        plan = diff(desired, current, dry_run=dry_run, prune=prune, audit_ignored=AUDIT_KEY in data)
        _check_key_conflicts(data, desired, current, prune)
        if plan.applied:
            try:
                _write(desired, current, plan)
            except (IntegrityError, ValidationError) as exc:
                # Validation should have caught it; a concurrent edit can still get here.
                raise BackupError([EntryError("", "", f"not written, the database refused it: {exc}")]) from exc
            if _touches(plan, "maintenance_windows"):
                transaction.on_commit(_sync_maintenance)
    logger.info("configuration import: %s", plan.summary())
    return plan


def diff(desired: dict[str, Entries], current: Current, *, dry_run: bool, prune: bool,
         audit_ignored: bool = False) -> ImportPlan:
    sections: dict[str, SectionPlan] = {}
    for section in SECTIONS:
        want, have = desired[section], current.entries[section]
        plan = SectionPlan(absent=sorted(set(have) - set(want)))
        for key, entry in want.items():
            if key not in have:
                plan.create.append(key)
            elif entry != have[key]:
                plan.update[key] = [_change(section, name, have[key].get(name), value)
                                    for name, value in entry.items() if have[key].get(name) != value]
            else:
                plan.unchanged += 1
        sections[section] = plan
    return ImportPlan(sections=sections, dry_run=dry_run, prune=prune, audit_ignored=audit_ignored)


def _change(section: str, name: str, old: Any, new: Any) -> FieldChange:
    if (section, name) in HIDDEN_VALUES:
        return FieldChange(name, "(hidden)", "(hidden)")
    return FieldChange(name, old, new)


def _touches(plan: ImportPlan, section: str) -> bool:
    part = plan.sections[section]
    return bool(part.create or part.update or (plan.prune and part.absent))


def _check_key_conflicts(data: dict, desired: dict[str, Entries], current: Current, prune: bool) -> None:
    """A client key the document gives to one client and the database to another it keeps."""
    if prune:
        return
    kept = {entry["key_hash"]: name for name, entry in current.entries["api_clients"].items()
            if name not in desired["api_clients"]}
    errors = []
    for index, entry in enumerate(data["api_clients"]):
        wanted = desired["api_clients"].get(entry["name"])
        if wanted and wanted["key_hash"] in kept:
            errors.append(EntryError(f"api_clients[{index}]", "key_hash",
                                     f'same key as client "{kept[wanted["key_hash"]]}" in the database, which this '
                                     "document does not list (import with prune to delete that one)",
                                     f'api_clients[{index}] (name "{entry["name"]}")'))
    if errors:
        raise BackupError(errors)


def _sync_maintenance() -> None:
    try:
        maintenance.maintenance_sync()
    except redis.RedisError as exc:
        logger.warning("maintenance windows imported but not synced to Redis (the next sweep does it): %s", exc)


# --- writing ----------------------------------------------------------------------------------------


def _python(model: type[models.Model], name: str, value: Any) -> Any:
    field = model._meta.get_field(name)
    if isinstance(field, models.DecimalField) and value is not None:
        return Decimal(str(value))
    return field.to_python(value)


def _assign(obj: models.Model, entry: dict[str, Any], fields: tuple[str, ...]) -> None:
    for name in fields:
        setattr(obj, name, _python(type(obj), name, entry[name]))


def _pending(plan: ImportPlan, section: str) -> set[str]:
    part = plan.sections[section]
    return {*part.create, *part.update}


def _write(desired: dict[str, Entries], current: Current, plan: ImportPlan) -> None:
    if plan.prune:
        _delete(current, plan, "api_clients")
    saved = {
        "providers": _save_plain("providers", Provider, PROVIDER_FIELDS, desired, current, plan),
        "pools": _save_plain("pools", Pool, POOL_FIELDS, desired, current, plan),
        "notification_channels": _save_plain("notification_channels", NotificationChannel, CHANNEL_FIELDS,
                                             desired, current, plan),
    }
    _save_memberships(desired, current, plan, saved)
    _save_rules(desired, current, plan, saved)
    _save_windows(desired, current, plan, saved)
    _save_tasks(desired, current, plan)
    _save_plain("api_clients", ApiClient, CLIENT_FIELDS, desired, current, plan)
    if plan.prune:
        for section in DELETE_ORDER:
            _delete(current, plan, section)


def _save_plain(section: str, model: type[models.Model], fields: tuple[str, ...], desired: dict[str, Entries],
                current: Current, plan: ImportPlan) -> dict[str, models.Model]:
    """Create or update the section's pending entries; returns every entry's row by key."""
    pending = _pending(plan, section)
    rows: dict[str, models.Model] = {}
    for key, entry in desired[section].items():
        row = current.rows[section].get(key)
        if key in pending:
            row = row or model()
            _assign(row, entry, fields)
            row.save()
        rows[key] = row
    return rows


def _save_memberships(desired: dict[str, Entries], current: Current, plan: ImportPlan,
                      saved: dict[str, dict[str, models.Model]]) -> None:
    for key in _pending(plan, "memberships"):
        entry = desired["memberships"][key]
        row = current.rows["memberships"].get(key) or PoolMembership(
            pool=saved["pools"][entry["pool"]], provider=saved["providers"][entry["provider"]])
        _assign(row, entry, MEMBER_FIELDS)
        row.save()


def _target(entry: dict[str, Any], saved: dict[str, dict[str, models.Model]]) -> dict[str, Any]:
    return {"provider": saved["providers"][entry["provider"]] if entry["provider"] else None,
            "pool": saved["pools"][entry["pool"]] if entry["pool"] else None}


def _save_rules(desired: dict[str, Entries], current: Current, plan: ImportPlan,
                saved: dict[str, dict[str, models.Model]]) -> None:
    for key in _pending(plan, "alert_rules"):
        entry = desired["alert_rules"][key]
        row = current.rows["alert_rules"].get(key)
        old_channels = current.entries["alert_rules"][key]["channels"] if row else None
        row = row or AlertRule()
        _assign(row, entry, RULE_FIELDS)
        for name, value in _target(entry, saved).items():
            setattr(row, name, value)
        row.save()
        if entry["channels"] != old_channels:  # set() only when it changes: each set is an audit entry
            row.channels.set([saved["notification_channels"][name] for name in entry["channels"]])


def _save_windows(desired: dict[str, Entries], current: Current, plan: ImportPlan,
                  saved: dict[str, dict[str, models.Model]]) -> None:
    for key in _pending(plan, "maintenance_windows"):
        entry = desired["maintenance_windows"][key]
        row = current.rows["maintenance_windows"].get(key) or MaintenanceWindow(**_target(entry, saved))
        _assign(row, entry, WINDOW_FIELDS)
        row.save()


def _save_tasks(desired: dict[str, Entries], current: Current, plan: ImportPlan) -> None:
    for key in _pending(plan, "periodic_tasks"):
        entry = desired["periodic_tasks"][key]
        row = current.rows["periodic_tasks"].get(key) or PeriodicTask()
        _assign(row, entry, TASK_FIELDS)
        for kind in SCHEDULES:
            setattr(row, kind, None)
        (kind, values), = entry["schedule"].items()
        setattr(row, kind, _schedule(kind, values))
        row.save()


def _schedule(kind: str, values: dict[str, Any]) -> models.Model:
    """The schedule row with these values: beat shares one row between the tasks that use it."""
    model, _ = SCHEDULES[kind]
    wanted = {name: _python(model, name, value) for name, value in values.items()}
    return model.objects.filter(**wanted).order_by("pk").first() or model.objects.create(**wanted)


def _delete(current: Current, plan: ImportPlan, section: str) -> None:
    for key in plan.sections[section].absent:
        current.rows[section][key].delete()
