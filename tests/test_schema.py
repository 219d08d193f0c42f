"""The OpenAPI schema and Swagger UI: every seed path documented, no warnings, no CDN."""

import re

import pytest
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from healing.api import urls as healing_urls
from pools.api import urls as pool_urls
from providers.api import urls as provider_urls

SEED_PATHS = {
    "/health": {"get"},
    "/api/status": {"get"},
    "/api/stats": {"get"},
    "/api/stats/export": {"get"},
    "/api/providers": {"get", "post"},
    "/api/providers/{slug}": {"get", "patch", "delete"},
    "/api/providers/category/{category}": {"get"},
    "/api/pools": {"get", "post"},
    "/api/pools/{slug}": {"get", "patch", "delete"},
    "/api/pools/{slug}/members": {"post"},
    "/api/pools/{slug}/members/{provider}": {"delete"},
    "/api/pools/{slug}/rotate": {"post"},
    "/api/pools/history": {"get"},
    "/api/rotations": {"get"},
}


@pytest.fixture
def client():
    return APIClient()


def test_schema_documents_every_seed_path(client, db):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    for path, methods in SEED_PATHS.items():
        assert path in schema["paths"], path
        assert methods <= set(schema["paths"][path]), path
    # The trailing-slash twins answer but are not documented twice.
    assert "/api/providers/" not in schema["paths"]
    validate_schema(schema)


def test_schema_yaml_renders(client, db):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    assert b"/api/pools/{slug}/rotate:" in response.content


def test_our_views_generate_without_warnings_or_errors():
    GENERATOR_STATS.reset()
    status_urls = [p for p in healing_urls.urlpatterns if p.callback.__module__ == "healing.api.status"]
    patterns = [*provider_urls.urlpatterns, *pool_urls.urlpatterns, *status_urls]
    schema = SchemaGenerator(patterns=patterns).get_schema(request=None, public=True)
    problems = [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
    GENERATOR_STATS.reset()
    assert problems == []
    assert set(SEED_PATHS) <= set(schema["paths"])


def test_no_answer_schema_exposes_a_key_field(client, db):
    schema = client.get("/api/schema/?format=json").json()
    provider = schema["components"]["schemas"]["Provider"]["properties"]
    assert provider["api_key_set"]["readOnly"] is True
    assert not [name for name in provider if re.fullmatch(r"(api_)?key", name)]


def test_swagger_ui_loads_from_the_sidecar_not_a_cdn(client, db):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "drf_spectacular_sidecar/swagger-ui-dist/" in html
    # No inline script or style (the CSP allows neither): the init script is a file of its own.
    assert "<style>" not in html and "<script>" not in html
    script = client.get("/api/docs/?script=")
    assert script["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in script.content.decode()
    assert not re.search(r"cdn\.|unpkg\.com|jsdelivr", html)
    # The assets it points at are really served.
    assets = re.findall(r'(?:src|href)="([^"]*drf_spectacular_sidecar[^"]*)"', html)
    assert assets
    for asset in assets:
        assert client.get(asset).status_code == 200, asset
