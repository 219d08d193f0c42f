"""The provider catalogue API: seed paths, filters, writes, auth, errors, and no key in any answer."""

import json

import pytest

from providers.models import Provider
from providers.runtime import CONFIG_VERSION_KEY, rkey

SECRET = "sk-live-CRYPTOHUB-TEST-SECRET-7f3a9c"
KEY_ENV = "CRYPTOHUB_TEST_PROVIDER_KEY"
SLASHES = ["", "/"]

NEW_PROVIDER = {
    "slug": "newprov",
    "name": "New Provider",
    "category": "exchange",
    "base_url": "https://api.newprov.example.com",
    "health_path": "/ping",
    "rate_limits": "10/second;1000/day",
}


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def secret_env(monkeypatch):
    monkeypatch.setenv(KEY_ENV, SECRET)


@pytest.fixture
def catalogue(make_provider, secret_env):
    return {
        "coingecko": make_provider(slug="coingecko", name="CoinGecko", category="market_data",
                                   api_key_env=KEY_ENV, auth_type="header", auth_param="x-cg-demo-api-key"),
        "binance": make_provider(slug="binance", name="Binance", category="exchange", notes="spot tickers"),
        "kraken": make_provider(slug="kraken", name="Kraken", category="exchange", enabled=False),
        "etherscan": make_provider(slug="etherscan", name="Etherscan", category="explorer",
                                   api_key_env="CRYPTOHUB_UNSET_KEY_VAR", key_required=True),
    }


def assert_no_secret(response):
    assert SECRET not in response.content.decode()


# --- reads ------------------------------------------------------------------------------------


@pytest.mark.parametrize("slash", SLASHES)
def test_list_answers_with_and_without_trailing_slash(anon_client, catalogue, slash):
    response = anon_client.get("/api/providers" + slash)
    assert response.status_code == 200
    assert [p["slug"] for p in response.json()] == ["binance", "coingecko", "etherscan", "kraken"]
    assert_no_secret(response)


def test_list_shows_key_env_name_and_whether_set_never_the_value(anon_client, catalogue):
    by_slug = {p["slug"]: p for p in anon_client.get("/api/providers").json()}
    assert by_slug["coingecko"]["api_key_env"] == KEY_ENV
    assert by_slug["coingecko"]["api_key_set"] is True
    assert by_slug["etherscan"]["api_key_set"] is False
    assert by_slug["binance"]["api_key_env"] == ""
    assert by_slug["binance"]["api_key_set"] is False


@pytest.mark.parametrize(
    "query, expected",
    [
        ("?category=exchange", ["binance", "kraken"]),
        ("?enabled=false", ["kraken"]),
        ("?enabled=true&category=exchange", ["binance"]),
        ("?search=gecko", ["coingecko"]),
        ("?search=SPOT", ["binance"]),
        ("?category=market_data&search=binance", []),
    ],
)
def test_list_filters(anon_client, catalogue, query, expected):
    response = anon_client.get("/api/providers" + query)
    assert response.status_code == 200
    assert [p["slug"] for p in response.json()] == expected


@pytest.mark.parametrize("query, field", [("?category=bogus", "category"), ("?enabled=maybe", "enabled")])
def test_bad_list_filter_is_400_naming_the_parameter(anon_client, catalogue, query, field):
    response = anon_client.get("/api/providers" + query)
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize("slash", SLASHES)
def test_detail_answers_with_and_without_trailing_slash(anon_client, catalogue, slash):
    response = anon_client.get("/api/providers/coingecko" + slash)
    assert response.status_code == 200
    body = response.json()
    assert body["slug"] == "coingecko"
    assert body["name"] == "CoinGecko"
    assert body["api_key_env"] == KEY_ENV
    assert body["api_key_set"] is True
    assert "catalogue_hash" not in body
    assert_no_secret(response)


@pytest.mark.parametrize("slash", SLASHES)
def test_unknown_provider_is_404(anon_client, catalogue, slash):
    response = anon_client.get("/api/providers/nope" + slash)
    assert response.status_code == 404
    assert "nope" in response.json()["detail"]


@pytest.mark.parametrize("slash", SLASHES)
def test_category_path_lists_that_category(anon_client, catalogue, slash):
    response = anon_client.get("/api/providers/category/exchange" + slash)
    assert response.status_code == 200
    assert [p["slug"] for p in response.json()] == ["binance", "kraken"]


def test_category_path_with_no_providers_is_an_empty_list(anon_client, catalogue):
    response = anon_client.get("/api/providers/category/nft")
    assert response.status_code == 200
    assert response.json() == []


def test_unknown_category_is_404(anon_client, catalogue):
    response = anon_client.get("/api/providers/category/weather")
    assert response.status_code == 404
    assert "weather" in response.json()["detail"]


def test_reads_need_a_login_when_public_read_is_off(anon_client, user_client, catalogue, settings):
    settings.CRYPTOHUB_PUBLIC_READ = False
    assert anon_client.get("/api/providers").status_code in (401, 403)
    assert user_client.get("/api/providers").status_code == 200


# --- writes -----------------------------------------------------------------------------------


@pytest.mark.parametrize("slash", SLASHES)
def test_staff_creates_a_provider(staff_client, catalogue, redis_client, slash, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post("/api/providers" + slash, NEW_PROVIDER, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["slug"] == "newprov"
    assert body["rate_limits"] == "10/second;1000/day"
    assert body["enabled"] is True
    provider = Provider.objects.get(slug="newprov")
    assert provider.category == "exchange"
    # Every process learns about the change.
    assert int(redis_client.get(rkey(CONFIG_VERSION_KEY))) >= 1


def test_create_derives_the_slug_from_the_name(staff_client, db):
    body = {k: v for k, v in NEW_PROVIDER.items() if k != "slug"}
    body["name"] = "Some New API v2"
    response = staff_client.post("/api/providers", body, format="json")
    assert response.status_code == 201
    assert response.json()["slug"] == "some_new_api_v2"


def test_duplicate_slug_is_409(staff_client, catalogue):
    response = staff_client.post("/api/providers", {**NEW_PROVIDER, "slug": "binance"}, format="json")
    assert response.status_code == 409
    assert "slug" in response.json()
    assert Provider.objects.get(slug="binance").name == "Binance"
    assert Provider.objects.count() == 4


@pytest.mark.parametrize(
    "override, field",
    [
        ({"rate_limits": "lots per minute"}, "rate_limits"),
        ({"category": "weather"}, "category"),
        ({"base_url": "not a url"}, "base_url"),
        ({"auth_type": "cookie"}, "auth_type"),
        ({"timeout_s": 0}, "timeout_s"),
        ({"api_key_env": "sk-123 secret"}, "api_key_env"),
        ({"slug": "has space"}, "slug"),
    ],
)
def test_bad_field_is_400_naming_it_and_writes_nothing(staff_client, db, override, field):
    response = staff_client.post("/api/providers", {**NEW_PROVIDER, **override}, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Provider.objects.exists()


def test_missing_fields_are_400_naming_each(staff_client, db):
    response = staff_client.post("/api/providers", {"slug": "x"}, format="json")
    assert response.status_code == 400
    assert {"name", "category", "base_url"} <= set(response.json())


def test_non_json_body_is_400(staff_client, db):
    response = staff_client.generic("POST", "/api/providers", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert "detail" in response.json()
    assert not Provider.objects.exists()


def test_list_body_is_400(staff_client, db):
    response = staff_client.post("/api/providers", [NEW_PROVIDER], format="json")
    assert response.status_code == 400
    assert not Provider.objects.exists()


@pytest.mark.parametrize("slash", SLASHES)
def test_staff_patches_a_provider(staff_client, catalogue, slash):
    response = staff_client.patch(
        "/api/providers/binance" + slash, {"rate_limits": "20/second", "enabled": False}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["rate_limits"] == "20/second"
    provider = Provider.objects.get(slug="binance")
    assert provider.rate_limits == "20/second"
    assert provider.enabled is False


def test_patch_with_bad_rate_limits_is_400_and_changes_nothing(staff_client, catalogue):
    response = staff_client.patch("/api/providers/binance", {"rate_limits": "30/fortnight"}, format="json")
    assert response.status_code == 400
    assert "rate_limits" in response.json()
    assert Provider.objects.get(slug="binance").rate_limits == "30/minute"


def test_patch_cannot_change_the_slug(staff_client, catalogue):
    response = staff_client.patch("/api/providers/binance", {"slug": "binance2"}, format="json")
    assert response.status_code == 400
    assert "slug" in response.json()
    assert Provider.objects.filter(slug="binance").exists()


def test_patch_unknown_provider_is_404(staff_client, catalogue):
    assert staff_client.patch("/api/providers/nope", {"enabled": False}, format="json").status_code == 404


@pytest.mark.parametrize("slash", SLASHES)
def test_staff_deletes_a_provider(staff_client, catalogue, slash):
    response = staff_client.delete("/api/providers/kraken" + slash)
    assert response.status_code == 204
    assert not Provider.objects.filter(slug="kraken").exists()


def test_delete_unknown_provider_is_404(staff_client, catalogue):
    assert staff_client.delete("/api/providers/nope").status_code == 404
    assert Provider.objects.count() == 4


# --- auth on every write ----------------------------------------------------------------------

WRITES = [
    ("post", "/api/providers", NEW_PROVIDER),
    ("patch", "/api/providers/binance", {"name": "Renamed"}),
    ("delete", "/api/providers/binance", None),
]


def _snapshot():
    return sorted(Provider.objects.values_list("slug", "name", "enabled"))


def _call(client, method, path, body):
    return getattr(client, method)(path, body, format="json") if body is not None else getattr(client, method)(path)


@pytest.mark.parametrize("method, path, body", WRITES)
def test_anonymous_cannot_write(anon_client, catalogue, method, path, body):
    before = _snapshot()
    assert _call(anon_client, method, path, body).status_code in (401, 403)
    assert _snapshot() == before


@pytest.mark.parametrize("method, path, body", WRITES)
def test_non_staff_cannot_write(user_client, catalogue, method, path, body):
    before = _snapshot()
    assert _call(user_client, method, path, body).status_code == 403
    assert _snapshot() == before


@pytest.mark.parametrize("method, path, body", WRITES)
def test_staff_session_without_csrf_token_cannot_write(csrf_session_client, catalogue, method, path, body):
    before = _snapshot()
    response = _call(csrf_session_client, method, path, body)
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert _snapshot() == before


@pytest.mark.parametrize("method, path, body", WRITES)
def test_staff_session_with_csrf_token_writes(csrf_session_client, catalogue, method, path, body):
    before = _snapshot()
    # The browsable API page hands out the CSRF cookie, as it does to a browser.
    csrf_session_client.get("/api/providers", HTTP_ACCEPT="text/html")
    token = csrf_session_client.cookies["csrftoken"].value
    extra = {"HTTP_X_CSRFTOKEN": token}
    if body is None:
        response = getattr(csrf_session_client, method)(path, **extra)
    else:
        response = getattr(csrf_session_client, method)(path, body, format="json", **extra)
    assert response.status_code in (200, 201, 204)
    assert _snapshot() != before


@pytest.mark.parametrize("method, path, body", WRITES)
def test_staff_token_writes(staff_client, catalogue, method, path, body):
    before = _snapshot()
    assert _call(staff_client, method, path, body).status_code in (200, 201, 204)
    assert _snapshot() != before


# --- the key never leaves --------------------------------------------------------------------


def test_no_answer_contains_the_key_value(anon_client, staff_client, catalogue):
    responses = [
        anon_client.get("/api/providers"),
        anon_client.get("/api/providers/coingecko"),
        anon_client.get("/api/providers/category/market_data"),
        anon_client.get("/api/providers?search=coingecko"),
        staff_client.patch("/api/providers/coingecko", {"notes": "edited"}, format="json"),
        staff_client.patch("/api/providers/coingecko", {"rate_limits": "bad"}, format="json"),
        staff_client.post("/api/providers", {**NEW_PROVIDER, "slug": "coingecko"}, format="json"),
        staff_client.post("/api/providers", {**NEW_PROVIDER, "slug": "withkey", "api_key_env": KEY_ENV}, format="json"),
        anon_client.get("/api/providers/withkey", HTTP_ACCEPT="text/html"),
    ]
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 200, 400, 409, 201, 200]
    for response in responses:
        assert_no_secret(response)
    assert json.loads(responses[7].content)["api_key_set"] is True
