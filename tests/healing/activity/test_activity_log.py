"""The activity log end to end: data requests (misses, fast-path hits, failures, refusals), proxy
calls, breaker transitions, probe failures and configuration changes land in one bounded Redis
stream; GET /api/logs and its views filter, count and export it for staff; bad filters are 400s."""

import csv
import io

import pytest
import redis
from django.conf import settings
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from healing import activity
from healing.monitoring import activity_log
from pools.models import Pool

pytestmark = pytest.mark.django_db(transaction=True)


def _stream(category: str | None = None) -> list[dict]:
    """The entries, oldest first (of one category)."""
    r = redis.Redis.from_url(settings.REDIS_URL, decode_responses=True)
    return activity_log.entries(activity_log.Filters(category=category), limit=10**6, r=r)[::-1]


async def _flushed(client) -> None:
    await client.app.activity.flush(client.app.state.runtime.deps.redis)


@pytest.fixture
def staff(db):
    client = APIClient()
    client.force_authenticate(get_user_model().objects.create_user("ops", is_staff=True))
    return client


async def test_data_requests_are_logged_with_what_answered_them(catalogue, data_client, fake_upstream):
    await data_client.get("/api/data/price?ids=bitcoin&vs=usd")  # a miss
    for _ in range(3):  # fast-path hits, folded into one entry at the flush
        await data_client.get("/api/data/price?ids=bitcoin&vs=usd")
    await data_client.get("/api/data/price?idz=bitcoin")  # the client's mistake
    fake_upstream.fault("*", "status", status=503)
    await data_client.get("/api/data/markets?vs=usd&limit=3")  # nobody can answer
    await _flushed(data_client)
    # The first repeat takes the full path (it arms the fast path); the others are folded.
    miss, repeat, bad, failed, hit = _stream("request")
    assert (miss["category"], miss["capability"], miss["served"], miss["status"]) == ("request", "price", "live", 200)
    assert miss["params"] == '{"ids":["bitcoin"],"vs":"usd"}' and miss["source"] and miss["attempts"]
    assert miss["client"] == "anonymous" and miss["ms"] > 0 and miss["level"] == "info"
    assert (repeat["served"], repeat["source"], repeat["status"]) == ("cache", miss["source"], 200)
    assert (hit["served"], hit["source"], hit["params"], hit["count"]) == ("cache", miss["source"], miss["params"], 2)
    assert hit["client"] == "anonymous" and hit["msg"] == "GET /api/data/price 200 (cache hit x2)"
    assert (bad["status"], bad["level"]) == (400, "info")  # a client's mistake is no provider's error
    assert (failed["status"], failed["level"], failed["capability"]) == (503, "error", "markets")
    assert ":" in failed["attempts"]


async def test_a_proxy_call_names_its_provider_never_its_path(catalogue, data_client, fake_upstream):
    answer = await data_client.post("/api/crypto-hub/proxy",
                                    json={"provider": "coingecko", "path": "/ping", "params": {"secret": "x"}})
    assert answer.status_code == 200
    await _flushed(data_client)
    (call,) = _stream("proxy")
    assert (call["category"], call["provider"], call["method"]) == ("proxy", "coingecko", "GET")
    assert "secret" not in str(call) and "/ping" not in str(call)


def test_config_changes_and_probe_failures_are_logged(make_provider, fake_upstream, staff):
    provider = make_provider(slug="watched", base_url=fake_upstream.base_url("coincap"), health_path="/ping")
    fake_upstream.fault("coincap", "status", status=500)
    staff.post("/api/providers/watched/health-check")
    (config,) = [e for e in _stream("config") if e["model"] == "providers.provider"]
    (probe,) = _stream("probe")
    assert (config["category"], config["model"], config["object"], config["actor"]) == (
        "config", "providers.provider", "watched", "system")
    assert (probe["category"], probe["level"], probe["provider"], probe["status"]) == ("probe", "warning", "watched", 500)
    assert probe["manual"] is True
    provider.timeout_s = 4
    provider.save()
    assert _stream("config")[-1]["fields"] == ["timeout_s"]


def test_filters_views_stats_and_exports(db, staff):
    now = 1_800_000_000.0
    items = [activity.entry("request", "info", "GET /api/data/price 200", now, capability="price", client="app",
                            status=200, ms=2.0, source="coingecko"),
             activity.entry("request", "error", "GET /api/data/gas 503", now + 1, capability="gas", client="app",
                            status=503, ms=40.0),
             activity.entry("breaker", "warning", "breaker of kraken: closed -> open", now + 2, provider="kraken"),
             activity.entry("request", "info", "GET /api/data/price 200", now + 3, capability="price",
                            client="other", status=200, ms=4.0, source="kraken")]
    pool = Pool.objects.create(slug="price", name="Price", capability="price")
    redis.Redis.from_url(settings.REDIS_URL).delete(activity.stream_key())  # the pool's config entry
    activity.record_now(items)
    assert pool.capability == "price"

    def get(path, **params):
        answer = staff.get(path, params)
        assert answer.status_code == 200, answer.content
        return answer.json()

    assert [e["msg"] for e in get("/api/logs")["results"]][0] == "GET /api/data/price 200"  # newest first
    assert get("/api/logs", client="app")["count"] == 2
    assert get("/api/logs", provider="kraken")["count"] == 2  # asked (breaker) or answering (source)
    assert get("/api/logs", level="warning,error")["count"] == 2 == get("/api/logs/errors")["count"]
    assert get("/api/logs", category="breaker")["results"][0]["provider"] == "kraken"
    assert get("/api/logs", pool="price")["count"] == 2 and get("/api/logs", q="GAS")["count"] == 1
    assert get("/api/logs", since="2027-01-15T08:00:02Z")["count"] == 2
    assert get("/api/logs/recent", limit=1)["results"][0]["at"].endswith("Z")
    stats = get("/api/logs/stats", category="request")
    assert stats["entries"] == 3 and stats["by_status"] == {"200": 2, "503": 1}
    assert stats["latency_ms"]["price"] == {"count": 2, "p50": 3.0, "p95": 4.0}

    exported = staff.get("/api/logs/export", {"format": "csv", "client": "app"})
    rows = list(csv.DictReader(io.StringIO(exported.content.decode())))
    assert exported["Content-Disposition"].startswith("attachment") and len(rows) == 2  # the filters hold
    assert {r["capability"] for r in rows} == {"price", "gas"}
    assert len(staff.get("/api/logs/export", {"format": "json", "level": "error"}).json()) == 1
    # A spreadsheet opening the export reads text that looks like a formula as text.
    activity.record_now([activity.entry("request", "info", '=HYPERLINK("http://x")', now + 4, provider="@x")])
    exported = staff.get("/api/logs/export", {"format": "csv", "q": "hyperlink"})
    [cells] = list(csv.DictReader(io.StringIO(exported.content.decode())))
    assert (cells["msg"], cells["provider"]) == ('\'=HYPERLINK("http://x")', "'@x")
    assert staff.get("/api/logs/export", {"format": "json", "q": "hyperlink"}).json()[0]["msg"].startswith("=")


@pytest.mark.parametrize(("params", "field"), [({"level": "loud"}, "level"), ({"category": "weather"}, "category"),
                                               ({"pool": "nope"}, "pool"), ({"client": "a b"}, "client"),
                                               ({"since": "yesterday"}, "since"), ({"since": "99999999999d"}, "since"),
                                               ({"limit": "0"}, "limit"), ({"q": "x" * 201}, "q"),
                                               ({"format": "xml"}, "format")])
def test_bad_filters_are_400_naming_the_field(staff, params, field):
    path = "/api/logs/export" if "format" in params else "/api/logs"
    answer = staff.get(path, params)
    assert answer.status_code == 400 and field in answer.json()


def test_the_log_is_for_staff_and_bounded(db, settings):
    assert APIClient().get("/api/logs").status_code in (401, 403)
    settings.CRYPTOHUB_ACTIVITY_MAX = 100
    activity.record_now([activity.entry("request", "info", f"n{i}", float(i)) for i in range(1000)])
    r = redis.Redis.from_url(settings.REDIS_URL)
    assert 100 <= r.xlen(activity.stream_key()) < 1000  # trimmed (approximately, never below the bound)
    settings.CRYPTOHUB_ACTIVITY_LOG = False
    activity.record_now([activity.entry("request", "info", "off", 0.0)])
    assert not any(e["msg"] == "off" for e in _stream())


async def test_a_breaker_transition_is_logged(make_provider, aredis):
    from asgiref.sync import sync_to_async

    from healing.catalogue import build_snapshot
    from healing.engine.breaker import BreakerStore

    await sync_to_async(make_provider)(slug="flaky", breaker_failure_threshold=2)
    config = (await sync_to_async(build_snapshot)()).providers["flaky"]
    store = BreakerStore(aredis)
    for _ in range(2):
        await store.record(config, False)
    (opened,) = await sync_to_async(_stream)("breaker")
    assert (opened["provider"], opened["status"], opened["level"]) == ("flaky", "open", "warning")
    assert opened["msg"].startswith("breaker of flaky: closed -> open")


async def test_the_buffer_flushes_by_time_or_size_folds_hits_and_survives_an_outage(aredis):
    now = [0.0]
    buffer = activity.ActivityBuffer(monotonic=lambda: now[0], flush_s=1.0)
    assert buffer.add(activity.entry("request", "info", "one", 1.0)) is False
    assert buffer.add_hit("price", "{}", "app", "coingecko", 2.0) is False
    assert buffer.add_hit("price", "{}", "app", "coingecko", 4.0) is False
    now[0] = 1.0
    assert buffer.add_hit("price", "{}", "other", "coingecko", 1.0) is True  # a second has passed
    broken = redis.asyncio.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    assert await buffer.flush(broken) == 0 and len(buffer) == 3  # kept for the next flush
    await broken.aclose()
    assert await buffer.flush(aredis) == 3 and len(buffer) == 0
    rows = activity_log.entries(activity_log.Filters(), limit=10, r=redis.Redis.from_url(settings.REDIS_URL))
    folded = {r["client"]: (r["count"], r["ms"]) for r in rows if r.get("count")}
    assert folded == {"app": (2, 3.0), "other": (1, 1.0)}
    for n in range(activity.FLUSH_AT - 1):
        assert buffer.add(activity.entry("request", "info", str(n), 1.0)) is False
    assert buffer.add(activity.entry("request", "info", "full", 1.0)) is True  # FLUSH_AT entries


def test_a_long_stream_is_read_back_page_by_page(db):
    activity.record_now([activity.entry("request", "info", f"n{i}", 1000.0 + i) for i in range(2500)])
    for client in (redis.Redis.from_url(settings.REDIS_URL),
                   redis.Redis.from_url(settings.REDIS_URL, decode_responses=True)):
        rows = activity_log.entries(activity_log.Filters(), limit=10**6, r=client)
        assert [r["msg"] for r in rows[:2]] == ["n2499", "n2498"] and len(rows) == 2500
        assert rows[-1]["msg"] == "n0"
