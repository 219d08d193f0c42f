"""Shared fixtures: a real Redis for the whole session (flushed before every test), database rows
and API clients; the fixture modules under tests/fixtures/ are registered here, once, for every test."""

import os
import socket

import pytest
import redis
from django.conf import settings

from tests.redis_server import RedisServer

# Fixture modules (pytest_plugins is honoured only in the top-level conftest).
pytest_plugins = [
    "tests.fixtures.clock",
    "tests.fixtures.fake_upstream",
    "tests.fixtures.engine",
    "tests.fixtures.dataplane",
    "tests.fixtures.loopback",
    "tests.fixtures.redis",
    "tests.fixtures.worker",
]


def _point_settings_at(url: str) -> None:
    settings.REDIS_URL = url
    settings.CELERY_BROKER_URL = url
    settings.CELERY_RESULT_BACKEND = url
    settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"] = [url]
    # Server and worker processes started by tests inherit the same Redis.
    os.environ["REDIS_URL"] = url


@pytest.fixture(scope="session", autouse=True)
def redis_server():
    server = RedisServer()
    _point_settings_at(server.url)
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _flush_redis(redis_server):
    client = redis.Redis.from_url(redis_server.url)
    client.flushdb()
    client.close()
    yield


@pytest.fixture(autouse=True)
def _shipped_asset_registry():
    """Every test starts from the shipped registry: a test whose snapshot build installed its own
    database's registry (healing.catalogue) must not leave it behind for the next one."""
    from healing import catalogue
    from providers import assets

    yield
    assets._current = None
    catalogue._registry_fingerprint = None


@pytest.fixture
def redis_client(redis_server):
    client = redis.Redis.from_url(redis_server.url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def redis_down(settings):
    """Point the app at a loopback port where nothing listens."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"


@pytest.fixture
def make_provider(db):
    """Create a Provider with sensible defaults; any field can be overridden."""
    from providers.models import Provider

    counter = iter(range(1, 10_000))

    def make(**overrides):
        n = next(counter)
        fields = {
            "slug": f"provider-{n}",
            "name": f"Provider {n}",
            "category": "market_data",
            "base_url": f"https://api{n}.example.com/v1",
            "health_path": "/ping",
            "rate_limits": "30/minute",
        }
        fields.update(overrides)
        return Provider.objects.create(**fields)

    return make


# --- API clients: staff (token), plain user (token), anonymous, staff session enforcing CSRF ---


def _user(username, *, staff):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user(username, password="pw-" + username, is_staff=staff)


def _token_client(user):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + Token.objects.create(user=user).key)
    return client


@pytest.fixture
def staff_user(db):
    return _user("staffer", staff=True)


@pytest.fixture
def staff_client(staff_user):
    return _token_client(staff_user)


@pytest.fixture
def user_client(db):
    return _token_client(_user("plain", staff=False))


@pytest.fixture
def anon_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def csrf_session_client(staff_user):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.force_login(staff_user)
    return client
