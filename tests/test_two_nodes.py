"""Two complete nodes on one database and one Redis: each a uvicorn with two workers and a Celery
worker, with one beat for both. An admin edit made on node A is live in node B's data plane, a
breaker opened by traffic on A is honoured on B (and B's live feed says so), and a sweep runs
once per period, not once per node; the admin edit reaches B within the issue's 2 s. Runs on the
session's database (SQLite, or PostgreSQL in the `make test-postgres` pass)."""

from __future__ import annotations

import os
import re
import time
from collections import Counter

import httpx
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from healing.models.monitoring import HealthCheck
from providers.models import Provider
from tests.dashboard.live.client import FeedClient
from tests.dashboard.live.test_feed_cross_process import _open_breaker
from tests.fixtures.worker import start_celery, stop_process
from tests.live_server import start_server

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
BOUND_S = 30  # every wait below is bounded by this; the figures are printed, not asserted
SWEEP_EVERY_S = 3
# The bound on an admin edit made on one node reaching the other's data plane (seconds).
EDIT_LIVE_S = 2.0
PASSWORD = "two-nodes-pw"
SWEEPS_WANTED = 3


@pytest.fixture
def nodes(catalogue, fake_upstream):
    every = IntervalSchedule.objects.create(every=SWEEP_EVERY_S, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(name="two-node sweep", task="healing.tasks.health_sweep_task", interval=every)
    beat_started = time.monotonic()
    a, b = start_server(workers=2), start_server(workers=2)
    processes = [start_celery("worker", "--pool=solo", "--without-gossip", "--without-mingle", "--without-heartbeat",
                         "-n", f"node-{name}-{os.getpid()}@%h") for name in "ab"]
    processes.append(start_celery("beat", "--loglevel=INFO"))
    yield a, b, beat_started
    for process, log in processes:
        stop_process(process)
        log.close()
    a.stop()
    b.stop()


def _until(check, what: str):
    started = time.monotonic()
    while time.monotonic() - started < BOUND_S:
        result = check()
        if result:
            print(f"{what}: {time.monotonic() - started:.2f} s")
            return result
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {BOUND_S} s")


def test_two_nodes_share_config_breakers_the_feed_and_one_sweep(nodes, fake_upstream):
    a, b, beat_started = nodes
    # Hashed the way the servers' own settings check it (the test settings use a faster hasher).
    hashed = PBKDF2PasswordHasher().encode(PASSWORD, PBKDF2PasswordHasher().salt())
    get_user_model().objects.create(username="ops", password=hashed, is_staff=True, is_superuser=True)
    listener = FeedClient(b.url)
    listener.subscribe("breakers")
    with httpx.Client(base_url=a.url, timeout=30, trust_env=False) as on_a, \
            httpx.Client(base_url=b.url, timeout=30, trust_env=False) as on_b:
        # An edit made in node A's admin (the disable action on the providers' list) ...
        assert on_b.get("/api/data/price", params={"ids": "bitcoin", "provider": "coinpaprika"}).status_code == 200
        _admin_login(on_a, "ops", PASSWORD)
        changelist = on_a.get("/admin/providers/provider/")
        done = on_a.post("/admin/providers/provider/", data={
            "csrfmiddlewaretoken": _csrf(changelist.text), "action": "disable_providers",
            "_selected_action": str(Provider.objects.get(slug="coinpaprika").pk), "index": "0"},
            headers={"Referer": f"{a.url}/admin/providers/provider/"})
        assert done.status_code == 302, done.text[:300]
        edited_at = time.monotonic()
        # ... is what node B's data plane routes by, within the bound. The time is taken
        # when the request that saw it was sent, so B's own answer time does not count.
        seen_at = _until(lambda: _sent_at(lambda: on_b.get("/api/data/price",
                                                            params={"ids": "bitcoin", "provider": "coinpaprika"}),
                                          lambda r: r.status_code == 400), "an admin edit on A live on B")
        assert seen_at - edited_at <= EDIT_LIVE_S

        # Traffic through A opens a breaker; B's data plane does not call that provider any more.
        fake_upstream.fault("coingecko", "status", status=503)
        _open_breaker(a.url, "coingecko")
        calls = fake_upstream.calls("coingecko")
        refused = on_b.get("/api/data/price", params={"ids": "bitcoin", "provider": "coingecko"})
        assert refused.status_code == 503
        assert [x["outcome"] for x in refused.json()["attempts"]] == ["skipped_breaker_open"]
        assert fake_upstream.calls("coingecko") == calls
    opened = listener.event("breakers", lambda d: d["provider"] == "coingecko" and d["to"] == "open")
    assert opened["data"]["from"] == "closed"  # caused on A, heard on B
    listener.close()

    # One beat, two workers: every period one sweep, taken by either worker, never one per node.
    sweeps = _until(lambda: _sweeps() if len(_sweeps()) >= SWEEPS_WANTED else None, "three sweeps")
    elapsed = time.monotonic() - beat_started
    enabled = Provider.objects.filter(enabled=True).count()
    assert all(rows <= enabled for rows in sweeps.values())  # one row per provider per sweep
    assert len(sweeps) <= elapsed / SWEEP_EVERY_S + 3  # the first sweeps of beat's start, then one a period


def _csrf(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def _admin_login(client: httpx.Client, username: str, password: str) -> None:
    page = client.get("/admin/login/")
    answer = client.post("/admin/login/", data={"csrfmiddlewaretoken": _csrf(page.text), "username": username,
                                                "password": password, "next": "/admin/"},
                         headers={"Referer": f"{client.base_url}admin/login/"})
    why = re.findall(r"errornote[^<]*<[^>]*>[^<]*|errorlist[^<]*<li>[^<]*", answer.text)  # the form's own words
    assert answer.status_code == 302 and "sessionid" in client.cookies, why


def _sent_at(ask, seen) -> float | None:
    """When `ask()` was sent, if its answer passes `seen` (None otherwise)."""
    sent = time.monotonic()
    return sent if seen(ask()) else None


def _sweeps() -> Counter:
    return Counter(HealthCheck.objects.filter(manual=False).values_list("checked_at", flat=True))
