"""/health, /api/status and /api/stats' live part, against the real test Redis. The hourly roll-ups,
uptime and the stats export: test_stats_history_api.py."""

import time
from datetime import UTC, datetime, timedelta

import pytest
from django.db import OperationalError
from rest_framework.test import APIClient

from healing.monitoring import reports
from pools import state
from pools.models import Pool, RotationEvent
from tests.healing.monitoring.status_data import NOW, SECRET, SLASHES


@pytest.fixture
def client():
    return APIClient()


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
