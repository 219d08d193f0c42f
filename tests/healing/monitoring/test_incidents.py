"""Incidents of the status page on the test database with the real Redis: opened when a pool has
no healthy member or its first member's breaker opens, confirmed, resolved with a timeline, and
never duplicated, however often the evaluation runs."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
import redis.asyncio
from django.conf import settings
from django.db import IntegrityError

from healing.engine.breaker import BreakerStore
from healing.engine.config import ProviderConfig
from healing.models.incidents import Incident, IncidentUpdate
from healing.models.monitoring import MaintenanceWindow
from healing.monitoring import incidents
from healing.monitoring.incidents import MemberView, conditions, evaluate_incidents
from healing.monitoring.probes import ProbeResult
from healing.monitoring.sweep import probe_results_record
from pools.models import Pool, PoolMembership
from tests.healing.monitoring import test_tasks_worker

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
TASK_TIMEOUT_S = test_tasks_worker.TASK_TIMEOUT_S


def record(slug: str, ok: bool, at: datetime) -> None:
    probe_results_record([ProbeResult(slug, at.timestamp(), ok=ok, status_code=200 if ok else 503,
                                      error_class="" if ok else "server_error", message="" if ok else "HTTP 503")],
                         checked_at=at)


def trip_breaker(slug: str, at: datetime) -> None:
    async def trip():
        r = redis.asyncio.Redis.from_url(settings.REDIS_URL)
        config = ProviderConfig(slug=slug, name=slug, category="market_data", base_url="http://x",
                                breaker_failure_threshold=1)
        await BreakerStore(r, at.timestamp).record(config, False)
        await r.aclose()

    asyncio.run(trip())


@pytest.fixture
def price_pool(make_provider):
    head, spare = make_provider(slug="head"), make_provider(slug="spare")
    pool = Pool.objects.create(slug="price", name="Price", capability="price")
    PoolMembership.objects.create(pool=pool, provider=head, priority=10)
    PoolMembership.objects.create(pool=pool, provider=spare, priority=1)
    return pool


def test_no_healthy_member_opens_confirms_and_resolves_with_a_timeline(price_pool):
    record("head", False, T0)
    record("spare", False, T0)

    report = evaluate_incidents(T0)
    incident = Incident.objects.get()
    assert report.opened == [incident.pk]
    assert (incident.pool, incident.kind, incident.state) == (price_pool, "no_healthy_member", "investigating")
    assert incident.title == "price: no healthy provider (2 member(s))" and incident.opened_at == T0

    t1 = T0 + timedelta(seconds=60)
    assert evaluate_incidents(t1).identified == [incident.pk]
    record("spare", True, T0 + timedelta(seconds=90))
    t2 = T0 + timedelta(seconds=120)
    assert evaluate_incidents(t2).resolved == [incident.pk]

    incident.refresh_from_db()
    assert (incident.state, incident.resolved_at) == ("resolved", t2)
    timeline = list(incident.updates.values_list("at", "state", "message"))
    assert timeline == [
        (T0, "investigating", "Detected automatically: price: no healthy provider (2 member(s))"),
        (t1, "identified", "Still failing: head: HTTP 503; spare: HTTP 503"),
        (t2, "resolved", "Resolved automatically: the pool has a healthy provider again"),
    ]


def test_evaluating_again_changes_nothing(price_pool):
    record("head", False, T0)
    record("spare", False, T0)
    evaluate_incidents(T0)
    evaluate_incidents(T0 + timedelta(seconds=60))

    for _ in range(3):
        report = evaluate_incidents(T0 + timedelta(seconds=60))
        assert report.summary() == {"opened": 0, "identified": 0, "resolved": 0}
    assert Incident.objects.count() == 1
    assert IncidentUpdate.objects.count() == 2


def test_a_pool_with_one_healthy_member_has_no_incident(price_pool):
    record("head", False, T0)
    record("spare", True, T0)
    assert evaluate_incidents(T0).summary() == {"opened": 0, "identified": 0, "resolved": 0}
    assert not Incident.objects.exists()


def test_an_open_breaker_on_the_head_opens_its_own_incident_and_resolves_when_it_closes(price_pool):
    record("head", True, T0)
    record("spare", True, T0)
    # The breaker of a provider lower in the list is no incident of its own.
    trip_breaker("spare", T0)
    assert evaluate_incidents(T0).opened == []
    asyncio.run(_reset_breakers("spare"))
    trip_breaker("head", T0)

    report = evaluate_incidents(T0)
    incident = Incident.objects.get()
    assert report.opened == [incident.pk]
    assert incident.kind == "head_breaker_open"
    assert incident.title == "price: breaker open on head, the first provider"

    asyncio.run(_reset_breakers("head"))
    later = T0 + timedelta(minutes=5)
    assert evaluate_incidents(later).resolved == [incident.pk]
    assert incident.updates.last().message == "Resolved automatically: the first provider's breaker closed"
    assert Incident.objects.filter(resolved_at__isnull=True).count() == 0


async def _reset_breakers(*slugs):
    r = redis.asyncio.Redis.from_url(settings.REDIS_URL)
    for slug in slugs:
        await BreakerStore(r).reset(slug)
    await r.aclose()


def test_a_recurrence_opens_a_new_incident_after_the_old_one_resolved(price_pool):
    record("head", False, T0)
    record("spare", False, T0)
    first = evaluate_incidents(T0).opened
    record("spare", True, T0 + timedelta(minutes=1))
    evaluate_incidents(T0 + timedelta(minutes=1))
    record("spare", False, T0 + timedelta(minutes=2))
    second = evaluate_incidents(T0 + timedelta(minutes=2)).opened

    assert len(first) == len(second) == 1 and first != second
    assert list(Incident.objects.order_by("opened_at").values_list("state", flat=True)) == ["resolved", "investigating"]


def test_the_database_refuses_a_second_unresolved_incident_of_one_kind(price_pool):
    Incident.objects.create(pool=price_pool, kind="no_healthy_member", title="x", opened_at=T0)
    with pytest.raises(IntegrityError):
        Incident.objects.create(pool=price_pool, kind="no_healthy_member", title="y", opened_at=T0)


def test_a_pool_in_maintenance_opens_nothing_and_keeps_what_was_open(price_pool):
    record("head", False, T0)
    record("spare", False, T0)
    evaluate_incidents(T0)
    MaintenanceWindow.objects.create(pool=price_pool, starts_at=T0, ends_at=T0 + timedelta(hours=1), reason="upgrade")
    record("spare", True, T0 + timedelta(minutes=1))

    assert evaluate_incidents(T0 + timedelta(minutes=2)).summary() == {"opened": 0, "identified": 0, "resolved": 0}
    assert Incident.objects.get().resolved_at is None
    assert evaluate_incidents(T0 + timedelta(hours=2)).resolved == [Incident.objects.get().pk]


def test_disabling_the_pool_resolves_its_incident(price_pool):
    record("head", False, T0)
    record("spare", False, T0)
    incident_id = evaluate_incidents(T0).opened[0]
    Pool.objects.filter(pk=price_pool.pk).update(enabled=False)

    assert evaluate_incidents(T0 + timedelta(minutes=1)).resolved == [incident_id]
    assert IncidentUpdate.objects.filter(incident_id=incident_id).last().message == \
        "Resolved automatically: the pool is no longer watched (disabled)"


def test_without_redis_head_breaker_incidents_are_left_as_they_are(price_pool, monkeypatch):
    record("head", True, T0)
    record("spare", True, T0)
    trip_breaker("head", T0)
    incident_id = evaluate_incidents(T0).opened[0]
    monkeypatch.setattr(incidents, "breaker_states", lambda slugs, now: None)  # Redis unreachable

    assert evaluate_incidents(T0 + timedelta(minutes=1)).resolved == []
    assert Incident.objects.get(pk=incident_id).resolved_at is None


def test_conditions_rule_counts_unchecked_members_healthy_and_skipped_ones_not():
    unchecked = MemberView("a", None, "closed")
    skipped = MemberView("b", {"ok": False, "skipped": True, "message": "", "error_class": ""}, "closed")
    assert conditions("p", [unchecked], breakers_known=True) == {"no_healthy_member": None, "head_breaker_open": None}
    assert conditions("p", [skipped], breakers_known=False) == {
        "no_healthy_member": "p: no healthy provider (1 member(s))"}
    assert conditions("p", [], breakers_known=True)["no_healthy_member"] == "p: no healthy provider (0 member(s))"
    half_open = MemberView("h", None, "half_open")
    assert conditions("p", [half_open, unchecked], breakers_known=True)["head_breaker_open"] == \
        "p: breaker half_open on h, the first provider"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_incident_task_idempotently(celery_worker, price_pool):
    now = datetime.now(UTC)
    record("head", False, now)
    record("spare", False, now)

    first = celery_worker.send_task("healing.tasks.evaluate_incidents_task").get(timeout=TASK_TIMEOUT_S)
    assert first == {"opened": 1, "identified": 0, "resolved": 0}
    incident = Incident.objects.get()
    assert (incident.pool_id, incident.kind, incident.state) == (price_pool.pk, "no_healthy_member", "investigating")
    second = celery_worker.send_task("healing.tasks.evaluate_incidents_task").get(timeout=TASK_TIMEOUT_S)
    assert second == {"opened": 0, "identified": 1, "resolved": 0}
    assert Incident.objects.count() == 1


def test_admin_lists_incidents_read_mostly(price_pool, django_user_model):
    from django.test import Client

    admin_user = django_user_model.objects.create_superuser("root", password="pw-root")
    incident = Incident.objects.create(pool=price_pool, kind="no_healthy_member", title="price: down", opened_at=T0)
    IncidentUpdate.objects.create(incident=incident, at=T0, state="investigating", message="Detected automatically")
    client = Client()
    client.force_login(admin_user)

    listing = client.get("/admin/healing/incident/")
    assert listing.status_code == 200 and b"price: down" in listing.content
    assert client.get("/admin/healing/incident/add/").status_code == 403
    change = client.get(f"/admin/healing/incident/{incident.pk}/change/").content.decode()
    assert 'name="title"' in change and 'name="kind"' not in change and 'name="opened_at"' not in change
    assert "Detected automatically" in change and 'name="updates-0-message"' not in change
