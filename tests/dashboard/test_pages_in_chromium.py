"""The operator's pages in a real headless Chromium against a real server process: the admin
(login, providers with their key column), Swagger UI rendering from local assets only, and the
browsable API. Every page is checked for its Content-Security-Policy and for CSP violations Chromium reports.
Screenshots are kept in artifacts/ for a person to look at."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from tests.dashboard.browser import chromium, goto, shot, watch
from tests.live_server import start_server

SECRET = "chromium-canary-key-93c1f0"


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
    with chromium() as browser:
        yield watch(browser.new_context().new_page())


def test_admin_login_and_provider_list_show_the_key_variable_never_the_key(site, page):
    goto(page, site.url + "/admin/login/")
    page.fill("#id_username", "operator")
    page.fill("#id_password", "operator-pw")
    page.click("input[type=submit]")
    page.wait_for_selector("text=Site administration")

    goto(page, site.url + "/admin/providers/provider/")
    row = page.locator("tr", has_text="coingecko")
    assert row.count() == 1
    assert "PAGE_TEST_KEY ✔" in row.inner_text()
    assert page.locator("tr", has_text="kraken").count() == 1
    assert SECRET not in page.content()
    assert shot(page, "admin-providers").stat().st_size > 0
    assert page.outside_requests == []
    assert page.csp_violations == []


def test_swagger_ui_renders_the_api_from_local_assets(site, page):
    goto(page, site.url + "/api/docs/")
    # Operations appear only once the sidecar's JavaScript ran and fetched /api/schema/.
    page.wait_for_selector(".opblock", timeout=30_000)
    text = page.inner_text("body")
    assert "/api/providers" in text
    assert "/api/data/price" in text
    assert shot(page, "swagger-ui").stat().st_size > 0
    assert page.outside_requests == []
    assert page.csp_violations == []


def test_a_csp_violation_would_be_caught(site, page):
    goto(page, site.url + "/admin/login/")
    with pytest.raises(Exception, match="Content Security Policy"):
        page.add_script_tag(content="document.title = 'inline ran'")
    assert page.title() != "inline ran"


def test_browsable_api_lists_providers_without_keys(site, page):
    goto(page, site.url + "/api/providers")
    body = page.inner_text("body")
    assert "coingecko" in body and "kraken" in body
    assert SECRET not in page.content()
    assert page.outside_requests == []
    assert page.csp_violations == []
