"""/health, /api/status, /api/stats and the stats export, against the real test Redis."""

import csv
import io
import json
import socket
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.db import OperationalError
from rest_framework.test import APIClient

from healing import status as reports
from pools import state
from pools.models import Pool, PoolMembership, RotationEvent

SECRET = "sk-live-CRYPTOHUB-STATUS-SECRET-42ab"
KEY_ENV = "CRYPTOHUB_TEST_STATUS_KEY"
SLASHES = ["", "/"]
# A fixed clock for the report functions.
NOW = 1_800_000_000.0


@pytest.fixture
def client():
    return APIClient()


@pytest.fixture
def catalogue(make_provider, monkeypatch):
    monkeypatch.setenv(KEY_ENV, SECRET)
    monkeypatch.delenv("CRYPTOHUB_TEST_MISSING_KEY", raising=False)
    made = {
        "coingecko": make_provider(slug="coingecko", category="market_data", api_key_env=KEY_ENV, key_required=True),
        "coincap": make_provider(slug="coincap", category="market_data"),
        "binance": make_provider(slug="binance", category="exchange"),
        "kraken": make_provider(slug="kraken", category="exchange", enabled=False),
        "etherscan": make_provider(
            slug="etherscan", category="explorer", api_key_env="CRYPTOHUB_TEST_MISSING_KEY", key_required=True
        ),
    }
    price = Pool.objects.create(slug="price", name="Price", capability="price", strategy="priority")
    Pool.objects.create(slug="spare", name="Spare", capability="gas", enabled=False)
    PoolMembership.objects.create(pool=price, provider=made["coingecko"], priority=2)
    PoolMembership.objects.create(pool=price, provider=made["coincap"], priority=1)
    PoolMembership.objects.create(pool=price, provider=made["kraken"], priority=0)
    return made


@pytest.fixture
def redis_down(settings):
    """Point the app at a loopback port where nothing listens."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"


# --- /health ----------------------------------------------------------------------------------


@pytest.mark.parametrize("slash", SLASHES)
def test_health_is_ok_when_database_and_redis_answer(client, db, slash):
    response = client.get("/health" + slash)
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["database"], body["redis"]) == ("ok", "ok", "ok")


def test_health_is_503_json_when_redis_is_down(client, db, redis_down):
    response = client.get("/health")
    assert response.status_code == 503
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["redis"] == "down"
    assert response.json()["database"] == "ok"
    assert response.json()["status"] == "degraded"


def test_health_is_503_json_when_the_database_is_down(client, db, monkeypatch):
    class BrokenConnection:
        def cursor(self):
            raise OperationalError("database is locked")

    monkeypatch.setattr(reports, "connection", BrokenConnection())
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["database"] == "down"
    assert response.json()["redis"] == "ok"


def test_health_stays_open_when_public_read_is_off(client, db, settings):
    settings.CRYPTOHUB_PUBLIC_READ = False
    assert client.get("/health").status_code == 200
    assert client.get("/api/status").status_code in (401, 403)
    assert client.get("/api/stats").status_code in (401, 403)


# --- /api/status ------------------------------------------------------------------------------


@pytest.mark.parametrize("slash", SLASHES)
def test_status_counts_the_catalogue(client, catalogue, redis_client, slash):
    response = client.get("/api/status" + slash)
    assert response.status_code == 200
    body = response.json()
    providers = body["providers"]
    assert (providers["total"], providers["enabled"]) == (5, 4)
    assert providers["by_category"]["market_data"] == {"total": 2, "enabled": 2}
    assert providers["by_category"]["exchange"] == {"total": 2, "enabled": 1}
    assert providers["by_category"]["explorer"] == {"total": 1, "enabled": 1}
    assert providers["by_category"]["nft"] == {"total": 0, "enabled": 0}
    assert providers["key_required_without_key"] == 1
    assert providers["key_required_without_key_slugs"] == ["etherscan"]
    assert body["pools"] == {"total": 2, "enabled": 1}
    assert body["runtime"]["redis"] is True
    assert body["status"] == "ok"
    assert SECRET not in response.content.decode()


def test_status_says_when_redis_is_down(client, catalogue, redis_down):
    response = client.get("/api/status")
    assert response.status_code == 200
    assert response.json()["runtime"] == {"redis": False, "config_version": None}
    assert response.json()["status"] == "degraded"


# --- /api/stats -------------------------------------------------------------------------------


def test_stats_report_counts_usage_latency_and_rotations(catalogue, redis_client):
    for latency in (100.0, 200.0, 300.0):
        state.record_use(redis_client, "coingecko", latency, NOW - 5)
    state.record_use(redis_client, "coincap", 50.0, NOW - 5)
    # Outside the usage window: not counted.
    state.record_use(redis_client, "coincap", None, NOW - state.USAGE_WINDOW_S - 60)
    price = Pool.objects.get(slug="price")
    at = datetime.fromtimestamp(NOW, UTC)
    for reason, age in [("an hour ago", timedelta(hours=1)), ("long ago", timedelta(days=400))]:
        event = RotationEvent.objects.create(pool=price, reason=reason, actor="system")
        RotationEvent.objects.filter(pk=event.pk).update(created_at=at - age)

    report = reports.stats_report(r=redis_client, now=NOW)

    rows = {p["slug"]: p for p in report["providers"]}
    assert rows["coingecko"]["recent_usage"] == 3
    assert rows["coingecko"]["recent_latency_ms"] == 200.0
    assert rows["coincap"]["recent_usage"] == 1
    assert rows["coincap"]["recent_latency_ms"] == 50.0
    assert rows["binance"]["recent_usage"] == 0
    assert rows["binance"]["recent_latency_ms"] is None
    assert rows["coingecko"]["pools"] == 1
    assert rows["coingecko"]["api_key_set"] is True
    assert report["catalogue"] == {
        "providers": 5, "providers_enabled": 4, "categories": 3, "pools": 2, "pools_enabled": 1, "memberships": 3,
    }
    pools = {p["slug"]: p for p in report["pools"]}
    assert pools["price"]["members"] == 3
    assert pools["price"]["eligible_members"] == 2  # kraken is disabled
    assert pools["price"]["recent_usage"] == 4
    assert pools["price"]["rotations"] == 2
    assert pools["spare"]["recent_usage"] == 0
    assert pools["price"]["recent_rotations"] == 1
    assert report["rotations"] == {"total": 2, "recent": 1, "recent_window_s": reports.RECENT_ROTATIONS_WINDOW_S}
    assert report["runtime"] == {"redis": True}


@pytest.mark.parametrize("slash", SLASHES)
def test_stats_endpoint(client, catalogue, redis_client, slash):
    state.record_use(redis_client, "binance", 80.0, time.time())
    response = client.get("/api/stats" + slash)
    assert response.status_code == 200
    body = response.json()
    assert {p["slug"]: p["recent_usage"] for p in body["providers"]}["binance"] == 1
    assert body["catalogue"]["providers"] == 5
    assert SECRET not in response.content.decode()


def test_stats_without_redis_still_answers(client, catalogue, redis_down):
    response = client.get("/api/stats")
    assert response.status_code == 200
    body = response.json()
    assert body["runtime"] == {"redis": False}
    assert {p["recent_usage"] for p in body["providers"]} == {None}


# --- /api/stats/export ------------------------------------------------------------------------


@pytest.mark.parametrize("slash", SLASHES)
def test_export_csv_is_an_attachment_with_one_row_per_provider(client, catalogue, redis_client, slash):
    state.record_use(redis_client, "coincap", 70.0, time.time())
    response = client.get(f"/api/stats/export{slash}?format=csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment; filename=")
    assert response["Content-Disposition"].endswith('.csv"')
    text = response.content.decode()
    assert SECRET not in text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == reports.STATS_CSV_FIELDS
    assert [r["slug"] for r in rows] == ["binance", "coincap", "coingecko", "etherscan", "kraken"]
    coincap = next(r for r in rows if r["slug"] == "coincap")
    assert (coincap["recent_usage"], coincap["recent_latency_ms"], coincap["pools"]) == ("1", "70.0", "1")


@pytest.mark.parametrize("query", ["?format=json", ""])
def test_export_json_is_an_attachment_with_the_full_report(client, catalogue, query):
    response = client.get("/api/stats/export" + query)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"].startswith("attachment; filename=")
    assert response["Content-Disposition"].endswith('.json"')
    body = json.loads(response.content)
    assert body["catalogue"]["providers"] == 5
    assert len(body["providers"]) == 5
    assert SECRET not in response.content.decode()


def test_export_unknown_format_is_400_naming_it(client, catalogue):
    response = client.get("/api/stats/export?format=xml")
    assert response.status_code == 400
    assert "format" in response.json()
