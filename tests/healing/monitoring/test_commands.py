"""The monitoring management commands, run through call_command against real parts."""

import asyncio
import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
import redis.asyncio
from django.conf import settings
from django.core.management import CommandError, call_command

from healing.engine.breaker import BreakerStore
from healing.engine.config import ProviderConfig
from healing.models.monitoring import HealthCheck, StatsRollup
from healing.monitoring.sweep import sweep_lock_key
from pools.models import Pool, PoolMembership, RotationEvent


def run(*args) -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue()


@pytest.mark.django_db
def test_healthcheck_probes_records_and_prints_a_summary_table(loopback, make_provider):
    make_provider(slug="alpha", base_url=loopback.url, health_path="/ok")
    make_provider(slug="beta", base_url=loopback.url, health_path="/status/502")

    output = run("healthcheck")

    lines = output.splitlines()
    assert lines[0].split() == ["PROVIDER", "STATUS", "CODE", "LATENCY", "ERROR"]
    assert lines[1].split()[:3] == ["beta", "DOWN", "502"]
    assert lines[2].split()[:3] == ["alpha", "up", "200"]
    assert lines[-1].startswith("2 probed: 1 up, 1 down, 0 skipped, 1 changed state")
    assert HealthCheck.objects.count() == 2


@pytest.mark.django_db
def test_healthcheck_can_be_limited_to_providers_or_a_category(loopback, make_provider):
    make_provider(slug="alpha", base_url=loopback.url)
    make_provider(slug="beta", base_url=loopback.url)
    make_provider(slug="chain", base_url=loopback.url, category="rpc")

    assert "1 probed" in run("healthcheck", "--provider", "beta")
    assert "1 probed" in run("healthcheck", "--category", "rpc")
    assert sorted(HealthCheck.objects.values_list("provider__slug", flat=True)) == ["beta", "chain"]
    with pytest.raises(CommandError, match="unknown provider"):
        run("healthcheck", "--provider", "nope")
    with pytest.raises(CommandError):
        run("healthcheck", "--category", "nonsense")


@pytest.mark.django_db
def test_healthcheck_refuses_to_overlap_a_running_sweep(loopback, make_provider, redis_client):
    make_provider(slug="alpha", base_url=loopback.url)
    redis_client.set(sweep_lock_key(), "other", ex=60)
    with pytest.raises(CommandError, match="another health sweep is running"):
        run("healthcheck")
    assert HealthCheck.objects.count() == 0


@pytest.mark.django_db
def test_rotate_moves_the_pool_to_its_next_member_and_records_why(make_provider):
    a, b = make_provider(slug="a"), make_provider(slug="b")
    pool = Pool.objects.create(slug="price", name="Price", capability="price", strategy="priority")
    PoolMembership.objects.create(pool=pool, provider=a, priority=10)
    PoolMembership.objects.create(pool=pool, provider=b, priority=5)

    output = run("rotate", "price", "--reason", "a is slow", "--actor", "ops")

    assert output.strip() == "pool price: a -> b (a is slow)"
    event = RotationEvent.objects.get()
    assert (event.from_provider, event.to_provider, event.actor, event.reason) == (a, b, "ops", "a is slow")
    with pytest.raises(CommandError, match="unknown pool"):
        run("rotate", "nope", "--reason", "x")
    with pytest.raises(CommandError):
        run("rotate", "price")  # --reason is required
    assert RotationEvent.objects.count() == 1


@pytest.mark.django_db
def test_rotate_explains_a_pool_of_one_and_refuses_an_empty_pool(make_provider):
    pool = Pool.objects.create(slug="solo", name="Solo", capability="price")
    membership = PoolMembership.objects.create(pool=pool, provider=make_provider(slug="only"))
    assert "only stays the head, the only eligible member" in run("rotate", "solo", "--reason", "try")
    assert RotationEvent.objects.get().reason == "try"
    membership.delete()
    with pytest.raises(CommandError, match="no eligible member"):
        run("rotate", "solo", "--reason", "try")


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_export_stats_writes_the_rollups(make_provider, tmp_path, fmt):
    alpha = make_provider(slug="alpha")
    hour = datetime(2026, 11, 21, 12, tzinfo=UTC)
    StatsRollup.objects.create(provider=alpha, hour=hour, requests=10, ok=9, failures=1, success_rate=0.9,
                               outcomes={"timeout": 1}, latency_p50_ms=120.0)
    StatsRollup.objects.create(provider=None, hour=hour, cache_hits=4, cache_misses=1, cache_hit_ratio=0.8)
    target = tmp_path / f"stats.{fmt}"

    output = run("export_stats", "--format", fmt, "-o", str(target))

    assert output.strip() == f"2 rows written to {target}"
    if fmt == "csv":
        rows = list(csv.DictReader(target.open()))
        assert sorted(r["provider"] for r in rows) == ["", "alpha"]
        alpha_row = next(r for r in rows if r["provider"] == "alpha")
        assert (alpha_row["hour"], alpha_row["requests"], alpha_row["success_rate"]) == (
            "2026-11-21T12:00:00Z", "10", "0.9")
        assert json.loads(alpha_row["outcomes"]) == {"timeout": 1}
    else:
        rows = json.loads(target.read_text())
        assert {r["provider"]: r["requests"] for r in rows} == {"alpha": 10, "": 0}
        assert next(r for r in rows if r["provider"] == "")["cache_hit_ratio"] == 0.8


@pytest.mark.django_db
def test_export_stats_rejects_a_bad_since_or_hours(tmp_path):
    with pytest.raises(CommandError, match="--since"):
        run("export_stats", "-o", str(tmp_path / "x.csv"), "--since", "last week")
    with pytest.raises(CommandError, match="--hours"):
        run("export_stats", "-o", str(tmp_path / "x.csv"), "--hours", "0")
    with pytest.raises(CommandError):
        run("export_stats", "-o", str(tmp_path / "x.csv"), "--hours", "2", "--since", "2026-01-01")
    assert not (tmp_path / "x.csv").exists()


@pytest.mark.django_db
def test_export_stats_limits_to_recent_hours(make_provider, tmp_path):
    alpha = make_provider(slug="alpha")
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    StatsRollup.objects.create(provider=alpha, hour=hour - timedelta(hours=5), requests=1)
    StatsRollup.objects.create(provider=alpha, hour=hour - timedelta(days=3), requests=2)
    target = tmp_path / "recent.json"

    assert run("export_stats", "--format", "json", "--hours", "24", "-o", str(target)).strip() == (
        f"1 rows written to {target}")
    assert [r["requests"] for r in json.loads(target.read_text())] == [1]


@pytest.mark.django_db
def test_breaker_show_and_reset(make_provider):
    make_provider(slug="alpha")
    make_provider(slug="beta")

    async def trip():
        r = redis.asyncio.Redis.from_url(settings.REDIS_URL)
        cfg = ProviderConfig(slug="beta", name="b", category="market_data", base_url="http://x",
                             breaker_failure_threshold=1)
        await BreakerStore(r).record(cfg, False)
        state = await BreakerStore(r).state("beta")
        await r.aclose()
        return state

    assert asyncio.run(trip()).state == "open"
    lines = run("breaker", "show").splitlines()
    assert lines[0].split() == ["PROVIDER", "STATE", "FAILURES", "WINDOW", "REOPENS", "AT"]
    assert lines[1].split()[:2] == ["alpha", "closed"]
    assert lines[2].split()[:2] == ["beta", "open"]
    assert run("breaker", "show", "beta").splitlines()[1].split()[:2] == ["beta", "open"]

    assert run("breaker", "reset", "beta").strip() == "breaker for beta reset (closed)"
    assert run("breaker", "show", "beta").splitlines()[1].split()[:2] == ["beta", "closed"]
    with pytest.raises(CommandError, match="needs a provider slug"):
        run("breaker", "reset")
    with pytest.raises(CommandError, match="unknown provider"):
        run("breaker", "reset", "nope")
