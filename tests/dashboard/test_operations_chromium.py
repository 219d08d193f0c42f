"""Monitor, provider page, Pools and Alerts in a real headless Chromium against a real server whose
providers are the fake upstream: real data on each tab (light, dark, a phone), the strict CSP,
nothing leaving the host, every tab working without JavaScript, staff controls only for staff
(logged in through the admin login page), rotate and send-test through CSRF-protected forms, and
every tab changing live, without a reload, when the fake upstream breaks a provider.

Playwright's sync API runs an event loop in the test's thread, where the ORM refuses to run: the
database is read before or after a `with chromium()` block, or from a thread of its own."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection

from healing.models.monitoring import AlertDelivery, AlertRule, HealthCheck, MaintenanceWindow, NotificationChannel
from healing.monitoring.maintenance import maintenance_sync
from healing.monitoring.sweep import health_sweep
from pools.models import RotationEvent
from providers.models import Provider
from tests.dashboard.browser import PHONE, assert_clean, chromium, goto, shot, watch
from tests.dashboard.frame_site import OPERATOR, OPERATOR_PASSWORD, log_in, record_frames, wait_for_frame
from tests.dashboard.test_operations_pages import _Receiver, receiver  # noqa: F401 - the fixture
from tests.fixtures.dataplane import POOLS
from tests.live_server import start_server

pytestmark = pytest.mark.django_db(transaction=True)

TABS = ("/monitor", "/monitor/coingecko", "/pools", "/pools/price", "/alerts")
HOOK_ENV = "OPS_TEST_WEBHOOK_URL"
# A generous bound for a page or the feed to show a change (polled, never slept through).
DEADLINE_S = 20
DARK_BACKGROUND, LIGHT_BACKGROUND = "rgb(15, 20, 27)", "rgb(246, 247, 249)"
GECKO = "#monitor-table tr[data-provider=coingecko]"
# Longer than operations.js's debounce before a re-read (REFETCH_DELAY_MS, 300 ms).
REFETCH_WAIT_MS = 1000


@pytest.fixture
def ops_site(catalogue, fake_upstream, receiver):  # noqa: F811 - the receiver fixture
    password = PBKDF2PasswordHasher().encode(OPERATOR_PASSWORD, PBKDF2PasswordHasher().salt())
    get_user_model().objects.create(username=OPERATOR, password=password, is_staff=True, is_superuser=True)
    gecko = catalogue["coingecko"]
    gecko.rate_limits = "100/minute"  # a budget for the Monitor's "budget left" column
    gecko.save()
    now = datetime.now(UTC)
    # Four sweeps of coingecko in the last hour, one failed: a chart, a failure, 75 % uptime.
    for minutes, ok in ((40, True), (30, False), (20, True), (10, True)):
        HealthCheck.objects.create(provider=gecko, checked_at=now - timedelta(minutes=minutes), ok=ok,
                                   latency_ms=40.0 + minutes, error_class="" if ok else "timeout",
                                   message="" if ok else "no answer in 5 s")
    NotificationChannel.objects.create(name="local hook", kind="webhook", secret_env=HOOK_ENV)
    # coinlore (last in the price pool) is in maintenance: skipped, and listed on Alerts.
    MaintenanceWindow.objects.create(provider=catalogue["coinlore"], starts_at=now - timedelta(minutes=5),
                                     ends_at=now + timedelta(hours=1), reason="upstream migration", created_by="ops")
    maintenance_sync()
    AlertRule.objects.create(name="gecko breaker", kind="breaker_open", severity="critical", provider=gecko)
    server = start_server(env={HOOK_ENV: os.environ[HOOK_ENV]})
    server.fake = fake_upstream
    server.hook = receiver
    server.provider_count = Provider.objects.count()
    yield server
    server.stop()


def _raw_calls(url: str, provider: str, n: int) -> None:
    """`n` raw calls through the data plane (latency samples, budget tokens)."""
    with httpx.Client(base_url=url, timeout=10, trust_env=False) as client:
        for _ in range(n):
            assert client.post("/api/crypto-hub/proxy", json={"provider": provider, "path": "/ping"}).status_code == 200


def _monitor_shows_every_figure(page, url: str, provider_count: int) -> None:
    goto(page, url + "/monitor")
    assert page.locator("nav a.active").inner_text() == "Monitor"
    assert page.locator("#monitor-table tbody tr").count() == provider_count
    row = page.locator(GECKO)
    assert row.locator(".status-badge").inner_text() == "up"
    assert row.locator(".breaker-badge").inner_text() == "closed"
    assert row.locator(".spark-holder svg.spark polyline").count() == 1  # the three calls' latencies
    assert row.locator("td.num").nth(0).inner_text() != "—"  # p50
    assert "of 100/minute" in row.inner_text() and row.locator("meter").count() == 1
    assert "75.00%" in row.inner_text()
    assert page.locator("#monitor-table tr[data-provider=coinpaprika] .last-check").inner_text() == "never"
    page.wait_for_selector("#monitor-live[data-state=live]")  # the snapshots kept what was rendered
    assert row.locator(".status-badge").inner_text() == "up"
    assert page.evaluate("""async () => {
        const { derivedStatus: s } = await import("/static/dashboard/operations.js");
        return [s("up", "open"), s("up", "half_open"), s("up", "closed"), s("down", "open"), s("unknown", "closed")];
    }""") == ["degraded", "degraded", "up", "down", "unknown"]

    for query, expected in (("category=defi", {"defillama", "yearn_ydaemon"}),
                            ("pool=tvl&state=closed", {"defillama", "yearn_ydaemon"}),
                            ("state=down", set())):
        goto(page, f"{url}/monitor?{query}")
        rows = page.locator("#monitor-table tbody tr[data-provider]").all()
        assert {r.get_attribute("data-provider") for r in rows} == expected, query
    assert goto(page, url + "/monitor?state=sideways").status == 400
    assert page.get_attribute("#filter-error", "data-field") == "state"
    assert page.console_errors == ["Failed to load resource: the server responded with a status of 400 (Bad Request)"]
    page.console_errors.clear()  # that one was asked for


def _pool_provider_and_alerts_show_their_data(page, url: str) -> None:
    goto(page, url + "/pools/price")
    first = page.locator("#pool-price .pool-order tbody tr").first
    assert first.get_attribute("data-provider") == "coingecko" and "next" in first.inner_text()
    assert page.locator("#pool-price .pool-order tbody tr").count() == len(POOLS["price"])  # every member
    drained = page.locator("#pool-price .pool-order tr[data-provider=coinlore]")
    assert drained.get_attribute("data-skip") == "maintenance" and "skipped: maintenance" in drained.inner_text()

    goto(page, url + "/monitor/coingecko")
    page.wait_for_selector("#health-chart canvas")  # uPlot, through charts.js
    page.wait_for_selector("#updown-chart canvas")
    assert "price" in page.inner_text("#provider-pools")
    failures = page.locator("#provider-failures tbody tr")
    assert failures.count() == 1 and "timeout" in failures.inner_text()
    assert "24 h 75.00%" in page.inner_text("#provider-now")

    goto(page, url + "/alerts")
    assert "gecko breaker" in page.inner_text("#rules") and "local hook" in page.inner_text("#channels")
    window = page.locator("#maintenance tbody tr").first.inner_text()
    assert "provider coinlore" in window and "active" in window and "upstream migration" in window


def test_each_tab_renders_real_data_cleanly_in_light_and_dark(ops_site):
    _raw_calls(ops_site.url, "coingecko", 3)
    with chromium() as browser:
        for scheme, background in (("light", LIGHT_BACKGROUND), ("dark", DARK_BACKGROUND)):
            page = watch(browser.new_context(color_scheme=scheme).new_page())
            for path in TABS:
                goto(page, ops_site.url + path)
                assert page.evaluate("getComputedStyle(document.body).backgroundColor") == background, path
                name = "operations" + path.replace("/", "-")
                shot(page, name if scheme == "light" else name + "-dark")
            assert_clean(page)
        page = watch(browser.new_context().new_page())
        _monitor_shows_every_figure(page, ops_site.url, ops_site.provider_count)
        _pool_provider_and_alerts_show_their_data(page, ops_site.url)
        assert_clean(page)


def test_a_later_snapshot_makes_pools_and_alerts_reread_the_page(ops_site):
    """After a reconnect or a `resync` the feed sends each channel's snapshot again: events may have
    been missed, so the page re-reads itself (a first snapshot, right after the render, does not)."""
    with chromium() as browser:
        for path, channel in (("/pools/price", "pools"), ("/alerts", "alerts")):
            page = watch(browser.new_context().new_page())
            frames = record_frames(page)
            goto(page, ops_site.url + path)
            wait_for_frame(page, frames, lambda f: f.get("type") == "snapshot" and f.get("channel") == channel)
            page.wait_for_timeout(REFETCH_WAIT_MS)  # a wrongly scheduled re-read would have happened by now
            assert page.get_attribute("body", "data-refreshed") is None, path
            page.evaluate("""async (channel) => {
                const { feed } = await import("/static/dashboard/feed.js");
                feed.received(JSON.stringify({ type: "snapshot", channel, data: null, at: "" }));
            }""", channel)
            page.wait_for_selector("body[data-refreshed='1']")
            assert_clean(page)


def test_every_tab_is_usable_on_a_phone(ops_site):
    with chromium() as browser:
        phone = watch(browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page())
        for path in TABS:
            goto(phone, ops_site.url + path)
            # The page never scrolls sideways: wide tables scroll inside their cards.
            assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], path
            shot(phone, "operations" + path.replace("/", "-") + "-phone")
        goto(phone, ops_site.url + "/monitor")
        assert phone.evaluate("document.querySelector('#monitor-block .scroll').scrollWidth") > PHONE["width"] - 40
        # Scrolled to the breaker column, the provider's name is still in view (a sticky column).
        phone.locator(f"{GECKO} .breaker-badge").scroll_into_view_if_needed()
        name, badge = (phone.locator(f"{GECKO} {cell}").bounding_box() for cell in ("td >> nth=0", ".breaker-badge"))
        assert 0 <= name["x"] < 40 and badge["x"] + badge["width"] <= PHONE["width"]
        assert phone.evaluate("document.querySelector('#monitor-block .scroll').scrollLeft") > 0
        phone.select_option("#monitor-filters select[name=category]", "defi")
        with phone.expect_navigation():
            phone.click("#monitor-filters button")
        assert phone.url.endswith("/monitor?category=defi&pool=&state=")
        assert phone.locator("#monitor-table tbody tr[data-provider]").count() == 2
        assert_clean(phone)


@pytest.mark.parametrize("path", TABS)
def test_each_tab_works_without_javascript(ops_site, path):
    with chromium() as browser:
        page = watch(browser.new_context(java_script_enabled=False).new_page())
        assert goto(page, ops_site.url + path).status == 200
        refresh = page.locator("noscript meta[http-equiv=refresh]")
        assert refresh.count() == 1 and refresh.get_attribute("content") == "30"
        assert page.locator("main h1").count() == 1
        # The content is rendered by the server, not filled in by a script.
        if path.startswith("/monitor"):
            assert page.locator("[data-provider=coingecko] .breaker-badge").first.inner_text() == "closed"
        if path.startswith("/pools"):
            assert page.locator("#pool-price .pool-order tr.next").get_attribute("data-provider") == "coingecko"
        if path == "/alerts":
            assert page.locator("#rules tbody tr").count() == 1
        assert_clean(page)


def test_staff_controls_are_hidden_from_anonymous_users(ops_site):
    with chromium() as browser:
        page = watch(browser.new_context().new_page())
        goto(page, ops_site.url + "/pools")
        assert page.locator("#pool-price").count() == 1 and page.locator(".rotate-form").count() == 0
        goto(page, ops_site.url + "/alerts")
        assert page.locator("#channels tbody tr").count() == 1 and page.locator("form.send-test").count() == 0
        assert page.get_attribute("body", "data-staff") == "false"
        # The action itself refuses too (Django's CSRF check answers first for a tokenless POST).
        refused = page.request.post(ops_site.url + "/pools/price/rotate", form={"reason": "x"})
        assert refused.status == 403
        assert_clean(page)
    assert not RotationEvent.objects.exists()


def test_staff_rotates_a_pool_and_sends_a_test_and_others_see_it_live(ops_site):
    with chromium() as browser:
        watcher = watch(browser.new_context().new_page())  # anonymous, on the same pool
        goto(watcher, ops_site.url + "/pools/price")
        watcher.wait_for_selector("#pools-live[data-state=live]", timeout=DEADLINE_S * 1000)
        watcher.evaluate("window.__sameDocument = true")

        page = watch(browser.new_context().new_page())
        log_in(page, ops_site.url)
        page.console_errors.clear()  # the admin's own pages (their favicon) are not under test here
        goto(page, ops_site.url + "/pools/price")
        assert page.get_attribute("body", "data-staff") == "true"
        page.fill("#pool-price .rotate-form input[name=reason]", "browser drill")
        page.click("#pool-price .rotate-form button")
        page.wait_for_selector("#rotate-notice")
        history = page.locator("#pool-price .rotation-history tbody tr").first
        assert "browser drill" in history.inner_text() and history.locator(".actor").inner_text() == OPERATOR
        assert page.locator("#pool-price .pool-order tr.next").get_attribute("data-provider") == "coinpaprika"

        # The anonymous page got the `pools` event and re-read its card: new head, the history, no reload.
        watcher.wait_for_selector("#pool-price .pool-order tr.next[data-provider=coinpaprika]",
                                  timeout=DEADLINE_S * 1000)
        assert "browser drill" in watcher.inner_text("#pool-price .rotation-history")
        assert watcher.evaluate("window.__sameDocument") is True
        assert watcher.locator(".rotate-form").count() == 0  # the swapped-in card is still the anonymous one

        goto(page, ops_site.url + "/alerts")
        page.click("form.send-test button")
        page.wait_for_selector("#test-notice")
        assert "test delivered" in page.inner_text("#channels")
        shot(page, "operations-alerts-staff")
        assert_clean(page)
        assert_clean(watcher)
    assert ops_site.hook and ops_site.hook[0]["event"] == "test"
    assert RotationEvent.objects.get().actor == OPERATOR
    assert AlertDelivery.objects.get().ok


def _breaker_opened(ops_site) -> None:
    """Drive raw calls through the data plane until coingecko's breaker opens (bounded)."""
    deadline = time.monotonic() + DEADLINE_S
    with httpx.Client(base_url=ops_site.url, timeout=10, trust_env=False) as client:
        while time.monotonic() < deadline:
            client.post("/api/crypto-hub/proxy", json={"provider": "coingecko", "path": "/ping"})
            rows = client.get("/api/crypto-hub/health-status", params={"provider": "coingecko"}).json()["providers"]
            if rows[0]["breaker"]["state"] == "open":
                return
    raise AssertionError("coingecko's breaker did not open")


def _sweep_in_a_thread(slugs: list[str]) -> None:
    """The worker's health sweep (probes, then alert evaluation; both publish on commit), run off
    the Playwright loop's thread."""
    failures: list[BaseException] = []

    def run() -> None:
        try:
            health_sweep(notify=lambda *args: None, slugs=slugs)
        except BaseException as exc:  # noqa: BLE001 - handed to the test's thread
            failures.append(exc)
        finally:
            connection.close()  # this thread's own connection, not left open past the test

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(timeout=DEADLINE_S)
    assert not worker.is_alive() and not failures, failures


def test_every_tab_updates_live_when_the_fake_upstream_breaks_a_provider(ops_site):
    wait_ms = DEADLINE_S * 1000
    with chromium() as browser:
        context = browser.new_context()
        pages = {path: watch(context.new_page()) for path in
                 ("/monitor", "/monitor?state=closed", "/monitor/coingecko", "/pools/price", "/alerts")}
        for path, page in pages.items():
            goto(page, ops_site.url + path)
            page.wait_for_selector("#feed-status[data-state=live]", timeout=wait_ms)
            page.evaluate("window.__sameDocument = true")
        monitor, filtered = pages["/monitor"], pages["/monitor?state=closed"]
        provider, pools, alerts = pages["/monitor/coingecko"], pages["/pools/price"], pages["/alerts"]
        assert monitor.inner_text(f"{GECKO} .breaker-badge") == "closed"
        assert "up 1 " in monitor.inner_text("#monitor-counts")
        assert alerts.locator("#alerts-open tbody tr[data-alert]").count() == 0

        ops_site.fake.fault("coingecko", "status", status=503)
        _breaker_opened(ops_site)

        # Monitor: the `breakers` event; a passing provider with an open breaker is degraded.
        monitor.wait_for_selector(f"{GECKO} .breaker-badge[data-breaker=open]", timeout=wait_ms)
        assert monitor.inner_text(f"{GECKO} .status-badge") == "degraded"
        assert monitor.locator(f"{GECKO} .reopens").count() == 1
        assert "degraded 1 " in monitor.inner_text("#monitor-counts")
        # Filtered on "closed": the row stays, marked as no longer matching.
        filtered.wait_for_selector(f"{GECKO}[data-filtered=out]", timeout=wait_ms)
        # The provider's page.
        provider.wait_for_selector("#provider-now .breaker-badge[data-breaker=open]", timeout=wait_ms)
        assert provider.inner_text("#provider-now .status-badge") == "degraded"
        # Pools: the head moved (breaker and pools events), the page re-read its card.
        pools.wait_for_selector("#pool-price .pool-order tr[data-provider=coingecko][data-skip=breaker]",
                                timeout=wait_ms)
        assert pools.locator("#pool-price .pool-order tr.next").get_attribute("data-provider") == "coinpaprika"
        # A sweep finds coingecko down (a `health` event), then its alert evaluation opens the
        # breaker alert (an `alerts` event).
        _sweep_in_a_thread(["coingecko"])
        monitor.wait_for_selector(f"{GECKO}[data-status=down]", timeout=wait_ms)
        assert monitor.inner_text(f"{GECKO} .status-badge") == "down"
        assert monitor.inner_text(f"{GECKO} .last-check").endswith(" server_error")  # the check's error class
        provider.wait_for_selector("#provider-now[data-status=down]", timeout=wait_ms)
        alerts.wait_for_selector("#alerts-open tbody tr[data-alert]", timeout=wait_ms)
        assert "breaker for coingecko is open" in alerts.inner_text("#alerts-open")

        for name, page in (("monitor", monitor), ("provider", provider), ("pools", pools), ("alerts", alerts)):
            assert page.evaluate("window.__sameDocument") is True, name  # nothing navigated
            shot(page, f"operations-{name}-live")
        for page in pages.values():
            assert_clean(page)
