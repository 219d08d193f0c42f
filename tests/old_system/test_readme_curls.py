"""The old system's READMEs, replayed against a running cryptohub: every `curl` exactly as written
(plus `Authorization: Token` on writes), then the read paths the monitor README lists.

The proxy `curl` names CoinGecko by its real URL. Tests talk to 127.0.0.1 only, so CoinGecko is
registered at its real base URL under a maintenance window: the call is parsed, resolved to the
provider and answered in the old envelope without leaving the machine (the envelope around a
real upstream answer is tested in tests/healing/dataplane/test_proxy_old_form.py)."""

import json
import shlex
from datetime import timedelta

import httpx
import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework.authtoken.models import Token

from healing.models.monitoring import MaintenanceWindow
from healing.monitoring.maintenance import maintenance_sync
from pools.models import RotationEvent
from providers.models import Provider
from tests.live_server import start_server
from tests.old_system.readme_curls import MONITOR_READ_PATHS, MONITOR_README, SELF_HEALING_README

pytestmark = pytest.mark.django_db(transaction=True)


def curls(text: str) -> list[dict]:
    """Each curl (one per paragraph) as {method, path, headers, body}; a `> file` is dropped."""
    commands = []
    for paragraph in text.strip().split("\n\n"):
        words = iter(shlex.split(paragraph.replace("\\\n", " ")))
        assert next(words) == "curl"
        method, headers, body, url = "GET", {}, None, None
        for word in words:
            if word == ">":
                break
            if word == "-X":
                method = next(words)
            elif word == "-H":
                name, value = next(words).split(":", 1)
                headers[name.strip()] = value.strip()
            elif word == "-d":
                body = next(words)
                method = "POST" if method == "GET" else method
            else:
                url = word
        commands.append({"method": method, "path": url.removeprefix("http://localhost:8000"), "headers": headers,
                         "body": body})
    return commands


def test_the_old_readmes_curls_parse_as_written():
    assert [(c["method"], c["path"]) for c in curls(SELF_HEALING_README + MONITOR_README)] == [
        ("POST", "/api/crypto-hub/proxy"), ("GET", "/api/crypto-hub/health-status"),
        ("GET", "/api/crypto-hub/health-status"), ("GET", "/api/crypto-hub/diagnostics"),
        ("GET", "/api/crypto-hub/diagnostics"), ("POST", "/api/crypto-hub/recover"),
        ("POST", "/api/pools"), ("POST", "/api/pools/my_market_pool/members"),
        ("POST", "/api/pools/my_market_pool/rotate")]


@pytest.fixture
def server():
    coingecko = Provider.objects.create(slug="coingecko", name="CoinGecko", category="market_data",
                                        base_url="https://api.coingecko.com/api/v3", health_path="/ping")
    now = timezone.now()
    MaintenanceWindow.objects.create(provider=coingecko, starts_at=now - timedelta(minutes=1),
                                     ends_at=now + timedelta(hours=1), reason="tests stay on 127.0.0.1")
    maintenance_sync()  # what saving the window in the admin does
    user = get_user_model().objects.create_user("operator", password="unused-here", is_staff=True)
    live = start_server()
    yield live, Token.objects.create(user=user).key
    live.stop()


def _replay(client: httpx.Client, command: dict, token: str) -> httpx.Response:
    headers = dict(command["headers"])
    if command["method"] != "GET":
        headers["Authorization"] = f"Token {token}"
    return client.request(command["method"], command["path"], headers=headers, content=command["body"])


def test_every_curl_of_the_old_readmes_works(server):
    live, token = server
    with httpx.Client(base_url=live.url, timeout=30, trust_env=False) as client:
        answers = [_replay(client, c, token) for c in curls(SELF_HEALING_README + MONITOR_README)]
        reads = {path: client.get(path) for path in MONITOR_READ_PATHS}
    proxy, status, _, diagnostics, report, recover, pool, member, rotate = answers

    envelope = proxy.json()  # drained for the test: the provider was found, and not called
    assert set(envelope) >= {"success", "status_code", "data", "source", "attempt"}
    assert (envelope["success"], envelope["source"], envelope["status_code"]) == (False, "coingecko", 503)
    assert "maintenance" in json.dumps(envelope["data"]["attempts"])

    totals = status.json()
    assert (totals["total"], totals["health_percentage"]) == (0, None)  # out on purpose, in no total
    assert totals["endpoints"]["coingecko"]["status"] == "maintenance"
    assert "failed_endpoints" in diagnostics.json() and report.json()["snapshot"]["providers"] == 1
    assert recover.status_code == 404 and recover.json()["field"] == "endpoint"

    assert pool.status_code == 201 and pool.json()["slug"] == "my_market_pool"
    assert member.status_code == 201
    assert rotate.status_code == 200 and rotate.json()["head_changed"] is False
    assert RotationEvent.objects.get().reason == "manual rotation"

    assert {path: r.status_code for path, r in reads.items()} == dict.fromkeys(MONITOR_READ_PATHS, 200)
    assert [p["slug"] for p in reads["/api/providers/category/market_data"].json()] == ["coingecko"]


def test_the_old_resource_paths_are_the_catalogue_and_the_backup(db, make_provider):
    from rest_framework.test import APIClient

    make_provider(slug="alpha", api_key_env="ALPHA_KEY")
    make_provider(slug="beta", name="=HYPERLINK(\"http://x\")")  # read as text by a spreadsheet
    staff = APIClient()
    staff.force_authenticate(get_user_model().objects.create_user("ops", is_staff=True))
    as_json = APIClient().get("/api/resources/export/json")
    assert as_json.status_code == 200 and as_json["Content-Disposition"].startswith("attachment")
    assert [p["slug"] for p in json.loads(as_json.content)] == [p["slug"] for p in APIClient().get("/api/providers").json()]
    as_csv = APIClient().get("/api/resources/export/csv/").content.decode().splitlines()
    assert as_csv[0].startswith("slug,name,category") and as_csv[1].startswith("alpha,")
    assert as_csv[2].startswith('beta,"\'=HYPERLINK(""http://x"")",')
    assert APIClient().get("/api/resources/export/xml").status_code == 404
    assert APIClient().get("/api/resources/backup").status_code in (401, 403)
    backup = staff.get("/api/resources/backup")
    assert backup.status_code == 200 and json.loads(backup.content)["providers"][0]["slug"] == "alpha"
