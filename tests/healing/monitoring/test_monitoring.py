"""The sweep end to end in-process (real HTTP to a loopback server, real Redis, test DB), flips
and their live-feed events, uptime, hourly roll-ups, pruning, and the history/alert APIs."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
import redis.asyncio
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings

from healing import events as feed
from healing.engine import stats
from healing.models.monitoring import HealthCheck, StatsRollup
from healing.monitoring import history
from healing.monitoring import sweep as monitoring
from healing.monitoring.probes import ProbeResult
from pools.models import Pool, PoolMembership
from providers.runtime import rkey

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def result(slug: str, ok: bool, **kw) -> ProbeResult:
    return ProbeResult(slug, T0.timestamp(), ok=ok, status_code=200 if ok else 503, latency_ms=12.5,
                       error_class="" if ok else "server_error", message="" if ok else "HTTP 503", **kw)


@pytest.mark.django_db
def test_sweep_writes_one_row_per_enabled_provider_sharing_the_sweep_time(loopback, make_provider):
    make_provider(slug="alpha", base_url=loopback.url, health_path="/ok")
    make_provider(slug="beta", base_url=loopback.url, health_path="/status/503")
    make_provider(slug="off", base_url=loopback.url, health_path="/ok", enabled=False)
    make_provider(slug="nopath", base_url=loopback.url, health_path="")

    report = monitoring.sweep_run()

    # "nopath" is probed too: without a health_path, at its base URL (its cheapest real call).
    assert (report.up, report.down, report.skipped, report.locked_out) == (2, 1, 0, False)
    rows = {c.provider.slug: c for c in HealthCheck.objects.select_related("provider")}
    assert sorted(rows) == ["alpha", "beta", "nopath"]
    assert (rows["alpha"].ok, rows["alpha"].status_code, rows["alpha"].streak) == (True, 200, 1)
    assert (rows["beta"].ok, rows["beta"].status_code, rows["beta"].error_class) == (False, 503, "server_error")
    assert rows["alpha"].checked_at == rows["beta"].checked_at == report.started_at
    assert len(loopback.requests) == 3


@pytest.mark.django_db
def test_key_required_provider_without_its_key_is_recorded_as_skipped(loopback, make_provider, monkeypatch):
    monkeypatch.delenv("MON_TEST_KEY", raising=False)
    make_provider(slug="keyed", base_url=loopback.url, key_required=True, api_key_env="MON_TEST_KEY")
    report = monitoring.sweep_run()
    check = HealthCheck.objects.get()
    assert (check.ok, check.skipped, check.streak, check.error_class) == (False, True, 0, "skipped_no_key")
    assert (report.down, report.skipped, report.flips) == (0, 1, [])
    assert loopback.requests == []


@pytest.mark.django_db
def test_a_second_sweep_does_not_overlap_a_running_one(loopback, make_provider, redis_client):
    make_provider(slug="alpha", base_url=loopback.url)
    redis_client.set(monitoring.sweep_lock_key(), "someone-else", ex=60)
    report = monitoring.sweep_run()
    assert report.locked_out
    assert HealthCheck.objects.count() == 0
    assert loopback.requests == []
    # The holder's lock is left alone.
    assert redis_client.get(monitoring.sweep_lock_key()) == "someone-else"


@pytest.mark.django_db
def test_sweep_releases_its_lock_and_remembers_its_figures(loopback, make_provider, redis_client):
    make_provider(slug="alpha", base_url=loopback.url)
    monitoring.sweep_run()
    assert redis_client.get(monitoring.sweep_lock_key()) is None
    last = redis_client.hgetall(monitoring.sweep_last_key())
    assert (last["probed"], last["up"], last["down"]) == ("1", "1", "0")


@pytest.mark.django_db
def test_streak_counts_results_in_a_row_and_restarts_on_a_flip(make_provider):
    make_provider(slug="alpha")
    for i, ok in enumerate([True, True, False, False, False, True]):
        monitoring.probe_results_record([result("alpha", ok)], checked_at=T0 + timedelta(seconds=30 * i))
    streaks = list(HealthCheck.objects.order_by("checked_at").values_list("ok", "streak"))
    assert streaks == [(True, 1), (True, 2), (False, 1), (False, 2), (False, 3), (True, 1)]


@pytest.mark.django_db(transaction=True)
def test_flips_are_published_to_the_live_feed_after_commit(make_provider):
    make_provider(slug="alpha")
    make_provider(slug="beta")
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(feed.group_name(feed.HEALTH), channel)

    first = monitoring.probe_results_record([result("alpha", True), result("beta", False)], checked_at=T0)
    second = monitoring.probe_results_record([result("alpha", False), result("beta", False)],
                                             checked_at=T0 + timedelta(seconds=30))

    # A first check that is up is no news; a first check that is down is.
    assert [(f.slug, f.previous, f.status) for f in first] == [("beta", None, "down")]
    assert [(f.slug, f.previous, f.status) for f in second] == [("alpha", "up", "down")]

    async def receive_three():
        return [await asyncio.wait_for(layer.receive(channel), 5) for _ in range(3)]

    events = async_to_sync(receive_three)()
    assert [(e["type"], e["channel"], e["critical"]) for e in events] == [("feed.event", "health", False)] * 3
    # The first check that is up is no flip, but the feed hears it (a page's "unknown" turns "up").
    assert [(e["data"]["provider"], e["data"]["status"], e["data"]["previous"]) for e in events] == [
        ("beta", "down", None), ("alpha", "up", None), ("alpha", "down", "up")]
    events = events[1:]
    assert events[1]["data"]["at"] == "2026-11-21T12:00:30Z"


@pytest.mark.django_db
def test_a_first_check_up_is_told_once_and_nothing_more_when_nothing_flips(
        make_provider, monkeypatch, django_capture_on_commit_callbacks):
    make_provider(slug="alpha")
    sent = []
    monkeypatch.setattr(feed, "publish_status", lambda flips: sent.append(flips))
    with django_capture_on_commit_callbacks(execute=True):
        monitoring.probe_results_record([result("alpha", True)], checked_at=T0)
        monitoring.probe_results_record([result("alpha", True)], checked_at=T0 + timedelta(seconds=30))
    assert [[(p["provider"], p["status"], p["previous"]) for p in batch] for batch in sent] == [[("alpha", "up", None)]]


def _checks(provider, pattern: list[bool], start: datetime, step: timedelta) -> None:
    HealthCheck.objects.bulk_create(
        HealthCheck(provider=provider, checked_at=start + i * step, ok=ok) for i, ok in enumerate(pattern))


@pytest.mark.django_db
def test_uptime_per_provider_over_24h_7d_30d(make_provider):
    alpha = make_provider(slug="alpha")
    now = T0
    # Last 24 h: 3 of 4 up. 2-6 days ago: 4 down. 10-20 days ago: 2 up.
    _checks(alpha, [True, True, True, False], now - timedelta(hours=20), timedelta(hours=4))
    _checks(alpha, [False] * 4, now - timedelta(days=6), timedelta(days=1))
    _checks(alpha, [True, True], now - timedelta(days=20), timedelta(days=10))
    HealthCheck.objects.create(provider=alpha, checked_at=now - timedelta(hours=1), ok=False, skipped=True)
    make_provider(slug="silent")

    uptime = history.provider_uptime(["alpha", "silent"], now=now)

    assert uptime["alpha"] == {"24h": 75.0, "7d": 37.5, "30d": 50.0}
    assert uptime["silent"] == {"24h": None, "7d": None, "30d": None}


@pytest.mark.django_db
def test_pool_is_up_at_a_sweep_when_any_member_answered(make_provider):
    a, b = make_provider(slug="a"), make_provider(slug="b")
    pool = Pool.objects.create(slug="price", name="Price", capability="price")
    PoolMembership.objects.create(pool=pool, provider=a)
    PoolMembership.objects.create(pool=pool, provider=b)
    step = timedelta(minutes=30)
    start = T0 - timedelta(hours=2)
    # Four sweeps: both up, a down, both down, b down.
    _checks(a, [True, False, False, True], start, step)
    _checks(b, [True, True, False, False], start, step)

    assert history.pool_uptime("price", now=T0) == {"24h": 75.0, "7d": 75.0, "30d": 75.0}


@pytest.mark.django_db
def test_hourly_rollup_turns_live_counters_into_rows_and_can_run_twice(make_provider, redis_client):
    make_provider(slug="alpha")
    make_provider(slug="idle")

    async def record(outcomes):
        r = redis.asyncio.Redis.from_url(settings.REDIS_URL)
        for outcome, ms in outcomes:
            await stats.record(r, "alpha", outcome, ms, T0.timestamp())
        await r.aclose()

    def hit(n):
        redis_client.hincrby(rkey("stats", "cache"), "hit:price", n)

    asyncio.run(record([("ok", 100.0), ("ok", 200.0), ("timeout", None)]))
    hit(3)
    t1 = T0 + timedelta(minutes=5)
    history.stats_rollup(now=t1)
    asyncio.run(record([("ok", 300.0)]))
    redis_client.hincrby(rkey("stats", "cache"), "miss:price", 1)
    history.stats_rollup(now=t1 + timedelta(minutes=10))
    history.stats_rollup(now=t1 + timedelta(minutes=10))  # twice: same rows

    row = StatsRollup.objects.get(provider__slug="alpha", hour=T0)
    # The hour's baseline is the first run's totals: only the later call counts for it.
    assert (row.requests, row.ok, row.failures, row.success_rate) == (1, 1, 0, 1.0)
    assert (row.latency_p50_ms, row.latency_p95_ms) == (200.0, 300.0)
    gateway = StatsRollup.objects.get(provider=None, hour=T0)
    assert (gateway.cache_hits, gateway.cache_misses, gateway.cache_hit_ratio) == (0, 1, 0.0)
    assert StatsRollup.objects.count() == 3  # alpha, idle, gateway

    # Next hour: the first run closes the previous hour and opens this one.
    asyncio.run(record([("ok", 50.0), ("transient", None)]))
    hit(2)
    next_hour = T0 + timedelta(hours=1, minutes=1)
    history.stats_rollup(now=next_hour)
    asyncio.run(record([("ok", 60.0)]))
    history.stats_rollup(now=next_hour + timedelta(minutes=30))

    closed = StatsRollup.objects.get(provider__slug="alpha", hour=T0)
    assert (closed.requests, closed.ok, closed.outcomes) == (3, 2, {"transient": 1})
    current = StatsRollup.objects.get(provider__slug="alpha", hour=T0 + timedelta(hours=1))
    assert (current.requests, current.ok) == (1, 1)
    assert StatsRollup.objects.get(provider=None, hour=T0).cache_hits == 2


@pytest.mark.django_db
def test_prune_deletes_only_history_older_than_the_retention(make_provider):
    from healing.models.monitoring import Alert, AlertRule, AlertState

    alpha = make_provider(slug="alpha")
    _checks(alpha, [True, False], T0 - timedelta(days=40), timedelta(days=1))
    _checks(alpha, [True], T0 - timedelta(days=2), timedelta(days=1))
    rule = AlertRule.objects.create(name="down", kind="provider_down")
    Alert.objects.create(rule=rule, subject="provider:alpha", severity="warning", message="m",
                         opened_at=T0 - timedelta(days=50), state=AlertState.RESOLVED,
                         resolved_at=T0 - timedelta(days=45))
    Alert.objects.create(rule=rule, subject="provider:alpha", severity="warning", message="still open",
                         opened_at=T0 - timedelta(days=50))
    StatsRollup.objects.create(provider=alpha, hour=T0 - timedelta(days=500))
    StatsRollup.objects.create(provider=alpha, hour=T0 - timedelta(days=5))

    deleted = history.history_prune(now=T0, days=35, rollup_days=400)

    assert deleted == {"health_checks": 2, "alerts": 1, "deliveries": 0, "rollups": 1}
    assert HealthCheck.objects.count() == 1
    assert list(Alert.objects.values_list("message", flat=True)) == ["still open"]
    assert StatsRollup.objects.count() == 1


# --- API ----------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/providers/alpha/health", "/api/providers/alpha/health/"])
def test_health_history_api_answers_checks_and_uptime(client, make_provider, path):
    alpha = make_provider(slug="alpha")
    now = datetime.now(UTC)
    HealthCheck.objects.create(provider=alpha, checked_at=now - timedelta(hours=2), ok=True, status_code=200,
                               latency_ms=10.0)
    HealthCheck.objects.create(provider=alpha, checked_at=now - timedelta(hours=1), ok=False, status_code=503,
                               error_class="server_error", message="HTTP 503")
    HealthCheck.objects.create(provider=alpha, checked_at=now - timedelta(days=3), ok=True)

    body = client.get(path).json()
    assert body["provider"] == "alpha"
    assert body["count"] == 2
    assert [c["ok"] for c in body["checks"]] == [False, True]
    assert body["checks"][0]["error_class"] == "server_error"
    assert body["uptime"]["24h"] == 50.0
    assert client.get(path, {"since": "7d"}).json()["count"] == 3
    since = (now - timedelta(minutes=90)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert client.get(path, {"since": since}).json()["count"] == 1


@pytest.mark.django_db
def test_health_history_api_rejects_bad_input_and_unknown_providers(client, make_provider):
    make_provider(slug="alpha")
    bad = client.get("/api/providers/alpha/health", {"since": "yesterday-ish"})
    assert bad.status_code == 400
    assert "since" in bad.json()
    assert client.get("/api/providers/alpha/health", {"limit": "0"}).json().keys() == {"limit"}
    assert client.get("/api/providers/nope/health").status_code == 404


@pytest.mark.django_db
def test_alerts_api_lists_and_filters(client, make_provider):
    from healing.models.monitoring import Alert, AlertRule, AlertState

    make_provider(slug="alpha")
    rule = AlertRule.objects.create(name="down", kind="provider_down", severity="critical")
    Alert.objects.create(rule=rule, subject="provider:alpha", severity="critical", message="alpha down",
                         opened_at=T0)
    Alert.objects.create(rule=rule, subject="provider:beta", severity="critical", message="beta down",
                         opened_at=T0 - timedelta(hours=1), state=AlertState.RESOLVED, resolved_at=T0)

    assert client.get("/api/alerts").json()["count"] == 2
    body = client.get("/api/alerts/", {"state": "open"}).json()
    assert [a["message"] for a in body["results"]] == ["alpha down"]
    assert body["results"][0]["rule"] == "down"
    bad = client.get("/api/alerts", {"severity": "loud"})
    assert bad.status_code == 400 and "severity" in bad.json()
