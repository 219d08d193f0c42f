"""Backup and restore against a real server and real `manage.py` processes: the API download and
upload (dry run, apply, 400 naming entry and field, 413, staff only), the admin page's upload →
diff → confirm, and the two commands."""

import json
import re
import subprocess
import sys

import httpx
import pytest
from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from rest_framework.authtoken.models import Token

from healing.backup import dumps, export_config
from healing.models import AlertRule
from providers.models import Provider
from tests.live_server import REPO_ROOT, server_env, start_server

from .conftest import HOOK_VALUE, KEY_VALUE, build_configuration, wipe_configuration

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def server(secrets_set):
    live = start_server()  # after secrets_set: the server has the secret values in its environment
    yield live
    live.stop()


@pytest.fixture
def operator():
    password = PBKDF2PasswordHasher().encode("right-pw", PBKDF2PasswordHasher().salt())
    user = get_user_model().objects.create(username="operator", password=password, is_staff=True, is_superuser=True)
    return Token.objects.create(user=user).key


@pytest.fixture
def api(server, operator):
    with httpx.Client(base_url=server.url, timeout=60, trust_env=False,
                      headers={"Authorization": f"Token {operator}"}) as client:
        yield client


def _manage(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=REPO_ROOT, env=server_env(), input=stdin,
                          capture_output=True, text=True, timeout=120)


def test_the_api_downloads_and_restores_the_configuration(api, server, secrets_set):
    build_configuration()
    download = api.get("/api/config/export")
    assert download.status_code == 200 and download.headers["content-type"] == "application/json"
    assert re.match(r'attachment; filename="cryptohub-config-\d{8}T\d{6}Z\.json"',
                    download.headers["content-disposition"])
    assert KEY_VALUE not in download.text and HOOK_VALUE not in download.text
    document = download.json()

    wipe_configuration()
    dry = api.post("/api/config/import", params={"dry_run": "true"}, json=document)
    assert dry.status_code == 200, dry.text
    assert dry.json()["applied"] is False and dry.json()["sections"]["providers"]["create"] == [
        "coingecko", "etherscan", "kraken"]
    assert not Provider.objects.exists()

    done = api.post("/api/config/import/", json=document)
    assert done.status_code == 200 and done.json()["applied"] is True
    assert api.get("/api/config/export").content == download.content
    created = LogEntry.objects.filter(object_repr="Gecko down", action=LogEntry.Action.CREATE).order_by("pk").last()
    assert created.additional_data["actor"] == "user:operator"


def test_the_api_refuses_a_bad_document_naming_entry_and_field(api, server):
    build_configuration()
    document = export_config()
    before = dumps(document)
    document["alert_rules"][1]["channels"] = ["ops slack", "no such channel"]
    document["pools"][0]["members"].append({"provider": "ghost"})
    answer = api.post("/api/config/import", json=document)
    assert answer.status_code == 400
    assert set(answer.json()) == {"alert_rules[1].channels", "pools[0].members[1].provider"}
    assert 'unknown notification channel "no such channel"' in answer.json()["alert_rules[1].channels"][0]

    assert api.post("/api/config/import", params={"dry_run": "maybe"}, json=document).json() == {
        "dry_run": ["must be true or false, got 'maybe'"]}
    assert api.post("/api/config/import", json=[1, 2]).status_code == 400
    assert dumps(export_config()) == before


def test_the_api_is_for_staff_and_bounds_the_body(server, operator):
    with httpx.Client(base_url=server.url, timeout=60, trust_env=False) as anonymous:
        assert anonymous.get("/api/config/export").status_code in (401, 403)
        assert anonymous.post("/api/config/import", json={"version": 1}).status_code in (401, 403)
        huge = b'{"version": 1, "notes": "' + b"x" * 1_100_000 + b'"}'
        refused = anonymous.post("/api/config/import", content=huge, headers={
            "Authorization": f"Token {operator}", "Content-Type": "application/json"})
        assert refused.status_code == 413 and refused.json()["field"] == "body"


def _admin_login(client: httpx.Client) -> None:
    page = client.get("/admin/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answer = client.post("/admin/login/?next=/admin/", data={
        "username": "operator", "password": "right-pw", "next": "/admin/", "csrfmiddlewaretoken": token})
    assert answer.status_code in (200, 302) and "sessionid" in client.cookies


def _csrf(page: httpx.Response) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)


def test_the_admin_shows_the_diff_before_it_imports(server, operator):
    build_configuration()
    document = export_config()
    document["providers"][0]["notes"] = "restored notes"  # coingecko
    document["alert_rules"] = [r for r in document["alert_rules"] if r["name"] != "Lockout"]
    upload = json.dumps(document).encode()

    with httpx.Client(base_url=server.url, timeout=60, trust_env=False) as browser:
        _admin_login(browser)
        assert 'href="/admin/config-backup/"' in browser.get("/admin/").text
        page = browser.get("/admin/config-backup/")
        assert page.status_code == 200
        saved = browser.get("/admin/config-backup/download/")
        assert saved.headers["content-type"] == "application/json" and saved.json()["alert_rules"]

        preview = browser.post("/admin/config-backup/", data={"csrfmiddlewaretoken": _csrf(page)},
                               files={"document": ("backup.json", upload, "application/json")})
        assert preview.status_code == 200
        assert "notes &#x27;edited by an operator&#x27; → &#x27;restored notes&#x27;" in preview.text
        assert "Lockout" in preview.text and "not in the document: kept" in preview.text
        assert Provider.objects.get(slug="coingecko").notes == "edited by an operator"  # nothing written yet

        digest = re.search(r'name="digest" value="([0-9a-f]+)"', preview.text).group(1)
        confirm = {"csrfmiddlewaretoken": _csrf(preview), "step": "confirm", "digest": digest,
                   "document": upload.decode()}
        done = browser.post("/admin/config-backup/", files={k: (None, v) for k, v in confirm.items()})
        assert done.status_code in (200, 302)
    assert Provider.objects.get(slug="coingecko").notes == "restored notes"
    assert AlertRule.objects.filter(name="Lockout").exists()  # not in the document, and not pruned


def test_the_admin_refuses_a_stale_preview_and_a_bad_document(server, operator):
    build_configuration()
    document = export_config()
    document["providers"][0]["notes"] = "from the backup"
    with httpx.Client(base_url=server.url, timeout=60, trust_env=False) as browser:
        _admin_login(browser)
        page = browser.get("/admin/config-backup/")
        bad = browser.post("/admin/config-backup/", data={"csrfmiddlewaretoken": _csrf(page)},
                           files={"document": ("bad.json", b'{"version": 1, "providers": 3}', "application/json")})
        assert "providers: expected a list" in bad.text and "Nothing was imported" in bad.text
        deep = b'{"version": 1, "providers": ' + b"[" * 5000 + b"]" * 5000 + b"}"
        too_deep = browser.post("/admin/config-backup/", data={"csrfmiddlewaretoken": _csrf(page)},
                                files={"document": ("deep.json", deep, "application/json")})
        assert too_deep.status_code == 200
        assert "not valid JSON: nested deeper than 64 levels at line 1, column 92" in too_deep.text

        confirm = {"csrfmiddlewaretoken": _csrf(page), "step": "confirm", "digest": "0" * 64,
                   "document": json.dumps(document)}
        again = browser.post("/admin/config-backup/", files={k: (None, v) for k, v in confirm.items()})
        assert "changed since the preview" in again.text
    assert Provider.objects.get(slug="coingecko").notes == "edited by an operator"


def test_the_commands_export_and_import_as_real_processes(tmp_path, secrets_set):
    build_configuration()
    target = tmp_path / "backup.json"
    exported = _manage("export_config", "-o", str(target), "--with-audit")
    assert exported.returncode == 0, exported.stderr
    text = target.read_text()
    assert KEY_VALUE not in text and HOOK_VALUE not in text and json.loads(text)["audit"]
    assert _manage("export_config").stdout == dumps(export_config()).decode()

    wipe_configuration()
    dry = _manage("import_config", str(target), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "dry run, nothing written" in dry.stdout and "alert_rules: + Gecko down" in dry.stdout
    assert "audit: read-only, not imported" in dry.stdout
    assert not AlertRule.objects.exists()

    done = _manage("import_config", str(target))
    assert done.returncode == 0, done.stderr
    assert AlertRule.objects.count() == 3
    entry = LogEntry.objects.filter(object_repr="Gecko down", action=LogEntry.Action.CREATE).order_by("pk").last()
    assert entry.additional_data["actor"] == "command:import_config"

    broken = json.loads(text)
    broken["maintenance_windows"][0]["ends_at"] = "2020-01-01T00:00:00Z"
    refused = _manage("import_config", "-", "--prune", stdin=json.dumps(broken))
    assert refused.returncode != 0
    assert "maintenance_windows[0]" in refused.stderr and "ends_at: must be after starts_at" in refused.stderr
    assert AlertRule.objects.count() == 3
