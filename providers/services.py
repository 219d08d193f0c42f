"""Writes to the provider catalogue from the API and the admin: create, update, delete, enable.

Every entry point (REST API, admin actions) goes through these functions so the same rules hold
everywhere: duplicates are reported as `Duplicate` (the API answers 409), model validation runs
on every write, and bulk changes still bump the config version so every process reloads.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from common import audit
from common.errors import Duplicate

from .models import Provider
from .runtime import bump_config_version

logger = logging.getLogger(__name__)

# Slugs share the SlugField limit of the models.
SLUG_MAX_LENGTH = 64
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def slug_from_name(name: str) -> str:
    """The old system's rule: lowercase, every run of non-alphanumerics becomes "_".

    "My Market Pool" -> "my_market_pool". Returns "" when nothing usable is left.
    """
    return _NON_ALNUM.sub("_", name.strip().lower()).strip("_")[:SLUG_MAX_LENGTH]


@transaction.atomic
def provider_create(*, data: Mapping[str, Any]) -> Provider:
    """Create a provider from already-parsed fields; raises Duplicate if the slug is taken."""
    slug = data["slug"]
    if Provider.objects.filter(slug=slug).exists():
        raise Duplicate("slug", f"a provider with slug {slug!r} already exists")
    provider = Provider(**data)
    # Admin and API share the model validators (rate_limits, env name, URL, ranges).
    provider.full_clean(validate_unique=False)
    try:
        with transaction.atomic():
            provider.save()
    except IntegrityError as exc:  # a concurrent create won the race
        raise Duplicate("slug", f"a provider with slug {slug!r} already exists") from exc
    logger.info("provider %s created", provider.slug)
    return provider


@transaction.atomic
def provider_update(*, provider: Provider, data: Mapping[str, Any]) -> Provider:
    """Apply a partial update; the slug is the provider's identity and is not changed here."""
    for field, value in data.items():
        if field == "slug":
            continue
        setattr(provider, field, value)
    provider.full_clean(validate_unique=False)
    provider.save()
    logger.info("provider %s updated: %s", provider.slug, ", ".join(sorted(data)) or "nothing")
    return provider


@transaction.atomic
def provider_delete(*, provider: Provider) -> None:
    """Delete a provider; its pool memberships go with it, rotation history keeps a blank."""
    slug = provider.slug
    provider.delete()
    logger.info("provider %s deleted", slug)


@transaction.atomic
def providers_set_enabled(*, providers: QuerySet[Provider] | Iterable[Provider], enabled: bool) -> int:
    """Enable or disable many providers in one UPDATE; returns how many rows changed."""
    slugs = [p.slug for p in providers]
    flipping = list(Provider.objects.filter(slug__in=slugs).exclude(enabled=enabled))
    changed = Provider.objects.filter(pk__in=[p.pk for p in flipping]).update(enabled=enabled)
    for provider in flipping:  # update() bypasses the audit trail's signals
        audit.record_change(provider, {"enabled": (not enabled, enabled)})
    # update() sends no post_save signal, so tell the other processes ourselves.
    if changed:
        transaction.on_commit(bump_config_version)
    logger.info("providers %s: enabled=%s (%d changed)", ",".join(slugs), enabled, changed)
    return changed
