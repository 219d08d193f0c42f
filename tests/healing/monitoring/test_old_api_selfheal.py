"""The old system's self-healing API as its READMEs wrote it, answered by cryptohub: a provider's
own health check (`POST /api/providers/{id}/health-check`), providers named by URL
(`{"endpoint": ...}`, `{"endpoints": [...]}`), the health-status totals, the diagnostics'
failed_endpoints, and manual checks kept in the health history without moving pool uptime."""


from healing.engine.ratelimit import Budget
from healing.models.monitoring import HealthCheck
from healing.monitoring import history
from pools.models import Pool, PoolMembership
from tests.healing.monitoring.test_selfheal_api import (  # noqa: F401 - fixtures
    KEY,
    _with_redis,
    anonymous,
    providers,
    staff,
    trip,
)


def test_a_providers_own_health_check_answers_the_old_shape_and_is_recorded(providers, fake_upstream, staff,
                                                                              anonymous):
    assert anonymous.post("/api/providers/coinpaprika/health-check").status_code in (401, 403)
    body = staff.post("/api/providers/coinpaprika/health-check").json()
    assert (body["provider_id"], body["name"], body["is_healthy"], body["status"]) == (
        "coinpaprika", providers["coinpaprika"].name, True, "online")
    assert body["response_time"] > 0 and body["timestamp"].endswith("Z") and body["breaker"]["state"] == "closed"
    fake_upstream.fault("coincap", "status", status=500)
    down = staff.post("/api/providers/coincap/health-check/").json()
    assert (down["is_healthy"], down["status"], down["status_code"]) == (False, "offline", 500)
    rows = {c.provider.slug: c for c in HealthCheck.objects.all()}
    assert set(rows) == {"coinpaprika", "coincap"} and all(c.manual for c in rows.values())
    assert (rows["coinpaprika"].ok, rows["coincap"].ok) == (True, False)
    assert staff.post("/api/providers/nope/health-check").status_code == 404
    assert KEY not in staff.post("/api/providers/coingecko/health-check").content.decode()


def test_health_checks_name_providers_by_url_and_land_in_the_history(providers, fake_upstream, staff):
    url = fake_upstream.base_url("coincap") + "/assets?limit=1"
    body = staff.post("/api/crypto-hub/health-check", {"endpoints": [url]}, format="json").json()
    assert [r["provider"] for r in body["results"]] == ["coincap"] and fake_upstream.calls() == 1
    everyone = staff.post("/api/crypto-hub/health-check", {}, format="json").json()
    assert everyone["total"] == 3  # the enabled ones
    assert HealthCheck.objects.filter(manual=True).count() == 4

    unknown = staff.post("/api/crypto-hub/health-check", {"endpoints": ["https://api.example.com"]}, format="json")
    assert (unknown.status_code, unknown.json()["field"]) == (404, "endpoints")
    for bad in ("https://api.example.com", ["not a url"], [], ["ftp://x.example"], [7]):
        answer = staff.post("/api/crypto-hub/health-check", {"endpoints": bad}, format="json")
        assert (answer.status_code, answer.json()["field"]) == (400, "endpoints"), bad
    shared_host = fake_upstream.url  # every fake provider lives on this host: the URL names none alone
    ambiguous = staff.post("/api/crypto-hub/health-check", {"endpoints": [shared_host]}, format="json")
    assert ambiguous.status_code == 400 and "coincap" in ambiguous.json()["detail"]
    assert fake_upstream.calls() == 4  # no refused request probed anything


def test_recover_names_the_provider_by_its_endpoint(providers, fake_upstream, staff):
    trip("coingecko")
    body = staff.post("/api/crypto-hub/recover", {"endpoint": fake_upstream.base_url("coingecko")},
                      format="json").json()
    assert body["provider"] == "coingecko" and body["recovered"] is True
    assert HealthCheck.objects.get().manual is True
    missing = staff.post("/api/crypto-hub/recover", {"endpoint": "https://api.example.com"}, format="json")
    assert (missing.status_code, missing.json()["field"]) == (404, "endpoint")


def test_health_status_adds_the_old_totals(providers, fake_upstream, staff, anonymous):
    trip("coingecko")
    _with_redis(lambda r: Budget(r).cool_down("coincap", 600))
    body = anonymous.get("/api/crypto-hub/health-status").json()
    assert (body["total"], body["healthy"], body["degraded"], body["unhealthy"]) == (3, 1, 1, 1)
    assert body["health_percentage"] == 33.3
    statuses = {slug: e["status"] for slug, e in body["endpoints"].items()}
    assert statuses == {"coingecko": "unhealthy", "coincap": "degraded", "coinpaprika": "healthy",
                        "offline": "disabled"}
    assert body["endpoints"]["coinpaprika"]["endpoint"] == fake_upstream.base_url("coinpaprika")

    fake_upstream.fault("coinpaprika", "status", status=503)
    staff.post("/api/crypto-hub/health-check", {"provider": "coinpaprika"}, format="json")
    after = anonymous.get("/api/crypto-hub/health-status").json()
    assert after["endpoints"]["coinpaprika"]["status"] == "unhealthy"  # its latest check failed
    assert after["health_percentage"] == 0.0


def test_diagnostics_lists_the_failed_endpoints(providers, fake_upstream, staff):
    fake_upstream.fault("coincap", "status", status=500)
    for _ in range(2):
        staff.post("/api/providers/coincap/health-check")
    staff.post("/api/providers/coinpaprika/health-check")
    failed = staff.get("/api/crypto-hub/diagnostics").json()["failed_endpoints"]
    assert failed["count"] == 1 and list(failed["endpoints"]) == ["coincap"]
    entry = failed["endpoints"]["coincap"]
    assert entry["failures"] == 2 and entry["first_failure"] <= entry["last_failure"]
    assert [e["status_code"] for e in entry["last_errors"]] == [500, 500]


def test_manual_checks_stay_out_of_pool_uptime(providers, fake_upstream, staff):
    pool = Pool.objects.create(slug="p", name="P", capability="price")
    PoolMembership.objects.create(pool=pool, provider=providers["coincap"])
    HealthCheck.objects.create(provider=providers["coincap"], checked_at=history._utcnow(), ok=True)  # a sweep
    fake_upstream.fault("coincap", "status", status=500)
    staff.post("/api/providers/coincap/health-check")
    assert HealthCheck.objects.filter(ok=False, manual=True).count() == 1
    assert history.pool_uptime(pool)["24h"] == 100.0
