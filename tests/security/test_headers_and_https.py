"""Security headers on every answer (pages, API, health, metrics, data plane, proxy), the
CRYPTOHUB_HTTPS switch, and `check --deploy` with no warning."""

import os
import secrets
import subprocess
import sys

import httpx
import pytest
from django.test import Client

from healing.dataplane.headers import secured
from healing.dataplane.proxy_policy import safe_headers
from tests.live_server import REPO_ROOT, start_server

PAGES = ["/admin/login/", "/api/providers", "/api/docs/", "/api/schema/", "/health", "/metrics",
         # The dashboard's tabs, the public status page, its JSON and a badge.
         "/", "/sentiment", "/tools", "/monitor", "/monitor/coingecko", "/pools", "/pools/price", "/alerts",
         "/status", "/api/status/page", "/status/badge/price.svg", "/api/crypto-hub/"]
DATA = ["/api/data/", "/api/data/price?ids=bitcoin", "/api/data/nope",
        "/compat/coingecko/api/v3/ping", "/compat/binance/api/v3/ping", "/compat/binance/api/v3/nope"]


def _assert_page_headers(response: httpx.Response) -> None:
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "http" not in csp.replace("'self'", "")  # no CDN host allowed
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "same-origin"


@pytest.fixture
def server(transactional_db, catalogue):
    live = start_server()
    yield live
    live.stop()


@pytest.mark.slow
def test_every_page_api_and_data_answer_of_a_real_server_carries_the_headers(server):
    with httpx.Client(base_url=server.url, timeout=30, trust_env=False) as client:
        for path in PAGES:
            response = client.get(path)
            assert response.status_code < 500, path
            _assert_page_headers(response)
        for path in DATA:
            response = client.get(path)
            assert response.headers["x-content-type-options"] == "nosniff", path
            assert "sandbox" in response.headers["content-security-policy"], path
            assert "set-cookie" not in response.headers, path
        proxy = client.post("/api/crypto-hub/proxy", json={"provider": "nope", "path": "/x"})
        assert proxy.status_code == 403
        assert proxy.headers["x-content-type-options"] == "nosniff" and "set-cookie" not in proxy.headers


def test_the_proxy_never_passes_cookies_or_csp_weakening_headers():
    upstream = {"Content-Type": "application/json", "Set-Cookie": "a=b", "set-cookie2": "c=d",
                "Content-Security-Policy": "default-src *", "X-Frame-Options": "ALLOWALL",
                "Content-Security-Policy-Report-Only": "x", "Access-Control-Allow-Origin": "*",
                "X-Content-Type-Options": "off", "Referrer-Policy": "unsafe-url", "Location": "https://evil",
                "WWW-Authenticate": "Basic", "Strict-Transport-Security": "max-age=0", "ETag": "1"}
    assert safe_headers(upstream) == {"content-type": "application/json", "etag": "1"}
    sent = dict(secured([(b"set-cookie", b"a=b"), (b"x-content-type-options", b"off"), (b"etag", b"1")]))
    assert b"set-cookie" not in sent and sent[b"x-content-type-options"] == b"nosniff" and sent[b"etag"] == b"1"


@pytest.mark.django_db
def test_https_switch_redirects_pages_but_not_probes_and_secures_cookies(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 600
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    client = Client()
    redirect = client.get("/admin/login/")
    assert redirect.status_code == 301 and redirect["Location"].startswith("https://")
    assert client.get("/health").status_code in (200, 503)
    assert client.get("/metrics").status_code == 200
    page = client.get("/admin/login/", headers={"X-Forwarded-Proto": "https"})
    assert page.status_code == 200
    assert page["Strict-Transport-Security"].startswith("max-age=600")
    assert page.cookies["csrftoken"]["secure"] is True


def test_https_settings_follow_the_one_switch():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "cryptohub.settings", "SECRET_KEY": secrets.token_urlsafe(50),
           "CRYPTOHUB_HTTPS": "True", "CRYPTOHUB_HSTS_SECONDS": "1234"}
    code = ("from django.conf import settings as s; print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
            "s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SECURE_PROXY_SSL_HEADER, s.SECURE_REDIRECT_EXEMPT)")
    out = subprocess.run([sys.executable, "-c", f"import django; django.setup(); {code}"], cwd=REPO_ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == ("True True True 1234 ('HTTP_X_FORWARDED_PROTO', 'https') "
                                  "['^health/?$', '^metrics/?$']"), out.stderr


@pytest.mark.slow
def test_check_deploy_with_https_and_a_real_key_reports_no_warning(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRYPTOHUB_HSTS")}
    env.update({"DJANGO_SETTINGS_MODULE": "cryptohub.settings", "SECRET_KEY": secrets.token_urlsafe(50),
                "CRYPTOHUB_HTTPS": "True", "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"})
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy"], cwd=REPO_ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNING" not in output and ".W0" not in output, output
    assert "System check identified no issues" in output


def test_a_host_outside_allowed_hosts_is_a_400_and_one_bounded_log_line(server):
    # A client's mistake: Django logs it at ERROR with a traceback unless cryptohub.logfilters cuts it.
    long_host = "h" * 5000 + ".example"
    for path in ("/admin/login/", "/api/providers", "/status"):
        for host in ("evil.example", long_host):
            assert httpx.get(server.url + path, headers={"Host": host}, timeout=30).status_code == 400
    log = server.output(tail=1_000_000)
    refusals = [line for line in log.splitlines() if "Invalid HTTP_HOST header" in line]
    assert len(refusals) == 6 and all(" WARNING django.security.DisallowedHost " in line for line in refusals)
    assert max(len(line) for line in refusals) < 600 and "Traceback" not in log
