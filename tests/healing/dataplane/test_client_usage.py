"""The inbound check's counters: one Redis round trip per request, usage per client, and what
happens while Redis is down (RedisHealth: no waiting on it, in-memory limits split per process,
usage kept and added once Redis is back). Real redis-servers throughout."""

import hashlib

import pytest
import redis.asyncio
from limits import parse
from redis.asyncio.connection import Connection

from healing.dataplane.inbound import InboundGuard, StaffSessions, window_key
from healing.engine import degraded
from healing.engine.degraded import RedisHealth
from healing.engine.snapshot import ClientConfig
from healing.models.clients import ANONYMOUS, usage_key
from healing.monitoring.client_usage import read_usage

KEY = "chk_usage-test-key"
CLIENTS = {hashlib.sha256(KEY.encode()).hexdigest(): ClientConfig(name="app", limits="3/minute;100/hour")}


class CountingConnection(Connection):
    """A real connection that counts what it writes: one call per round trip (a pipeline is one)."""

    sent = 0
    connects = 0

    async def send_packed_command(self, command, check_health=True):  # noqa: ANN001 - redis-py's signature
        CountingConnection.sent += 1
        return await super().send_packed_command(command, check_health)

    async def connect(self):
        CountingConnection.connects += 1
        return await super().connect()


def _scope(key: str | None = None, path: str = "/api/data/price", ip: str = "10.0.0.1") -> dict:
    headers = [(b"x-api-key", key.encode())] if key else []
    return {"type": "http", "method": "GET", "path": path, "headers": headers, "client": (ip, 5000)}


def _redis(url: str) -> redis.asyncio.Redis:
    pool = redis.asyncio.ConnectionPool.from_url(url, connection_class=CountingConnection,
                                                 **degraded.client_options())
    return redis.asyncio.Redis(connection_pool=pool)


class Ticks:
    """A monotonic clock the test moves (RedisHealth's probe interval)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def counting_redis(redis_server):
    CountingConnection.sent = CountingConnection.connects = 0
    return _redis(redis_server.url)


async def test_one_round_trip_per_request_with_two_windows_and_the_usage(counting_redis, redis_client):
    guard = InboundGuard(counting_redis, RedisHealth(), StaffSessions())
    await guard.check(_scope(KEY), CLIENTS)  # loads the script (a miss costs one extra trip, once)
    before = CountingConnection.sent
    verdicts = [await guard.check(_scope(KEY), CLIENTS) for _ in range(3)]
    assert CountingConnection.sent - before == 3
    assert [v.status for v in verdicts] == [0, 0, 429]
    assert dict(verdicts[0].headers)[b"ratelimit-limit"] == b"3"  # the tightest window is reported
    assert dict(verdicts[1].headers)[b"ratelimit-remaining"] == b"0"
    assert int(dict(verdicts[2].headers)[b"retry-after"]) >= 1
    usage = redis_client.hgetall(usage_key("app"))
    assert usage["requests"] == "4" and usage["limited"] == "1" and float(usage["last_seen"]) > 0
    # The documented window keys, expiring with their windows.
    minute = window_key("client:app", parse("3/minute"))
    assert redis_client.get(minute) == "4" and 0 < redis_client.ttl(minute) <= 60
    await counting_redis.aclose()


async def test_a_refused_window_stops_the_count_of_the_later_ones(counting_redis, redis_client):
    guard = InboundGuard(counting_redis, RedisHealth(), StaffSessions())
    for _ in range(5):
        await guard.check(_scope(KEY), CLIENTS)
    # The hour window counted only the requests the minute window let through.
    assert redis_client.get(window_key("client:app", parse("100/hour"))) == "3"
    await counting_redis.aclose()


async def test_anonymous_usage_is_one_total_over_every_ip(counting_redis, settings):
    settings.CRYPTOHUB_ANON_LIMITS = "read=1/minute"
    guard = InboundGuard(counting_redis, RedisHealth(), StaffSessions())
    codes = [(await guard.check(_scope(ip=ip), CLIENTS)).status for ip in ("10.0.0.1", "10.0.0.2", "10.0.0.1")]
    assert codes == [0, 0, 429]  # limited per IP...
    usage = read_usage([ANONYMOUS])[ANONYMOUS]
    # ...and counted together.
    assert (usage.requests, usage.limited, usage.requests_today, usage.limited_today) == (3, 1, 3, 1)
    await counting_redis.aclose()


async def test_redis_down_skips_redis_limits_per_process_share_and_keeps_usage(own_redis, settings):
    settings.CRYPTOHUB_PROCESS_COUNT = 2
    CountingConnection.sent = CountingConnection.connects = 0
    ticks = Ticks()
    r = _redis(own_redis.url)
    guard = InboundGuard(r, RedisHealth(monotonic=ticks), StaffSessions())
    assert (await guard.check(_scope(KEY), CLIENTS)).status == 0  # shared, through Redis
    own_redis.stop()
    down = [await guard.check(_scope(KEY), CLIENTS) for _ in range(3)]
    assert guard.health.down
    tried = CountingConnection.connects
    # While down and before the probe interval passes, no request waits on Redis.
    more = [await guard.check(_scope(KEY), CLIENTS) for _ in range(2)]
    assert CountingConnection.connects == tried
    # This process's share of "3/minute" with 2 processes is 1: the first local hit passes.
    assert [v.status for v in down + more] == [0, 429, 429, 429, 429]
    assert dict(down[0].headers)[b"ratelimit-limit"] == b"1"
    own_redis.start()
    ticks.now += degraded.PROBE_EVERY_S
    await guard.check(_scope(KEY), CLIENTS)
    assert not guard.health.down
    usage = await r.hgetall(usage_key("app"))
    # The restarted Redis is empty: 5 counted in memory while down (4 of them 429), then 1 more.
    assert int(usage[b"requests"]) == 6 and int(usage[b"limited"]) == 4
    await r.aclose()


# --- where the usage is shown: /api/stats' section, the admin list, /metrics ---------------------


def _shown_everywhere(key: str, key_hash: str, prefix: str) -> None:
    from django.test import Client

    from healing.monitoring.client_usage import clients_section
    from tests.healing.monitoring.test_metrics import samples

    section = clients_section()
    assert section["redis"] is True
    assert section["usage"]["app"] == {**section["usage"]["app"], "requests": 3, "rejected": 1,
                                       "requests_today": 3, "rejected_today": 1}
    assert section["usage"]["app"]["last_seen"].endswith("Z")
    assert section["usage"][ANONYMOUS]["requests"] == 2 and section["usage"]["idle"]["last_seen"] is None
    stats = Client().get("/api/stats").json()
    assert stats["clients"]["usage"]["app"]["requests"] == 3 and stats["clients"]["usage"]["app"]["rejected"] == 1
    assert key not in str(stats) and key_hash not in str(stats)
    body = Client().get("/metrics").content.decode()
    got = samples(body)
    assert got[("cryptohub_client_requests_total", (("client", "app"),))] == 3
    assert got[("cryptohub_client_rejected_total", (("client", "app"),))] == 1
    assert got[("cryptohub_client_requests_total", (("client", ANONYMOUS),))] == 2
    admin = Client()
    admin.force_login(_staff())
    listing = admin.get("/admin/healing/apiclient/").content.decode()
    rows = {name: row for row in listing.split("<tr>") for name in ("app", "idle") if f">{name}</a>" in row}
    assert "Requests today" in listing and "Rejected today (429)" in listing and "Last seen" in listing
    assert '"field-requests_today">3<' in rows["app"] and '"field-rejected_today">1<' in rows["app"]
    assert '"field-requests_today">0<' in rows["idle"] and '"field-last_seen">never<' in rows["idle"]
    for text in (str(section), body, listing):
        assert key not in text and key_hash not in text
    assert prefix not in str(section) and prefix not in body  # the admin alone shows the prefix


def _staff():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_superuser("usage-admin", password="pw-usage-admin")


def _make_clients():
    from healing.models import ApiClient

    app = ApiClient(name="app", limits="2/minute")
    key = app.set_new_key()
    app.save()
    idle = ApiClient(name="idle")
    idle.set_new_key()
    idle.save()
    return key, app.key_hash, app.key_prefix


@pytest.mark.django_db(transaction=True)
async def test_usage_is_shown_in_stats_admin_and_metrics_and_never_the_key(price_pool):
    from asgiref.sync import sync_to_async

    from tests.live_server import serve_in_process

    key, key_hash, prefix = await sync_to_async(_make_clients, thread_sensitive=False)()
    async with serve_in_process(check_interval_s=0.05) as client:
        codes = [(await client.get("/api/data/", headers={"X-API-Key": key})).status_code for _ in range(3)]
        await client.get("/api/data/")
        await client.get("/api/data/")
    assert codes == [200, 200, 429]
    await sync_to_async(_shown_everywhere, thread_sensitive=False)(key, key_hash, prefix)


# --- staff-session verdicts (the database lookup itself runs over a real server elsewhere) -----


async def test_a_staff_verdict_is_cached_per_session_key_then_asked_again():
    asked = []
    ticks = Ticks()

    def lookup(session_key: str) -> bool:
        asked.append(session_key)
        return session_key == "staffsession1"

    sessions = StaffSessions(lookup, monotonic=ticks, ttl_s=30)
    assert [await sessions.is_staff("staffsession1") for _ in range(3)] == [True] * 3
    assert await sessions.is_staff("plainsession") is False
    assert await sessions.is_staff("plainsession") is False
    assert asked == ["staffsession1", "plainsession"]  # one lookup per key within the TTL
    ticks.now += 30
    assert await sessions.is_staff("staffsession1") is True
    assert asked[-1] == "staffsession1" and len(asked) == 3


async def test_a_failing_session_lookup_refuses_without_caching():
    calls = []

    def lookup(session_key: str) -> bool:
        calls.append(session_key)
        raise ConnectionError("database unreachable")

    sessions = StaffSessions(lookup, monotonic=Ticks())
    assert await sessions.is_staff("staffsession1") is False
    assert await sessions.is_staff("staffsession1") is False
    assert len(calls) == 2


async def test_the_checks_of_one_loop_turn_share_one_round_trip_and_stay_exact(counting_redis, redis_client):
    import asyncio

    guard = InboundGuard(counting_redis, RedisHealth(), StaffSessions())
    await guard.check(_scope(KEY), CLIENTS)  # loads the script
    before, calls = CountingConnection.sent, guard.batcher.calls
    verdicts = await asyncio.gather(*(guard.check(_scope(KEY), CLIENTS) for _ in range(20)))
    assert (CountingConnection.sent - before, guard.batcher.calls - calls) == (1, 1)
    # 3/minute: the first request above took one, so two of the twenty pass, in arrival order.
    assert [v.status for v in verdicts] == [0, 0] + [429] * 18
    assert [dict(v.headers)[b"ratelimit-remaining"] for v in verdicts[:2]] == [b"1", b"0"]
    usage = redis_client.hgetall(usage_key("app"))
    assert (usage["requests"], usage["limited"]) == ("21", "18")
    await counting_redis.aclose()


async def test_batched_checks_of_two_processes_share_one_limit(redis_server, redis_client):
    import asyncio

    clients = [_redis(redis_server.url), _redis(redis_server.url)]
    guards = [InboundGuard(c, RedisHealth(), StaffSessions()) for c in clients]
    verdicts = await asyncio.gather(*(guards[i % 2].check(_scope(KEY), CLIENTS) for i in range(10)))
    assert sorted(v.status for v in verdicts) == [0, 0, 0] + [429] * 7
    assert redis_client.get(window_key("client:app", parse("3/minute"))) == "10"
    for c in clients:
        await c.aclose()


async def test_a_batch_larger_than_one_script_call_takes_is_split(counting_redis, monkeypatch):
    import asyncio

    from healing.dataplane import inbound_batch

    monkeypatch.setattr(inbound_batch, "MAX_BATCH", 4)
    guard = InboundGuard(counting_redis, RedisHealth(), StaffSessions())
    await guard.check(_scope(KEY), CLIENTS)
    calls = guard.batcher.calls
    verdicts = await asyncio.gather(*(guard.check(_scope(KEY), CLIENTS) for _ in range(10)))
    assert guard.batcher.calls - calls == 3  # 4 + 4 + 2
    assert [v.status for v in verdicts] == [0, 0] + [429] * 8
    await counting_redis.aclose()
