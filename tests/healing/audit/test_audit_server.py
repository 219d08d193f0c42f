"""The audit trail against a real server: a token PATCH over the REST API and an admin action
(a bulk disable, written with update()) are recorded with their user, address and field diff;
`manage.py` commands are recorded as `command:<name>`; GET /api/audit reads it back for staff."""

import re
import subprocess
import sys

import httpx
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from rest_framework.authtoken.models import Token

from providers.models import Provider
from tests.live_server import REPO_ROOT, server_env, start_server

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def server():
    live = start_server()
    yield live
    live.stop()


@pytest.fixture
def operator():
    password = PBKDF2PasswordHasher().encode("right-pw", PBKDF2PasswordHasher().salt())
    user = get_user_model().objects.create(username="operator", password=password, is_staff=True, is_superuser=True)
    return Token.objects.create(user=user).key


def _admin_login(client: httpx.Client) -> None:
    page = client.get("/admin/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answer = client.post("/admin/login/?next=/admin/", data={
        "username": "operator", "password": "right-pw", "next": "/admin/", "csrfmiddlewaretoken": token})
    assert answer.status_code in (200, 302) and "sessionid" in client.cookies


def test_api_and_admin_changes_name_their_user_and_diff(server, operator):
    provider = Provider.objects.create(slug="audited", name="Audited", category="market_data",
                                       base_url="http://127.0.0.1:9/v1", timeout_s=10)
    token = {"Authorization": f"Token {operator}"}
    with httpx.Client(base_url=server.url, timeout=30, trust_env=False) as api:
        assert api.patch("/api/providers/audited", json={"timeout_s": 7.5}, headers=token).status_code == 200

    with httpx.Client(base_url=server.url, timeout=30, trust_env=False) as browser:
        _admin_login(browser)
        changelist = browser.get("/admin/providers/provider/")
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', changelist.text).group(1)
        done = browser.post("/admin/providers/provider/", data={
            "action": "disable_providers", "_selected_action": [str(provider.pk)], "csrfmiddlewaretoken": csrf})
        assert done.status_code in (200, 302)
    provider.refresh_from_db()
    assert provider.enabled is False

    with httpx.Client(base_url=server.url, timeout=30, trust_env=False, headers=token) as api:
        trail = api.get("/api/audit", params={"model": "provider", "object": "audited"}).json()
    disabled, patched, created = trail["results"]  # newest first
    assert trail["count"] == 3
    assert patched["action"] == "update" and patched["actor"] == "user:operator"
    assert patched["changes"] == {"timeout_s": [10.0, 7.5]}
    assert patched["remote_addr"] == "127.0.0.1" and patched["model"] == "providers.provider"
    assert disabled["actor"] == "user:operator" and disabled["changes"] == {"enabled": [True, False]}
    assert created["action"] == "create" and created["actor"] == "system"  # made by this test process


def test_a_command_is_the_actor_of_what_it_changes(server, operator):
    result = subprocess.run([sys.executable, "manage.py", "ensure_alert_rules"], cwd=REPO_ROOT, env=server_env(),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    with httpx.Client(base_url=server.url, timeout=30, trust_env=False,
                      headers={"Authorization": f"Token {operator}"}) as api:
        trail = api.get("/api/audit", params={"actor": "command:ensure_alert_rules"}).json()
        by_user = api.get("/api/audit", params={"actor": "operator"}).json()
    assert {e["object"] for e in trail["results"]} == {"Login locked out", "Pool with no healthy member", "Provider down"}
    assert {e["model"] for e in trail["results"]} == {"healing.alertrule"}
    assert all(e["action"] == "create" and e["remote_addr"] is None for e in trail["results"])
    assert by_user["count"] == 0  # the operator changed nothing


def test_the_trail_is_for_staff_and_bad_filters_name_their_field(server, operator):
    with httpx.Client(base_url=server.url, timeout=30, trust_env=False) as api:
        assert api.get("/api/audit").status_code in (401, 403)
        token = {"Authorization": f"Token {operator}"}
        for params, field in (({"model": "nonsense"}, "model"), ({"since": "yesterday"}, "since"),
                              ({"until": "2026-12-01T00:00:00"}, "until"), ({"limit": "0"}, "limit"),
                              ({"offset": "-1"}, "offset"), ({"offset": "9" * 30}, "offset")):
            answer = api.get("/api/audit", params=params, headers=token)
            assert answer.status_code == 400 and field in answer.json(), (params, answer.text)
        assert api.get("/api/audit/", params={"since": "2026-12-01T00:00:00Z"}, headers=token).status_code == 200
