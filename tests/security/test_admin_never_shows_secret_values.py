"""Secrets stay environment variable NAMES: no admin page (changelists and change forms of
providers and notification channels), no export (stats CSV/JSON, diagnostics, the schema) and no
log line written meanwhile contains a value set in the environment; the admin shows set/unset."""

import io
import logging

import pytest
from django.core.management import call_command

from healing.models.monitoring import ChannelKind, NotificationChannel

KEY_VALUE = "admin-canary-key-5f1c9e7d"
HOOK_VALUE = "http://127.0.0.1:9/hook-canary-0a9b8c"


@pytest.fixture
def secrets_in_env(monkeypatch, make_provider, admin_client):
    monkeypatch.setenv("ADMIN_TEST_KEY", KEY_VALUE)
    monkeypatch.setenv("ADMIN_TEST_HOOK", HOOK_VALUE)
    provider = make_provider(slug="keyed", api_key_env="ADMIN_TEST_KEY", auth_type="query", auth_param="key")
    channel = NotificationChannel.objects.create(name="hook", kind=ChannelKind.WEBHOOK, secret_env="ADMIN_TEST_HOOK")
    return provider, channel


def _pages(provider, channel) -> list[str]:
    return [
        "/admin/providers/provider/", f"/admin/providers/provider/{provider.pk}/change/",
        "/admin/healing/notificationchannel/", f"/admin/healing/notificationchannel/{channel.pk}/change/",
        "/admin/healing/notificationchannel/add/", "/admin/providers/provider/add/",
        "/api/providers", "/api/providers/keyed", "/api/stats/export?format=csv", "/api/stats/export?format=json",
        "/api/crypto-hub/diagnostics", "/api/schema/",
    ]


@pytest.mark.django_db
def test_no_admin_page_export_or_log_line_contains_a_secret_value(secrets_in_env, admin_client, caplog, settings):
    settings.CRYPTOHUB_NOTIFY_ATTEMPTS = 1
    provider, channel = secrets_in_env
    caplog.set_level(logging.DEBUG)
    seen = {}
    for path in _pages(provider, channel):
        response = admin_client.get(path)
        assert response.status_code == 200, path
        seen[path] = b"".join(response.streaming_content) if response.streaming else response.content
    for path, body in seen.items():
        assert KEY_VALUE.encode() not in body and HOOK_VALUE.encode() not in body, path
    # The admin says the variable is set, by name.
    assert b"ADMIN_TEST_KEY" in seen["/admin/providers/provider/"]
    assert b"ADMIN_TEST_HOOK" in seen[f"/admin/healing/notificationchannel/{channel.pk}/change/"]
    # A test delivery (it fails: nothing listens) logs and records, but never the URL it used.
    admin_client.post("/admin/healing/notificationchannel/", {"action": "send_test", "_selected_action": [channel.pk]})
    out = io.StringIO()
    call_command("export_stats", "--format", "json", "-o", "-", stdout=out)
    assert KEY_VALUE not in out.getvalue() and HOOK_VALUE not in out.getvalue()
    assert caplog.records, "the requests above log something"
    assert KEY_VALUE not in caplog.text and HOOK_VALUE not in caplog.text


@pytest.mark.django_db
def test_no_page_the_admin_links_to_contains_a_secret_value(secrets_in_env, admin_client, settings, tmp_path):
    """Every page reachable from the admin index in two hops (every model's list and first objects,
    the audit trail, the activity log, the cache and discovery pages), after edits that write
    audit entries and backup exports that name the variables."""
    import re

    provider, channel = secrets_in_env
    admin_client.post("/admin/providers/provider/", {"action": "disable_providers", "_selected_action": [provider.pk]})
    exported = tmp_path / "config.json"
    call_command("export_config", "-o", str(exported), stdout=io.StringIO())
    assert "ADMIN_TEST_KEY" in exported.read_text() and KEY_VALUE not in exported.read_text()
    seen, queue = set(), ["/admin/"]
    for depth in range(3):
        found = []
        for path in queue:
            if path in seen:
                continue
            seen.add(path)
            response = admin_client.get(path)
            body = b"".join(response.streaming_content) if response.streaming else response.content
            assert KEY_VALUE.encode() not in body and HOOK_VALUE.encode() not in body, path
            if depth < 2 and response.status_code == 200:
                found += [link for link in re.findall(r'href="(/admin/[^"?#]*)"', body.decode(errors="replace"))
                          if "logout" not in link and "delete" not in link]
        queue = found
    assert len(seen) > 40  # the crawl reached the models' pages, not just the index
    assert any("logentry" in p for p in seen) and any("provider/" in p and "change" in p for p in seen)
