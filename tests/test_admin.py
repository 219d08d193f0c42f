"""The admin: every model's pages render, the actions work, and no key value is ever shown."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.urls import reverse

from pools.models import Pool, PoolMembership, RotationEvent
from providers.models import Provider
from providers.runtime import CONFIG_VERSION_KEY, rkey

SECRET = "sk-live-CRYPTOHUB-ADMIN-SECRET-99zz"
KEY_ENV = "CRYPTOHUB_TEST_ADMIN_KEY"


@pytest.fixture
def admin_user(db):
    return get_user_model().objects.create_superuser("boss", password="pw-boss")


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def world(make_provider, monkeypatch):
    monkeypatch.setenv(KEY_ENV, SECRET)
    monkeypatch.delenv("CRYPTOHUB_TEST_ADMIN_UNSET", raising=False)
    gecko = make_provider(slug="coingecko", name="CoinGecko", api_key_env=KEY_ENV)
    cap = make_provider(slug="coincap", name="CoinCap", api_key_env="CRYPTOHUB_TEST_ADMIN_UNSET")
    lone = make_provider(slug="binance", name="Binance", category="exchange")
    price = Pool.objects.create(slug="price", name="Price", capability="price", strategy="priority")
    PoolMembership.objects.create(pool=price, provider=gecko, priority=2)
    PoolMembership.objects.create(pool=price, provider=cap, priority=1)
    single = Pool.objects.create(slug="single", name="Single", capability="exchange")
    PoolMembership.objects.create(pool=single, provider=lone)
    event = RotationEvent.objects.create(pool=price, from_provider=gecko, to_provider=cap, reason="test", actor="boss")
    return {"gecko": gecko, "cap": cap, "lone": lone, "price": price, "single": single, "event": event}


def _messages(response):
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


MODELS = ["providers_provider", "pools_pool", "pools_poolmembership", "pools_rotationevent"]


@pytest.mark.parametrize("model", MODELS)
def test_changelist_renders(admin_client, world, model):
    response = admin_client.get(reverse(f"admin:{model}_changelist"))
    assert response.status_code == 200
    assert SECRET not in response.content.decode()


@pytest.mark.parametrize(
    "model, query",
    [
        ("providers_provider", "?q=gecko&category__exact=market_data&enabled__exact=1"),
        ("pools_pool", "?q=price&strategy__exact=priority"),
        ("pools_poolmembership", "?q=coin&enabled__exact=1"),
        ("pools_rotationevent", "?q=test&actor=boss"),
    ],
)
def test_changelist_search_and_filters_render(admin_client, world, model, query):
    response = admin_client.get(reverse(f"admin:{model}_changelist") + query)
    assert response.status_code == 200
    assert "errornote" not in response.content.decode()


@pytest.mark.parametrize(
    "model, key",
    [
        ("providers_provider", "gecko"),
        ("pools_pool", "price"),
        ("pools_poolmembership", None),
        ("pools_rotationevent", "event"),
    ],
)
def test_change_page_renders(admin_client, world, model, key):
    obj = world[key] if key else PoolMembership.objects.first()
    response = admin_client.get(reverse(f"admin:{model}_change", args=[obj.pk]))
    assert response.status_code == 200
    assert SECRET not in response.content.decode()


@pytest.mark.parametrize("model", ["providers_provider", "pools_pool", "pools_poolmembership"])
def test_add_page_renders(admin_client, world, model):
    assert admin_client.get(reverse(f"admin:{model}_add")).status_code == 200


def test_rotation_history_is_read_only(admin_client, world):
    assert admin_client.get(reverse("admin:pools_rotationevent_add")).status_code == 403


def test_pool_page_shows_memberships_inline(admin_client, world):
    html = admin_client.get(reverse("admin:pools_pool_change", args=[world["price"].pk])).content.decode()
    assert 'name="memberships-INITIAL_FORMS" value="2"' in html
    assert 'name="memberships-0-priority" value="2"' in html
    assert 'name="memberships-1-priority" value="1"' in html


def test_key_column_shows_whether_set_never_the_value(admin_client, world):
    html = admin_client.get(reverse("admin:providers_provider_changelist")).content.decode()
    assert f"{KEY_ENV} ✔" in html
    assert "CRYPTOHUB_TEST_ADMIN_UNSET ✘" in html
    assert SECRET not in html
    change = admin_client.get(reverse("admin:providers_provider_change", args=[world["gecko"].pk])).content.decode()
    assert f"{KEY_ENV} ✔" in change
    assert SECRET not in change


def test_disable_and_enable_actions(admin_client, world, redis_client, django_capture_on_commit_callbacks):
    url = reverse("admin:providers_provider_changelist")
    pks = [world["gecko"].pk, world["cap"].pk]
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, {"action": "disable_providers", "_selected_action": pks}, follow=True)
    assert response.status_code == 200
    assert set(Provider.objects.filter(enabled=False).values_list("slug", flat=True)) == {"coingecko", "coincap"}
    assert ("success", "Disabled 2 provider(s).") in _messages(response)
    # A bulk UPDATE sends no signal, so the action itself tells the other processes.
    assert int(redis_client.get(rkey(CONFIG_VERSION_KEY))) >= 1

    response = admin_client.post(url, {"action": "enable_providers", "_selected_action": pks[:1]}, follow=True)
    assert ("success", "Enabled 1 provider(s).") in _messages(response)
    assert set(Provider.objects.filter(enabled=False).values_list("slug", flat=True)) == {"coincap"}


def test_rotate_now_action_rotates_and_warns_per_pool(admin_client, world):
    url = reverse("admin:pools_pool_changelist")
    empty = Pool.objects.create(slug="empty", name="Empty", capability="exchange")
    before = RotationEvent.objects.count()
    response = admin_client.post(
        url, {"action": "rotate_now", "_selected_action": [world["price"].pk, world["single"].pk, empty.pk]},
        follow=True,
    )
    assert response.status_code == 200
    messages = _messages(response)
    assert ("success", "price: rotated from coingecko to coincap.") in messages
    assert ("info", "single: binance stays the head, the only eligible member (recorded).") in messages
    warnings = [text for level, text in messages if level == "warning"]
    assert len(warnings) == 1 and warnings[0].startswith("empty: not rotated:")
    assert RotationEvent.objects.count() == before + 2
    event = RotationEvent.objects.filter(pool__slug="price").first()
    assert (event.pool.slug, event.actor, event.from_provider.slug, event.to_provider.slug) == (
        "price", "boss", "coingecko", "coincap"
    )


PROVIDER_FORM = {
    "slug": "newprov",
    "name": "New",
    "category": "exchange",
    "enabled": "on",
    "is_free": "on",
    "notes": "",
    "base_url": "https://api.new.example.com",
    "docs_url": "",
    "health_path": "/ping",
    "health_method": "GET",
    "health_body": "",
    "auth_type": "none",
    "auth_param": "",
    "auth_scheme": "",
    "api_key_env": "",
    "rate_limits": "30/minute",
    "timeout_s": "10",
    "breaker_failure_threshold": "5",
    "breaker_open_s": "30",
}


def test_provider_form_rejects_a_bad_rate_limit(admin_client, world):
    response = admin_client.post(reverse("admin:providers_provider_add"), {**PROVIDER_FORM, "rate_limits": "lots"})
    assert response.status_code == 200
    assert "not a valid rate limit string" in response.content.decode()
    assert not Provider.objects.filter(slug="newprov").exists()


def test_provider_form_saves_a_valid_provider(admin_client, world):
    response = admin_client.post(reverse("admin:providers_provider_add"), PROVIDER_FORM)
    assert response.status_code == 302
    assert Provider.objects.get(slug="newprov").rate_limits == "30/minute"


def test_pool_form_saves_memberships_inline(admin_client, world):
    form = {
        "slug": "gas", "name": "Gas", "capability": "gas", "strategy": "round_robin", "description": "",
        "enabled": "on",
        "memberships-TOTAL_FORMS": "2", "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0", "memberships-MAX_NUM_FORMS": "1000",
        "memberships-0-provider": world["gecko"].pk, "memberships-0-priority": "5",
        "memberships-0-weight": "50", "memberships-0-enabled": "on",
        "memberships-1-provider": world["lone"].pk, "memberships-1-priority": "1",
        "memberships-1-weight": "100", "memberships-1-enabled": "on",
    }
    response = admin_client.post(reverse("admin:pools_pool_add"), form)
    assert response.status_code == 302
    members = PoolMembership.objects.filter(pool__slug="gas").order_by("-priority")
    assert [(m.provider.slug, m.priority, m.weight) for m in members] == [("coingecko", 5, 50), ("binance", 1, 100)]
