"""The provider admin shows breaker state from Redis and resets it, never showing a key."""

import asyncio

import pytest
import redis.asyncio as aioredis
from django.conf import settings
from django.contrib.auth import get_user_model

from healing.catalogue import build_snapshot
from healing.engine.breaker import BreakerStore
from healing.models.recovery import RecoveryLog


def _trip(slug: str) -> str:
    cfg = build_snapshot(0).providers[slug]

    async def work():
        r = aioredis.Redis.from_url(settings.REDIS_URL)
        try:
            store = BreakerStore(r)
            for _ in range(cfg.breaker_failure_threshold):
                await store.record(cfg, False)
            return (await store.state(slug)).state
        finally:
            await r.aclose()

    return asyncio.run(work())


def _state(slug: str) -> str:
    async def work():
        r = aioredis.Redis.from_url(settings.REDIS_URL)
        try:
            return (await BreakerStore(r).state(slug)).state
        finally:
            await r.aclose()

    return asyncio.run(work())


@pytest.fixture
def admin_client(client, db):
    user = get_user_model().objects.create_superuser("root", "", "pw")
    client.force_login(user)
    return client


def test_changelist_and_change_page_show_an_open_breaker(admin_client, make_provider):
    make_provider(slug="flaky")
    assert _trip("flaky") == "open"
    changelist = admin_client.get("/admin/providers/provider/")
    assert changelist.status_code == 200
    assert "open until" in changelist.content.decode()
    change = admin_client.get(f"/admin/providers/provider/{_pk('flaky')}/change/")
    assert change.status_code == 200
    assert "open until" in change.content.decode()


def _pk(slug: str) -> int:
    from providers.models import Provider

    return Provider.objects.get(slug=slug).pk


def test_reset_breaker_action_closes_it_and_records_why(admin_client, make_provider):
    make_provider(slug="flaky")
    _trip("flaky")
    response = admin_client.post(
        "/admin/providers/provider/",
        {"action": "reset_breaker", "_selected_action": [_pk("flaky")]},
        follow=True,
    )
    assert response.status_code == 200
    assert _state("flaky") == "closed"
    assert RecoveryLog.objects.filter(provider_slug="flaky", actor="root").count() == 1
