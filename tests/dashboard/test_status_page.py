"""The public status page over HTTP: /status (HTML), /api/status/page (JSON), the badges
(/status/badge/<pool>.svg: content type, escaping, 404 for an unknown pool) and
CRYPTOHUB_PUBLIC_READ; then the page in a real headless Chromium against a real server process."""

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from django.test import Client

from dashboard.statuspage import render
from healing.models.incidents import Incident, IncidentUpdate
from healing.models.monitoring import HealthCheck, MaintenanceWindow, StatsRollup
from pools.models import Pool, PoolMembership
from tests.dashboard.browser import PHONE, assert_clean, chromium, goto, shot, watch
from tests.live_server import start_server

SVG = "{http://www.w3.org/2000/svg}"


def history(provider, *, days: int, now: datetime, fail_every: int = 0) -> None:
    """A check every 2 hours for `days` days; every `fail_every`-th one failed (none when 0)."""
    rows = []
    for n in range(days * 12):
        at = now - timedelta(hours=2 * n, minutes=1)
        failed = bool(fail_every) and n % fail_every == 0
        rows.append(HealthCheck(provider=provider, checked_at=at, ok=not failed, latency_ms=120.0))
    HealthCheck.objects.bulk_create(rows)


@pytest.fixture
def status_data(make_provider):
    """Two pools and three providers with a month of history, an incident with a timeline, a
    maintenance window ahead and a day of response times."""
    now = datetime.now(UTC)
    alpha = make_provider(slug="alpha", name="Alpha", category="market_data")
    beta = make_provider(slug="beta", name="Beta", category="market_data")
    gamma = make_provider(slug="gamma", name="Gamma", category="market_data")
    price = Pool.objects.create(slug="price", name="Price", capability="price")
    markets = Pool.objects.create(slug="markets", name="Markets", capability="markets")
    PoolMembership.objects.create(pool=price, provider=alpha, priority=2)
    PoolMembership.objects.create(pool=price, provider=beta, priority=1)
    PoolMembership.objects.create(pool=markets, provider=gamma)
    history(alpha, days=30, now=now)
    history(beta, days=30, now=now, fail_every=30)
    history(gamma, days=10, now=now, fail_every=2)
    # Now: price degraded (beta fails), markets down (its one provider fails), market_data degraded.
    HealthCheck.objects.create(provider=beta, checked_at=now, ok=False)
    HealthCheck.objects.create(provider=gamma, checked_at=now, ok=False)
    incident = Incident.objects.create(pool=markets, kind="no_healthy_member", state="identified",
                                       title="markets: no healthy provider", opened_at=now - timedelta(minutes=30))
    IncidentUpdate.objects.create(incident=incident, at=incident.opened_at, state="investigating", message="seen")
    IncidentUpdate.objects.create(incident=incident, at=now - timedelta(minutes=29), state="identified",
                                  message="gamma: HTTP 503")
    MaintenanceWindow.objects.create(provider=alpha, starts_at=now + timedelta(days=2),
                                     ends_at=now + timedelta(days=2, hours=1), reason="Alpha API migration <v2>")
    hour = now.replace(minute=0, second=0, microsecond=0)
    for back in range(24):
        StatsRollup.objects.create(provider=alpha, hour=hour - timedelta(hours=back), latency_p50_ms=100.0 + 5 * back)
    return {"price": price, "markets": markets, "incident": incident}


# --- JSON -------------------------------------------------------------------------------------------


def test_json_answers_the_whole_page(status_data, anon_client):
    response = anon_client.get("/api/status/page")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    page = response.json()
    assert page["banner"] == {"status": "partial_outage", "title": "Partial outage"}
    by_slug = {(c["kind"], c["slug"]): c for c in page["components"]}
    assert set(by_slug) == {("pool", "price"), ("pool", "markets"), ("category", "market_data")}
    assert by_slug[("pool", "markets")]["status"] == "down"
    assert len(by_slug[("pool", "price")]["days"]) == 90
    assert by_slug[("pool", "price")]["uptime"]["30d"] is not None
    assert [i["id"] for i in page["incidents"]] == [status_data["incident"].pk]
    assert page["maintenance"][0]["reason"] == "Alpha API migration <v2>"
    assert anon_client.get("/api/status/page/").status_code == 200


def test_json_is_documented_in_the_schema(db, anon_client):
    schema = anon_client.get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/status/page"]["get"]
    assert {"200", "403", "414"} <= set(operation["responses"])
    assert "/api/status/page/" not in schema["paths"]
    assert "StatusPage" in schema["components"]["schemas"]


def test_public_read_off_needs_a_login_everywhere(status_data, anon_client, settings, staff_user):
    settings.CRYPTOHUB_PUBLIC_READ = False
    assert anon_client.get("/api/status/page").status_code == 403
    badge = anon_client.get("/status/badge/price.svg")
    assert badge.status_code == 403 and badge["Content-Type"] == "application/json"
    page = anon_client.get("/status")
    assert page.status_code == 302 and page["Location"].startswith("/admin/login/?next=/status")

    client = Client()
    client.force_login(staff_user)
    assert client.get("/status").status_code == 200
    assert client.get("/api/status/page").status_code == 200
    assert client.get("/status/badge/price.svg").status_code == 200


# --- badges -----------------------------------------------------------------------------------------


def test_badge_is_an_svg_naming_the_pool_and_its_status(status_data, anon_client):
    response = anon_client.get("/status/badge/price.svg")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml; charset=utf-8"
    root = ET.fromstring(response.content)
    assert root.tag == SVG + "svg"
    assert [t.text for t in root.iter(SVG + "text")] == ["price", "degraded"]
    assert [r.get("fill") for r in root.iter(SVG + "rect")] == ["#555", "#c98a00"]

    down = ET.fromstring(anon_client.get("/status/badge/markets.svg").content)
    assert [t.text for t in down.iter(SVG + "text")] == ["markets", "down"]


@pytest.mark.parametrize("name", [
    "nope", "<script>alert(1)</script>", "a\"onload=\"x", "../../etc/passwd", "price/extra", "%3Csvg%3E", "x" * 300,
])
def test_badge_for_anything_but_an_enabled_pool_is_a_json_404(status_data, anon_client, name):
    response = anon_client.get(f"/status/badge/{name}.svg")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "no such pool on the status page", "field": "pool"}


def test_badge_of_a_disabled_pool_is_a_404(status_data, anon_client):
    Pool.objects.filter(slug="price").update(enabled=False)
    from providers.runtime import sync_redis  # the page cache would still know the pool
    sync_redis().flushdb()
    assert anon_client.get("/status/badge/price.svg").status_code == 404


def test_badge_escapes_the_pool_name(status_data, anon_client, redis_client):
    # Slugs are validated on save; this one is written past validation to prove the SVG escapes.
    Pool.objects.create(slug='x<y>&"z', name="Odd", capability="gas")
    response = anon_client.get('/status/badge/x<y>&"z.svg')
    assert response.status_code == 200
    body = response.content.decode()
    assert "<y>" not in body and "x&lt;y&gt;&amp;&quot;z" in body
    assert [t.text for t in ET.fromstring(response.content).iter(SVG + "text")][0] == 'x<y>&"z'


# --- HTML -------------------------------------------------------------------------------------------


def test_html_page_shows_banner_components_incidents_maintenance_and_rules(status_data, anon_client):
    response = anon_client.get("/status")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert "Partial outage" in html
    assert 'id="pool-price"' in html and 'id="pool-markets"' in html and 'id="category-market_data"' in html
    assert html.count('class="day ') == 3 * 90 + 5  # three components' bars and the legend's five swatches
    assert "markets: no healthy provider" in html and "gamma: HTTP 503" in html
    assert "Alpha API migration &lt;v2&gt;" in html
    assert "share of that day&#x27;s health checks" in html  # the uptime rule, printed
    assert "half or more of the components down = major outage" in html
    assert "<polyline" in html  # the response-time chart
    assert anon_client.get("/status/").status_code == 200


def test_html_page_has_no_script_and_no_inline_style(status_data, anon_client):
    response = anon_client.get("/status")
    html = response.content.decode()
    assert "<script" not in html
    assert not re.search(r"\sstyle=", html) and "<style" not in html
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "'unsafe-inline'" not in csp


def test_only_reads_are_answered(status_data, anon_client):
    assert anon_client.post("/status").status_code == 405
    assert anon_client.post("/status/badge/price.svg").status_code == 405
    assert anon_client.post("/api/status/page", {}).status_code == 403


# --- drawing (unit) ---------------------------------------------------------------------------------


def test_response_chart_breaks_its_line_where_an_hour_has_no_data():
    hours = [f"2026-11-21T{h:02d}:00:00Z" for h in range(5)]
    chart = render.response_chart([{"hour": h, "p50_ms": v} for h, v in zip(hours, [100, 200, None, 400, 380])])
    assert chart["top_label"] == "500 ms" and len(chart["dots"]) == 4
    assert len(chart["lines"]) == 2 and all(len(line.split()) == 2 for line in chart["lines"])
    assert chart["dots"][0]["title"] == "2026-11-21 00:00 UTC: 100 ms (median p50)"
    assert render.response_chart([{"hour": hours[0], "p50_ms": None}])["has_data"] is False


def test_uptime_bars_title_each_day_and_say_no_data():
    bars = render.uptime_bars([{"date": "2026-11-20", "uptime_pct": 99.5, "checks": 200, "band": "minor"},
                               {"date": "2026-11-21", "uptime_pct": None, "checks": 0, "band": "nodata"}])
    assert [b["title"] for b in bars["bars"]] == ["2026-11-20: 99.50 % up (200 checks)", "2026-11-21: no data"]
    assert [b["x"] for b in bars["bars"]] == [0, render.BAR_W + render.BAR_GAP]


# --- in Chromium, against a real server -------------------------------------------------------------


@pytest.fixture
def status_site(transactional_db, status_data):
    server = start_server()
    yield server
    server.stop()


@pytest.fixture
def browser():
    with chromium() as launched:
        yield launched


def _open(browser, url: str, **context_options):
    """A page in a fresh context (light, dark, no JavaScript, phone), watched and opened at `url`."""
    page = watch(browser.new_context(**context_options).new_page())
    goto(page, url)
    return page


def test_status_page_renders_in_chromium_light_and_dark(status_site, browser):
    page = _open(browser, status_site.url + "/status")
    assert page.inner_text("#banner h2") == "Partial outage"
    assert page.locator("article.component").count() == 3
    assert page.locator("#pool-markets .status").inner_text() == "down"
    bars = page.locator("#pool-price svg.bars rect.day")
    assert bars.count() == 90
    today = bars.nth(89).locator("title").text_content()
    assert re.fullmatch(r"\d{4}-\d\d-\d\d: \d+\.\d\d % up \(\d+ checks\)", today)
    assert bars.nth(0).locator("title").text_content().endswith(": no data")
    page.click("#pool-price details summary")
    assert page.locator("#pool-price svg.chart polyline").is_visible()
    assert "gamma: HTTP 503" in page.inner_text("#open-incidents")
    assert "half or more of the components down" in page.inner_text("#rules")
    light_bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert shot(page, "status").stat().st_size > 0
    assert_clean(page)

    dark = _open(browser, status_site.url + "/status", color_scheme="dark")
    dark_bg = dark.evaluate("getComputedStyle(document.body).backgroundColor")
    assert (light_bg, dark_bg) == ("rgb(246, 247, 249)", "rgb(17, 21, 28)")
    assert shot(dark, "status-dark").stat().st_size > 0
    assert_clean(dark)


def test_status_page_works_without_javascript_and_on_a_phone(status_site, browser):
    no_js = _open(browser, status_site.url + "/status", java_script_enabled=False)
    assert no_js.inner_text("#banner h2") == "Partial outage"
    assert no_js.locator("svg.bars rect.day").count() == 3 * 90
    assert_clean(no_js)

    phone = _open(browser, status_site.url + "/status", viewport=PHONE, is_mobile=True,
                  device_scale_factor=2)
    assert phone.locator("#pool-price svg.bars").bounding_box()["width"] <= PHONE["width"]
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # nothing scrolls sideways
    assert shot(phone, "status-phone").stat().st_size > 0
    assert_clean(phone)


def test_badge_and_json_over_a_real_server(status_site):
    with httpx.Client(base_url=status_site.url, trust_env=False, timeout=10) as client:
        badge = client.get("/status/badge/markets.svg")
        assert badge.status_code == 200 and badge.headers["content-type"] == "image/svg+xml; charset=utf-8"
        assert [t.text for t in ET.fromstring(badge.content).iter(SVG + "text")] == ["markets", "down"]
        missing = client.get("/status/badge/%3Cb%3E.svg")
        assert missing.status_code == 404 and missing.json()["field"] == "pool"
        assert client.get("/api/status/page").json()["banner"]["status"] == "partial_outage"
