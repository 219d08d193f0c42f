"""503 answers say when to come back: `Retry-After` (and `retry_after_s` in the body) from the
earliest known end of whatever kept the providers out: a pool's maintenance window, a breaker's
reopening, a cool-down. The data plane's answer rule, the proxy in-process against the fake
upstream, and real uvicorn processes with a pool window written through the ORM and the sync the
admin and the sweep run.
"""

import contextlib
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from asgiref.sync import sync_to_async

from healing.dataplane.failures import failure_answer
from healing.engine.breaker import BreakerStore
from healing.engine.config import ProviderConfig
from healing.engine.errors import SKIPPED_BREAKER_OPEN, SKIPPED_MAINTENANCE, AllProvidersFailed, Attempt
from providers.runtime import rkey
from tests.fixtures.clock import T0

PROXY = "/api/crypto-hub/proxy"
PRICE = "/api/data/price?ids=bitcoin&vs=usd"
# The pool window of the real-server test: long enough to be read while it lasts, short enough to wait out.
WINDOW_S = 3.0


def cfg(slug: str) -> ProviderConfig:
    return ProviderConfig(slug=slug, name=slug, category="market_data", base_url="http://127.0.0.1:9")


@contextlib.asynccontextmanager
async def breakers(clock):
    import redis.asyncio
    from django.conf import settings

    r = redis.asyncio.Redis.from_url(settings.REDIS_URL)
    try:
        yield BreakerStore(r, clock)
    finally:
        await r.aclose()


async def trip(clock, slug: str) -> float:
    """Open `slug`'s breaker as the engine would; returns when it reopens."""
    async with breakers(clock) as store:
        for _ in range(5):
            await store.record(cfg(slug), False)
        return (await store.state(slug)).reopens_at


# --- the data plane's answer ------------------------------------------------------------------------


def test_a_known_end_is_a_retry_after_in_whole_seconds_rounded_up():
    exc = AllProvidersFailed("price", [Attempt("a", SKIPPED_MAINTENANCE, 0.0, "", T0 + 30.2),
                                       Attempt("b", SKIPPED_BREAKER_OPEN, 0.0, "", T0 + 45)])
    response = failure_answer(exc, {"ids": ["bitcoin"]}, now=T0)
    assert (response.status_code, response.headers["retry-after"]) == (503, "31")
    assert b'"retry_after_s":31' in response.body


def test_an_end_already_past_still_says_one_second():
    exc = AllProvidersFailed("price", [Attempt("a", SKIPPED_MAINTENANCE, 0.0, "", T0 - 2)])
    assert failure_answer(exc, now=T0).headers["retry-after"] == "1"


def test_transient_failures_alone_send_no_retry_after():
    exc = AllProvidersFailed("price", [Attempt("a", "transient", 5.0), Attempt("a", "timeout", 900.0)])
    response = failure_answer(exc, {"ids": ["bitcoin"]}, now=T0)
    assert response.status_code == 503
    assert "retry-after" not in response.headers and b"retry_after_s" not in response.body


# --- the proxy, in process ------------------------------------------------------------------------


async def test_the_proxys_breaker_open_503_carries_the_reopening(price_pool, fake_upstream, data_client, clock):
    reopens_at = await trip(clock, "coingecko")
    clock.advance(4)
    response = await data_client.post(PROXY, json={"provider": "coingecko", "path": "/ping"})
    assert response.status_code == 503
    assert response.headers["retry-after"] == "26" == str(round(reopens_at - clock()))
    assert response.json()["retry_after_s"] == 26
    assert fake_upstream.calls() == 0


async def test_the_proxy_honours_a_providers_window_and_says_when_it_ends(price_pool, fake_upstream, data_client,
                                                                          redis_client):
    redis_client.zadd(rkey("maintenance", "providers"), {"coingecko": T0 + 45})
    response = await data_client.post(PROXY, json={"provider": "coingecko", "path": "/ping"})
    assert response.status_code == 503
    assert [a["outcome"] for a in response.json()["attempts"]] == [SKIPPED_MAINTENANCE]
    assert (response.headers["retry-after"], response.json()["retry_after_s"]) == ("45", 45)
    assert fake_upstream.calls() == 0


async def test_a_cool_down_from_the_providers_retry_after_reaches_the_next_503(price_pool, fake_upstream,
                                                                                data_client, clock):
    fake_upstream.fault("coingecko", "rate_limit", retry_after=120)
    first = await data_client.post(PROXY, json={"provider": "coingecko", "path": "/ping"})
    assert first.status_code == 502 and "retry-after" not in first.headers  # called and failed: no 503
    fake_upstream.reset()
    clock.advance(20)
    second = await data_client.post(PROXY, json={"provider": "coingecko", "path": "/ping"})
    assert (second.status_code, second.headers["retry-after"]) == (503, "100")
    assert fake_upstream.calls() == 0


# --- real server processes --------------------------------------------------------------------------


def _open_pool_window(seconds: float, now: datetime | None = None) -> float:
    """A window of the price pool from `now` (default: the wall clock), saved and synced as the
    admin does; returns its end (epoch seconds)."""
    from healing.models.monitoring import MaintenanceWindow
    from healing.monitoring import maintenance
    from pools.models import Pool

    now = now or datetime.now(UTC)
    window = MaintenanceWindow.objects.create(pool=Pool.objects.get(slug="price"), starts_at=now - timedelta(seconds=1),
                                              ends_at=now + timedelta(seconds=seconds), reason="upgrade")
    assert maintenance.maintenance_sync(now=now)["pools"] == {"price"}
    return window.ends_at.timestamp()


@pytest.mark.slow
def test_a_pool_window_drains_a_real_server_until_it_ends(price_pool, fake_upstream, live_servers):
    server = live_servers()
    ends_at = _open_pool_window(WINDOW_S)
    with httpx.Client(base_url=server.url, timeout=20, trust_env=False) as http:
        drained = http.get(PRICE)
        assert drained.status_code == 503, server.output()
        assert {a["outcome"] for a in drained.json()["attempts"]} == {SKIPPED_MAINTENANCE}
        assert abs(int(drained.headers["retry-after"]) - (ends_at - time.time())) <= 1
        assert drained.json()["retry_after_s"] == int(drained.headers["retry-after"])
        assert fake_upstream.calls() == 0
        time.sleep(max(0.0, ends_at - time.time()) + 0.1)  # no sync runs: the window ends by its score
        back = http.get(PRICE)
        assert back.status_code == 200, back.text
        assert back.json()["meta"]["source"] == "coingecko" and fake_upstream.calls("coingecko") == 1


@pytest.mark.slow
def test_a_breaker_open_503_of_a_real_server_says_when_it_reopens(price_pool, fake_upstream, live_servers):
    import asyncio

    server = live_servers()
    reopens_at = asyncio.run(trip(time.time, "coinpaprika"))
    with httpx.Client(base_url=server.url, timeout=20, trust_env=False) as http:
        response = http.get(PRICE + "&provider=coinpaprika")
    assert response.status_code == 503, server.output()
    assert [a["outcome"] for a in response.json()["attempts"]] == [SKIPPED_BREAKER_OPEN]
    assert abs(int(response.headers["retry-after"]) - (reopens_at - time.time())) <= 1
    assert fake_upstream.calls() == 0


async def test_a_pool_window_synced_from_the_database_drains_in_process_too(price_pool, fake_upstream,
                                                                              data_client, redis_client):
    ends_at = await sync_to_async(_open_pool_window)(600, datetime.fromtimestamp(T0, UTC))
    assert redis_client.zscore(rkey("maintenance", "pools"), "price") == ends_at == T0 + 600
    response = await data_client.get(PRICE)
    assert response.status_code == 503
    assert [(a["provider"], a["retry_at"]) for a in response.json()["attempts"]] == [
        ("coingecko", T0 + 600), ("coinpaprika", T0 + 600), ("coincap", T0 + 600)]
    assert fake_upstream.calls() == 0
