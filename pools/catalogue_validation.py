"""Reading and validating the catalogue file (pools.catalogue loads it; see there).

The whole file is checked before anything is written: JSON syntax, every field through the model
validators with strict JSON types, the catalogue's own rules and cross references. Any error
raises CatalogueError naming the entry and field.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

from common import json_input
from providers.models import Provider

from .catalogue_report import CatalogueError
from .models import Pool, PoolMembership

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


@dataclass
class ProviderSpec:
    """A valid provider entry, ready to write."""

    instance: Provider  # unsaved, cleaned
    values: dict[str, Any]
    fingerprint: str


@dataclass
class PoolSpec:
    """A valid pool entry with its members, defaults filled in."""

    values: dict[str, Any]
    members: list[dict[str, Any]]


def managed_provider_fields() -> list[models.Field]:
    return [f for f in Provider._meta.concrete_fields if f.name not in _UNMANAGED]


def provider_fingerprint(provider: Provider) -> str:
    """A stable hash of a provider's catalogue-managed fields (order- and whitespace-independent)."""
    values = {f.name: getattr(provider, f.attname) for f in managed_provider_fields()}
    blob = json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def read_catalogue(path: str | Path) -> Any:
    """The decoded JSON of the file, or CatalogueError."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogueError([f"cannot read the file ({exc})"], path) from exc
    try:
        return json_input.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogueError([f"not valid JSON: {json_input.where(exc)}"], path) from exc


def validate_catalogue(data: Any, path: str | Path) -> tuple[list[ProviderSpec], list[PoolSpec]]:
    """Every entry checked; raises CatalogueError listing all errors found, if any."""
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

    providers: list[ProviderSpec] = []
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

    pools: list[PoolSpec] = []
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


def _validate_provider(entry: Any, label: str, errors: list[str]) -> ProviderSpec | None:
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
    return ProviderSpec(instance=instance, values=values, fingerprint=provider_fingerprint(instance))


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
            json_input.loads(p.health_body)
        except json.JSONDecodeError as exc:
            errors.append(f"{label}: health_body: not valid JSON ({exc.msg})")
        if p.health_method != "POST":
            errors.append(f"{label}: health_body: only sent with health_method POST")


def _check_slug(slug: Any, label: str, errors: list[str]) -> None:
    # Slugs become Redis key parts and adapter module names, hence the narrower alphabet.
    if isinstance(slug, str) and not SLUG_RE.match(slug):
        errors.append(f"{label}: slug: use lower-case letters, digits and _ only")


def _validate_pool(entry: Any, label: str, provider_slugs: set[str], errors: list[str]) -> PoolSpec | None:
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
    return PoolSpec(values=values, members=members)
