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
version once, after commit, when anything changed. Reading and validation live in
pools.catalogue_validation, the report and error types in pools.catalogue_report.

It lives in `pools` because the file carries the default pools as well as the providers, and
only `pools` may import both apps.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from common import audit
from providers.models import Provider
from providers.runtime import bump_config_version

from .catalogue_report import CatalogueError, FieldChange, LoadReport
from .catalogue_validation import (
    PoolSpec,
    ProviderSpec,
    provider_fingerprint,
    read_catalogue,
    validate_catalogue,
)
from .models import Pool, PoolMembership

__all__ = ["CatalogueError", "FieldChange", "LoadReport", "load_catalogue", "provider_fingerprint"]

logger = logging.getLogger(__name__)


@transaction.atomic
def load_catalogue(path: str | Path, *, update: bool = False) -> LoadReport:
    """Validate the catalogue at `path`, then create/refresh providers and pools (see module doc).

    Raises CatalogueError (and writes nothing) when the file is unreadable or any entry is invalid.
    """
    data = read_catalogue(path)
    providers, pools = validate_catalogue(data, path)
    report = LoadReport(update=update)
    created_slugs = _write_providers(providers, update=update, report=report)
    _write_pools(pools, created_slugs, update=update, report=report)
    if report.changed:
        transaction.on_commit(bump_config_version)
    logger.info("catalogue %s loaded (update=%s): %s", path, update, report.summary())
    return report


# --- writing ----------------------------------------------------------------------------------


def _audit(instance: Any, changes: list[FieldChange]) -> None:
    """update() bypasses the audit trail's signals: say what the catalogue changed. (The first
    load's creations are not itemised: they are the shipped file itself.)"""
    audit.record_change(instance, {c.field: (c.old, c.new) for c in changes}, extra={"via": "catalogue"})


def _diff(current: dict[str, Any], wanted: dict[str, Any]) -> list[FieldChange]:
    return [FieldChange(name, current[name], value) for name, value in wanted.items() if current[name] != value]


def _write_providers(specs: list[ProviderSpec], *, update: bool, report: LoadReport) -> set[str]:
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
            _audit(current, changes)
            report.updated[slug] = changes
        else:
            report.kept_operator_edits.append(slug)
    Provider.objects.bulk_create(to_create)
    in_file = {spec.values["slug"] for spec in specs}
    report.not_in_catalogue = sorted(set(existing) - in_file)
    return set(report.created)


def _write_pools(specs: list[PoolSpec], new_providers: set[str], *, update: bool, report: LoadReport) -> None:
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
            _audit(pool, changes)
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
                _audit(membership, changes)
                report.memberships_updated[key] = changes
            elif changes:
                report.memberships_kept[key] = changes
    PoolMembership.objects.bulk_create(to_create)
