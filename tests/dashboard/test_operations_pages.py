"""Monitor, provider page and Alerts logic on the test database and the real Redis, and the views
through Django's test client: filters as query parameters (bad values are a 400 naming them),
staff-only controls with CSRF, and a test notification delivered to a real local HTTP receiver."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import Client

from dashboard.operations import alerts as alerts_page
from dashboard.operations import monitor
from healing.engine.breaker import OPEN, BreakerState, breaker_key, encode_state
from healing.models.monitoring import Alert, AlertDelivery, AlertRule, HealthCheck, NotificationChannel
from pools.models import Pool, PoolMembership
from pools.state import latency_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def providers(make_provider):
    pool = Pool.objects.create(slug="price", name="Price", capability="price", strategy="priority")
    made = {
        "coingecko": make_provider(slug="coingecko", rate_limits="30/minute"),
        "coincap": make_provider(slug="coincap", rate_limits=""),
        "defillama": make_provider(slug="defillama", category="defi", rate_limits=""),
    }
    for n, slug in enumerate(("coingecko", "coincap")):
        PoolMembership.objects.create(pool=pool, provider=made[slug], priority=10 - n)
    now = datetime.now(UTC)
    for minutes, ok in ((30, True), (20, False), (10, True)):
        HealthCheck.objects.create(provider=made["coingecko"], checked_at=now - timedelta(minutes=minutes), ok=ok,
                                   latency_ms=100.0 + minutes, error_class="" if ok else "timeout")
    HealthCheck.objects.create(provider=made["coincap"], checked_at=now - timedelta(minutes=5), ok=False,
                               error_class="http_5xx", status_code=503, message="HTTP 503")
    return made


def _rows(query=None):
    return {row["slug"]: row for row in monitor.monitor_page(query or {})["rows"]}


def test_monitor_rows_carry_status_breaker_budget_latency_and_uptime(providers, redis_client):
    redis_client.hset(breaker_key("coingecko"), mapping=encode_state(
        BreakerState(state=OPEN, reopens_at=time.time() + 60, trips=1)))
    for ms in (300, 100, 200):  # pushed newest first, as the engine does
        redis_client.lpush(latency_key("coingecko"), ms)
    rows = _rows()
    gecko, cap, llama = rows["coingecko"], rows["coincap"], rows["defillama"]
    assert (gecko["status"], gecko["check"], gecko["breaker"]) == ("degraded", "up", "open")  # the check passed
    assert gecko["reopens_at"] is not None
    assert gecko["budget"] == {"limit": "30/minute", "remaining": 30, "pct": 100.0}
    assert gecko["p50_ms"] == 200.0 and gecko["spark"] == [300.0, 100.0, 200.0]
    assert gecko["uptime_24h"] == pytest.approx(66.667, abs=0.01)
    assert gecko["pools"] == ["price"]
    assert (cap["status"], cap["breaker"], cap["budget"]) == ("down", "closed", None)
    assert cap["last_check"]["error_class"] == "http_5xx"
    assert (llama["status"], llama["last_check"], llama["uptime_24h"]) == ("unknown", None, None)
    assert (cap["check"], llama["check"]) == ("down", "unknown")  # what operations.js derives a live status from


def test_monitor_filters_by_category_pool_and_state(providers, redis_client):
    assert set(_rows({"category": "defi"})) == {"defillama"}
    assert set(_rows({"pool": "price"})) == {"coingecko", "coincap"}
    assert set(_rows({"state": "down"})) == {"coincap"}
    assert set(_rows({"state": "closed", "pool": "price"})) == {"coingecko", "coincap"}
    for field, value in (("category", "nope"), ("pool", "nope"), ("state", "sideways")):
        with pytest.raises(monitor.BadFilter) as caught:
            monitor.monitor_page({field: value})
        assert caught.value.field == field


def test_monitor_without_redis_still_lists_every_provider(providers, redis_down):
    rows = _rows()
    assert rows["coincap"]["status"] == "down" and rows["coingecko"]["breaker"] == "unknown"


def test_provider_page_has_history_failures_and_pools(providers, redis_client):
    page = monitor.provider_page("coingecko")
    assert page["chart"]["series"][1]["values"] == [1, 0, 1]  # oldest first
    assert [f["error_class"] for f in page["failures"]] == ["timeout"]
    assert page["memberships"][0]["pool"] == "price"
    assert monitor.provider_page("nope") is None


def test_monitor_views_answer_with_and_without_slash_and_400_on_a_bad_filter(providers, redis_client):
    client = Client()
    for path in ("/monitor", "/monitor/", "/monitor/coincap", "/pools", "/pools/price/", "/alerts"):
        assert client.get(path).status_code == 200, path
    bad = client.get("/monitor?state=sideways")
    assert bad.status_code == 400 and b'data-field="state"' in bad.content
    assert client.get("/monitor/nope").status_code == 404
    assert client.get("/pools/nope").status_code == 404


@pytest.fixture
def operator(django_user_model):
    user = django_user_model.objects.create_user("opsuser", password="pw", is_staff=True)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def _csrf(client, path):
    client.get(path)
    return client.cookies["csrftoken"].value


def test_staff_controls_show_only_to_staff_and_need_csrf(providers, redis_client, operator):
    anonymous = Client(enforce_csrf_checks=True)
    assert b"Rotate now" not in anonymous.get("/pools").content
    assert b"Rotate now" in operator.get("/pools").content
    assert anonymous.post("/pools/price/rotate", {"reason": "x"}).status_code == 403
    assert operator.post("/pools/price/rotate", {"reason": "no token"}).status_code == 403  # CSRF
    token = _csrf(operator, "/pools")
    answer = operator.post("/pools/price/rotate", {"reason": "drill", "csrfmiddlewaretoken": token})
    assert answer.status_code == 302 and answer["Location"] == "/pools/price?rotated=price"
    page = operator.get(answer["Location"]).content.decode()
    assert "drill" in page and 'class="actor">opsuser<' in page


class _Receiver(BaseHTTPRequestHandler):
    bodies: list = []

    def do_POST(self):  # noqa: N802 - the http.server name
        _Receiver.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver(monkeypatch):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    _Receiver.bodies = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("OPS_TEST_WEBHOOK_URL", f"http://127.0.0.1:{server.server_port}/hook")
    yield _Receiver.bodies
    server.shutdown()
    server.server_close()


def test_send_test_delivers_to_the_webhook_and_records_it(providers, receiver, operator):
    channel = NotificationChannel.objects.create(name="ops hook", kind="webhook", secret_env="OPS_TEST_WEBHOOK_URL")
    assert Client().post(f"/alerts/channels/{channel.pk}/test").status_code == 403
    token = _csrf(operator, "/alerts")
    answer = operator.post(f"/alerts/channels/{channel.pk}/test", {"csrfmiddlewaretoken": token})
    assert answer.status_code == 302
    assert receiver == [{"event": "test", "channel": "ops hook", "text": receiver[0]["text"]}]
    delivery = AlertDelivery.objects.get(channel=channel)
    assert delivery.ok and delivery.event == "test"
    page = operator.get("/alerts").content.decode()
    assert "test delivered" in page and "OPS_TEST_WEBHOOK_URL" in page and "127.0.0.1" not in page
    missing = operator.post("/alerts/channels/999999/test", {"csrfmiddlewaretoken": token})
    assert missing.status_code == 404


def test_alerts_page_lists_open_and_recent_alerts_rules_and_channels(providers):
    rule = AlertRule.objects.create(name="cap down", kind="provider_down", severity="critical")
    now = datetime.now(UTC)
    Alert.objects.create(rule=rule, subject="provider:coincap", provider=providers["coincap"], severity="critical",
                         message="coincap down for 3 checks", opened_at=now)
    Alert.objects.create(rule=rule, subject="provider:coingecko", severity="critical", state="resolved",
                         message="was down", opened_at=now - timedelta(hours=2), resolved_at=now - timedelta(hours=1))
    page = alerts_page.alerts_page()
    assert [a["subject"] for a in page["open"]] == ["provider:coincap"]
    assert [a["subject"] for a in page["recent"]] == ["provider:coincap", "provider:coingecko"]
    assert page["rules"][0]["scope"] == "all" and page["rules"][0]["severity"] == "critical"
    assert alerts_page.send_test(424242)[2] == 404
