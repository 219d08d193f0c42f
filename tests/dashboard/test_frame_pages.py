"""The frame and its Market, Sentiment and Tools tabs in a real headless Chromium against a real
server whose providers are the fake upstream: the numbers on the page are the fake's, every block
names its source and age, nothing leaves the host, the CSP holds, each page also works without
JavaScript, in dark mode and on a phone; with public reads off the tabs need a login and the
forms keep the data plane's inbound limits. (The live parts: test_frame_feed.py.)"""

from __future__ import annotations

import json
import re
from datetime import datetime

import httpx
import pytest

from tests.dashboard.browser import PHONE, assert_clean, chromium, goto, shot, watch
from tests.dashboard.frame_site import (  # noqa: F401 - the fixtures
    fake_json,
    frame_servers_fixture,
    frame_site_fixture,
    log_in,
)
from tests.fixtures.dataplane import CATEGORY, POOLS, pools_over_fake
from tests.live_server import REPO_ROOT

pytestmark = pytest.mark.django_db(transaction=True)

UPLOT = REPO_ROOT / "dashboard/static/dashboard/vendor/uplot"

# The frame's tabs (their labels and URLs), in the order the nav shows them.
TABS = {"Market": "/", "Monitor": "/monitor", "Pools": "/pools", "Alerts": "/alerts", "Sentiment": "/sentiment",
        "Tools": "/tools", "Status": "/status"}
# What a block's provenance line says about its age (dashboard.templatetags.frame.age).
AGE = r"(just now|\d+ s ago|\d+ min ago|\d+ h ago|\d+ d ago)"


@pytest.fixture
def catalogue(transactional_db, fake_upstream):
    """The engine's pools over the fake plus the candles pool, which the Market tab charts."""
    pools = {**POOLS, "candles": ["binance", "okx", "kraken"]}
    return pools_over_fake(fake_upstream, pools, category=lambda slug: CATEGORY.get(slug, "market_data"))


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 * max(abs(a), abs(b), 1)


def _market_expectations(fake):
    totals = fake_json(fake, "coingecko", "/global")["data"]
    fear = fake_json(fake, "alternative_me", "/fng/", limit="1")["data"][0]
    markets = fake_json(fake, "coingecko", "/coins/markets", vs_currency="usd", per_page="10", page="1")
    return totals, fear, markets


def test_market_shows_the_fake_upstream_numbers_with_provenance(frame_site):
    totals, fear, markets = _market_expectations(frame_site.fake)
    with chromium() as browser:
        page = watch(browser.new_context().new_page())
        goto(page, frame_site.url + "/")
        assert page.locator("nav a.active").inner_text() == "Market"
        cap = float(page.get_attribute("#global-cap", "data-value"))
        assert _close(cap, totals["total_market_cap"]["usd"])
        assert "BTC" in page.inner_text("#dominance-block")
        assert f"{totals['market_cap_percentage']['btc']:.2f}%" in page.inner_text("#dominance-block")
        # The gauge is drawn by charts.js (SVG), the history by uPlot (canvas).
        page.wait_for_selector("#fear-greed-gauge svg.gauge")
        assert page.text_content("#fear-greed-gauge .gauge-number") == fear["value"]
        page.wait_for_selector("#fear-greed-chart canvas")
        loaded = page.evaluate("performance.getEntriesByType('resource').map(entry => entry.name)")
        assert frame_site.url + "/static/dashboard/vendor/uplot/uPlot.esm.js" in loaded
        assert "MIT License" in (UPLOT / "LICENSE").read_text()
        bitcoin = next(row for row in markets if row["id"] == "bitcoin")
        price = float(page.get_attribute("#markets-table tr[data-coin=bitcoin] .price", "data-price"))
        assert _close(price, bitcoin["current_price"])
        assert page.locator("#markets-table tbody tr").count() == 10
        for block in ("global", "dominance", "fear-greed", "markets", "trending", "tvl"):
            line = page.inner_text(f"#{block}-block .provenance")
            assert re.search(r"source: \w+ · \w+ · " + AGE, line), (block, line)
        trending = fake_json(frame_site.fake, "coingecko", "/search/trending")["coins"]
        listed = page.locator("#trending-block li").all_inner_texts()
        assert len(listed) == 7
        for text, coin in zip(listed, trending, strict=False):
            assert text.startswith(f"{coin['item']['name']} {coin['item']['symbol'].upper()}"), (text, coin["item"])
        chains = sorted(fake_json(frame_site.fake, "defillama", "/v2/chains"), key=lambda c: c["tvl"], reverse=True)
        first = page.locator("#tvl-block tbody tr").first
        assert first.locator("td").first.inner_text() == chains[0]["name"]
        assert _close(float(first.locator("td.num").get_attribute("data-value")), chains[0]["tvl"])
        # The price chart: Binance's hourly candles (the candles pool's head), drawn by uPlot.
        page.wait_for_selector("#candles-chart canvas")
        assert page.get_attribute("#candles-block .provenance", "data-source") == "binance"
        charted = json.loads(page.text_content("#candles-data"))
        assert len(charted["labels"]) == 48 and [s["label"] for s in charted["series"]] == ["close", "high", "low"]
        klines = fake_json(frame_site.fake, "binance", "/api/v3/klines", symbol="BTCUSDT", interval="1h", limit="48")
        closes = {k[0] // 1000: float(k[4]) for k in klines}
        first = int(datetime.fromisoformat(charted["labels"][0].replace("Z", "+00:00")).timestamp())
        assert _close(charted["series"][0]["values"][0], closes[first])  # a closed candle: the fake's own
        assert page.get_attribute("#fear-greed-block .provenance", "data-source") == "alternative_me"
        assert page.get_attribute("#tvl-block .provenance", "data-source") == "defillama"
        assert shot(page, "market").stat().st_size > 0
        assert_clean(page)


def test_market_in_dark_mode_and_on_a_phone(frame_site):
    with chromium() as browser:
        dark = watch(browser.new_context(color_scheme="dark").new_page())
        goto(dark, frame_site.url + "/")
        dark.wait_for_selector("#fear-greed-gauge svg.gauge")
        background = dark.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(15, 20, 27)"
        assert shot(dark, "market-dark").stat().st_size > 0
        # The toggle overrides the system preference and is remembered.
        dark.click("#theme-toggle")
        assert dark.get_attribute("html", "data-theme") == "light"
        dark.reload()
        assert dark.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(246, 247, 249)"
        assert_clean(dark)

        phone = watch(browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page())
        goto(phone, frame_site.url + "/")
        phone.wait_for_selector("#markets-table")
        # The page itself never scrolls sideways; the wide table scrolls inside its card.
        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert phone.evaluate("document.querySelector('#markets-block .scroll').scrollWidth") > PHONE["width"] - 40
        assert shot(phone, "market-phone").stat().st_size > 0
        assert_clean(phone)


@pytest.mark.parametrize("path", ["/sentiment", "/tools"])
def test_sentiment_and_tools_in_dark_mode_and_on_a_phone(frame_site, path):
    name = path.strip("/")
    with chromium() as browser:
        dark = watch(browser.new_context(color_scheme="dark").new_page())
        goto(dark, frame_site.url + path)
        assert dark.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(15, 20, 27)"
        assert dark.evaluate("getComputedStyle(document.querySelector('.card')).backgroundColor") == "rgb(24, 32, 43)"
        assert shot(dark, f"{name}-dark").stat().st_size > 0
        assert_clean(dark)

        phone = watch(browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page())
        goto(phone, frame_site.url + path)
        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        # Every tab stays reachable: the nav scrolls sideways inside itself, not the page.
        last = phone.locator("nav.tabs a").last
        last.scroll_into_view_if_needed()
        box = last.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert shot(phone, f"{name}-phone").stat().st_size > 0
        assert_clean(phone)


def test_every_tab_is_a_url_of_the_frames_nav(frame_site):
    with chromium() as browser:
        page = watch(browser.new_context().new_page())
        goto(page, frame_site.url + "/")
        links = page.eval_on_selector_all("nav.tabs a", "all => all.map(a => [a.textContent, a.getAttribute('href')])")
        assert dict(links) == TABS and [label for label, _ in links] == list(TABS)
        for label, path in TABS.items():
            assert goto(page, frame_site.url + path).status == 200, path
            if path != "/status":  # the public status page stands alone, without the frame
                assert page.locator("nav.tabs a.active").inner_text() == label
                assert page.get_attribute("nav.tabs a.active", "aria-current") == "page"
        assert_clean(page)


@pytest.mark.parametrize("path", ["/", "/sentiment", "/tools"])
def test_each_tab_works_without_javascript_and_refreshes(frame_site, path):
    with chromium() as browser:
        page = watch(browser.new_context(java_script_enabled=False).new_page())
        goto(page, frame_site.url + path)
        refresh = page.locator("noscript meta[http-equiv=refresh]")
        assert refresh.count() == 1 and refresh.get_attribute("content") == "30"
        assert page.get_attribute("#feed-status", "data-state") == "connecting"
        text = page.inner_text("main")
        expected = {"/": "source: coingecko", "/sentiment": "source: coindesk", "/tools": "Proxy console"}
        assert expected[path] in text
        assert page.get_attribute("body", "data-staff") == "false"
        assert_clean(page)


def test_sentiment_headlines_are_scored_and_the_box_scores_with_and_without_js(frame_site):
    with chromium() as browser:
        page = watch(browser.new_context().new_page())
        goto(page, frame_site.url + "/sentiment")
        headlines = page.inner_text("#headlines-block")
        assert "bitcoin" in headlines and "Scored by vader" in headlines
        assert page.get_attribute("#headlines-block .provenance", "data-source") == "coindesk"
        page.fill("#score-text", "Bitcoin rallies to a great record high, traders delighted")
        with page.expect_response(lambda r: r.url.endswith("/api/data/sentiment")) as answer:
            page.click("#score-form button[type=submit]")
        assert answer.value.status == 200
        assert page.inner_text("#score-label") == "positive"
        assert float(page.inner_text("#score-value")) > 0.3
        # htmx re-reads the headlines (every 5 minutes; triggered here) and leaves the score alone.
        page.evaluate("document.getElementById('headlines-block').dataset.before = 'refresh'")
        with page.expect_response(lambda r: r.request.headers.get("hx-request") == "true") as refreshed:
            page.evaluate("htmx.trigger('#headlines-block', 'refresh')")
        assert refreshed.value.status == 200 and refreshed.value.url.endswith("/sentiment")
        page.wait_for_function("() => !document.getElementById('headlines-block').dataset.before")
        assert "Scored by vader" in page.inner_text("#headlines-block")
        assert page.inner_text("#score-label") == "positive"
        assert shot(page, "sentiment").stat().st_size > 0
        assert_clean(page)

        plain = watch(browser.new_context(java_script_enabled=False).new_page())
        goto(plain, frame_site.url + "/sentiment")
        plain.fill("#score-text", "Exchange hacked, users lose everything in a terrible crash")
        plain.click("#score-form button[type=submit]")
        plain.wait_for_selector("#score-label")
        assert plain.url.endswith("/sentiment")
        assert plain.inner_text("#score-label") == "negative"
        assert float(plain.inner_text("#score-value")) < -0.3
        assert_clean(plain)


def test_sentiment_box_without_js_refuses_an_empty_text_with_the_field(frame_site):
    with httpx.Client(trust_env=False, timeout=20, base_url=frame_site.url) as client:
        form = client.get("/sentiment")
        token = client.cookies["csrftoken"]
        answer = client.post("/sentiment", data={"text": "  ", "csrfmiddlewaretoken": token},
                             headers={"referer": frame_site.url + "/sentiment"})
    assert form.status_code == 200
    assert answer.status_code == 400
    assert 'id="score-error"' in answer.text and "text:" in answer.text


def test_proxy_console_answers_for_a_registered_provider_and_refuses_others(frame_site):
    with chromium() as browser:
        page = watch(browser.new_context().new_page())
        goto(page, frame_site.url + "/tools")
        page.select_option("#proxy-provider", "alternative_me")
        page.fill("#proxy-path", "/fng/")
        page.fill("#proxy-query", "limit=1")
        # htmx (served from this host by django-htmx) sends the form and swaps in the answer.
        assert page.get_attribute("script[src*=htmx]", "src").startswith("/static/django_htmx/")
        with page.expect_request(lambda r: r.method == "POST" and r.headers.get("hx-request") == "true"):
            page.click("#proxy-form button[type=submit]")
        page.wait_for_selector("#proxy-status")
        assert page.inner_text("#proxy-status") == "200"
        assert "application/json" in page.inner_text("#proxy-headers")
        assert "x-cryptohub-source" in page.inner_text("#proxy-headers")
        assert "Fear and Greed Index" in page.inner_text("#proxy-body")
        assert page.url.endswith("/tools")  # htmx swapped the answer in: no navigation
        assert shot(page, "tools").stat().st_size > 0

        # A provider that is not in the catalogue, as a tampered form would send it.
        page.evaluate("""() => { const o = document.createElement('option');
            o.value = o.textContent = 'evil-host'; document.querySelector('#proxy-provider').append(o); }""")
        page.select_option("#proxy-provider", "evil-host")
        page.fill("#proxy-path", "/anything")
        page.click("#proxy-form button[type=submit]")
        page.wait_for_selector("#proxy-error")
        assert "is not a registered provider" in page.inner_text("#proxy-error")
        assert int(page.inner_text("#proxy-status")) in (400, 403, 404)
        assert page.locator("#proxy-body").count() == 1  # the proxy's own answer, as it words it
        assert_clean(page)


def test_proxy_console_works_without_javascript(frame_site):
    with chromium() as browser:
        page = watch(browser.new_context(java_script_enabled=False).new_page())
        goto(page, frame_site.url + "/tools")
        page.select_option("#proxy-provider", "coingecko")
        page.fill("#proxy-path", "/global")
        page.click("#proxy-form button[type=submit]")
        page.wait_for_selector("#proxy-status")
        assert page.inner_text("#proxy-status") == "200"
        assert "total_market_cap" in page.inner_text("#proxy-body")
        assert_clean(page)


def test_tools_links_and_the_admin_link_only_for_staff(frame_site):
    with chromium() as browser:
        page = watch(browser.new_context().new_page())
        goto(page, frame_site.url + "/tools")
        assert page.get_attribute("#export-csv", "href") == "/api/stats/export?format=csv"
        assert page.get_attribute("#export-json", "href") == "/api/stats/export?format=json"
        assert page.get_attribute("#link-docs", "href") == "/api/docs/"
        assert page.get_attribute("#link-api", "href") == "/api/providers"
        assert page.locator("#link-admin").count() == 0 and page.locator("#admin-link").count() == 0
        assert page.locator("#login-link").count() == 1
        assert page.get_attribute("body", "data-staff") == "false"

        log_in(page, frame_site.url)
        page.console_errors.clear()  # the admin's own pages are not under test here
        goto(page, frame_site.url + "/tools")
        assert page.get_attribute("body", "data-staff") == "true"
        assert page.get_attribute("#link-admin", "href") == "/admin/"
        assert page.locator("#admin-link").count() == 1
        assert page.locator("#login-link").count() == 0
        assert_clean(page)


def test_crypto_hub_root_redirects_to_the_market_and_slashes_are_optional(frame_site):
    with httpx.Client(trust_env=False, timeout=20, base_url=frame_site.url) as client:
        for path in ("/api/crypto-hub/", "/api/crypto-hub"):
            answer = client.get(path)
            assert answer.status_code == 302 and answer.headers["location"] == "/"
        for path in ("/sentiment/", "/tools/"):
            assert client.get(path).status_code == 200
        # The forms are POSTs with the CSRF token: without it nothing is scored or proxied.
        for path, data in (("/tools", {"provider": "coingecko", "path": "/ping"}), ("/sentiment", {"text": "up"})):
            refused = client.post(path, data=data, headers={"referer": frame_site.url + path})
            assert refused.status_code == 403, path
        export = client.get("/api/stats/export?format=csv")
        assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")


# Public reads off, and an anonymous proxy limit small enough to reach in a test.
LOCKED = {"CRYPTOHUB_PUBLIC_READ": "False",
          "CRYPTOHUB_ANON_LIMITS": "read=600/minute,proxy=2/minute,sentiment=1/minute"}


def _send_proxy_form(page) -> str:
    page.evaluate("document.getElementById('proxy-result').replaceChildren()")
    page.click("#proxy-form button[type=submit]")  # coingecko /ping, the form's default
    page.wait_for_selector("#proxy-status")
    return page.inner_text("#proxy-status")


def test_with_public_reads_off_the_tabs_need_a_login_and_the_console_keeps_the_proxy_limit(frame_servers):
    server = frame_servers(env=LOCKED)
    with httpx.Client(trust_env=False, timeout=20, base_url=server.url) as client:
        for path in ("/", "/sentiment", "/tools"):
            answer = client.get(path)
            assert answer.status_code == 302 and answer.headers["location"] == f"/admin/login/?next={path}"
        # htmx's minute refresh is told to load the login page, not to swap it into the grid.
        poll = client.get("/", headers={"HX-Request": "true"})
        assert poll.status_code == 200 and poll.headers["hx-redirect"] == "/admin/login/?next=/"
    with chromium() as browser:
        page = watch(browser.new_context().new_page())
        log_in(page, server.url)
        page.console_errors.clear()  # the admin's own pages are not under test here
        goto(page, server.url + "/")
        assert page.get_attribute("#global-cap", "data-value")
        page.wait_for_selector("#feed-status[data-state=live]")  # the session opens the feed too

        goto(page, server.url + "/tools")
        assert [_send_proxy_form(page) for _ in range(2)] == ["200", "200"]
        assert page.inner_text("#proxy-headers").count("ratelimit-limit") == 1
        # The third call in the minute is the data plane's 429, counted with its own callers.
        assert _send_proxy_form(page) == "429"
        assert "rate limit" in page.inner_text("#proxy-error")
        assert "retry-after" in page.inner_text("#proxy-headers")
        direct = page.request.post(server.url + "/api/crypto-hub/proxy",
                                   data={"provider": "coingecko", "path": "/ping"})
        assert direct.status == 429

        # The sentiment box: one text a minute, whether sentiment.js sends it or the form does.
        goto(page, server.url + "/sentiment")
        page.fill("#score-text", "Bitcoin rallies to a record high")
        page.click("#score-form button[type=submit]")
        page.wait_for_selector("#score-label")
        token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
        plain = page.request.post(server.url + "/sentiment", form={"text": "again", "csrfmiddlewaretoken": token})
        assert plain.status == 429
        assert "HTTP 429: rate limit" in plain.text() and 'id="score-label"' not in plain.text()
        assert_clean(page)
