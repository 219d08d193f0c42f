"""The pool API: seed paths, the old system's bodies, members, rotation, history, auth, errors."""

import socket

import pytest

from pools import state
from pools.models import Pool, PoolMembership, RotationEvent

SLASHES = ["", "/"]
OLD_POOL_BODY = {
    "name": "My Market Pool",
    "category": "market_data",
    "rotation_strategy": "weighted",
    "description": "Market data from several providers",
}
OLD_MEMBER_BODY = {"provider_id": "coingecko", "priority": 10, "weight": 100}


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def providers(make_provider):
    return {
        slug: make_provider(slug=slug, name=slug.title(), category=category)
        for slug, category in [
            ("coingecko", "market_data"), ("coincap", "market_data"),
            ("coinpaprika", "market_data"), ("binance", "exchange"),
        ]
    }


@pytest.fixture
def price_pool(providers):
    """A round-robin pool with three members (coingecko first by priority)."""
    pool = Pool.objects.create(slug="price", name="Price", capability="price", strategy="round_robin")
    for slug, priority in [("coingecko", 30), ("coincap", 20), ("coinpaprika", 10)]:
        PoolMembership.objects.create(pool=pool, provider=providers[slug], priority=priority, weight=100)
    return pool


@pytest.fixture
def lonely_pool(providers):
    pool = Pool.objects.create(slug="lonely", name="Lonely", capability="exchange", strategy="priority")
    PoolMembership.objects.create(pool=pool, provider=providers["binance"])
    return pool


# --- the old system's bodies ------------------------------------------------------------------


@pytest.mark.parametrize("slash", SLASHES)
def test_old_system_pool_body_creates_a_pool_with_a_derived_slug(staff_client, providers, slash):
    response = staff_client.post("/api/pools" + slash, OLD_POOL_BODY, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["slug"] == "my_market_pool"
    assert body["capability"] == "market_data"
    assert body["strategy"] == "weighted"
    assert body["members"] == []
    assert body["current_order"] == []
    pool = Pool.objects.get(slug="my_market_pool")
    assert (pool.name, pool.capability, pool.strategy) == ("My Market Pool", "market_data", "weighted")
    assert pool.description == "Market data from several providers"


@pytest.mark.parametrize("slash", SLASHES)
def test_old_system_member_body_adds_a_member(staff_client, providers, slash):
    staff_client.post("/api/pools", OLD_POOL_BODY, format="json")
    response = staff_client.post("/api/pools/my_market_pool/members" + slash, OLD_MEMBER_BODY, format="json")
    assert response.status_code == 201
    assert response.json()["provider"] == "coingecko"
    membership = PoolMembership.objects.get(pool__slug="my_market_pool", provider__slug="coingecko")
    assert (membership.priority, membership.weight, membership.enabled) == (10, 100, True)


def test_current_names_are_accepted_too(staff_client, providers):
    response = staff_client.post(
        "/api/pools", {"name": "Gas", "slug": "gas_pool", "capability": "gas", "strategy": "priority"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["slug"] == "gas_pool"
    response = staff_client.post("/api/pools/gas_pool/members", {"provider": "binance"}, format="json")
    assert response.status_code == 201
    membership = PoolMembership.objects.get(pool__slug="gas_pool")
    assert (membership.priority, membership.weight) == (0, 100)


# --- reads ------------------------------------------------------------------------------------


@pytest.mark.parametrize("slash", SLASHES)
def test_list_pools(anon_client, price_pool, lonely_pool, slash):
    response = anon_client.get("/api/pools" + slash)
    assert response.status_code == 200
    body = response.json()
    assert [p["slug"] for p in body] == ["lonely", "price"]
    assert [m["provider"] for m in body[1]["members"]] == ["coingecko", "coincap", "coinpaprika"]


@pytest.mark.parametrize("slash", SLASHES)
def test_pool_detail_shows_members_and_current_order(anon_client, price_pool, slash):
    response = anon_client.get("/api/pools/price" + slash)
    assert response.status_code == 200
    body = response.json()
    assert body["strategy"] == "round_robin"
    assert body["members"][0] == {
        "provider": "coingecko", "name": "Coingecko", "category": "market_data",
        "priority": 30, "weight": 100, "enabled": True, "provider_enabled": True,
    }
    assert [m["provider"] for m in body["current_order"]] == ["coingecko", "coincap", "coinpaprika"]


def test_reading_a_pool_never_rotates_it(anon_client, price_pool, redis_client):
    orders = [[m["provider"] for m in anon_client.get("/api/pools/price").json()["current_order"]] for _ in range(3)]
    assert orders[0] == orders[1] == orders[2]
    assert redis_client.get(state.rr_key("price")) is None
    assert not RotationEvent.objects.exists()


def test_current_order_follows_the_shared_round_robin_cursor(anon_client, price_pool, redis_client):
    redis_client.set(state.rr_key("price"), 1)
    order = [m["provider"] for m in anon_client.get("/api/pools/price").json()["current_order"]]
    assert order == ["coincap", "coinpaprika", "coingecko"]


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/api/pools/nope"),
        ("patch", "/api/pools/nope"),
        ("delete", "/api/pools/nope"),
        ("post", "/api/pools/nope/members"),
        ("patch", "/api/pools/nope/members/coingecko"),
        ("delete", "/api/pools/nope/members/coingecko"),
        ("post", "/api/pools/nope/rotate"),
        ("get", "/api/pools/history?pool=nope"),
    ],
)
def test_unknown_pool_is_404(staff_client, providers, method, path):
    body = {"provider": "coingecko", "reason": "x", "name": "n"}
    response = getattr(staff_client, method)(path, body, format="json") if method != "get" else staff_client.get(path)
    assert response.status_code == 404
    assert "nope" in response.json()["detail"]


# --- pool writes ------------------------------------------------------------------------------


def test_duplicate_pool_is_409(staff_client, price_pool):
    response = staff_client.post("/api/pools", {"name": "Price", "capability": "price"}, format="json")
    assert response.status_code == 409
    assert "slug" in response.json()
    assert Pool.objects.count() == 1


@pytest.mark.parametrize(
    "override, field",
    [
        ({"rotation_strategy": "random"}, "rotation_strategy"),
        ({"rotation_strategy": None, "strategy": "fastest"}, "strategy"),
        ({"category": "weather"}, "category"),
        ({"category": None, "capability": "weather"}, "capability"),
        ({"name": ""}, "name"),
        ({"name": "!!!"}, "name"),
        ({"name": "History"}, "name"),
        ({"slug": "history"}, "slug"),
        ({"slug": "no spaces allowed"}, "slug"),
        ({"strategy": "priority"}, "rotation_strategy"),  # both names, different values
    ],
)
def test_bad_pool_input_is_400_naming_the_field(staff_client, providers, override, field):
    body = {**OLD_POOL_BODY, **override}
    body = {k: v for k, v in body.items() if v is not None}
    response = staff_client.post("/api/pools", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Pool.objects.exists()


def test_missing_pool_fields_are_400_naming_each(staff_client, db):
    response = staff_client.post("/api/pools", {}, format="json")
    assert response.status_code == 400
    assert {"name", "capability"} <= set(response.json())


def test_non_json_pool_body_is_400(staff_client, db):
    response = staff_client.generic("POST", "/api/pools", b"name=x&&", content_type="application/json")
    assert response.status_code == 400
    assert not Pool.objects.exists()


@pytest.mark.parametrize("slash", SLASHES)
def test_patch_pool_accepts_old_names(staff_client, price_pool, slash):
    response = staff_client.patch(
        "/api/pools/price" + slash, {"rotation_strategy": "priority", "description": "new"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["strategy"] == "priority"
    price_pool.refresh_from_db()
    assert (price_pool.strategy, price_pool.description) == ("priority", "new")


def test_patch_pool_bad_strategy_is_400_and_changes_nothing(staff_client, price_pool):
    response = staff_client.patch("/api/pools/price", {"strategy": "random"}, format="json")
    assert response.status_code == 400
    assert "strategy" in response.json()
    price_pool.refresh_from_db()
    assert price_pool.strategy == "round_robin"


@pytest.mark.parametrize("slash", SLASHES)
def test_delete_pool(staff_client, price_pool, slash):
    assert staff_client.delete("/api/pools/price" + slash).status_code == 204
    assert not Pool.objects.exists()
    assert not PoolMembership.objects.exists()


# --- members ----------------------------------------------------------------------------------


def test_duplicate_member_is_409(staff_client, price_pool):
    response = staff_client.post("/api/pools/price/members", {"provider_id": "coingecko"}, format="json")
    assert response.status_code == 409
    assert "provider" in response.json()
    assert PoolMembership.objects.filter(pool=price_pool).count() == 3


def test_unknown_provider_member_is_404(staff_client, price_pool):
    response = staff_client.post("/api/pools/price/members", {"provider_id": "nope"}, format="json")
    assert response.status_code == 404
    assert "nope" in response.json()["detail"]
    assert PoolMembership.objects.filter(pool=price_pool).count() == 3


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "provider"),
        ({"provider": "binance", "weight": -1}, "weight"),
        ({"provider_id": "binance", "priority": "high"}, "priority"),
        ({"provider_id": "binance", "enabled": "perhaps"}, "enabled"),
        ({"provider_id": "has space"}, "provider_id"),
    ],
)
def test_bad_member_input_is_400_naming_the_field(staff_client, price_pool, body, field):
    response = staff_client.post("/api/pools/price/members", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert PoolMembership.objects.filter(pool=price_pool).count() == 3


@pytest.mark.parametrize("slash", SLASHES)
def test_remove_member(staff_client, price_pool, slash):
    response = staff_client.delete("/api/pools/price/members/coincap" + slash)
    assert response.status_code == 204
    assert sorted(PoolMembership.objects.values_list("provider__slug", flat=True)) == ["coingecko", "coinpaprika"]


def test_remove_non_member_is_404(staff_client, price_pool):
    response = staff_client.delete("/api/pools/price/members/binance")
    assert response.status_code == 404
    assert PoolMembership.objects.count() == 3


def test_patch_member(staff_client, price_pool):
    response = staff_client.patch("/api/pools/price/members/coincap", {"priority": 99, "weight": 5}, format="json")
    assert response.status_code == 200
    membership = PoolMembership.objects.get(pool=price_pool, provider__slug="coincap")
    assert (membership.priority, membership.weight) == (99, 5)


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


def test_rotate_a_pool_with_one_member_is_409(staff_client, lonely_pool):
    response = staff_client.post("/api/pools/lonely/rotate", {"reason": "try"}, format="json")
    assert response.status_code == 409
    assert "at least 2" in response.json()["detail"]
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


@pytest.fixture
def redis_down(settings):
    """Point the app at a loopback port where nothing listens."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"


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
