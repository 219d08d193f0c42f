"""The pool API: rotation and its history, auth on every write, and rotation without Redis."""


import pytest

from pools.models import Pool, PoolMembership, RotationEvent
from tests.pools.api_bodies import OLD_POOL_BODY, SLASHES

# --- rotation ---------------------------------------------------------------------------------


@pytest.mark.parametrize("slash", SLASHES)
def test_rotate_records_a_rotation_event(staff_client, price_pool, slash):
    response = staff_client.post("/api/pools/price/rotate" + slash, {"reason": "coingecko is slow"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["pool"] == "price"
    assert body["from_provider"] == "coingecko"
    assert body["to_provider"] == "coincap"
    assert body["reason"] == "coingecko is slow"
    assert body["actor"] == "staffer"
    event = RotationEvent.objects.get()
    assert (event.from_provider.slug, event.to_provider.slug, event.actor) == ("coingecko", "coincap", "staffer")
    order = [m["provider"] for m in staff_client.get("/api/pools/price").json()["current_order"]]
    assert order[0] == "coincap"


def test_rotate_without_reason_uses_a_default(staff_client, price_pool):
    response = staff_client.post("/api/pools/price/rotate", {}, format="json")
    assert response.status_code == 201
    assert response.json()["reason"]


def test_rotate_a_pool_with_one_member_is_200_with_the_head_unchanged(staff_client, lonely_pool):
    response = staff_client.post("/api/pools/lonely/rotate", {"reason": "try"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["head_changed"] is False and body["from_provider"] == body["to_provider"] is not None
    assert RotationEvent.objects.get().reason == "try"


def test_rotate_a_pool_with_no_eligible_member_is_409(staff_client, lonely_pool):
    PoolMembership.objects.filter(pool__slug="lonely").update(enabled=False)
    response = staff_client.post("/api/pools/lonely/rotate", {"reason": "try"}, format="json")
    assert response.status_code == 409 and "no eligible member" in response.json()["detail"]
    assert not RotationEvent.objects.exists()


def test_rotate_with_too_long_reason_is_400(staff_client, price_pool):
    response = staff_client.post("/api/pools/price/rotate", {"reason": "x" * 301}, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()
    assert not RotationEvent.objects.exists()


def _rotate_n(pool, n):
    RotationEvent.objects.bulk_create(
        [RotationEvent(pool=pool, reason=f"r{i}", actor="system") for i in range(n)]
    )


@pytest.mark.parametrize("path", ["/api/pools/history", "/api/pools/history/", "/api/rotations", "/api/rotations/"])
def test_history_is_paginated_newest_first(anon_client, price_pool, path):
    _rotate_n(price_pool, 60)
    first = anon_client.get(path).json()
    assert first["count"] == 60
    assert len(first["results"]) == 50
    assert first["results"][0]["reason"] == "r59"
    assert first["next"] is not None
    second = anon_client.get(first["next"]).json()
    assert len(second["results"]) == 10
    assert second["results"][-1]["reason"] == "r0"


def test_history_filters_by_pool(anon_client, price_pool, lonely_pool):
    _rotate_n(price_pool, 3)
    _rotate_n(lonely_pool, 2)
    body = anon_client.get("/api/pools/history?pool=lonely").json()
    assert body["count"] == 2
    assert {e["pool"] for e in body["results"]} == {"lonely"}
    assert anon_client.get("/api/rotations?pool=price").json()["count"] == 3
    assert anon_client.get("/api/pools/history").json()["count"] == 5


# --- auth on every write ----------------------------------------------------------------------

WRITES = [
    ("post", "/api/pools", OLD_POOL_BODY),
    ("patch", "/api/pools/price", {"description": "changed"}),
    ("delete", "/api/pools/price", None),
    ("post", "/api/pools/price/members", {"provider_id": "binance"}),
    ("patch", "/api/pools/price/members/coincap", {"weight": 1}),
    ("delete", "/api/pools/price/members/coincap", None),
    ("post", "/api/pools/price/rotate", {"reason": "auth test"}),
]


def _snapshot():
    return (
        sorted(Pool.objects.values_list("slug", "description")),
        sorted(PoolMembership.objects.values_list("pool__slug", "provider__slug", "weight")),
        RotationEvent.objects.count(),
    )


def _call(client, method, path, body, **extra):
    if body is None:
        return getattr(client, method)(path, **extra)
    return getattr(client, method)(path, body, format="json", **extra)


@pytest.mark.parametrize("method, path, body", WRITES)
def test_anonymous_cannot_write(anon_client, price_pool, method, path, body):
    before = _snapshot()
    assert _call(anon_client, method, path, body).status_code in (401, 403)
    assert _snapshot() == before


@pytest.mark.parametrize("method, path, body", WRITES)
def test_non_staff_cannot_write(user_client, price_pool, method, path, body):
    before = _snapshot()
    assert _call(user_client, method, path, body).status_code == 403
    assert _snapshot() == before


@pytest.mark.parametrize("method, path, body", WRITES)
def test_staff_session_without_csrf_token_cannot_write(csrf_session_client, price_pool, method, path, body):
    before = _snapshot()
    response = _call(csrf_session_client, method, path, body)
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert _snapshot() == before


@pytest.mark.parametrize("method, path, body", WRITES)
def test_staff_session_with_csrf_token_writes(csrf_session_client, price_pool, method, path, body):
    before = _snapshot()
    csrf_session_client.get("/api/pools", HTTP_ACCEPT="text/html")  # hands out the CSRF cookie
    token = csrf_session_client.cookies["csrftoken"].value
    assert _call(csrf_session_client, method, path, body, HTTP_X_CSRFTOKEN=token).status_code in (200, 201, 204)
    assert _snapshot() != before


@pytest.mark.parametrize("method, path, body", WRITES)
def test_staff_token_writes(staff_client, price_pool, method, path, body):
    before = _snapshot()
    assert _call(staff_client, method, path, body).status_code in (200, 201, 204)
    assert _snapshot() != before


# --- Redis down -------------------------------------------------------------------------------


def test_pool_detail_without_redis_shows_no_current_order(anon_client, price_pool, redis_down):
    response = anon_client.get("/api/pools/price")
    assert response.status_code == 200
    assert response.json()["current_order"] is None
    assert len(response.json()["members"]) == 3


def test_rotate_without_redis_is_503_and_records_nothing(staff_client, price_pool, redis_down):
    response = staff_client.post("/api/pools/price/rotate", {"reason": "redis test"}, format="json")
    assert response.status_code == 503
    assert "detail" in response.json()
    assert not RotationEvent.objects.exists()
