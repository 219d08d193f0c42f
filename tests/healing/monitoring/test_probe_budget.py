"""Probes are traffic: shared budget, daily share, cool-downs, and probes without a health_path,
against the fake upstream (real sockets) and the session's real redis-server."""

import redis
import redis.asyncio
from django.conf import settings

from healing.engine.config import ProviderConfig
from healing.engine.ratelimit import Budget
from healing.monitoring import probe_gate, probes
from tests.fixtures.clock import FakeClock

SWEEP_S = 30
ROUNDS_PER_DAY = 86_400 // SWEEP_S  # 2,880


def provider(fake_upstream, slug, **fields) -> ProviderConfig:
    return ProviderConfig(slug=slug, name=slug, category=fields.pop("category", "market_data"),
                          base_url=fields.pop("base_url", fake_upstream.base_url(slug)), **fields)


def forget(*slugs) -> None:
    r = redis.Redis.from_url(settings.REDIS_URL)
    for slug in slugs:
        keys = list(r.scan_iter(match=f"*{slug}*"))
        if keys:
            r.delete(*keys)


async def test_a_day_of_30s_sweeps_stays_inside_each_daily_budget(fake_upstream):
    configs = [provider(fake_upstream, "blockchair", health_path="/stats", rate_limits="30/minute;1440/day"),
               provider(fake_upstream, "messari", health_path="/v1/assets", rate_limits="20/minute;1000/day")]
    forget("blockchair", "messari")
    clock = FakeClock()
    skipped = 0
    for _ in range(ROUNDS_PER_DAY):
        results = await probes.run_probe_cycle(configs, redis_url=settings.REDIS_URL, clock=clock, timeout_s=5)
        skipped += sum(1 for r in results if r.skipped and r.error_class == probe_gate.SKIP_INTERVAL)
        clock.advance(SWEEP_S)
    # The decided share: probes take at most PROBE_DAILY_SHARE of a daily budget.
    assert 0 < fake_upstream.calls("blockchair") <= 1440 * probe_gate.PROBE_DAILY_SHARE
    assert 0 < fake_upstream.calls("messari") <= 1000 * probe_gate.PROBE_DAILY_SHARE
    assert skipped > 0


async def test_probe_takes_a_token_and_is_skipped_near_the_reserve(fake_upstream):
    cfg = provider(fake_upstream, "pbudget", health_path="/ok", rate_limits="5/minute")
    forget("pbudget")
    clock = FakeClock()
    r = redis.asyncio.Redis.from_url(settings.REDIS_URL)
    budget = Budget(r, clock=clock)
    try:
        first = (await probes.run_probe_cycle([cfg], redis_url=settings.REDIS_URL, clock=clock))[0]
        assert first.ok and not first.skipped
        assert (await budget.remaining(cfg))[0]["remaining"] == 4  # the probe's token, from the shared bucket
        for _ in range(3):  # real traffic spends the budget down to the reserve (1 of 5)
            assert await budget.try_acquire(cfg)
        second = (await probes.run_probe_cycle([cfg], redis_url=settings.REDIS_URL, clock=clock))[0]
    finally:
        await r.aclose()
    assert (second.skipped, second.ok, second.error_class) == (True, False, probe_gate.SKIP_BUDGET)
    assert fake_upstream.calls("pbudget") == 1


async def test_429_to_a_probe_cools_the_provider_down_until_retry_after(fake_upstream):
    cfg = provider(fake_upstream, "pcool", health_path="/ok")
    forget("pcool")
    clock = FakeClock()
    fake_upstream.fault("pcool", "rate_limit", retry_after=120, times=1)
    first = (await probes.run_probe_cycle([cfg], redis_url=settings.REDIS_URL, clock=clock))[0]
    assert first.error_class == probes.ERR_RATE_LIMITED and first.retry_after_s == 120
    r = redis.asyncio.Redis.from_url(settings.REDIS_URL)
    try:
        # The engine's own reader sees it: real traffic backs off too.
        assert await Budget(r, clock=clock).cooling_until("pcool") == clock() + 120
    finally:
        await r.aclose()
    for _ in range(3):
        clock.advance(30)
        result = (await probes.run_probe_cycle([cfg], redis_url=settings.REDIS_URL, clock=clock))[0]
        assert (result.skipped, result.error_class) == (True, probe_gate.SKIP_COOLDOWN)
    assert fake_upstream.calls("pcool") == 1
    clock.advance(31)  # 121 s after the 429
    result = (await probes.run_probe_cycle([cfg], redis_url=settings.REDIS_URL, clock=clock))[0]
    assert result.ok and fake_upstream.calls("pcool") == 2


async def test_providers_without_health_path_are_probed_with_their_cheapest_call(fake_upstream):
    body = '{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}'
    rss = provider(fake_upstream, "coindesk", category="news", base_url=fake_upstream.base_url("coindesk") + "/rss/")
    rpc = provider(fake_upstream, "publicnode_eth", category="rpc", health_method="POST", health_body=body)
    forget("coindesk", "publicnode_eth")
    results = await probes.run_probe_cycle([rss, rpc], redis_url=settings.REDIS_URL, clock=FakeClock())
    assert [(r.ok, r.skipped) for r in results] == [(True, False), (True, False)]
    [feed] = fake_upstream.requests("coindesk")
    assert (feed["method"], feed["path"]) == ("GET", "/coindesk/rss/")
    [node] = fake_upstream.requests("publicnode_eth")
    assert (node["method"], node["path"]) == ("POST", "/publicnode_eth")


def test_min_probe_interval_follows_the_daily_budget():
    cfg = ProviderConfig(slug="x", name="x", category="c", base_url="http://x", rate_limits="30/minute;1440/day")
    assert probe_gate.min_probe_interval_s(cfg) == 600
    assert probe_gate.min_probe_interval_s(ProviderConfig(slug="y", name="y", category="c", base_url="http://y",
                                                          rate_limits="10/minute")) == 0
