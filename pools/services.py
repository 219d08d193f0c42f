"""Writes to pools and their memberships, shared by the REST API and the admin.

Duplicates raise common.errors.Duplicate (the API answers 409); model validation runs on
every write; each function is one transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from common.errors import Duplicate
from providers.models import Provider
from providers.services import slug_from_name

from .models import Pool, PoolMembership

logger = logging.getLogger(__name__)

# Slugs that would be shadowed by fixed routes under /api/pools/.
RESERVED_POOL_SLUGS = frozenset({"history"})

__all__ = [
    "Duplicate", "RESERVED_POOL_SLUGS", "pool_create", "pool_delete", "pool_member_add",
    "pool_member_remove", "pool_member_update", "pool_slug", "pool_update", "slug_from_name",
]


def pool_slug(*, name: str, slug: str | None = None) -> str:
    """The given slug, or one derived from the name as the old system did ("My Pool" -> "my_pool")."""
    return slug or slug_from_name(name)


@transaction.atomic
def pool_create(*, data: Mapping[str, Any]) -> Pool:
    """Create a pool; `data` holds model fields, `slug` optional (derived from `name`)."""
    fields = dict(data)
    fields["slug"] = pool_slug(name=fields.get("name", ""), slug=fields.get("slug"))
    if fields["slug"] in RESERVED_POOL_SLUGS:
        raise ValidationError({"slug": [f"{fields['slug']!r} is reserved; choose another name or slug"]})
    if Pool.objects.filter(slug=fields["slug"]).exists():
        raise Duplicate("slug", f"a pool with slug {fields['slug']!r} already exists")
    pool = Pool(**fields)
    pool.full_clean(validate_unique=False)
    try:
        with transaction.atomic():
            pool.save()
    except IntegrityError as exc:  # a concurrent create won the race
        raise Duplicate("slug", f"a pool with slug {pool.slug!r} already exists") from exc
    logger.info("pool %s created (%s, %s)", pool.slug, pool.capability, pool.strategy)
    return pool


@transaction.atomic
def pool_update(*, pool: Pool, data: Mapping[str, Any]) -> Pool:
    """Partial update; the slug is the pool's identity (rotation state in Redis is keyed by it)."""
    for field, value in data.items():
        if field != "slug":
            setattr(pool, field, value)
    pool.full_clean(validate_unique=False)
    pool.save()
    logger.info("pool %s updated: %s", pool.slug, ", ".join(sorted(data)) or "nothing")
    return pool


@transaction.atomic
def pool_delete(*, pool: Pool) -> None:
    slug = pool.slug
    pool.delete()
    logger.info("pool %s deleted", slug)


@transaction.atomic
def pool_member_add(
    *, pool: Pool, provider: Provider, priority: int = 0, weight: int = 100, enabled: bool = True
) -> PoolMembership:
    """Put a provider into a pool; Duplicate if it is already a member."""
    if PoolMembership.objects.filter(pool=pool, provider=provider).exists():
        raise Duplicate("provider", f"provider {provider.slug!r} is already a member of pool {pool.slug!r}")
    membership = PoolMembership(pool=pool, provider=provider, priority=priority, weight=weight, enabled=enabled)
    membership.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            membership.save()
    except IntegrityError as exc:
        raise Duplicate("provider", f"provider {provider.slug!r} is already a member of pool {pool.slug!r}") from exc
    logger.info("pool %s: provider %s added (priority %d, weight %d)", pool.slug, provider.slug, priority, weight)
    return membership


@transaction.atomic
def pool_member_update(*, membership: PoolMembership, data: Mapping[str, Any]) -> PoolMembership:
    """Change a membership's priority, weight or enabled flag."""
    for field in ("priority", "weight", "enabled"):
        if field in data:
            setattr(membership, field, data[field])
    membership.full_clean(validate_unique=False, validate_constraints=False)
    membership.save()
    logger.info("pool %s: provider %s updated", membership.pool.slug, membership.provider.slug)
    return membership


@transaction.atomic
def pool_member_remove(*, pool: Pool, provider: Provider) -> bool:
    """Take a provider out of a pool; False when it was not a member."""
    deleted, _ = PoolMembership.objects.filter(pool=pool, provider=provider).delete()
    if deleted:
        logger.info("pool %s: provider %s removed", pool.slug, provider.slug)
    return bool(deleted)
