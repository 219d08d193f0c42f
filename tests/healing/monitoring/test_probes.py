"""Probes against a real loopback HTTP server: timing from the request start, outcomes, auth,
and the breaker fed through the real Redis store."""

import pytest
import redis
import redis.asyncio
from django.conf import settings

from healing.engine.breaker import BreakerStore, breaker_key
from healing.engine.config import ProviderConfig
from healing.monitoring import probes
from tests.redis_server import free_port


def cfg(base: str, path: str = "/ok", **overrides) -> ProviderConfig:
    fields = {"slug": overrides.pop("slug", "p1"), "name": "P", "category": "market_data", "base_url": base,
              "health_path": path}
    fields.update(overrides)
    return ProviderConfig(**fields)


def client():
    """The sweep's own session (aiohttp), as run_probe_cycle makes it."""
    return probes.make_session(timeout_s=5)


async def test_passing_probe_records_status_and_latency(loopback):
    async with client() as c:
        result = await probes.probe_one(cfg(loopback.url), session=c, timeout_s=5)
    assert (result.ok, result.skipped, result.status_code, result.error_class) == (True, False, 200, "")
    assert result.latency_ms is not None and result.latency_ms >= 0
    assert [r.path for r in loopback.requests] == ["/ok"]


async def test_queued_probes_are_timed_from_their_own_start_not_from_the_queue(loopback):
    # 24 probes of 200 ms, 4 at a time: six rounds, about 1.2 s in all. Measured from the queue,
    # the last rounds would pass the 1 s timeout; measured from each request's start none does.
    configs = [cfg(loopback.url, "/slow/200", slug=f"p{i}", timeout_s=1.0) for i in range(24)]
    async with client() as c:
        results = await probes.probe_many(configs, session=c, concurrency=4, timeout_s=1.0)
    assert [r.slug for r in results] == [f"p{i}" for i in range(24)]
    assert sum(1 for r in results if r.error_class == probes.ERR_TIMEOUT) == 0
    assert all(r.ok for r in results)
    assert loopback.peak_in_flight <= 4
    assert len(loopback.requests_to("/slow/")) == 24


async def test_pool_smaller_than_the_semaphore_still_gives_no_false_timeouts(loopback):
    # run_probe_cycle sizes the pool to the semaphore; this is the shape the sweep uses.
    configs = [cfg(loopback.url, "/slow/150", slug=f"q{i}", timeout_s=1.0) for i in range(30)]
    results = await probes.run_probe_cycle(configs, redis_url=settings.REDIS_URL, concurrency=10, timeout_s=1.0)
    assert [r.ok for r in results] == [True] * 30


async def test_hanging_provider_times_out(loopback):
    async with client() as c:
        result = await probes.probe_one(cfg(loopback.url, "/slow/3000"), session=c, timeout_s=0.3)
    assert (result.ok, result.error_class, result.status_code) == (False, probes.ERR_TIMEOUT, None)
    assert result.counts_for_breaker


async def test_key_required_provider_without_key_is_skipped_without_a_call(loopback, monkeypatch):
    monkeypatch.delenv("LOOPBACK_TEST_KEY", raising=False)
    config = cfg(loopback.url, key_required=True, api_key_env="LOOPBACK_TEST_KEY", auth_type="query",
                 auth_param="apikey")
    async with client() as c:
        result = await probes.probe_one(config, session=c, timeout_s=5)
    assert (result.ok, result.skipped, result.error_class) == (False, True, probes.SKIP_NO_KEY)
    assert not result.counts_for_breaker
    assert loopback.requests == []


async def test_key_goes_in_the_query_or_header_the_provider_names(loopback, monkeypatch):
    monkeypatch.setenv("LOOPBACK_TEST_KEY", "s3cret")
    query = cfg(loopback.url, "/ok", slug="q", api_key_env="LOOPBACK_TEST_KEY", auth_type="query", auth_param="apikey")
    header = cfg(loopback.url, "/ok", slug="h", api_key_env="LOOPBACK_TEST_KEY", auth_type="header",
                 auth_param="Authorization", auth_scheme="Bearer")
    async with client() as c:
        results = [await probes.probe_one(x, session=c, timeout_s=5) for x in (query, header)]
    assert [r.ok for r in results] == [True, True]
    first, second = loopback.requests
    assert first.query == {"apikey": ["s3cret"]}
    assert second.headers["authorization"] == "Bearer s3cret"
    assert all("s3cret" not in r.message for r in results)


async def test_json_rpc_probe_posts_the_body_and_an_error_inside_200_is_down(loopback):
    body = '{"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []}'
    good = cfg(loopback.url, "/rpc", slug="rpc", health_method="POST", health_body=body)
    bad = cfg(loopback.url, "/rpc/error", slug="rpc-bad", health_method="POST", health_body=body)
    async with client() as c:
        ok = await probes.probe_one(good, session=c, timeout_s=5)
        failed = await probes.probe_one(bad, session=c, timeout_s=5)
    assert ok.ok and ok.status_code == 200
    assert (failed.ok, failed.error_class) == (False, probes.ERR_RPC)
    assert "header not found" in failed.message
    assert loopback.requests[0].method == "POST"
    assert loopback.requests[0].json()["method"] == "eth_blockNumber"


@pytest.mark.parametrize(("status", "error_class", "counts"), [
    (503, "server_error", True), (429, probes.ERR_RATE_LIMITED, False), (404, probes.ERR_HTTP, False),
])
async def test_http_errors_are_down_and_only_server_errors_count_for_the_breaker(loopback, status, error_class, counts):
    async with client() as c:
        result = await probes.probe_one(cfg(loopback.url, f"/status/{status}"), session=c, timeout_s=5)
    assert (result.ok, result.status_code, result.error_class) == (False, status, error_class)
    assert result.counts_for_breaker is counts


async def test_refused_connection_is_a_connect_error():
    async with client() as c:
        result = await probes.probe_one(cfg(f"http://127.0.0.1:{free_port()}"), session=c, timeout_s=2)
    assert (result.ok, result.error_class, result.message) == (False, probes.ERR_CONNECT, "ClientConnectorError")


async def test_failing_probes_open_the_breaker_and_a_passing_probe_closes_it_only_once_half_open(redis_server):
    now = [1_000_000.0]
    r = redis.asyncio.Redis.from_url(settings.REDIS_URL)
    store = BreakerStore(r, lambda: now[0])
    config = cfg("http://x", slug="flaky", breaker_failure_threshold=2, breaker_open_s=30)
    down = probes.ProbeResult("flaky", now[0], ok=False, error_class=probes.ERR_TIMEOUT)
    up = probes.ProbeResult("flaky", now[0], ok=True, status_code=200)
    try:
        for _ in range(2):
            await probes.feed_breaker([config], [down], redis_async=r, clock=lambda: now[0])
        assert (await store.state("flaky")).state == "open"
        # Still inside the open period: a passing probe does not cut it short.
        assert await probes.feed_breaker([config], [up], redis_async=r, clock=lambda: now[0]) == 0
        assert (await store.state("flaky")).state == "open"
        now[0] += 31
        assert (await store.state("flaky")).state == "half_open"
        assert await probes.feed_breaker([config], [up], redis_async=r, clock=lambda: now[0]) == 1
        assert (await store.state("flaky")).state == "closed"
    finally:
        await r.aclose()


async def test_rate_limited_and_skipped_probes_do_not_touch_the_breaker(redis_server):
    r = redis.asyncio.Redis.from_url(settings.REDIS_URL)
    config = cfg("http://x", slug="limited", breaker_failure_threshold=1)
    results = [probes.ProbeResult("limited", 0, ok=False, error_class=probes.ERR_RATE_LIMITED),
               probes.ProbeResult("limited", 0, ok=False, skipped=True, error_class=probes.SKIP_NO_KEY)]
    try:
        assert await probes.feed_breaker([config], results, redis_async=r) == 0
        assert (await BreakerStore(r).state("limited")).state == "closed"
    finally:
        await r.aclose()


async def test_same_origin_redirect_is_followed_once_and_other_hosts_are_refused(loopback):
    other_host = loopback.url.replace("127.0.0.1", "localhost")
    configs = [cfg(loopback.url, "/redirect?to=/ok", slug="moved"),
               cfg(loopback.url, f"/redirect?to={other_host}/ok", slug="elsewhere"),
               cfg(loopback.url, "/redirect?to=/redirect%3Fto%3D/ok", slug="twice")]
    async with client() as c:
        moved, elsewhere, twice = [await probes.probe_one(x, session=c, timeout_s=5) for x in configs]
    assert (moved.ok, moved.status_code) == (True, 200)
    assert (elsewhere.ok, elsewhere.error_class) == (False, probes.ERR_REFUSED)
    assert "another host" in elsewhere.message
    assert (twice.ok, twice.error_class) == (False, probes.ERR_REFUSED)
    assert [r.path for r in loopback.requests] == ["/redirect", "/ok", "/redirect", "/redirect", "/redirect"]


async def test_oversized_health_answer_is_bad_data_and_counts_for_the_breaker(loopback):
    async with client() as c:
        result = await probes.probe_one(cfg(loopback.url, f"/big/{probes.MAX_PROBE_BODY_BYTES + 1}"), session=c,
                                        timeout_s=5)
    assert (result.ok, result.error_class) == (False, probes.ERR_BAD_DATA)
    assert result.counts_for_breaker


async def test_probes_send_our_user_agent_and_no_cookies_between_providers(loopback):
    async with client() as c:
        await probes.probe_one(cfg(loopback.url, "/ok"), session=c, timeout_s=5)
    assert loopback.requests[0].headers["user-agent"].startswith("cryptohub/")
    assert "cookie" not in loopback.requests[0].headers


async def test_breaker_is_fed_in_batches_across_many_providers(redis_server):
    r = redis.asyncio.Redis.from_url(settings.REDIS_URL)
    n = probes.BREAKER_BATCH * 2 + 7
    configs = [cfg("http://x", slug=f"b{i}", breaker_failure_threshold=1) for i in range(n)]
    # Every other provider fails: with a threshold of 1 exactly those open.
    results = [probes.ProbeResult(c.slug, 0, ok=i % 2 == 1, error_class="" if i % 2 else probes.ERR_TIMEOUT)
               for i, c in enumerate(configs)]
    try:
        assert await probes.feed_breaker(configs, results, redis_async=r) == n
        states = await BreakerStore(r).states(c.slug for c in configs)
    finally:
        await r.aclose()
    assert [states[c.slug].state for c in configs] == ["open", "closed"] * (n // 2) + ["open"]


async def test_a_batch_that_loses_its_compare_and_set_is_recorded_one_by_one(redis_server, monkeypatch):
    # Another process writes one of the batch's breakers between our read and our write: the
    # batch's EXEC fails on the WATCH, and every result still lands through the store.
    other = redis.Redis.from_url(settings.REDIS_URL)
    original_step = probes._step
    interfered = []

    def step_with_interference(config, ok, old, now):
        if not interfered:
            interfered.append(config.slug)
            other.hset(breaker_key("c3"), mapping={"s": "closed", "c": "0", "w": "0", "t": "0"})
        return original_step(config, ok, old, now)

    monkeypatch.setattr(probes, "_step", step_with_interference)
    r = redis.asyncio.Redis.from_url(settings.REDIS_URL)
    configs = [cfg("http://x", slug=f"c{i}", breaker_failure_threshold=2) for i in range(6)]
    down = [probes.ProbeResult(c.slug, 0, ok=False, error_class=probes.ERR_CONNECT) for c in configs]
    try:
        assert await probes.feed_breaker(configs, down, redis_async=r) == 6
        states = await BreakerStore(r).states(c.slug for c in configs)
    finally:
        await r.aclose()
        other.close()
    assert interfered == ["c0"]
    # One failure each, none lost and none counted twice: all closed with one consecutive failure.
    assert [(states[c.slug].state, states[c.slug].consecutive_failures) for c in configs] == [("closed", 1)] * 6
    assert states["c3"].window == "01"  # the other writer's call, then ours


async def test_two_results_for_one_provider_in_a_batch_both_count(redis_server):
    r = redis.asyncio.Redis.from_url(settings.REDIS_URL)
    config = cfg("http://x", slug="twice", breaker_failure_threshold=2)
    down = probes.ProbeResult("twice", 0, ok=False, error_class=probes.ERR_TIMEOUT)
    try:
        assert await probes.feed_breaker([config], [down, down], redis_async=r) == 2
        assert (await BreakerStore(r).state("twice")).state == "open"
    finally:
        await r.aclose()


def test_probes_in_flight_fit_under_the_open_files_limit(monkeypatch):
    monkeypatch.setattr(probes.resource, "getrlimit", lambda _: (1024, 4096))
    assert probes.in_flight_cap(500) == 500
    assert probes.in_flight_cap(1000) == 1024 - probes.FD_RESERVE
