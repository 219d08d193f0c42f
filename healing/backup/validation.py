"""Validating a configuration document, whole, before anything is written.

Providers and pools (with their members) go through the catalogue's own validator
(pools.catalogue_validation), so a backup accepts exactly what `load_providers` accepts. The
other sections are checked here the same way: strict JSON types, every field through the model's
validators, the model's own rules, references by natural key to entries of the same document,
no duplicate keys. Every error names its entry and field (EntryError); BackupError carries them
all, and the result on success is the document's canonical entries (healing.backup.document).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models
from django.utils.dateparse import parse_datetime
from django_celery_beat.models import PeriodicTask

from common import json_input
from healing.models import AlertRule, ApiClient, MaintenanceWindow, NotificationChannel
from pools.catalogue_report import CatalogueError
from pools.catalogue_validation import CATALOGUE_VERSION, POOL_FIELDS, validate_catalogue

from .document import (
    AUDIT_KEY,
    BACKUP_VERSION,
    CHANNEL_FIELDS,
    CLIENT_FIELDS,
    DOCUMENT_LISTS,
    PROVIDER_FIELDS,
    RULE_FIELDS,
    SCHEDULES,
    SECTIONS,
    TASK_FIELDS,
    WINDOW_FIELDS,
    Entries,
    jsonable,
    membership_key,
    values_of,
    window_key,
)
from .errors import BackupError, EntryError, from_catalogue

FINGERPRINT_RE = re.compile(r"^([0-9a-f]{64})?$")
KEY_HASH_RE = re.compile(r"^[0-9a-f]{64}$")
Add = Callable[[str, str], None]  # (field, message) of the entry being checked


def validate_document(data: Any) -> dict[str, Entries]:
    """The document's canonical entries by section, or BackupError listing every error found."""
    if not isinstance(data, dict):
        raise BackupError([EntryError("", "", "expected an object with version, " + ", ".join(DOCUMENT_LISTS))])
    errors: list[EntryError] = []
    for name in sorted(set(data) - {"version", AUDIT_KEY, *DOCUMENT_LISTS}):
        errors.append(EntryError("", name, f"unknown key (known: version, {', '.join(DOCUMENT_LISTS)}, {AUDIT_KEY})"))
    if data.get("version") != BACKUP_VERSION:
        errors.append(EntryError("", "version", f"expected {BACKUP_VERSION}, got {json.dumps(data.get('version'))}"))
    lists: dict[str, list[Any]] = {}
    for section in DOCUMENT_LISTS:
        value = data.get(section)
        if not isinstance(value, list):
            # Required even when empty: a missing section must never read as "delete all of them".
            errors.append(EntryError("", section, "required: a list (which may be empty)" if value is None
                                     else "expected a list"))
        lists[section] = value if isinstance(value, list) else []

    desired: dict[str, Entries] = {section: {} for section in SECTIONS}
    _catalogue_part(lists, desired, errors)
    known = {"providers": _raw_keys(lists["providers"], "slug"), "pools": _raw_keys(lists["pools"], "slug"),
             "notification_channels": _raw_keys(lists["notification_channels"], "name")}
    checks: dict[str, tuple[str, Callable[[Any, Add], dict[str, Any] | None], Callable[[dict], str]]] = {
        "notification_channels": ("name", _channel, lambda e: e["name"]),
        "alert_rules": ("name", lambda entry, add: _rule(entry, add, known), lambda e: e["name"]),
        "maintenance_windows": ("starts_at", lambda entry, add: _window(entry, add, known), window_key),
        "periodic_tasks": ("name", _task, lambda e: e["name"]),
        "api_clients": ("name", _client, lambda e: e["name"]),
    }
    for section, (key_field, build, key) in checks.items():
        desired[section] = _entries(section, lists[section], key_field, build, key, errors)
    _unique_key_hashes(lists["api_clients"], desired["api_clients"], errors)
    if errors:
        raise BackupError(errors)
    return desired


# --- providers and pools: the catalogue's validator -------------------------------------------------


def _catalogue_part(lists: dict[str, list[Any]], desired: dict[str, Entries], errors: list[EntryError]) -> None:
    providers, fingerprints = [], []
    for index, entry in enumerate(lists["providers"]):
        fingerprint = ""
        if isinstance(entry, dict) and "catalogue_hash" in entry:
            entry = dict(entry)
            fingerprint = entry.pop("catalogue_hash")
            if not isinstance(fingerprint, str) or not FINGERPRINT_RE.match(fingerprint):
                errors.append(EntryError(f"providers[{index}]", "catalogue_hash", "expected 64 hex digits or empty",
                                         _label("providers", index, entry, "slug")))
        providers.append(entry)
        fingerprints.append(fingerprint)
    try:
        provider_specs, pool_specs = validate_catalogue(
            {"version": CATALOGUE_VERSION, "providers": providers, "pools": lists["pools"]}, "document")
    except CatalogueError as exc:
        errors.extend(from_catalogue(line) for line in exc.errors)
        return
    # No error: one spec per entry, in order.
    for spec, fingerprint in zip(provider_specs, fingerprints, strict=True):
        spec.instance.catalogue_hash = fingerprint
        desired["providers"][spec.values["slug"]] = values_of(spec.instance, PROVIDER_FIELDS)
    for pool in pool_specs:
        slug = pool.values["slug"]
        desired["pools"][slug] = {name: jsonable(pool.values[name]) for name in POOL_FIELDS}
        for member in pool.members:
            desired["memberships"][membership_key(slug, member["provider"])] = {"pool": slug, **member}


# --- the other sections -----------------------------------------------------------------------------


def _raw_keys(raw: list[Any], name: str) -> set[str]:
    """Names the document's entries claim, valid or not: a reference to an entry that has its own
    error is not reported a second time as unknown."""
    return {entry[name] for entry in raw if isinstance(entry, dict) and isinstance(entry.get(name), str)}


def _label(section: str, index: int, entry: Any, key_field: str) -> str:
    value = entry.get(key_field) if isinstance(entry, dict) else None
    return f'{section}[{index}] ({key_field} "{value}")' if isinstance(value, str) else f"{section}[{index}]"


def _entries(section: str, raw: list[Any], key_field: str, build: Callable[[Any, Add], dict[str, Any] | None],
             key: Callable[[dict], str], errors: list[EntryError]) -> Entries:
    out: Entries = {}
    seen: dict[str, int] = {}
    for index, entry in enumerate(raw):
        where, label = f"{section}[{index}]", _label(section, index, entry, key_field)

        def add(field: str, message: str, where: str = where, label: str = label) -> None:
            errors.append(EntryError(where, field, message, label))

        canonical = build(entry, add)
        if canonical is None:
            continue
        natural = key(canonical)
        if natural in seen:
            add(key_field, f"duplicate of {section}[{seen[natural]}]")
        else:
            seen[natural] = index
            out[natural] = canonical
    return out


def _type_problem(field: models.Field, value: Any) -> str | None:
    """What the JSON value should have been, or None. Strict: full_clean would quietly turn
    "false" into False or "10" into 10."""
    if value is None:
        return None if field.null else "a value, not null"
    if isinstance(field, models.BooleanField):
        return None if isinstance(value, bool) else "true or false"
    if isinstance(field, models.IntegerField):
        return None if isinstance(value, int) and not isinstance(value, bool) else "an integer"
    if isinstance(field, (models.FloatField, models.DecimalField)):
        return None if isinstance(value, (int, float)) and not isinstance(value, bool) else "a number"
    if isinstance(field, models.DateTimeField):
        return None if _aware_time(value) else "an ISO 8601 time with a zone, e.g. 2026-12-01T00:00:00Z"
    if isinstance(field, models.JSONField):
        return None
    return None if isinstance(value, str) else "a string"


def _aware_time(value: Any) -> bool:
    try:
        moment = parse_datetime(value) if isinstance(value, str) else None
    except ValueError:  # well formed but impossible, e.g. month 13
        return False
    return moment is not None and moment.tzinfo is not None


def _model_fields(model: type[models.Model], entry: Any, fields: tuple[str, ...], required: tuple[str, ...],
                  extra: tuple[str, ...], add: Add) -> Any:
    """An unsaved, field-cleaned instance from the entry's `fields`, or None (errors added).
    `extra` are keys the caller checks itself (references, a schedule)."""
    if not isinstance(entry, dict):
        add("", "expected an object")
        return None
    ok = True
    for name in entry:
        if name not in fields and name not in extra:
            add(name, f"unknown field (known: {', '.join(sorted((*fields, *extra)))})")
            ok = False
    for name in required:
        if name not in entry:
            add(name, "required")
            ok = False
    values = {}
    for name in (n for n in fields if n in entry):
        field, value = model._meta.get_field(name), entry[name]
        problem = _type_problem(field, value)
        if problem:
            add(name, f"expected {problem}, got {json.dumps(value)[:80]}")
            ok = False
        elif isinstance(field, models.DecimalField) and value is not None:
            values[name] = Decimal(str(value))  # through its text: 51.507222 stays six decimals, not a float's
        else:
            values[name] = value
    if not ok:
        return None
    instance = model()
    for name, value in values.items():
        try:
            setattr(instance, name, value)  # some fields convert on assignment (a time zone's name)
        except ValidationError as exc:
            _add_validation(exc, lambda _field, message, name=name: add(name, message))
            ok = False
    if not ok:
        return None
    try:
        instance.clean_fields(exclude=[f.name for f in model._meta.fields if f.name not in fields])
    except ValidationError as exc:
        _add_validation(exc, add)
        return None
    return instance


def _add_validation(exc: ValidationError, add: Add) -> None:
    if not hasattr(exc, "error_dict"):
        for message in exc.messages:
            add("", message)
        return
    for name, messages in exc.message_dict.items():
        for message in messages:
            add("" if name == NON_FIELD_ERRORS else name, message)


def _model_clean(instance: models.Model, add: Add) -> bool:
    try:
        instance.clean()
    except ValidationError as exc:
        _add_validation(exc, add)
        return False
    return True


def _reference(entry: dict, name: str, known: set[str], what: str, add: Add) -> bool:
    value = entry.get(name)
    if value is None:
        return True
    if not isinstance(value, str):
        add(name, f"expected a {what} or null, got {json.dumps(value)[:80]}")
        return False
    if value not in known:
        add(name, f'unknown {what} "{value}" (not in this document)')
        return False
    return True


def _channel(entry: Any, add: Add) -> dict[str, Any] | None:
    instance = _model_fields(NotificationChannel, entry, CHANNEL_FIELDS, ("name", "kind"), (), add)
    if instance is None or not _model_clean(instance, add):
        return None
    return values_of(instance, CHANNEL_FIELDS)


def _rule(entry: Any, add: Add, known: dict[str, set[str]]) -> dict[str, Any] | None:
    refs = ("provider", "pool", "channels")
    instance = _model_fields(AlertRule, entry, RULE_FIELDS, ("name", "kind"), refs, add)
    if not isinstance(entry, dict):
        return None
    ok = _reference(entry, "provider", known["providers"], "provider slug", add)
    ok = _reference(entry, "pool", known["pools"], "pool slug", add) and ok
    channels = entry.get("channels", [])
    if not isinstance(channels, list) or not all(isinstance(name, str) for name in channels):
        add("channels", "expected a list of channel names")
        ok = False
    else:
        for name in channels:
            if name not in known["notification_channels"]:
                add("channels", f'unknown notification channel "{name}" (not in this document)')
                ok = False
        if len(set(channels)) != len(channels):
            add("channels", "a channel is listed twice")
            ok = False
    if instance is None or not ok:
        return None
    return {**values_of(instance, RULE_FIELDS), "provider": entry.get("provider"), "pool": entry.get("pool"),
            "channels": sorted(channels)}


def _window(entry: Any, add: Add, known: dict[str, set[str]]) -> dict[str, Any] | None:
    instance = _model_fields(MaintenanceWindow, entry, WINDOW_FIELDS, ("starts_at", "ends_at", "reason"),
                             ("provider", "pool"), add)
    if not isinstance(entry, dict):
        return None
    ok = _reference(entry, "provider", known["providers"], "provider slug", add)
    ok = _reference(entry, "pool", known["pools"], "pool slug", add) and ok
    if (entry.get("provider") is None) == (entry.get("pool") is None):
        add("provider", "name either a provider or a pool (exactly one of the two)")
        ok = False
    if instance is not None and instance.ends_at <= instance.starts_at:
        add("ends_at", "must be after starts_at")
        ok = False
    if instance is None or not ok:
        return None
    return {"provider": entry.get("provider"), "pool": entry.get("pool"), **values_of(instance, WINDOW_FIELDS)}


def _task(entry: Any, add: Add) -> dict[str, Any] | None:
    instance = _model_fields(PeriodicTask, entry, TASK_FIELDS, ("name", "task", "schedule"), ("schedule",), add)
    schedule = _schedule(entry["schedule"], add) if isinstance(entry, dict) and "schedule" in entry else None
    if instance is None or schedule is None:
        return None
    ok = True
    for name, kind, example in (("args", list, "[]"), ("kwargs", dict, "{}"), ("headers", dict, "{}")):
        text = getattr(instance, name)
        if name != "headers" and text == "":
            continue
        try:
            decoded = json_input.loads(text)
        except json.JSONDecodeError:
            decoded = None
        if not isinstance(decoded, kind):
            add(name, f"must be the JSON text of {'a list' if kind is list else 'an object'}, e.g. {example!r}")
            ok = False
    if instance.expires and instance.expire_seconds is not None:
        add("expire_seconds", "set expires or expire_seconds, not both")
        ok = False
    if "clocked" in schedule and not instance.one_off:
        add("one_off", "a clocked schedule runs once: one_off must be true")
        ok = False
    for name in ("queue", "exchange", "routing_key"):
        setattr(instance, name, getattr(instance, name) or None)  # as PeriodicTask.save() stores them
    return {**values_of(instance, TASK_FIELDS), "schedule": schedule} if ok else None


def _schedule(value: Any, add: Add) -> dict[str, Any] | None:
    if not isinstance(value, dict) or len(value) != 1 or next(iter(value)) not in SCHEDULES:
        add("schedule", f"expected one of {', '.join(SCHEDULES)} with its fields, "
                        'e.g. {"interval": {"every": 30, "period": "seconds"}}')
        return None
    kind, inner = next(iter(value.items()))
    model, fields = SCHEDULES[kind]

    def add_inner(field: str, message: str) -> None:
        add(f"schedule.{kind}.{field}" if field else f"schedule.{kind}", message)

    instance = _model_fields(model, inner, fields, fields, (), add_inner)
    return None if instance is None else {kind: values_of(instance, fields)}


def _client(entry: Any, add: Add) -> dict[str, Any] | None:
    instance = _model_fields(ApiClient, entry, CLIENT_FIELDS, ("name", "key_prefix", "key_hash"), (), add)
    if instance is None:
        return None
    if not KEY_HASH_RE.match(instance.key_hash):
        add("key_hash", "must be the key's sha256 (64 lower-case hex digits); a backup never holds the key itself")
        return None
    if not _model_clean(instance, add):
        return None
    return values_of(instance, CLIENT_FIELDS)


def _unique_key_hashes(raw: list[Any], clients: Entries, errors: list[EntryError]) -> None:
    """Two clients with one key: the data plane could not tell them apart."""
    owner: dict[str, str] = {}
    for index, entry in enumerate(raw):
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str) or name not in clients:
            continue
        first = owner.setdefault(clients[name]["key_hash"], name)
        if first != name:
            errors.append(EntryError(f"api_clients[{index}]", "key_hash", f'same key as client "{first}"',
                                     _label("api_clients", index, entry, "name")))
