"""The status page's content on the test database with the real Redis: the banner and component
rules, the uptime rule (skipped checks, days without data, maintenance windows), the uptime
percentages, response times, incidents and maintenance listed, grouped queries, and the cache."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from healing.models.incidents import Incident, IncidentUpdate
from healing.models.monitoring import HealthCheck, MaintenanceWindow, StatsRollup
from healing.monitoring import statuspage
from healing.monitoring.incidents import MemberView
from healing.monitoring.statuspage import banner, build_status_page, component_status, day_band
from pools.models import Pool, PoolMembership
from providers.runtime import rkey

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
TODAY = NOW.date()


def checks(provider, day_offset: int, ok: int, failed: int = 0, skipped: int = 0, *, hour: int = 1):
    """`ok` + `failed` + `skipped` checks of `provider` on the day `day_offset` days before NOW."""
    at = datetime(TODAY.year, TODAY.month, TODAY.day, hour, 0, tzinfo=UTC) - timedelta(days=day_offset)
    rows = [HealthCheck(provider=provider, checked_at=at + timedelta(minutes=i), ok=True) for i in range(ok)]
    rows += [HealthCheck(provider=provider, checked_at=at + timedelta(minutes=ok + i), ok=False) for i in range(failed)]
    rows += [HealthCheck(provider=provider, checked_at=at + timedelta(minutes=ok + failed + i), ok=False,
                         skipped=True) for i in range(skipped)]
    HealthCheck.objects.bulk_create(rows)


def member(state: str) -> MemberView:
    last = {"up": {"ok": True, "skipped": False}, "down": {"ok": False, "skipped": False},
            "skipped": {"ok": False, "skipped": True}, "unknown": None, "maintenance": None}[state]
    if last is not None:
        last = {**last, "message": "", "error_class": "", "streak": 1}
    return MemberView(state, last, "closed", drained=state == "maintenance")


@pytest.fixture
def catalogue(make_provider):
    a = make_provider(slug="alpha", category="market_data")
    b = make_provider(slug="beta", category="market_data")
    c = make_provider(slug="gamma", category="exchange")
    pool = Pool.objects.create(slug="price", name="Price", capability="price")
    PoolMembership.objects.create(pool=pool, provider=a, priority=2)
    PoolMembership.objects.create(pool=pool, provider=b, priority=1)
    return {"alpha": a, "beta": b, "gamma": c, "pool": pool}


def component(page, kind, slug):
    return next(c for c in page["components"] if c["kind"] == kind and c["slug"] == slug)


# --- rules ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("statuses", "expected"), [
    (["operational", "operational"], "operational"),
    (["operational", "degraded"], "degraded"),
    (["operational", "operational", "down"], "partial_outage"),
    (["operational", "degraded", "down"], "partial_outage"),
    (["operational", "down"], "major_outage"),
    (["down", "down", "operational"], "major_outage"),
    (["operational", "no_data", "maintenance"], "operational"),
    (["down", "no_data", "no_data", "operational", "operational"], "partial_outage"),
    (["maintenance", "no_data"], "maintenance"),
    (["no_data"], "no_data"),
    ([], "no_data"),
])
def test_banner_rule(statuses, expected):
    assert banner(statuses) == expected


@pytest.mark.parametrize(("states", "expected"), [
    (["up", "up"], "operational"),
    (["up", "down"], "degraded"),
    (["down", "down"], "down"),
    (["down", "skipped"], "down"),
    (["up", "skipped", "unknown"], "operational"),
    (["skipped", "unknown"], "no_data"),
    (["maintenance", "maintenance"], "maintenance"),
    (["maintenance", "down"], "down"),
])
def test_component_status_rule(states, expected):
    assert component_status([member(s) for s in states]) == expected


def test_a_pool_without_members_is_down_and_a_drained_pool_in_maintenance():
    assert component_status([], empty_is_down=True) == "down"
    assert component_status([], empty_is_down=False) == "no_data"
    assert component_status([member("down")], in_maintenance=True) == "maintenance"


def test_day_bands_by_downtime():
    assert [day_band(v) for v in (100.0, 99.0, 95.0, 94.9, None)] == ["up", "minor", "partial", "major", "nodata"]


# --- uptime -----------------------------------------------------------------------------------------


def test_daily_uptime_counts_checks_that_were_made_and_shows_empty_days_as_no_data(catalogue):
    checks(catalogue["alpha"], 0, ok=3, failed=1, skipped=5)
    checks(catalogue["beta"], 0, ok=4)
    checks(catalogue["alpha"], 2, ok=1, failed=1)

    page = build_status_page(NOW)
    days = component(page, "pool", "price")["days"]
    assert len(days) == 90 and days[0]["date"] == (TODAY - timedelta(days=89)).isoformat()
    assert days[-1] == {"date": TODAY.isoformat(), "uptime_pct": 87.5, "checks": 8, "ok": 7, "band": "major"}
    assert days[-2] == {"date": (TODAY - timedelta(days=1)).isoformat(), "uptime_pct": None, "checks": 0, "ok": 0,
                        "band": "nodata"}
    assert days[-3]["uptime_pct"] == 50.0
    assert component(page, "category", "exchange")["days"][-1]["uptime_pct"] is None


def test_a_provider_maintenance_window_takes_its_checks_out_everywhere(catalogue):
    checks(catalogue["alpha"], 0, ok=2, hour=1)
    checks(catalogue["alpha"], 0, ok=0, failed=6, hour=3)  # 03:00-03:05, inside the window
    MaintenanceWindow.objects.create(provider=catalogue["alpha"], starts_at=NOW.replace(hour=2),
                                     ends_at=NOW.replace(hour=4), reason="provider upgrade")

    page = build_status_page(NOW)
    assert component(page, "pool", "price")["days"][-1]["uptime_pct"] == 100.0
    assert component(page, "category", "market_data")["days"][-1]["checks"] == 2


def test_a_pool_maintenance_window_counts_only_against_the_pool(catalogue):
    checks(catalogue["alpha"], 0, ok=2, hour=1)
    checks(catalogue["beta"], 0, ok=0, failed=2, hour=3)
    MaintenanceWindow.objects.create(pool=catalogue["pool"], starts_at=NOW.replace(hour=2),
                                     ends_at=NOW.replace(hour=4), reason="pool move")

    page = build_status_page(NOW)
    pool_today = component(page, "pool", "price")["days"][-1]
    assert (pool_today["checks"], pool_today["uptime_pct"]) == (2, 100.0)
    assert component(page, "pool", "price")["uptime"]["24h"] == 100.0
    # The category is not in maintenance: the same failed checks count there.
    category_today = component(page, "category", "market_data")["days"][-1]
    assert (category_today["checks"], category_today["uptime_pct"]) == (4, 50.0)


def test_uptime_percentages_over_24h_7d_30d_90d(catalogue):
    alpha = catalogue["alpha"]
    checks(alpha, 0, ok=10)  # today 01:00: within the last 24 h
    checks(alpha, 1, ok=0, failed=10, hour=6)  # yesterday 06:00: outside 24 h, inside 7 d
    checks(alpha, 20, ok=0, failed=20)  # inside 30 d only
    checks(alpha, 60, ok=60)  # inside 90 d only
    checks(alpha, 95, ok=0, failed=100)  # older than the page

    uptime = component(build_status_page(NOW), "pool", "price")["uptime"]
    assert uptime == {"24h": 100.0, "7d": 50.0, "30d": 25.0, "90d": 70.0}
    assert component(build_status_page(NOW), "category", "exchange")["uptime"] == {
        "24h": None, "7d": None, "30d": None, "90d": None}


def test_component_status_now_follows_the_latest_check(catalogue):
    checks(catalogue["alpha"], 0, ok=1, hour=9)
    checks(catalogue["beta"], 0, ok=0, failed=1, hour=9)
    checks(catalogue["gamma"], 0, ok=0, failed=1, hour=9)

    page = build_status_page(NOW)
    assert component(page, "pool", "price")["status"] == "degraded"
    assert component(page, "pool", "price")["members"] == [{"provider": "alpha", "state": "up"},
                                                           {"provider": "beta", "state": "down"}]
    assert component(page, "category", "exchange")["status"] == "down"
    # price degraded, market_data degraded, exchange down: one of three down.
    assert page["banner"] == {"status": "partial_outage", "title": "Partial outage"}
    assert page["rules"] == {"banner": statuspage.BANNER_RULE, "uptime": statuspage.UPTIME_RULE}


def test_history_is_read_with_the_same_queries_however_many_providers_and_days(catalogue, make_provider):
    checks(catalogue["alpha"], 0, ok=1)
    with CaptureQueriesContext(connection) as few:
        build_status_page(NOW)
    for n in range(6):
        p = make_provider(slug=f"extra-{n}", category=["defi", "nft", "news"][n % 3])
        PoolMembership.objects.create(pool=catalogue["pool"], provider=p)
        for day in range(0, 30, 3):
            checks(p, day, ok=2, failed=1)
    with CaptureQueriesContext(connection) as many:
        build_status_page(NOW)
    assert len(many.captured_queries) == len(few.captured_queries)


# --- response times, incidents, maintenance -------------------------------------------------------


def test_response_times_are_the_hourly_median_of_the_members_p50(catalogue):
    hour = NOW.replace(minute=0)
    StatsRollup.objects.create(provider=catalogue["alpha"], hour=hour, latency_p50_ms=100.0)
    StatsRollup.objects.create(provider=catalogue["beta"], hour=hour, latency_p50_ms=300.0)
    StatsRollup.objects.create(provider=catalogue["alpha"], hour=hour - timedelta(hours=3), latency_p50_ms=80.0)
    StatsRollup.objects.create(provider=catalogue["alpha"], hour=hour - timedelta(hours=30), latency_p50_ms=999.0)

    points = component(build_status_page(NOW), "pool", "price")["response_ms"]
    assert len(points) == 24
    assert points[-1] == {"hour": "2026-11-21T12:00:00Z", "p50_ms": 200.0}
    assert points[-4] == {"hour": "2026-11-21T09:00:00Z", "p50_ms": 80.0}
    assert [p["p50_ms"] for p in points].count(None) == 22


def test_incidents_listed_are_open_ones_and_those_of_the_last_30_days_with_timelines(catalogue):
    pool = catalogue["pool"]
    old = Incident.objects.create(pool=pool, kind="no_healthy_member", title="old", opened_at=NOW - timedelta(days=40),
                                  resolved_at=NOW - timedelta(days=39), state="resolved")
    recent = Incident.objects.create(pool=pool, kind="no_healthy_member", title="recent", state="resolved",
                                     opened_at=NOW - timedelta(days=3), resolved_at=NOW - timedelta(days=3, hours=-1))
    IncidentUpdate.objects.create(incident=recent, at=recent.opened_at, state="investigating", message="seen")
    IncidentUpdate.objects.create(incident=recent, at=recent.resolved_at, state="resolved", message="gone")
    current = Incident.objects.create(pool=pool, kind="head_breaker_open", title="now",
                                      opened_at=NOW - timedelta(hours=1))

    listed = build_status_page(NOW)["incidents"]
    assert [i["id"] for i in listed] == [current.pk, recent.pk]
    assert old.pk not in [i["id"] for i in listed]
    assert listed[1]["updates"] == [
        {"at": "2026-11-18T12:00:00Z", "state": "investigating", "message": "seen"},
        {"at": "2026-11-18T13:00:00Z", "state": "resolved", "message": "gone"},
    ]
    assert listed[0]["resolved_at"] is None and listed[0]["pool_name"] == "Price"


def test_maintenance_in_progress_and_ahead_is_listed_past_windows_not(catalogue):
    MaintenanceWindow.objects.create(pool=catalogue["pool"], starts_at=NOW - timedelta(days=2),
                                     ends_at=NOW - timedelta(days=1), reason="done")
    MaintenanceWindow.objects.create(provider=catalogue["gamma"], starts_at=NOW + timedelta(days=1),
                                     ends_at=NOW + timedelta(days=1, hours=2), reason="exchange upgrade")
    MaintenanceWindow.objects.create(pool=catalogue["pool"], starts_at=NOW - timedelta(minutes=5),
                                     ends_at=NOW + timedelta(minutes=55), reason="pool move")

    page = build_status_page(NOW)
    assert page["maintenance"] == [
        {"subject": "pool price", "starts_at": "2026-11-21T11:55:00Z", "ends_at": "2026-11-21T12:55:00Z",
         "reason": "pool move", "in_progress": True},
        {"subject": "provider gamma", "starts_at": "2026-11-22T12:00:00Z", "ends_at": "2026-11-22T14:00:00Z",
         "reason": "exchange upgrade", "in_progress": False},
    ]
    assert component(page, "pool", "price")["status"] == "maintenance"


# --- cache ------------------------------------------------------------------------------------------


def test_the_page_is_shared_through_redis_for_its_ttl(catalogue, redis_client):
    first = statuspage.status_page()
    Pool.objects.create(slug="late", name="Late", capability="gas")

    assert statuspage.status_page() == first  # still the cached copy
    assert 0 < redis_client.ttl(rkey(*statuspage.CACHE_KEY)) <= statuspage.CACHE_TTL_S
    redis_client.delete(rkey(*statuspage.CACHE_KEY))
    assert "late" in [c["slug"] for c in statuspage.status_page()["components"]]


def test_without_redis_the_page_is_computed_directly(catalogue, redis_down):
    page = statuspage.status_page()
    assert component(page, "pool", "price")["members"] == [{"provider": "alpha", "state": "unknown"},
                                                           {"provider": "beta", "state": "unknown"}]
