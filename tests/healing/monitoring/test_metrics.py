"""GET /metrics: Prometheus text built at scrape time from Redis and the database."""

import asyncio
from datetime import UTC, datetime

import pytest
import redis.asyncio
from django.conf import settings
from prometheus_client.parser import text_string_to_metric_families

from healing.engine import stats
from healing.engine.breaker import BreakerStore
from healing.engine.config import ProviderConfig
from healing.engine.ratelimit import Budget
from healing.models.monitoring import Alert, AlertRule, HealthCheck
from healing.monitoring.sweep import sweep_last_key
from providers.runtime import rkey
from tests.redis_server import free_port

NOW = 1_800_000_000.0


def samples(body: str) -> dict[tuple, float]:
    """{(sample name, sorted label items): value} for easy exact assertions."""
    out = {}
    for family in text_string_to_metric_families(body):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def config(slug: str, **kw) -> ProviderConfig:
    return ProviderConfig(slug=slug, name=slug, category="market_data", base_url="http://x", **kw)


async def seed() -> None:
    r = redis.asyncio.Redis.from_url(settings.REDIS_URL)
    try:
        for outcome, ms in [("ok", 30.0), ("ok", 150.0), ("ok", 900.0), ("timeout", None), ("rate_limited", None)]:
            await stats.record(r, "alpha", outcome, ms, NOW)
        await BreakerStore(r).record(config("beta", breaker_failure_threshold=1), False)
        budget = Budget(r)
        for _ in range(3):
            await budget.try_acquire(config("alpha", rate_limits="10/minute"))
        await r.hincrby(rkey("stats", "cache"), "hit:price", 7)
        await r.hincrby(rkey("stats", "cache"), "miss:price", 2)
        await r.hincrby(rkey("stats", "cache"), "stale:price", 1)
        await r.hset(sweep_last_key(), mapping={"started_at": NOW, "duration_s": 1.25, "probed": 2, "up": 1,
                                                "down": 1, "skipped": 0})
    finally:
        await r.aclose()


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/metrics", "/metrics/"])
def test_metrics_report_every_family_with_exact_values(client, make_provider, path):
    alpha = make_provider(slug="alpha", rate_limits="10/minute")
    beta = make_provider(slug="beta", rate_limits="")
    make_provider(slug="off", enabled=False)
    now = datetime.now(UTC)
    HealthCheck.objects.create(provider=alpha, checked_at=now, ok=True)
    HealthCheck.objects.create(provider=beta, checked_at=now, ok=False)
    rule = AlertRule.objects.create(name="down", kind="provider_down")
    Alert.objects.create(rule=rule, subject="provider:beta", severity="critical", message="m", opened_at=now)
    asyncio.run(seed())

    response = client.get(path)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    got = samples(response.content.decode())
    assert got[("cryptohub_provider_requests_total", (("outcome", "ok"), ("provider", "alpha")))] == 3
    assert got[("cryptohub_provider_requests_total", (("outcome", "timeout"), ("provider", "alpha")))] == 1
    assert got[("cryptohub_provider_requests_total", (("outcome", "rate_limited"), ("provider", "alpha")))] == 1
    assert got[("cryptohub_provider_latency_ms_bucket", (("le", "100.0"), ("provider", "alpha")))] == 1
    assert got[("cryptohub_provider_latency_ms_bucket", (("le", "200.0"), ("provider", "alpha")))] == 2
    assert got[("cryptohub_provider_latency_ms_bucket", (("le", "+Inf"), ("provider", "alpha")))] == 3
    assert got[("cryptohub_provider_latency_ms_sum", (("provider", "alpha"),))] == 1080.0
    assert got[("cryptohub_breaker_state", (("provider", "beta"),))] == 2
    assert got[("cryptohub_breaker_state", (("provider", "alpha"),))] == 0
    assert got[("cryptohub_budget_remaining", (("limit", "10/minute"), ("provider", "alpha")))] == 7
    assert got[("cryptohub_cache_hits_total", (("capability", "price"),))] == 7
    assert got[("cryptohub_cache_misses_total", (("capability", "price"),))] == 2
    assert got[("cryptohub_cache_stale_total", (("capability", "price"),))] == 1
    assert got[("cryptohub_sweep_duration_seconds", ())] == 1.25
    assert got[("cryptohub_sweep_providers", (("result", "down"),))] == 1
    assert got[("cryptohub_provider_up", (("provider", "alpha"),))] == 1
    assert got[("cryptohub_provider_up", (("provider", "beta"),))] == 0
    assert got[("cryptohub_alerts_open", (("severity", "critical"),))] == 1
    assert got[("cryptohub_alerts_open", (("severity", "warning"),))] == 0
    assert got[("cryptohub_metrics_source_up", (("source", "redis"),))] == 1
    # A disabled provider is not reported.
    assert not any(dict(labels).get("provider") == "off" for _, labels in got)


@pytest.mark.django_db
def test_metrics_still_answer_from_the_database_when_redis_is_down(client, make_provider, settings):
    alpha = make_provider(slug="alpha")
    HealthCheck.objects.create(provider=alpha, checked_at=datetime.now(UTC), ok=True)
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"

    response = client.get("/metrics")

    assert response.status_code == 200
    got = samples(response.content.decode())
    assert got[("cryptohub_metrics_source_up", (("source", "redis"),))] == 0
    assert got[("cryptohub_provider_up", (("provider", "alpha"),))] == 1


@pytest.mark.django_db
def test_metrics_need_the_bearer_token_when_one_is_configured(client, settings):
    settings.CRYPTOHUB_METRICS_TOKEN = "scrape-me"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    ok = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-me")
    assert ok.status_code == 200 and b"cryptohub_alerts_open" in ok.content
    assert client.post("/metrics", HTTP_AUTHORIZATION="Bearer scrape-me").status_code == 405


@pytest.mark.django_db
def test_each_scrape_reads_fresh_state(client, make_provider):
    make_provider(slug="alpha")

    def ok_count():
        got = samples(client.get("/metrics").content.decode())
        return got.get(("cryptohub_provider_requests_total", (("outcome", "ok"), ("provider", "alpha"))))

    assert ok_count() == 0

    async def one():
        r = redis.asyncio.Redis.from_url(settings.REDIS_URL)
        await stats.record(r, "alpha", "ok", 10.0, NOW)
        await r.aclose()

    asyncio.run(one())
    assert ok_count() == 1
