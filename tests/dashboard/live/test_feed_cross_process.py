"""Events reach the feed from every process that causes them, through channels-redis: clients on
both workers of a real uvicorn hear a breaker opened by traffic (served by one of the workers, so
the clients on the other hear it from across processes), a health flip found by a sweep in a real
Celery worker, and a rotation made in the admin over HTTP."""

from __future__ import annotations

import re
import time

import httpx
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from pools.models import Pool
from tests.dashboard.live.client import FeedClient
from tests.dashboard.live.test_feed_protocol import _clients_on_both_workers

pytestmark = pytest.mark.django_db(transaction=True)
DEADLINE_S = 60
TASK_TIMEOUT_S = 90


def _by_worker(clients: list[FeedClient], pids: dict[str, int]) -> list[FeedClient]:
    """One client on each worker."""
    first: dict[int, FeedClient] = {}
    for client in clients:
        # A session whose heartbeat ran late on a loaded machine may be missing from that report.
        if client.welcome["client_id"] in pids:
            first.setdefault(pids[client.welcome["client_id"]], client)
    assert len(first) == 2
    return list(first.values())


def _open_breaker(url: str, provider: str) -> None:
    """Raw calls to `provider` through the server until its breaker is open (bounded)."""
    deadline = time.monotonic() + DEADLINE_S
    with httpx.Client(base_url=url, timeout=10, trust_env=False) as http:
        while time.monotonic() < deadline:
            http.post("/api/crypto-hub/proxy", json={"provider": provider, "path": "/ping"})
            state = http.get("/api/crypto-hub/health-status", params={"provider": provider}).json()
            if '"open"' in str(state).replace("'", '"'):
                return
    raise AssertionError(f"{provider}'s breaker did not open")


def test_a_breaker_opened_by_traffic_reaches_clients_on_both_workers(feed_site):
    clients, pids = _clients_on_both_workers(feed_site.url)
    listeners = _by_worker(clients, pids)
    for client in listeners:
        client.subscribe("breakers", "health", "pools")
    feed_site.fake.fault("coingecko", "status", status=503)
    _open_breaker(feed_site.url, "coingecko")

    for client in listeners:
        opened = client.event("breakers", lambda d: d["provider"] == "coingecko" and d["to"] == "open")
        data = opened["data"]
        assert data["from"] == "closed" and data["reopens_at"].endswith("Z") and data["trips"] == 1
        assert data["reason"].startswith("failures:") or data["reason"] == "error rate"
        down = client.event("health", lambda d: d["provider"] == "coingecko" and d["source"] == "traffic")
        assert (down["data"]["status"], down["data"]["previous"]) == ("down", "up")
        head = client.event("pools", lambda d: d["pool"] == "price")
        assert head["data"] == {"pool": "price", "from": "coingecko", "to": "coinpaprika",
                                "reason": "breaker_open", "kind": "auto"}
    for client in clients:
        client.close()


def test_a_sweep_flip_in_the_celery_worker_reaches_the_feed(feed_site, celery_worker):
    listener = FeedClient(feed_site.url)
    listener.subscribe("health")
    feed_site.fake.fault("coinpaprika", "status", status=503)

    summary = celery_worker.send_task("healing.tasks.health_sweep_task").get(timeout=TASK_TIMEOUT_S)

    assert summary["down"] >= 1
    flip = listener.event("health", lambda d: d["provider"] == "coinpaprika", timeout=DEADLINE_S)
    assert flip["data"]["status"] == "down" and flip["data"]["source"] == "sweep"
    assert flip["data"]["error_class"]
    listener.close()


def _admin_session(url: str) -> httpx.Client:
    password = "rotation-pw"
    hashed = PBKDF2PasswordHasher().encode(password, PBKDF2PasswordHasher().salt())
    get_user_model().objects.create(username="rotator", password=hashed, is_staff=True, is_superuser=True)
    http = httpx.Client(base_url=url, timeout=10, trust_env=False)
    http.get("/admin/login/")
    http.post("/admin/login/?next=/admin/", data={
        "username": "rotator", "password": password, "csrfmiddlewaretoken": http.cookies["csrftoken"],
        "next": "/admin/"}, headers={"Referer": url + "/admin/login/"})
    assert "sessionid" in http.cookies
    return http


def _csrf(page: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def test_an_admin_rotation_reaches_the_feed(feed_site):
    listener = FeedClient(feed_site.url)
    listener.subscribe("pools")
    pool = Pool.objects.get(slug="price")
    http = _admin_session(feed_site.url)
    try:
        changelist = http.get("/admin/pools/pool/")
        answer = http.post("/admin/pools/pool/", data={
            "action": "rotate_now", "_selected_action": [str(pool.pk)], "index": "0",
            "csrfmiddlewaretoken": _csrf(changelist.text)}, headers={"Referer": feed_site.url + "/admin/pools/pool/"})
        assert answer.status_code == 302
    finally:
        http.close()

    rotated = listener.event("pools", lambda d: d["pool"] == "price" and d["kind"] == "manual")
    assert rotated["data"]["actor"] == "rotator" and rotated["data"]["from"] == "coingecko"
    assert rotated["data"]["to"] == "coinpaprika" and rotated["data"]["reason"]
    listener.close()
