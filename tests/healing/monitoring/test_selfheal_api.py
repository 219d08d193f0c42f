"""Self-healing endpoints (control plane) over the real test Redis and the fake upstream."""

import asyncio
import json

import pytest
import redis.asyncio
from django.conf import settings
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from healing.admin import actions as admin_actions
from healing.catalogue import build_snapshot
from healing.engine import stats
from healing.engine.breaker import BreakerStore
from healing.engine.config import ProviderConfig
from healing.engine.ratelimit import Budget
from healing.models.recovery import RecoveryLog

KEY = "sk-selfheal-SECRET-9f8e"
SLASHES = ["", "/"]


@pytest.fixture
def providers(make_provider, fake_upstream, monkeypatch):
    monkeypatch.setenv("SELFHEAL_KEY", KEY)
    made = {}
    for slug in ("coingecko", "coinpaprika", "coincap"):
        made[slug] = make_provider(slug=slug, base_url=fake_upstream.base_url(slug), health_path="/ping",
                                   rate_limits="30/minute", breaker_failure_threshold=2, timeout_s=3,
                                   api_key_env="SELFHEAL_KEY" if slug == "coingecko" else "",
                                   auth_type="query" if slug == "coingecko" else "none", auth_param="x_key")
    made["offline"] = make_provider(slug="offline", base_url=fake_upstream.base_url("offline"), enabled=False)
    return made


@pytest.fixture
def anonymous():
    return APIClient()


@pytest.fixture
def staff(db):
    user = get_user_model().objects.create_user("ops", password="pw", is_staff=True)
    client = APIClient()
    client.force_authenticate(user)
    return client


def _with_redis(work):
    async def main():
        r = redis.asyncio.Redis.from_url(settings.REDIS_URL)
        try:
            return await work(r)
        finally:
            await r.aclose()

    return asyncio.run(main())


def _cfg(slug):
    return build_snapshot().providers[slug]


def trip(slug):
    cfg = _cfg(slug)

    async def work(r):
        store = BreakerStore(r)
        for _ in range(cfg.breaker_failure_threshold):
            await store.record(cfg, False)
        await stats.record(r, slug, "transient", 12.0, 0)
        return await store.state(slug)

    assert _with_redis(work).state == "open"


def breaker_state(slug):
    return _with_redis(lambda r: BreakerStore(r).state(slug)).state


@pytest.mark.parametrize("slash", SLASHES)
def test_health_status_reports_every_provider(providers, anonymous, slash):
    trip("coincap")
    response = anonymous.get("/api/crypto-hub/health-status" + slash)
    assert response.status_code == 200
    rows = {row["provider"]: row for row in response.json()["providers"]}
    assert sorted(rows) == ["coincap", "coingecko", "coinpaprika", "offline"]
    assert rows["coingecko"]["breaker"]["state"] == "closed"
    assert rows["coingecko"]["budgets"] == [{"limit": "30/minute", "remaining": 30,
                                             "resets_at": rows["coingecko"]["budgets"][0]["resets_at"]}]
    coincap = rows["coincap"]
    assert coincap["breaker"]["state"] == "open"
    assert coincap["breaker"]["reopens_at"].endswith("Z")
    assert coincap["stats"]["requests"] == 1
    assert coincap["stats"]["success_rate"] == 0
    assert set(coincap["stats"]["latency_ms"]) >= {"p50", "p90"}
    assert rows["coingecko"]["api_key_set"] is True
    assert KEY not in response.content.decode()


def test_health_status_for_one_provider_and_unknown_ones(providers, anonymous):
    response = anonymous.get("/api/crypto-hub/health-status?provider=coinpaprika")
    assert [row["provider"] for row in response.json()["providers"]] == ["coinpaprika"]
    response = anonymous.get("/api/crypto-hub/health-status?provider=nope")
    assert response.status_code == 404
    assert response.json()["field"] == "provider"


def test_health_check_needs_staff(providers, fake_upstream, anonymous):
    response = anonymous.post("/api/crypto-hub/health-check", {}, format="json")
    assert response.status_code in (401, 403)
    assert fake_upstream.calls() == 0


@pytest.mark.parametrize("slash", SLASHES)
def test_health_check_probes_every_enabled_provider_and_feeds_the_breaker(providers, fake_upstream, staff, slash):
    fake_upstream.fault("coincap", "status", status=503)
    response = staff.post("/api/crypto-hub/health-check" + slash, {}, format="json")
    assert response.status_code == 200
    results = {r["provider"]: r for r in response.json()["results"]}
    assert sorted(results) == ["coincap", "coingecko", "coinpaprika"]
    assert (response.json()["ok"], response.json()["total"]) == (2, 3)
    assert results["coingecko"]["ok"] is True and results["coingecko"]["status_code"] == 200
    assert results["coincap"]["ok"] is False and results["coincap"]["status_code"] == 503
    assert results["coincap"]["breaker"]["consecutive_failures"] == 1
    assert fake_upstream.calls("offline") == 0
    assert fake_upstream.calls() == 3
    assert KEY not in response.content.decode()


def test_health_check_of_one_provider(providers, fake_upstream, staff):
    response = staff.post("/api/crypto-hub/health-check", {"provider": "coinpaprika"}, format="json")
    assert [r["provider"] for r in response.json()["results"]] == ["coinpaprika"]
    assert fake_upstream.calls() == 1
    assert staff.post("/api/crypto-hub/health-check", {"provider": "nope"}, format="json").status_code == 404
    bad = staff.post("/api/crypto-hub/health-check", {"provider": 7}, format="json")
    assert (bad.status_code, bad.json()["field"]) == (400, "provider")
    assert fake_upstream.calls() == 1


@pytest.mark.parametrize("slash", SLASHES)
def test_recover_resets_breaker_and_cooldown_probes_and_records_why(providers, fake_upstream, staff, slash):
    trip("coingecko")
    _with_redis(lambda r: Budget(r).cool_down("coingecko", 600))
    response = staff.post("/api/crypto-hub/recover" + slash, {"provider": "coingecko", "reason": "upstream fixed"},
                          format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["recovered"] is True
    assert body["breaker"]["state"] == "closed"
    assert body["probe"]["ok"] is True
    assert breaker_state("coingecko") == "closed"
    assert _with_redis(lambda r: Budget(r).cooling_until("coingecko")) is None
    [entry] = RecoveryLog.objects.all()
    assert (entry.provider_slug, entry.action, entry.reason, entry.actor) == (
        "coingecko", "recover", "upstream fixed", "ops")
    assert entry.result["probe"]["ok"] is True
    assert body["log_id"] == entry.pk
    assert fake_upstream.calls("coingecko") == 1
    assert KEY not in response.content.decode()


def test_recover_that_fails_its_probe_says_so(providers, fake_upstream, staff):
    trip("coincap")
    fake_upstream.fault("coincap", "status", status=500)
    body = staff.post("/api/crypto-hub/recover", {"provider": "coincap"}, format="json").json()
    assert body["recovered"] is False
    assert body["breaker"]["consecutive_failures"] == 1
    assert RecoveryLog.objects.get().reason == "manual recovery"


def test_recover_input_errors_and_permissions(providers, fake_upstream, staff, anonymous):
    trip("coingecko")
    assert anonymous.post("/api/crypto-hub/recover", {"provider": "coingecko"}, format="json").status_code in (401, 403)
    missing = staff.post("/api/crypto-hub/recover", {}, format="json")
    assert (missing.status_code, missing.json()["field"]) == (400, "provider")
    long_reason = staff.post("/api/crypto-hub/recover", {"provider": "coingecko", "reason": "x" * 301}, format="json")
    assert (long_reason.status_code, long_reason.json()["field"]) == (400, "reason")
    assert staff.post("/api/crypto-hub/recover", {"provider": "nope"}, format="json").status_code == 404
    assert RecoveryLog.objects.count() == 0
    assert breaker_state("coingecko") == "open"
    assert fake_upstream.calls() == 0


@pytest.mark.parametrize("slash", SLASHES)
def test_diagnostics_is_a_downloadable_report_without_keys(providers, staff, anonymous, slash):
    trip("coincap")
    staff.post("/api/crypto-hub/recover", {"provider": "coinpaprika", "reason": "drill"}, format="json")
    response = anonymous.get("/api/crypto-hub/diagnostics" + slash)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith('attachment; filename="cryptohub-diagnostics-')
    report = json.loads(response.content)
    assert report["snapshot"]["providers"] == 4
    assert report["snapshot"]["enabled_providers"] == 3
    assert report["summary"]["breakers_not_closed"] == ["coincap"]
    assert {p["provider"] for p in report["providers"]} == {"coincap", "coingecko", "coinpaprika", "offline"}
    assert [e["reason"] for e in report["recovery_log"]] == ["drill"]
    assert KEY not in response.content.decode()


def test_recovery_log_is_paginated_and_filterable(db, anonymous):
    for n in range(3):
        RecoveryLog.objects.create(provider_slug="coingecko" if n else "kraken", action="recover", reason=f"r{n}")
    page = anonymous.get("/api/crypto-hub/recovery-log?page_size=2").json()
    assert page["count"] == 3
    assert [e["reason"] for e in page["results"]] == ["r2", "r1"]
    assert page["next"]
    assert anonymous.get("/api/crypto-hub/recovery-log/?page=2&page_size=2").json()["results"][0]["reason"] == "r0"
    filtered = anonymous.get("/api/crypto-hub/recovery-log?provider=kraken").json()
    assert [e["provider"] for e in filtered["results"]] == ["kraken"]


@pytest.mark.parametrize("slash", SLASHES)
def test_clear_failures_resets_every_breaker_cooldown_and_counter(providers, staff, anonymous, slash):
    trip("coincap")
    trip("coingecko")
    _with_redis(lambda r: Budget(r).cool_down("coinpaprika", 600))
    assert anonymous.delete("/api/crypto-hub/clear-failures" + slash).status_code in (401, 403)
    assert breaker_state("coincap") == "open"
    response = staff.delete("/api/crypto-hub/clear-failures" + slash)
    assert response.status_code == 200
    assert response.json()["cleared"] == 4
    assert breaker_state("coincap") == breaker_state("coingecko") == "closed"
    assert _with_redis(lambda r: Budget(r).cooling_until("coinpaprika")) is None
    counters = _with_redis(lambda r: stats.read_stats(r, ["coincap"]))
    assert counters["coincap"]["requests"] == 0
    [entry] = RecoveryLog.objects.all()
    assert (entry.provider_slug, entry.action, entry.actor) == ("*", "clear_failures", "ops")


def test_a_redis_outage_is_a_503_not_a_500(providers, anonymous, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = anonymous.get("/api/crypto-hub/health-status")
    assert response.status_code == 503
    assert "Redis" in response.json()["detail"]


def test_admin_helpers_summarize_and_reset(providers):
    trip("coincap")
    assert admin_actions.breaker_summary("coingecko") == "closed · 30 left of 30/minute"
    assert admin_actions.breaker_summary("coincap").startswith("open until ")
    assert admin_actions.breaker_summary("nope") == "unknown provider"

    class FakeAdmin:
        messages = []

        def message_user(self, request, message, level=None):
            self.messages.append(message)

    class FakeRequest:
        class user:
            @staticmethod
            def get_username():
                return "ops"

    from providers.models import Provider

    modeladmin = FakeAdmin()
    admin_actions.reset_breaker(modeladmin, FakeRequest(), Provider.objects.filter(slug="coincap"))
    assert breaker_state("coincap") == "closed"
    assert "coincap" in modeladmin.messages[0]
    assert RecoveryLog.objects.get().action == "reset_breaker"


def test_provider_config_never_carries_a_key_value(providers):
    cfg = _cfg("coingecko")
    assert isinstance(cfg, ProviderConfig)
    assert KEY not in repr(cfg)
