"""The OpenAPI schema and Swagger UI: every seed path documented with every status it can answer,
no warnings, no CDN. (tests/test_schemathesis.py holds the schema to what a running server answers.)"""

import re

import pytest
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from healing.api import urls as healing_urls
from healing.dataplane.app import is_data_plane_path
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


def _control_plane_operations(schema):
    for path, item in schema["paths"].items():
        if is_data_plane_path(path):  # the data plane's own rules (its aliases included)
            continue
        for method, operation in item.items():
            yield path, method, operation


def test_every_control_plane_operation_documents_its_errors(client, db):
    schema = client.get("/api/schema/?format=json").json()
    for path, method, operation in _control_plane_operations(schema):
        codes = set(operation["responses"])
        if path == "/health":
            assert codes == {"200", "414", "503"}  # open to load balancers: no login
            continue
        # Reads need a login when public reads are off, writes a staff user; a long query is a 414.
        assert {"403", "414"} <= codes, (method, path)
        if method in ("post", "patch"):
            assert {"400", "408", "413"} <= codes, (method, path)
        if "{" in path:
            assert "404" in codes, (method, path)
            params = [p for p in operation["parameters"] if p["in"] == "path"]
            assert all(p["schema"].get("pattern") or p["schema"].get("enum") for p in params), (method, path)
    assert "503" in schema["paths"]["/api/pools/{slug}/rotate"]["post"]["responses"]
    assert "409" in schema["paths"]["/api/providers"]["post"]["responses"]
    assert "400" in schema["paths"]["/api/providers"]["get"]["responses"]
    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["detail"] and "field" in error["properties"]


def test_the_json_export_is_documented_as_the_array_it_is(client, db):
    schema = client.get("/api/schema/?format=json").json()
    ok = schema["paths"]["/api/stats/export"]["get"]["responses"]["200"]["content"]
    rows = ok["application/json"]["schema"]
    assert rows["type"] == "array"
    assert rows["items"] == {"$ref": "#/components/schemas/RollupRow"}
    assert ok["text/csv"]["schema"] == {"type": "string"}


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
