"""Loading the shipped catalogue (fixtures/providers.json) into the database.

The file holds providers and the default pools. Loading is all-or-nothing: the whole file is
validated first (JSON syntax, every field through the model validators, cross references), and
any error raises CatalogueError naming the entry and field before a single row is written.

Operator edits are never silently undone:

* Providers carry `catalogue_hash`, the fingerprint of their catalogue-managed fields as last
  written from the file. A plain load creates providers that are new in the file, refreshes a
  provider only when its current fields still match that fingerprint (nobody edited it) and the
  file changed, and leaves every other provider alone, reporting it as kept (operator-edited).
* Pools and memberships have no fingerprint, so a plain load never changes an existing pool or
  membership: it creates missing pools (with all their members), and a missing membership only
  when its pool or its provider is new in this run. Otherwise the membership may have been
  removed by an operator on purpose, so it is reported as skipped instead of re-added. Pools and
  memberships whose fields differ from the file are reported as kept.
* `update=True` applies the file on purpose: every provider, pool and membership is set to the
  file's values and each change is reported as "slug: field old -> new". Missing memberships
  are created.
* Nothing is ever deleted: rows the file no longer lists are reported, not removed.

The loader writes with bulk/queryset operations (no per-row signals) and bumps the config
version once, after commit, when anything changed.

It lives in `pools` because the file carries the default pools as well as the providers, and
only `pools` may import both apps.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from providers.models import Provider
from providers.runtime import bump_config_version

from .models import Pool, PoolMembership

logger = logging.getLogger(__name__)

CATALOGUE_VERSION = 1
# Provider fields the catalogue manages; everything else (ids, timestamps, the fingerprint
# itself) belongs to the database.
_UNMANAGED = {"id", "catalogue_hash", "created_at", "updated_at"}
PROVIDER_REQUIRED = ("slug", "name", "category", "base_url")
POOL_FIELDS = ("slug", "name", "capability", "strategy", "description", "enabled")
POOL_REQUIRED = ("slug", "name", "capability")
MEMBER_FIELDS = {"provider": str, "priority": int, "weight": int, "enabled": bool}
MEMBER_DEFAULTS = {"priority": 0, "weight": 100, "enabled": True}
# Upper-case names only: a lower-case or mixed value in api_key_env is far more likely to be a
# pasted key than a variable name.
ENV_NAME_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")
SLUG_RE = re.compile(r"^[a-z0-9_]+$")
# Errors listed in one CatalogueError message; the rest are counted.
MAX_ERRORS_SHOWN = 25
# Longest value shown in a change line; notes can be paragraphs.
MAX_SHOWN_VALUE = 60


class CatalogueError(Exception):
    """The catalogue file is unreadable or invalid; nothing was written."""

    def __init__(self, errors: list[str], path: str | Path | None = None) -> None:
        self.errors = list(errors)
        where = f"{path}: " if path else ""
        shown = self.errors[:MAX_ERRORS_SHOWN]
        lines = [f"{where}catalogue not loaded, {len(self.errors)} error(s):"] + [f"  {e}" for e in shown]
        if len(self.errors) > len(shown):
            lines.append(f"  ... and {len(self.errors) - len(shown)} more")
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any

    def __str__(self) -> str:
        return f"{self.field} {_short(self.old)} → {_short(self.new)}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= MAX_SHOWN_VALUE else text[: MAX_SHOWN_VALUE - 1] + "…"


@dataclass
class LoadReport:
    """What a load did. Membership keys are "pool:provider"."""

    update: bool = False
    created: list[str] = field(default_factory=list)
    updated: dict[str, list[FieldChange]] = field(default_factory=dict)
    unchanged: list[str] = field(default_factory=list)
    kept_operator_edits: list[str] = field(default_factory=list)
    not_in_catalogue: list[str] = field(default_factory=list)
    pools_created: list[str] = field(default_factory=list)
    pools_updated: dict[str, list[FieldChange]] = field(default_factory=dict)
    pools_unchanged: list[str] = field(default_factory=list)
    pools_kept: dict[str, list[FieldChange]] = field(default_factory=dict)
    memberships_created: list[str] = field(default_factory=list)
    memberships_updated: dict[str, list[FieldChange]] = field(default_factory=dict)
    memberships_kept: dict[str, list[FieldChange]] = field(default_factory=dict)
    memberships_skipped: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(
            self.created or self.updated or self.pools_created or self.pools_updated
            or self.memberships_created or self.memberships_updated
        )

    def summary(self) -> str:
        providers = len(self.created) + len(self.updated) + len(self.unchanged) + len(self.kept_operator_edits)
        pools = len(self.pools_created) + len(self.pools_updated) + len(self.pools_unchanged) + len(self.pools_kept)
        return (
            f"providers: {providers} in catalogue — {len(self.created)} created, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged, {len(self.kept_operator_edits)} kept (operator-edited); "
            f"pools: {pools} — {len(self.pools_created)} created, {len(self.pools_updated)} updated, "
            f"{len(self.pools_unchanged)} unchanged, {len(self.pools_kept)} kept; "
            f"memberships: {len(self.memberships_created)} created, {len(self.memberships_updated)} updated, "
            f"{len(self.memberships_kept)} kept, {len(self.memberships_skipped)} skipped"
        )

    def lines(self) -> list[str]:
        """The summary, then one line per notable item (changes, kept edits, skips)."""
        out = [self.summary()]
        if self.created:
            out.append(f"created: {', '.join(self.created)}")
        if self.pools_created:
            out.append(f"created pools: {', '.join(self.pools_created)}")
        added: dict[str, list[str]] = {}
        for key in self.memberships_created:
            pool, _, provider = key.partition(":")
            added.setdefault(pool, []).append(provider)
        out += [f"pool {pool}: added {', '.join(providers)}" for pool, providers in added.items()]
        for label, diffs in (("", self.updated), ("pool ", self.pools_updated),
                             ("membership ", self.memberships_updated)):
            for key, changes in diffs.items():
                out += [f"{label}{key}: {change}" for change in changes]
        hint = " — load with --update to apply the catalogue"
        out += [f"{slug}: kept (operator-edited){hint}" for slug in self.kept_operator_edits]
        for label, diffs in (("pool", self.pools_kept), ("membership", self.memberships_kept)):
            for key, changes in diffs.items():
                out.append(f"{label} {key}: kept, differs from the catalogue ({'; '.join(map(str, changes))}){hint}")
        out += [f"membership {key}: not re-added (may have been removed on purpose){hint}"
                for key in self.memberships_skipped]
        out += [f"{slug}: in the database but not in the catalogue (left as is)" for slug in self.not_in_catalogue]
        return out


@dataclass
class _ProviderSpec:
    instance: Provider  # unsaved, cleaned
    values: dict[str, Any]
    fingerprint: str


@dataclass
class _PoolSpec:
    values: dict[str, Any]
    members: list[dict[str, Any]]


def managed_provider_fields() -> list[models.Field]:
    return [f for f in Provider._meta.concrete_fields if f.name not in _UNMANAGED]


def provider_fingerprint(provider: Provider) -> str:
    """A stable hash of a provider's catalogue-managed fields (order- and whitespace-independent)."""
    values = {f.name: getattr(provider, f.attname) for f in managed_provider_fields()}
    blob = json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


@transaction.atomic
def load_catalogue(path: str | Path, *, update: bool = False) -> LoadReport:
    """Validate the catalogue at `path`, then create/refresh providers and pools (see module doc).

    Raises CatalogueError (and writes nothing) when the file is unreadable or any entry is invalid.
    """
    data = _read(path)
    providers, pools = _validate(data, path)
    report = LoadReport(update=update)
    created_slugs = _write_providers(providers, update=update, report=report)
    _write_pools(pools, created_slugs, update=update, report=report)
    if report.changed:
        transaction.on_commit(bump_config_version)
    logger.info("catalogue %s loaded (update=%s): %s", path, update, report.summary())
    return report


# --- reading and validation -------------------------------------------------------------------


def _read(path: str | Path) -> Any:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogueError([f"cannot read the file ({exc})"], path) from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogueError([f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"], path) from exc


def _validate(data: Any, path: str | Path) -> tuple[list[_ProviderSpec], list[_PoolSpec]]:
    errors: list[str] = []
    if not isinstance(data, dict):
        raise CatalogueError(["top level: expected an object with version, providers and pools"], path)
    unknown = set(data) - {"version", "providers", "pools"}
    if unknown:
        errors.append(f"top level: unknown key(s) {sorted(unknown)}")
    if data.get("version") != CATALOGUE_VERSION:
        errors.append(f"top level: version: expected {CATALOGUE_VERSION}, got {data.get('version')!r}")
    raw_providers, raw_pools = data.get("providers"), data.get("pools", [])
    if not isinstance(raw_providers, list):
        errors.append("top level: providers: expected a list")
        raw_providers = []
    if not isinstance(raw_pools, list):
        errors.append("top level: pools: expected a list")
        raw_pools = []

    providers: list[_ProviderSpec] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(raw_providers):
        label = _label("providers", index, entry)
        spec = _validate_provider(entry, label, errors)
        slug = entry.get("slug") if isinstance(entry, dict) else None
        if isinstance(slug, str):
            if slug in seen:
                errors.append(f"{label}: slug: duplicate of providers[{seen[slug]}]")
            else:
                seen[slug] = index
        if spec:
            providers.append(spec)

    pools: list[_PoolSpec] = []
    seen_pools: dict[str, int] = {}
    for index, entry in enumerate(raw_pools):
        label = _label("pools", index, entry)
        spec = _validate_pool(entry, label, set(seen), errors)
        slug = entry.get("slug") if isinstance(entry, dict) else None
        if isinstance(slug, str):
            if slug in seen_pools:
                errors.append(f"{label}: slug: duplicate of pools[{seen_pools[slug]}]")
            else:
                seen_pools[slug] = index
        if spec:
            pools.append(spec)

    if errors:
        raise CatalogueError(errors, path)
    return providers, pools


def _label(kind: str, index: int, entry: Any) -> str:
    slug = entry.get("slug") if isinstance(entry, dict) else None
    return f'{kind}[{index}] (slug "{slug}")' if isinstance(slug, str) else f"{kind}[{index}] (no slug)"


def _json_type_ok(model_field: models.Field, value: Any) -> tuple[bool, str]:
    """Strict JSON typing: full_clean would quietly turn "false" into False or "10" into 10.0."""
    if isinstance(model_field, models.BooleanField):
        return isinstance(value, bool), "true or false"
    if isinstance(model_field, (models.IntegerField,)):
        return isinstance(value, int) and not isinstance(value, bool), "an integer"
    if isinstance(model_field, models.FloatField):
        return isinstance(value, (int, float)) and not isinstance(value, bool), "a number"
    return isinstance(value, str), "a string"


def _check_types(entry: dict, fields: dict[str, models.Field], label: str, errors: list[str]) -> bool:
    ok = True
    for name, value in entry.items():
        if name not in fields:
            errors.append(f"{label}: {name}: unknown field (known: {', '.join(sorted(fields))})")
            ok = False
            continue
        good, expected = _json_type_ok(fields[name], value)
        if not good:
            errors.append(f"{label}: {name}: expected {expected}, got {json.dumps(value)}")
            ok = False
    return ok


def _clean(instance: models.Model, label: str, errors: list[str], exclude: list[str] | None = None) -> bool:
    try:
        # Uniqueness is checked within the file; against the database a slug match means "update".
        instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.extend(f"{label}: {name}: {message}" for message in messages)
        return False
    return True


def _validate_provider(entry: Any, label: str, errors: list[str]) -> _ProviderSpec | None:
    if not isinstance(entry, dict):
        errors.append(f"{label}: expected an object")
        return None
    fields = {f.name: f for f in managed_provider_fields()}
    missing = [name for name in PROVIDER_REQUIRED if name not in entry]
    errors.extend(f"{label}: {name}: required" for name in missing)
    if not _check_types(entry, fields, label, errors) or missing:
        return None
    instance = Provider(**entry)
    before = len(errors)
    _clean(instance, label, errors)
    _check_provider_rules(instance, label, errors)
    if len(errors) > before:
        return None
    values = {name: getattr(instance, f.attname) for name, f in fields.items()}
    return _ProviderSpec(instance=instance, values=values, fingerprint=provider_fingerprint(instance))


def _check_provider_rules(p: Provider, label: str, errors: list[str]) -> None:
    """Catalogue rules beyond the model: no secrets in the file and health calls that can run."""
    _check_slug(p.slug, label, errors)
    if p.api_key_env and not ENV_NAME_RE.match(p.api_key_env):
        errors.append(f"{label}: api_key_env: must be an upper-case environment variable NAME such as "
                      "EXAMPLE_API_KEY, never a key")
    if p.auth_type != "none" and not (p.auth_param and p.api_key_env):
        errors.append(f"{label}: auth_param: auth_type {p.auth_type!r} needs auth_param and api_key_env")
    if p.key_required and not p.api_key_env:
        errors.append(f"{label}: api_key_env: key_required is true but no variable is named")
    if p.health_path and p.health_path[0] not in "/?":
        errors.append(f"{label}: health_path: must be relative to base_url (start with '/' or '?') or empty")
    if p.auth_type == "query" and p.auth_param and re.search(
        rf"[?&]{re.escape(p.auth_param)}=", p.health_path, flags=re.IGNORECASE
    ):
        errors.append(f"{label}: health_path: must not carry {p.auth_param}=; the key is added from "
                      f"{p.api_key_env or 'api_key_env'} at call time")
    if p.health_body:
        try:
            json.loads(p.health_body)
        except json.JSONDecodeError as exc:
            errors.append(f"{label}: health_body: not valid JSON ({exc.msg})")
        if p.health_method != "POST":
            errors.append(f"{label}: health_body: only sent with health_method POST")


def _check_slug(slug: Any, label: str, errors: list[str]) -> None:
    # Slugs become Redis key parts and adapter module names, hence the narrower alphabet.
    if isinstance(slug, str) and not SLUG_RE.match(slug):
        errors.append(f"{label}: slug: use lower-case letters, digits and _ only")


def _validate_pool(entry: Any, label: str, provider_slugs: set[str], errors: list[str]) -> _PoolSpec | None:
    if not isinstance(entry, dict):
        errors.append(f"{label}: expected an object")
        return None
    _check_slug(entry.get("slug"), label, errors)
    fields = {name: Pool._meta.get_field(name) for name in POOL_FIELDS}
    missing = [name for name in POOL_REQUIRED if name not in entry]
    errors.extend(f"{label}: {name}: required" for name in missing)
    raw_members = entry.get("members", [])
    pool_values = {k: v for k, v in entry.items() if k != "members"}
    ok = _check_types(pool_values, fields, label, errors) and not missing
    if ok:
        ok = _clean(Pool(**pool_values), label, errors)
    if not isinstance(raw_members, list):
        errors.append(f"{label}: members: expected a list")
        return None

    members: list[dict[str, Any]] = []
    seen: set[str] = set()
    for m_index, member in enumerate(raw_members):
        m_label = f"{label}: members[{m_index}]"
        before = len(errors)
        if not isinstance(member, dict):
            errors.append(f"{m_label}: expected an object")
            ok = False
            continue
        unknown = set(member) - set(MEMBER_FIELDS)
        if unknown:
            errors.append(f"{m_label}: unknown field(s) {sorted(unknown)}")
        for name, kind in MEMBER_FIELDS.items():
            value = member.get(name)
            if name in member and (not isinstance(value, kind) or (kind is int and isinstance(value, bool))):
                errors.append(f"{m_label}.{name}: expected {kind.__name__}, got {json.dumps(value)}")
        slug = member.get("provider")
        if "provider" not in member:
            errors.append(f"{m_label}.provider: required")
        elif isinstance(slug, str):
            if slug not in provider_slugs:
                errors.append(f'{m_label}.provider: unknown provider "{slug}" (not in this file\'s providers)')
            elif slug in seen:
                errors.append(f'{m_label}.provider: "{slug}" is listed twice')
            seen.add(slug)
        if len(errors) > before:
            ok = False
            continue
        values = {**MEMBER_DEFAULTS, **{k: v for k, v in member.items() if k != "provider"}}
        membership_errors: list[str] = []
        if _clean(PoolMembership(**values), m_label, membership_errors, exclude=["pool", "provider"]):
            members.append({"provider": slug, **values})
        else:
            errors.extend(e.replace(f"{m_label}: ", f"{m_label}.", 1) for e in membership_errors)
            ok = False
    if not ok:
        return None
    values = {name: fields[name].get_default() for name in POOL_FIELDS if name not in entry}
    values.update(pool_values)
    return _PoolSpec(values=values, members=members)


# --- writing ----------------------------------------------------------------------------------


def _diff(current: dict[str, Any], wanted: dict[str, Any]) -> list[FieldChange]:
    return [FieldChange(name, current[name], value) for name, value in wanted.items() if current[name] != value]


def _write_providers(specs: list[_ProviderSpec], *, update: bool, report: LoadReport) -> set[str]:
    """Create/refresh providers; returns the slugs created in this run."""
    existing = {p.slug: p for p in Provider.objects.all()}
    now = timezone.now()
    to_create: list[Provider] = []
    for spec in specs:
        slug = spec.values["slug"]
        current = existing.get(slug)
        if current is None:
            spec.instance.catalogue_hash = spec.fingerprint
            to_create.append(spec.instance)
            report.created.append(slug)
            continue
        current_fingerprint = provider_fingerprint(current)
        if current_fingerprint == spec.fingerprint:
            if current.catalogue_hash != spec.fingerprint:
                # Already equal to the file (e.g. an operator made the same edit): adopt the
                # fingerprint so future file changes refresh it again. Not a config change.
                Provider.objects.filter(pk=current.pk).update(catalogue_hash=spec.fingerprint)
            report.unchanged.append(slug)
        elif update or current_fingerprint == current.catalogue_hash:
            current_values = {name: getattr(current, name) for name in spec.values}
            changes = _diff(current_values, spec.values)
            Provider.objects.filter(pk=current.pk).update(
                **{c.field: c.new for c in changes}, catalogue_hash=spec.fingerprint, updated_at=now
            )
            report.updated[slug] = changes
        else:
            report.kept_operator_edits.append(slug)
    Provider.objects.bulk_create(to_create)
    in_file = {spec.values["slug"] for spec in specs}
    report.not_in_catalogue = sorted(set(existing) - in_file)
    return set(report.created)


def _write_pools(specs: list[_PoolSpec], new_providers: set[str], *, update: bool, report: LoadReport) -> None:
    now = timezone.now()
    existing = {p.slug: p for p in Pool.objects.all()}
    new_pools = [Pool(**spec.values) for spec in specs if spec.values["slug"] not in existing]
    Pool.objects.bulk_create(new_pools)
    report.pools_created = [p.slug for p in new_pools]

    for spec in specs:
        slug = spec.values["slug"]
        if slug in report.pools_created:
            continue
        pool = existing[slug]
        changes = _diff({name: getattr(pool, name) for name in spec.values}, spec.values)
        if not changes:
            report.pools_unchanged.append(slug)
        elif update:
            Pool.objects.filter(pk=pool.pk).update(**{c.field: c.new for c in changes}, updated_at=now)
            report.pools_updated[slug] = changes
        else:
            report.pools_kept[slug] = changes

    pool_ids = dict(Pool.objects.filter(slug__in=[s.values["slug"] for s in specs]).values_list("slug", "id"))
    provider_ids = dict(Provider.objects.values_list("slug", "id"))
    current = {(m.pool_id, m.provider_id): m for m in PoolMembership.objects.filter(pool_id__in=pool_ids.values())}
    to_create = []
    for spec in specs:
        pool_slug = spec.values["slug"]
        for member in spec.members:
            key = f"{pool_slug}:{member['provider']}"
            pool_id, provider_id = pool_ids[pool_slug], provider_ids[member["provider"]]
            wanted = {k: member[k] for k in ("priority", "weight", "enabled")}
            membership = current.get((pool_id, provider_id))
            if membership is None:
                if update or pool_slug in report.pools_created or member["provider"] in new_providers:
                    to_create.append(PoolMembership(pool_id=pool_id, provider_id=provider_id, **wanted))
                    report.memberships_created.append(key)
                else:
                    report.memberships_skipped.append(key)
                continue
            changes = _diff({k: getattr(membership, k) for k in wanted}, wanted)
            if changes and update:
                PoolMembership.objects.filter(pk=membership.pk).update(**wanted)
                report.memberships_updated[key] = changes
            elif changes:
                report.memberships_kept[key] = changes
    PoolMembership.objects.bulk_create(to_create)
