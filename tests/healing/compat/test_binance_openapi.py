"""The Binance drop-in paths in the OpenAPI schema, with Binance's parameters and error shape."""

import pytest
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from healing.dataplane.compat.binance import ROUTES

PREFIX = "/compat/binance/api/v3/"


@pytest.fixture
def schema(db):
    response = APIClient().get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def test_every_compat_endpoint_is_documented(schema):
    validate_schema(schema)
    documented = {path.removeprefix(PREFIX) for path in schema["paths"] if path.startswith(PREFIX)}
    assert documented == set(ROUTES)
    assert "binance" in {tag["name"] for tag in schema["tags"]}


def test_pair_endpoints_document_binances_parameters_and_errors(schema):
    klines = schema["paths"][PREFIX + "klines"]["get"]
    params = {p["name"]: p for p in klines["parameters"]}
    assert {"symbol", "interval", "startTime", "endTime", "limit", "timeZone"} <= set(params)
    assert params["symbol"]["required"] and params["interval"]["required"]
    assert params["interval"]["schema"]["enum"] == ["1m", "5m", "15m", "1h", "4h", "1d"]
    assert {"200", "400", "401", "403", "429", "503"} <= set(klines["responses"])
    error = klines["responses"]["400"]["content"]["application/json"]["schema"]
    assert error == {"$ref": "#/components/schemas/BinanceError"}
    assert schema["components"]["schemas"]["BinanceError"]["required"] == ["code", "msg"]
    price = schema["paths"][PREFIX + "ticker/price"]["get"]
    assert {p["name"] for p in price["parameters"]} == {"symbol", "symbols"}
    assert "X-Cryptohub-Usd-For-Usdt" in price["responses"]["200"]["headers"]
