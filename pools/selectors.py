"""Reads that hand pools to the strategies as plain data (no model instance leaves here)."""

from __future__ import annotations

from .models import Pool, PoolMembership
from .strategies import Member


def pool_members(pool: Pool | str) -> list[Member]:
    """The pool's eligible members: enabled memberships of enabled providers, in one query.

    `pool` is a Pool or its slug; an unknown slug has no members.
    """
    memberships = PoolMembership.objects.filter(enabled=True, provider__enabled=True)
    if isinstance(pool, Pool):
        memberships = memberships.filter(pool_id=pool.pk)
    else:
        memberships = memberships.filter(pool__slug=pool)
    rows = memberships.order_by("-priority", "provider__slug").values_list("provider__slug", "priority", "weight")
    return [Member(provider=slug, priority=priority, weight=weight) for slug, priority, weight in rows]
