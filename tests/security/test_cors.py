"""CORS on both planes, over real sockets to a real uvicorn with CRYPTOHUB_CORS_ORIGINS set.

An allowed origin's answers name it in Access-Control-Allow-Origin and expose the limit and source
headers; another origin's answers carry no such header (its browser blocks the read) but are still
answered. A preflight is answered by the CORS layer: it allows the client-key headers, spends none
of the caller's inbound limit and needs no key. Last, a real headless Chromium shows a page on an
allowed origin reading the data plane's JSON, and the same fetch failing from another origin.
"""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from playwright.sync_api import sync_playwright

from tests.dashboard.browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.django_db(transaction=True)

APP = "https://app.example.com"
OTHER_APP = "https://dashboard.example.org"
EVIL = "https://evil.example.net"
# The variable as an operator writes it: two origins, a space after the comma.
ORIGINS = f"{APP}, {OTHER_APP}"
PRICE = "/api/data/price?ids=bitcoin"
EXPOSED = {"retry-after", "ratelimit-limit", "ratelimit-remaining", "ratelimit-reset",
           "x-cryptohub-source", "x-cryptohub-cache", "x-cryptohub-degraded"}


def _get(server, path: str, origin: str | None = None, **headers: str) -> httpx.Response:
    if origin:
        headers["Origin"] = origin
    return httpx.get(server.url + path, headers=headers, timeout=30, trust_env=False)


def _preflight(server, path: str, origin: str, method: str = "GET", headers: str | None = None) -> httpx.Response:
    asked = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers:
        asked["Access-Control-Request-Headers"] = headers
    return httpx.options(server.url + path, headers=asked, timeout=30, trust_env=False)


def _ids(response: httpx.Response) -> list[str]:
    return [item["id"] for item in response.json()["data"]]


def _listed(response: httpx.Response, header: str) -> set[str]:
    return {part.strip().lower() for part in response.headers.get(header, "").split(",") if part.strip()}


@pytest.fixture
def server(price_pool, live_servers):
    return live_servers(env={"CRYPTOHUB_CORS_ORIGINS": ORIGINS})


# --- the data plane ----------------------------------------------------------------------------------


def test_data_answers_to_an_allowed_origin_name_it_and_expose_the_headers(server):
    # The first answer is a miss (Starlette's path), the second a hit (DataPlane's fast path).
    answers = [_get(server, PRICE, APP), _get(server, PRICE, OTHER_APP)]
    assert [a.headers["x-cryptohub-cache"] for a in answers] == ["live", "cache"]
    for answer, origin in zip(answers, (APP, OTHER_APP)):
        assert answer.status_code == 200 and _ids(answer) == ["bitcoin"]
        assert answer.headers["access-control-allow-origin"] == origin
        assert _listed(answer, "access-control-expose-headers") == EXPOSED
        assert "origin" in _listed(answer, "vary")
        assert "access-control-allow-credentials" not in answer.headers


def test_data_answers_to_another_origin_carry_no_allow_origin_but_are_answered(server):
    answers = [_get(server, PRICE, EVIL), _get(server, PRICE, EVIL), _get(server, PRICE)]
    assert [a.headers["x-cryptohub-cache"] for a in answers] == ["live", "cache", "cache"]
    for answer in answers:
        assert answer.status_code == 200 and _ids(answer) == ["bitcoin"]
        assert "access-control-allow-origin" not in answer.headers


def test_data_plane_preflight_allows_the_client_key_headers(server):
    answer = _preflight(server, PRICE, APP, headers="authorization, x-api-key")
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == APP
    assert {"authorization", "x-api-key"} <= _listed(answer, "access-control-allow-headers")
    assert {"get", "post"} <= _listed(answer, "access-control-allow-methods")
    assert answer.headers["access-control-max-age"] == "3600"
    # Answered by the CORS layer, yet with the data plane's security headers.
    assert answer.headers["x-content-type-options"] == "nosniff"
    proxy = _preflight(server, "/api/crypto-hub/proxy", OTHER_APP, method="POST", headers="content-type")
    assert proxy.status_code == 200 and proxy.headers["access-control-allow-origin"] == OTHER_APP


def test_data_plane_refused_preflight_is_json_naming_the_header(server):
    evil = _preflight(server, PRICE, EVIL, headers="authorization")
    assert evil.status_code == 400 and evil.json()["field"] == "Origin"
    assert "access-control-allow-origin" not in evil.headers
    odd_header = _preflight(server, PRICE, APP, headers="x-not-allowed")
    assert odd_header.status_code == 400
    assert odd_header.json() == {"detail": "Disallowed CORS headers", "field": "Access-Control-Request-Headers"}
    assert odd_header.headers["x-content-type-options"] == "nosniff"


def test_preflights_spend_none_of_the_anonymous_limit(price_pool, live_servers):
    limit = 5
    server = live_servers(env={"CRYPTOHUB_CORS_ORIGINS": ORIGINS,
                               "CRYPTOHUB_ANON_LIMITS": f"read={limit}/minute,proxy=1/minute,sentiment=1/minute"})
    before = int(_get(server, PRICE, APP).headers["ratelimit-remaining"])
    preflights = [_preflight(server, PRICE, APP, headers="authorization").status_code for _ in range(3 * limit)]
    after = _get(server, PRICE, APP)
    assert preflights == [200] * (3 * limit)
    assert int(after.headers["ratelimit-remaining"]) == before - 1
    # The limit does bite GETs, and its 429 is readable by the page (origin and Retry-After exposed).
    codes = [_get(server, PRICE, APP) for _ in range(limit)]
    over = codes[-1]
    assert over.status_code == 429 and int(over.headers["retry-after"]) >= 1
    assert over.headers["access-control-allow-origin"] == APP and "retry-after" in _listed(
        over, "access-control-expose-headers")
    # Over the limit, a preflight is still answered; so is one for the proxy's own, tighter class.
    assert _preflight(server, PRICE, APP).status_code == 200
    assert [_preflight(server, "/api/crypto-hub/proxy", APP, method="POST").status_code
            for _ in range(3)] == [200, 200, 200]


def test_preflight_needs_no_key_where_reads_need_one(price_pool, live_servers):
    server = live_servers(env={"CRYPTOHUB_CORS_ORIGINS": ORIGINS, "CRYPTOHUB_PUBLIC_READ": "False"}, wait=False)
    server.wait_ready(path="/health")  # the usual ready path now answers 401
    answer = _preflight(server, PRICE, APP, headers="x-api-key")
    assert answer.status_code == 200 and answer.headers["access-control-allow-origin"] == APP
    keyless = _get(server, PRICE, APP)
    assert keyless.status_code == 401 and keyless.headers["access-control-allow-origin"] == APP


# --- the Django plane ---------------------------------------------------------------------------------


def test_django_api_follows_the_same_policy(server):
    preflight = _preflight(server, "/api/providers", APP, headers="authorization, x-api-key")
    assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == APP
    assert {"authorization", "x-api-key"} <= _listed(preflight, "access-control-allow-headers")
    data_plane_preflight = _preflight(server, PRICE, APP, headers="authorization")
    assert _listed(preflight, "access-control-allow-methods") == _listed(
        data_plane_preflight, "access-control-allow-methods")
    allowed = _get(server, "/api/providers", APP)
    assert allowed.status_code == 200 and {p["slug"] for p in allowed.json()} >= {"coingecko"}
    assert allowed.headers["access-control-allow-origin"] == APP
    assert _listed(allowed, "access-control-expose-headers") == EXPOSED
    assert "access-control-allow-credentials" not in allowed.headers
    other = _get(server, "/api/providers", EVIL)
    assert other.status_code == 200 and "access-control-allow-origin" not in other.headers
    assert "access-control-allow-origin" not in _preflight(server, "/api/providers", EVIL).headers


def test_health_metrics_and_pages_stay_same_origin(server):
    for path in ("/health", "/metrics", "/admin/login/"):
        answer = _get(server, path, APP)
        assert answer.status_code == 200, path
        assert "access-control-allow-origin" not in answer.headers, path
    assert "access-control-allow-origin" not in _preflight(server, "/health", APP).headers


# --- the variable -------------------------------------------------------------------------------------


def test_a_star_allows_any_origin_on_both_planes(price_pool, live_servers):
    server = live_servers(env={"CRYPTOHUB_CORS_ORIGINS": "*"})
    for path in (PRICE, "/api/providers"):
        assert _get(server, path, EVIL).headers["access-control-allow-origin"] == "*", path
        preflight = _preflight(server, path, EVIL, headers="authorization")
        assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == "*", path


def test_a_value_that_is_no_origin_stops_the_server_naming_the_variable(live_servers):
    # A trailing slash never equals a browser's Origin: allowing nothing silently would be worse.
    server = live_servers(env={"CRYPTOHUB_CORS_ORIGINS": f"{APP}/"}, wait=False)
    assert server.process.wait(timeout=60) != 0
    assert f"CRYPTOHUB_CORS_ORIGINS: '{APP}/' is not an origin" in server.output()


# --- a real browser ----------------------------------------------------------------------------------


class _AppPage(BaseHTTPRequestHandler):
    """The whole "browser application": an empty page whose script the test runs."""

    def do_GET(self):  # noqa: N802 - the http.server name
        body = b"<!doctype html><title>app</title><p>app</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def app_sites():
    """Two static sites on their own loopback ports: two origins for the browser."""
    sites = [ThreadingHTTPServer(("127.0.0.1", 0), _AppPage) for _ in range(2)]
    for site in sites:
        threading.Thread(target=site.serve_forever, daemon=True).start()
    yield [f"http://127.0.0.1:{site.server_address[1]}" for site in sites]
    for site in sites:
        site.shutdown()
        site.server_close()


FETCH = """async ([url, key]) => {
    try {
        const r = await fetch(url, {headers: {"X-API-Key": key}});
        return {status: r.status, source: r.headers.get("X-Cryptohub-Source"),
                remaining: r.headers.get("RateLimit-Remaining"), body: await r.json()};
    } catch (e) {
        return {error: String(e)};
    }
}"""


def _api_key() -> str:
    from healing.models import ApiClient

    client = ApiClient(name="browser-app", limits="100/minute")
    key = client.set_new_key()
    client.save()
    return key


def test_a_page_on_an_allowed_origin_reads_the_data_plane_in_chromium(price_pool, live_servers, app_sites):
    allowed, other = app_sites
    key = _api_key()  # before the server starts: its snapshot holds the clients
    server = live_servers(env={"CRYPTOHUB_CORS_ORIGINS": allowed})
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        results = {}
        for origin in (allowed, other):
            page.goto(origin + "/")
            # A key header makes the browser send a real preflight first.
            results[origin] = page.evaluate(FETCH, [server.url + PRICE, key])
        browser.close()
    read = results[allowed]
    assert read["status"] == 200 and [item["id"] for item in read["body"]["data"]] == ["bitcoin"], read
    assert read["source"] == "coingecko" and read["remaining"] == "99"
    assert results[other] == {"error": "TypeError: Failed to fetch"}
