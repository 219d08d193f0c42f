"""The operator's pages in a real headless Chromium against a real server process: the admin
(login, providers with their key column), Swagger UI rendering from local assets only, and the
browsable API. Every page is checked for its Content-Security-Policy and for CSP violations Chromium reports.
Screenshots are kept in artifacts/ for a person to look at."""

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from playwright.sync_api import sync_playwright

from tests.live_server import REPO_ROOT, start_server

CHROMIUM = "/usr/bin/chromium"
# Flags for a closed network: no background services trying to reach the internet.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SECRET = "chromium-canary-key-93c1f0"
ARTIFACTS = REPO_ROOT / "artifacts"


@pytest.fixture
def site(transactional_db, make_provider):
    # The server runs the production settings, whose hashers don't include the tests' fast one.
    password = PBKDF2PasswordHasher().encode("operator-pw", PBKDF2PasswordHasher().salt())
    get_user_model().objects.create(username="operator", password=password, is_staff=True, is_superuser=True)
    make_provider(slug="coingecko", name="CoinGecko", api_key_env="PAGE_TEST_KEY", auth_type="header",
                  auth_param="x-cg-demo-api-key")
    make_provider(slug="kraken", name="Kraken", category="exchange")
    server = start_server(env={"PAGE_TEST_KEY": SECRET})
    yield server
    server.stop()


@pytest.fixture
def page(site):
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context()
        page = context.new_page()
        page.outside_requests = []
        page.csp_violations = []
        page.on("request", lambda request: _note_outside(page, request.url))
        # Chromium reports every blocked script, style, image or connection on the console.
        page.on("console", lambda message: _note_csp(page, message.text))
        page.on("pageerror", lambda error: _note_csp(page, str(error)))
        yield page
        browser.close()


def _note_outside(page, url: str) -> None:
    host = urlsplit(url).hostname
    if host not in ("127.0.0.1", None):
        page.outside_requests.append(url)


def _note_csp(page, text: str) -> None:
    if "Content Security Policy" in text or "Content-Security-Policy" in text:
        page.csp_violations.append(text)


def _goto(page, url: str):
    response = page.goto(url)
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "'unsafe-inline'" not in csp
    return response


def _shot(page, name: str) -> Path:
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def test_admin_login_and_provider_list_show_the_key_variable_never_the_key(site, page):
    _goto(page, site.url + "/admin/login/")
    page.fill("#id_username", "operator")
    page.fill("#id_password", "operator-pw")
    page.click("input[type=submit]")
    page.wait_for_selector("text=Site administration")

    _goto(page, site.url + "/admin/providers/provider/")
    row = page.locator("tr", has_text="coingecko")
    assert row.count() == 1
    assert "PAGE_TEST_KEY ✔" in row.inner_text()
    assert page.locator("tr", has_text="kraken").count() == 1
    assert SECRET not in page.content()
    assert _shot(page, "admin-providers").stat().st_size > 0
    assert page.outside_requests == []
    assert page.csp_violations == []


def test_swagger_ui_renders_the_api_from_local_assets(site, page):
    _goto(page, site.url + "/api/docs/")
    # Operations appear only once the sidecar's JavaScript ran and fetched /api/schema/.
    page.wait_for_selector(".opblock", timeout=30_000)
    text = page.inner_text("body")
    assert "/api/providers" in text
    assert "/api/data/price" in text
    assert _shot(page, "swagger-ui").stat().st_size > 0
    assert page.outside_requests == []
    assert page.csp_violations == []


def test_a_csp_violation_would_be_caught(site, page):
    _goto(page, site.url + "/admin/login/")
    with pytest.raises(Exception, match="Content Security Policy"):
        page.add_script_tag(content="document.title = 'inline ran'")
    assert page.title() != "inline ran"


def test_browsable_api_lists_providers_without_keys(site, page):
    _goto(page, site.url + "/api/providers")
    body = page.inner_text("body")
    assert "coingecko" in body and "kraken" in body
    assert SECRET not in page.content()
    assert page.outside_requests == []
    assert page.csp_violations == []
