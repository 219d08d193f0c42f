"""/api/stats' hourly roll-ups and uptime, and the stats export (CSV, JSON, the export_stats command)."""

import csv
import io
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from asgiref.sync import sync_to_async
from django.core.management import call_command
from django.test import AsyncClient
from rest_framework.test import APIClient

from healing.api import status as status_views
from healing.models.monitoring import HealthCheck, StatsRollup
from healing.monitoring import history as monitoring
from healing.monitoring import reports
from pools import state
from tests.healing.monitoring.status_data import NOW, NOW_DT, SECRET, SLASHES


@pytest.fixture
def client():
    return APIClient()


# --- /api/stats: roll-ups and uptime -----------------------------------------------------------


def rollup(provider, hour, **counts):
    return StatsRollup.objects.create(provider=provider, hour=hour, **counts)


@pytest.fixture
def history(catalogue):
    """Two hours of roll-ups (plus one outside the default window) and a few sweeps of checks."""
    coingecko, coincap = catalogue["coingecko"], catalogue["coincap"]
    h = NOW_DT
    rollup(coingecko, h - timedelta(hours=1), requests=10, ok=9, failures=1, success_rate=0.9,
           latency_p50_ms=100.0, latency_p95_ms=300.0, outcomes={"timeout": 1})
    rollup(coingecko, h, requests=30, ok=30, success_rate=1.0, latency_p50_ms=200.0, latency_p95_ms=400.0)
    rollup(coincap, h, requests=0, ok=0)
    rollup(None, h - timedelta(hours=1), cache_hits=6, cache_misses=2, cache_hit_ratio=0.75)
    rollup(None, h, cache_hits=2, cache_misses=0, cache_hit_ratio=1.0)
    rollup(coingecko, h - timedelta(hours=48), requests=1000, ok=0, failures=1000, success_rate=0.0)
    for provider, age, ok in [(coingecko, timedelta(hours=1), True), (coingecko, timedelta(hours=2), True),
                              (coingecko, timedelta(hours=3), False), (coincap, timedelta(days=5), True)]:
        HealthCheck.objects.create(provider=provider, checked_at=h - age, ok=ok)
    return catalogue


def test_stats_report_adds_the_hourly_rollups_per_provider_and_for_the_gateway(history, redis_client):
    report = reports.stats_report(r=redis_client, now=NOW)

    rollups = report["rollups"]
    assert (rollups["since"], rollups["until"]) == ("2027-01-14T08:00:00Z", "2027-01-15T08:00:00Z")
    assert rollups["hours_with_data"] == 2
    # Latency: request-weighted means of the hourly percentiles (10 calls at 100, 30 at 200).
    assert rollups["gateway"] == {
        "requests": 40, "ok": 39, "failures": 1, "success_rate": 0.975, "latency_p50_ms": 175.0,
        "latency_p95_ms": 375.0, "cache_hits": 8, "cache_misses": 2, "cache_hit_ratio": 0.8,
    }
    assert rollups["hourly"] == [
        {"hour": "2027-01-15T07:00:00Z", "requests": 10, "ok": 9, "failures": 1, "success_rate": 0.9,
         "latency_p50_ms": 100.0, "latency_p95_ms": 300.0, "cache_hits": 6, "cache_misses": 2,
         "cache_hit_ratio": 0.75},
        {"hour": "2027-01-15T08:00:00Z", "requests": 30, "ok": 30, "failures": 0, "success_rate": 1.0,
         "latency_p50_ms": 200.0, "latency_p95_ms": 400.0, "cache_hits": 2, "cache_misses": 0,
         "cache_hit_ratio": 1.0},
    ]
    rows = {p["slug"]: p for p in report["providers"]}
    assert rows["coingecko"]["rollup"] == {
        "requests": 40, "ok": 39, "failures": 1, "success_rate": 0.975, "latency_p50_ms": 175.0,
        "latency_p95_ms": 375.0, "cache_hits": 0, "cache_misses": 0, "cache_hit_ratio": None,
    }
    # A provider with an hour of no traffic, and one with no row at all: zeros and no rates.
    assert rows["coincap"]["rollup"] == rows["binance"]["rollup"] == {
        "requests": 0, "ok": 0, "failures": 0, "success_rate": None, "latency_p50_ms": None,
        "latency_p95_ms": None, "cache_hits": 0, "cache_misses": 0, "cache_hit_ratio": None,
    }


def test_stats_report_window_can_reach_further_back(history, redis_client):
    report = reports.stats_report(r=redis_client, now=NOW, since=NOW_DT - timedelta(hours=72))
    assert report["rollups"]["gateway"]["requests"] == 1040
    assert report["rollups"]["hours_with_data"] == 3


def test_stats_report_gives_uptime_per_provider_and_pool(history, redis_client):
    report = reports.stats_report(r=redis_client, now=NOW)

    rows = {p["slug"]: p for p in report["providers"]}
    assert rows["coingecko"]["uptime"] == {"24h": 66.667, "7d": 66.667, "30d": 66.667}
    assert rows["coincap"]["uptime"] == {"24h": None, "7d": 100.0, "30d": 100.0}
    assert rows["binance"]["uptime"] == {"24h": None, "7d": None, "30d": None}
    pools = {p["slug"]: p for p in report["pools"]}
    # A pool is up at a sweep when any member answered: 2 of 3 sweeps today, 3 of 4 this week.
    assert pools["price"]["uptime"] == {"24h": 66.667, "7d": 75.0, "30d": 75.0}
    assert pools["spare"]["uptime"] == {"24h": None, "7d": None, "30d": None}
    assert report["uptime_windows"] == ["24h", "7d", "30d"]


def test_stats_endpoint_keeps_the_live_part_and_adds_history(client, catalogue, redis_client, monkeypatch):
    now = time.time()
    monkeypatch.setattr(status_views, "clock", lambda: now)
    state.record_use(redis_client, "binance", 80.0, now)
    hour = datetime.fromtimestamp(now, UTC).replace(minute=0, second=0, microsecond=0)
    rollup(catalogue["binance"], hour, requests=5, ok=4, failures=1, latency_p50_ms=90.0)
    rollup(catalogue["binance"], hour - timedelta(hours=3), requests=7, ok=7)

    body = client.get("/api/stats").json()
    binance = {p["slug"]: p for p in body["providers"]}["binance"]
    assert binance["recent_usage"] == 1
    assert (binance["rollup"]["requests"], binance["rollup"]["success_rate"]) == (12, 0.9167)
    assert body["rollups"]["hours_with_data"] == 2

    narrow = client.get("/api/stats?hours=1").json()
    assert {p["slug"]: p for p in narrow["providers"]}["binance"]["rollup"]["requests"] == 5
    since = (hour - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert client.get(f"/api/stats?since={since}").json()["rollups"]["gateway"]["requests"] == 12


@pytest.mark.parametrize(("query", "field"), [
    ("hours=abc", "hours"), ("hours=0", "hours"), ("hours=-3", "hours"), ("hours=99999999999999", "hours"),
    ("since=last+week", "since"), ("since=2026-13-45", "since"), ("since=2026-01-01&hours=3", "since"),
])
def test_stats_bad_window_is_400_naming_the_field(client, catalogue, query, field):
    response = client.get("/api/stats?" + query)
    assert response.status_code == 400
    assert list(response.json()) == [field]


# --- /api/stats/export ------------------------------------------------------------------------


# The export tests' clock: half past the hour of EXPORT_HOUR.
EXPORT_HOUR = datetime(2026, 11, 21, 12, tzinfo=UTC)


@pytest.fixture
def export_rows(catalogue, monkeypatch):
    """Roll-ups of the current hour, the hour before, and 30 hours ago (the views' clock frozen)."""
    monkeypatch.setattr(status_views, "clock", lambda: (EXPORT_HOUR + timedelta(minutes=30)).timestamp())
    hour = EXPORT_HOUR
    rollup(catalogue["coingecko"], hour, requests=10, ok=9, failures=1, success_rate=0.9, latency_p50_ms=120.0,
           latency_p95_ms=250.5, outcomes={"timeout": 1})
    rollup(catalogue["coincap"], hour, requests=3, ok=3, success_rate=1.0)
    rollup(None, hour, cache_hits=4, cache_misses=1, cache_hit_ratio=0.8)
    rollup(catalogue["coingecko"], hour - timedelta(hours=1), requests=2, ok=1, failures=1, success_rate=0.5,
           outcomes={"transient": 1, "bad_data": 0})
    rollup(catalogue["coingecko"], hour - timedelta(hours=30), requests=99, ok=99, success_rate=1.0)
    return hour


def body_of(response) -> str:
    return b"".join(response.streaming_content).decode()


@pytest.mark.parametrize("slash", SLASHES)
def test_export_csv_is_an_attachment_with_one_row_per_provider_per_hour(client, export_rows, slash):
    response = client.get(f"/api/stats/export{slash}?format=csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="cryptohub-rollups-')
    assert response["Content-Disposition"].endswith('.csv"')
    text = body_of(response)
    assert text.splitlines()[0] == ",".join(monitoring.ROLLUP_FIELDS)
    rows = list(csv.DictReader(io.StringIO(text)))
    hour = export_rows.strftime("%Y-%m-%dT%H:00:00Z")
    before = (export_rows - timedelta(hours=1)).strftime("%Y-%m-%dT%H:00:00Z")
    assert [(r["hour"][11:13], r["provider"]) for r in rows] == [
        ((export_rows - timedelta(hours=30)).strftime("%H"), "coingecko"), (before[11:13], "coingecko"),
        (hour[11:13], ""), (hour[11:13], "coincap"), (hour[11:13], "coingecko")]
    coingecko = rows[-1]
    assert (coingecko["hour"], coingecko["requests"], coingecko["ok"], coingecko["failures"]) == (hour, "10", "9", "1")
    assert (coingecko["success_rate"], coingecko["latency_p50_ms"], coingecko["latency_p95_ms"]) == (
        "0.9", "120.0", "250.5")
    assert (coingecko["cache_hit_ratio"], json.loads(coingecko["outcomes"])) == ("", {"timeout": 1})
    assert (rows[2]["cache_hits"], rows[2]["cache_misses"], rows[2]["cache_hit_ratio"]) == ("4", "1", "0.8")
    assert SECRET not in text


def test_export_json_is_the_same_rows(client, export_rows):
    response = client.get("/api/stats/export?format=json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"].endswith('.json"')
    rows = json.loads(body_of(response))
    assert rows == monitoring.rollup_rows()
    assert len(rows) == 5
    assert rows[-1]["outcomes"] == {"timeout": 1}
    # Without ?format= the download is JSON.
    assert json.loads(body_of(client.get("/api/stats/export"))) == rows


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_export_filters_by_hours_or_since(client, export_rows, fmt):
    def providers(query: str) -> list[str]:
        text = body_of(client.get(f"/api/stats/export?format={fmt}&{query}"))
        rows = list(csv.DictReader(io.StringIO(text))) if fmt == "csv" else json.loads(text)
        return [r["provider"] for r in rows]

    assert providers("hours=1") == ["", "coincap", "coingecko"]
    assert providers("hours=2") == ["coingecko", "", "coincap", "coingecko"]
    since = (export_rows - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    assert providers(f"since={since}") == ["coingecko", "", "coincap", "coingecko"]
    assert providers(f"since={(export_rows + timedelta(days=1)).date()}") == []
    assert providers(f"since={export_rows.date()}") == ["coingecko", "", "coincap", "coingecko"]


def test_export_with_no_rows_is_a_header_or_an_empty_list(client, catalogue):
    assert body_of(client.get("/api/stats/export?format=csv")).splitlines() == [",".join(monitoring.ROLLUP_FIELDS)]
    assert json.loads(body_of(client.get("/api/stats/export?format=json"))) == []


@pytest.mark.parametrize(("query", "field"), [
    ("format=xml", "format"), ("format=csv&hours=soon", "hours"), ("format=json&hours=0", "hours"),
    ("format=csv&since=yesterday", "since"), ("hours=2&since=2026-01-01", "since"),
])
def test_export_bad_parameter_is_400_json_naming_it(client, catalogue, query, field):
    response = client.get("/api/stats/export?" + query)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert list(response.json()) == [field]


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_export_and_the_command_write_the_same_content(client, export_rows, tmp_path, fmt):
    target = tmp_path / f"rollups.{fmt}"
    since = (export_rows - timedelta(hours=1)).isoformat()
    call_command("export_stats", "--format", fmt, "-o", str(target), "--since", since,
                 stdout=io.StringIO(), stderr=io.StringIO())
    downloaded = b"".join(client.get("/api/stats/export", {"format": fmt, "since": since}).streaming_content)
    assert target.read_bytes() == downloaded
    assert len(downloaded) > 100


@pytest.mark.django_db(transaction=True)
async def test_export_streams_under_asgi(make_provider):
    provider = await sync_to_async(make_provider)(slug="alpha")
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    count = reports.EXPORT_CHUNK_ROWS + 3  # more than one chunk
    await StatsRollup.objects.abulk_create(
        [StatsRollup(provider=provider, hour=hour - timedelta(hours=i), requests=i) for i in range(count)])

    response = await AsyncClient().get("/api/stats/export?format=csv")

    assert response.status_code == 200
    assert response.is_async
    text = b"".join([chunk async for chunk in response.streaming_content]).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == count
    assert [int(r["requests"]) for r in rows] == list(range(count - 1, -1, -1))
