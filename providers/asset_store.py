"""The asset registry's ORM side: read it into a `providers.assets.Registry`, write a sync's
plan, load and export the shipped snapshot file. Writes are one transaction each, so a reader
never sees half a sync; bulk writes bump the config version once at the end."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from django.db import transaction
from django.db.models import Count, Max

from providers.asset_models import Asset as AssetRow
from providers.asset_models import MatchKind, ProviderAsset
from providers.asset_sync import Known, SyncPlan
from providers.assets import SHIPPED_SNAPSHOT, Asset, Registry, asset_from_dict
from providers.models import Provider
from providers.runtime import bump_config_version

# Assets in an exported snapshot: the top by rank (the shipped file stays a few hundred KB).
EXPORT_TOP = 1000
BATCH = 2000


def fingerprint() -> tuple:
    """Changes whenever the registry's rows do: the config snapshot rebuilds the registry only then."""
    assets = AssetRow.objects.aggregate(n=Count("id"), at=Max("updated_at"))
    listings = ProviderAsset.objects.aggregate(n=Count("id"), at=Max("updated_at"))
    return assets["n"], assets["at"], listings["n"], listings["at"]


def build_registry() -> Registry:
    names: dict[str, dict[str, str]] = {}
    rows = ProviderAsset.objects.filter(asset__isnull=False, delisted=False).values_list(
        "asset_id", "provider_id", "key")
    for asset_id, slug, key in rows.iterator(chunk_size=BATCH):
        names.setdefault(asset_id, {}).setdefault(slug, key)
    fields = ("id", "symbol", "name", "rank", "platforms", "delisted")
    return Registry(
        Asset(id=a["id"], symbol=a["symbol"], name=a["name"], rank=a["rank"],
              platforms=MappingProxyType(a["platforms"] or {}), names=MappingProxyType(names.get(a["id"], {})),
              delisted=a["delisted"])
        for a in AssetRow.objects.values(*fields).iterator(chunk_size=BATCH))


def existing_assets() -> dict[str, Asset]:
    return {a["id"]: Asset(id=a["id"], symbol=a["symbol"], name=a["name"], rank=a["rank"],
                           platforms=a["platforms"] or {}, delisted=a["delisted"])
            for a in AssetRow.objects.values("id", "symbol", "name", "rank", "platforms", "delisted")}


def known_matches() -> dict[tuple[str, str], Known]:
    rows = ProviderAsset.objects.values_list("provider_id", "key", "asset_id", "match")
    return {(slug, key): Known(asset_id, match) for slug, key, asset_id, match in rows}


def _asset_rows(assets: Iterable[Asset]) -> list[AssetRow]:
    return [AssetRow(id=a.id, symbol=a.symbol[:40], name=a.name[:200], rank=a.rank, platforms=dict(a.platforms),
                     delisted=a.delisted) for a in assets]


@transaction.atomic
def apply_plan(plan: SyncPlan, fetched: Iterable[str], now: datetime) -> dict[str, Any]:
    """Write a sync: assets upserted, listings upserted, listings of the fetched providers that the
    plan no longer holds marked delisted. Returns counts for the command's summary."""
    known_slugs = set(Provider.objects.values_list("slug", flat=True))
    AssetRow.objects.bulk_create(_asset_rows(plan.assets.values()), batch_size=BATCH, update_conflicts=True,
                                 unique_fields=["id"], update_fields=["symbol", "name", "rank", "platforms", "delisted",
                                                                      "updated_at"])
    listings = [ProviderAsset(provider_id=m.provider, key=m.listing.key[:100], asset_id=m.asset_id,
                              symbol=m.listing.symbol[:40], name=m.listing.name[:200], quotes=list(m.listing.quotes),
                              match=m.match, candidates=list(m.candidates), delisted=False, seen_at=now, updated_at=now)
                for m in plan.matches if m.provider in known_slugs]
    ProviderAsset.objects.bulk_create(listings, batch_size=BATCH, update_conflicts=True,
                                      unique_fields=["provider", "key"],
                                      update_fields=["asset", "symbol", "name", "quotes", "match", "candidates",
                                                     "delisted", "seen_at", "updated_at"])
    gone = 0
    for slug in set(fetched) & known_slugs:
        seen = {m.listing.key for m in plan.matches if m.provider == slug}
        stale = ProviderAsset.objects.filter(provider_id=slug, delisted=False).exclude(key__in=seen)
        gone += stale.update(delisted=True, updated_at=now)
    transaction.on_commit(bump_config_version)
    return {"assets": len(plan.assets), "delisted_assets": sum(a.delisted for a in plan.assets.values()),
            "listings": len(listings), "delisted_listings": gone, "ambiguous": len(plan.ambiguous)}


@transaction.atomic
def load_snapshot_file(path: Path = SHIPPED_SNAPSHOT) -> int:
    """The shipped snapshot into the ORM, only where the registry has nothing yet: a synced or
    operator-edited row is never overwritten by the older file. Returns the assets added."""
    with open(path, encoding="utf-8") as handle:
        assets = [asset_from_dict(row) for row in json.load(handle)["assets"]]
    have = set(AssetRow.objects.values_list("id", flat=True))
    new = [a for a in assets if a.id not in have]
    AssetRow.objects.bulk_create(_asset_rows(new), batch_size=BATCH)
    slugs = set(Provider.objects.values_list("slug", flat=True))
    listed = set(ProviderAsset.objects.values_list("provider_id", "key"))
    ProviderAsset.objects.bulk_create(
        [ProviderAsset(provider_id=slug, key=key, asset_id=a.id, symbol=a.symbol, name=a.name, match=MatchKind.SNAPSHOT)
         for a in assets for slug, key in a.names.items() if slug in slugs and (slug, key) not in listed],
        batch_size=BATCH, ignore_conflicts=True)
    transaction.on_commit(bump_config_version)
    return len(new)


def export_snapshot(path: Path, top: int = EXPORT_TOP) -> int:
    """The registry's top `top` assets (by rank, listed ones only) as a snapshot file."""
    registry = build_registry()
    chosen = sorted((a for a in registry if not a.delisted),
                    key=lambda a: (a.rank is None, a.rank or 0, a.id))[:top]
    payload = {"source": "manage.py sync_assets --export", "assets": [a.to_dict() for a in chosen]}
    Path(path).write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    return len(chosen)
