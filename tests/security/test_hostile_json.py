"""JSON no well-formed client sends, to every JSON body the API documents, over real sockets to a
real uvicorn: nested thousands of levels deep, nested one level past the bound, a lone UTF-16
surrogate, NaN. Each is a 400 naming "body" before anything is read or written; never a 500, a
503, a reset or a traceback in the log, and the server answers the next request.

The operations come from the OpenAPI schema, so a JSON endpoint added later is covered too."""

import json
import re

import httpx
import pytest

from common.json_input import MAX_DEPTH

pytestmark = pytest.mark.django_db(transaction=True)

BODIES = {
    "deep array": b"[" * 5000 + b"]" * 5000,
    "deep object": b'{"a":' * 3000 + b"1" + b"}" * 3000,
    "one level too deep": b'{"name": ' + b"[" * MAX_DEPTH + b"]" * MAX_DEPTH + b"}",
    "lone surrogate": b'{"slug": "x", "name": "\\ud800", "texts": ["\\udfff"], "provider": "\\ud83d"}',
    "NaN": b'{"name": "x", "priority": NaN, "texts": ["a"]}',
}
# Path parameters: the catalogue's own names, so every lookup before the body is read succeeds.
PATH_VALUES = {"slug": "coingecko", "provider": "coingecko"}
POOL_PATH = re.compile(r"^/api/pools/")


@pytest.fixture
def staff_token(catalogue):
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    user = get_user_model().objects.create_user("jsonstaff", password="pw-jsonstaff", is_staff=True)
    return Token.objects.create(user=user).key


def json_operations(server) -> list[tuple[str, str]]:
    schema = httpx.get(f"{server.url}/api/schema/?format=json", timeout=30).json()
    operations = []
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            if "application/json" in operation.get("requestBody", {}).get("content", {}):
                values = {**PATH_VALUES, "slug": "price"} if POOL_PATH.match(path) else PATH_VALUES
                operations.append((method.upper(), re.sub(r"{(\w+)}", lambda m: values[m.group(1)], path)))
    return operations


def test_every_json_body_refuses_hostile_json_as_a_400_naming_body(live_servers, staff_token, fake_upstream):
    from pools.models import Pool, PoolMembership
    from providers.models import Provider

    server = live_servers()
    operations = json_operations(server)
    # The catalogue's writes, the backup restore, the data plane's POSTs, the old paths.
    assert {("POST", "/api/providers"), ("PATCH", "/api/pools/price"), ("POST", "/api/config/import"),
            ("POST", "/api/data/sentiment"), ("POST", "/api/crypto-hub/proxy")} <= set(operations)
    before = (Provider.objects.count(), Pool.objects.count(), PoolMembership.objects.count())
    headers = {"Authorization": f"Token {staff_token}", "Content-Type": "application/json"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
        for method, path in operations:
            for name, body in BODIES.items():
                response = client.request(method, path, content=body)
                where = f"{method} {path} with {name}"
                assert response.status_code == 400, (where, response.status_code, response.text[:300])
                answer = response.json()
                assert answer["field"] == "body" and "JSON" in answer["detail"], (where, answer)
        depth = client.post("/api/providers", content=BODIES["one level too deep"]).json()["detail"]
        assert f"nested deeper than {MAX_DEPTH} levels" in depth
        assert "surrogate" in client.post("/api/data/sentiment", content=BODIES["lone surrogate"]).json()["detail"]
        # Nothing was written or asked upstream, and the server still answers.
        assert client.get("/api/providers").status_code == 200
    assert (Provider.objects.count(), Pool.objects.count(), PoolMembership.objects.count()) == before
    assert fake_upstream.calls() == 0
    assert "Traceback" not in server.output(tail=1_000_000)


def test_the_same_documents_well_formed_still_reach_the_views(live_servers, staff_token):
    server = live_servers()
    headers = {"Authorization": f"Token {staff_token}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
        renamed = client.patch("/api/pools/price", json={"name": "Price " + "é" + "\U0001f680"})
        assert renamed.status_code == 200 and renamed.json()["name"] == "Price é\U0001f680"
        nested_ok = client.post("/api/data/sentiment", content=json.dumps({"texts": ["fine"]}).encode(),
                                headers={"Content-Type": "application/json"})
        assert nested_ok.status_code == 200 and nested_ok.json()["data"]
        bom = client.patch("/api/pools/price", content=b'\xef\xbb\xbf{"name": "Price"}',
                           headers={"Content-Type": "application/json"})
        assert bom.status_code == 200 and bom.json()["name"] == "Price"
