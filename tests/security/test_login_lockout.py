"""Failed logins against a real server: 20 wrong passwords lock the admin login (a 403 page, even
for the right password afterwards), open the admin_login_lockout alert and queue its delivery;
wrong API tokens lock out as well, answered with JSON."""

import re

import httpx
import pytest
import redis
from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from healing.models.monitoring import Alert, AlertRule, AlertState, ChannelKind, NotificationChannel, RuleKind
from tests.live_server import start_server

WRONG_TRIES = 20


@pytest.fixture
def server(transactional_db):
    password = PBKDF2PasswordHasher().encode("right-pw", PBKDF2PasswordHasher().salt())
    get_user_model().objects.create(username="operator", password=password, is_staff=True, is_superuser=True)
    channel = NotificationChannel.objects.create(name="ops", kind=ChannelKind.WEBHOOK, secret_env="OPS_HOOK_URL")
    rule = AlertRule.objects.create(name="lockouts", kind=RuleKind.ADMIN_LOGIN_LOCKOUT, severity="critical")
    rule.channels.add(channel)
    live = start_server(env={"OPS_HOOK_URL": "http://127.0.0.1:9/hook"})
    yield live
    live.stop()


def _login(client: httpx.Client, password: str) -> httpx.Response:
    page = client.get("/admin/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    data = {"username": "operator", "password": password, "next": "/admin/"}
    if token:
        data["csrfmiddlewaretoken"] = token.group(1)
    return client.post("/admin/login/?next=/admin/", data=data)


@pytest.mark.slow
def test_twenty_wrong_passwords_lock_the_login_and_open_the_alert(server):
    with httpx.Client(base_url=server.url, timeout=30, trust_env=False) as client:
        statuses = [_login(client, f"wrong-{n}").status_code for n in range(WRONG_TRIES)]
        right = _login(client, "right-pw")
    limit = settings.AXES_FAILURE_LIMIT
    assert statuses[: limit - 1] == [200] * (limit - 1)  # the form again, with an error
    assert set(statuses[limit:]) == {403}
    assert right.status_code == 403 and "Too many failed logins" in right.text
    assert "Login locked" in right.text
    alerts = list(Alert.objects.filter(rule__kind=RuleKind.ADMIN_LOGIN_LOCKOUT, state=AlertState.OPEN))
    assert {a.subject for a in alerts} >= {"login:user:operator", "login:ip:127.0.0.1"}
    assert all(a.severity == "critical" for a in alerts)
    # Its delivery went to the alert machinery's Celery queue, like every other alert's.
    queued = redis.Redis.from_url(settings.CELERY_BROKER_URL).lrange("celery", 0, -1)
    assert any(b"send_alert_notification_task" in message for message in queued)
    # And the audit trail has it, on the locked user, from the address that tried.
    lockouts = [e for e in LogEntry.objects.filter(action=LogEntry.Action.ACCESS)
                if e.additional_data.get("event") == "login_lockout"]
    (lockout,) = lockouts  # once, not once per attempt turned away while locked
    assert lockout.object_repr == "operator" and lockout.changes == {"locked_out": [False, True]}
    assert (lockout.remote_addr, lockout.additional_data["actor"], lockout.additional_data["ip_address"]) == (
        "127.0.0.1", "system", "127.0.0.1")


@pytest.mark.slow
def test_wrong_api_tokens_count_and_lock_out_with_json(server):
    with httpx.Client(base_url=server.url, timeout=30, trust_env=False) as client:
        answers = [client.get("/api/providers", headers={"Authorization": f"Token bad{n}"})
                   for n in range(settings.AXES_FAILURE_LIMIT + 2)]
    # DRF answers a bad token 403 here (session auth comes first, so no 401 challenge).
    assert answers[0].status_code == 403 and answers[0].json()["detail"] == "Invalid token."
    last = answers[-1]
    assert last.status_code == 403
    assert last.headers["content-type"].startswith("application/json")
    assert "Too many failed logins" in last.json()["detail"]
    assert Alert.objects.filter(subject="login:ip:127.0.0.1", state=AlertState.OPEN).exists()
