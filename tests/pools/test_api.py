"""The pool API: seed paths, the old system's bodies, reads, pool and member writes, errors. Rotation,
history, auth and Redis down: test_api_rotation.py."""

import pytest

from pools import state
from pools.models import Pool, PoolMembership, RotationEvent
from tests.pools.api_bodies import OLD_MEMBER_BODY, OLD_POOL_BODY, SLASHES

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
