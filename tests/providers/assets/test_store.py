"""The sync's writes in the ORM: listings upserted, a listing gone from a provider that answered is
delisted (kept), a provider that failed delists nothing, an operator's choice survives a sync,
and the registry built from the rows is what the data plane reads."""

from __future__ import annotations

import pytest
from django.utils import timezone

from providers import asset_store
from providers.asset_models import MatchKind, ProviderAsset
from providers.asset_sync import plan_sync
from tests.providers.assets.test_sync import BINANCE, COINCAP, COINGECKO, listings

pytestmark = pytest.mark.django_db


def sync(**payloads) -> dict:
    fetched = listings(**payloads)
    plan = plan_sync(fetched, asset_store.existing_assets(), asset_store.known_matches())
    return asset_store.apply_plan(plan, fetched.keys(), timezone.now())


def test_a_second_sync_delists_what_a_provider_stopped_listing_and_keeps_the_rest(catalogue):
    first = sync(coingecko=COINGECKO, coincap=COINCAP, binance=BINANCE)
    assert first["ambiguous"] == 1 and first["listings"] > 0  # PEPE: no aggregator here ranks one of the three
    without_zec = {**BINANCE, "symbols": [s for s in BINANCE["symbols"] if s["baseAsset"] != "ZEC"]}
    second = sync(coingecko=COINGECKO, coincap=COINCAP, binance=without_zec)
    assert second["delisted_listings"] == 1
    row = ProviderAsset.objects.get(provider_id="binance", key="ZEC")
    assert row.delisted and row.asset_id == "zcash"  # kept, marked
    registry = asset_store.build_registry()
    assert registry.name_on("binance", "zcash") is None and registry.name_on("coincap", "zcash") == "zcash"
    assert registry.get("zcash").rank == 79


def test_a_provider_missing_from_a_sync_delists_nothing(catalogue):
    sync(coingecko=COINGECKO, binance=BINANCE)
    result = sync(coingecko=COINGECKO)  # Binance's listing failed this time: not in the listings at all
    assert result["delisted_listings"] == 0
    assert not ProviderAsset.objects.filter(provider_id="binance", delisted=True).exists()


def test_an_operator_resolving_an_ambiguous_listing_is_kept_by_later_syncs(catalogue):
    sync(coingecko=COINGECKO, binance=BINANCE)
    row = ProviderAsset.objects.get(provider_id="binance", key="PEPE")
    assert row.match == MatchKind.AMBIGUOUS and row.asset_id is None and len(row.candidates) == 3
    row.asset_id = "pepe-2"
    row.save()
    sync(coingecko=COINGECKO, coincap=COINCAP, binance=BINANCE)
    row.refresh_from_db()
    assert (row.asset_id, row.match) == ("pepe-2", MatchKind.MANUAL)
    assert asset_store.build_registry().name_on("binance", "pepe-2") == "PEPE"


def test_the_shipped_snapshot_loads_once_and_never_overwrites_a_synced_row(catalogue):
    assert asset_store.load_snapshot_file() >= 40
    sync(coingecko=[dict(row, name="Zcash Renamed") if row["id"] == "zcash" else row for row in COINGECKO])
    assert asset_store.load_snapshot_file() == 0
    assert asset_store.build_registry().get("zcash").name == "Zcash Renamed"


def test_export_writes_a_snapshot_the_registry_reads_back(catalogue, tmp_path):
    from providers.assets import load_snapshot

    sync(coingecko=COINGECKO, coincap=COINCAP, binance=BINANCE)
    path = tmp_path / "assets.json"
    assert asset_store.export_snapshot(path, top=3) == 3
    assert [a.id for a in load_snapshot(path)] == ["bitcoin", "tether", "zcash"]
