"""The OpenAPI schema documents the data plane (which is not Django) next to the Django API."""

import copy
import dataclasses

import jsonschema
import pytest
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from healing.dataplane.openapi import DATACLASSES, dataclass_schema
from healing.dataplane.params import CAPABILITIES
from providers.schemas import GasEstimate, Quote, TvlProtocol


@pytest.fixture
def schema(db):
    response = APIClient().get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def test_every_data_endpoint_is_documented_with_its_parameters_and_answers(schema):
    validate_schema(schema)
    for name, route in CAPABILITIES.items():
        operation = schema["paths"][f"/api/data/{name}"]["get"]
        params = {p["name"] for p in operation["parameters"]}
        assert set(route.accepts) | {"provider"} <= params, name
        assert ("consensus" in params) == route.consensus, name
        assert {"200", "400", "401", "403", "404", "414", "429", "503"} <= set(operation["responses"]), name
        body = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert body["required"] == ["data", "meta"]
        assert body["properties"]["meta"] == {"$ref": "#/components/schemas/DataMeta"}
    assert "post" in schema["paths"]["/api/data/sentiment"]
    assert "post" in schema["paths"]["/api/crypto-hub/proxy"]


def test_answer_schemas_point_at_the_normalized_shapes(schema):
    def data_of(name):
        op = schema["paths"][f"/api/data/{name}"]["get"]
        return op["responses"]["200"]["content"]["application/json"]["schema"]["properties"]["data"]

    assert data_of("markets") == {"type": "array", "items": {"$ref": "#/components/schemas/MarketRow"}}
    assert data_of("price")["oneOf"] == [{"type": "array", "items": {"$ref": "#/components/schemas/Quote"}},
                                         {"$ref": "#/components/schemas/PriceConsensus"}]
    assert data_of("tvl") == {"$ref": "#/components/schemas/TvlAnswer"}
    components = schema["components"]["schemas"]
    for cls in DATACLASSES:
        assert set(components[cls.__name__]["properties"]) == {f.name for f in dataclasses.fields(cls)}
    for name in ("DataMeta", "DataError", "GasConsensus", "GlobalConsensus", "CoinSentimentAnswer", "ProxyRequest"):
        assert name in components


def test_dataclass_fields_map_to_openapi_types():
    quote = dataclass_schema(Quote)
    assert quote["required"] == ["id", "symbol", "vs", "price"]
    assert quote["properties"]["price"] == {"type": "number"}
    assert quote["properties"]["symbol"] == {"type": "string", "nullable": True}
    assert quote["properties"]["last_updated"] == {"type": "string", "format": "date-time", "nullable": True}
    tvl = dataclass_schema(TvlProtocol)
    assert tvl["properties"]["chains"] == {"type": "array", "items": {"type": "string"}}
    assert tvl["properties"]["chain_tvls"] == {"type": "object", "additionalProperties": {"type": "number"}}
    assert dataclass_schema(GasEstimate)["description"].startswith("Fee levels")


def _nullable_as_type(schema):
    """OpenAPI 3.0's `nullable` spelled the JSON Schema way, so jsonschema reads it."""
    if isinstance(schema, dict):
        out = {k: _nullable_as_type(v) for k, v in schema.items() if k != "nullable"}
        if schema.get("nullable") and "type" in out:
            out["type"] = [out["type"], "null"]
        return out
    if isinstance(schema, list):
        return [_nullable_as_type(v) for v in schema]
    return schema


def _matching_alternatives(schema, name, value):
    op = schema["paths"][f"/api/data/{name}"]["get"]
    data = op["responses"]["200"]["content"]["application/json"]["schema"]["properties"]["data"]
    root = _nullable_as_type({"components": copy.deepcopy(schema["components"])})
    return [n for n, alt in enumerate(data["oneOf"])
            if jsonschema.Draft7Validator({**root, **_nullable_as_type(alt)}).is_valid(value)]


GAS = {"chain": "ethereum", "unit": "gwei", "standard": 0.52, "slow": 0.49, "fast": 0.61, "base_fee": 0.48,
       "source_time": None}
GLOBAL = {"vs": "usd", "total_market_cap": 3.4e12, "total_volume_24h": 1.5e11, "btc_dominance_pct": 63.7,
          "eth_dominance_pct": 9.8, "market_cap_change_24h_pct": 1.5, "active_coins": 17523,
          "updated_at": "2026-12-02T16:20:34Z"}


def _consensus(plain, slugs=("etherscan", "blockchair")):
    value = {"median": 1.0, "low": 1.0, "high": 1.0, "spread": 0.0, "spread_pct": 0.0,
             "by_provider": dict.fromkeys(slugs, 1.0), "deviation_pct": dict.fromkeys(slugs, 0.0), "outliers": []}
    return {"median": plain, "values": {"standard": value}, "providers": dict.fromkeys(slugs, plain),
            "outliers": [], "missing": [], "asked": 2, "answered": 2, "requested": 2, "outlier_pct": 5.0}


@pytest.mark.parametrize(("name", "plain"), [("gas", GAS), ("global", GLOBAL)])
def test_a_plain_and_a_consensus_answer_each_match_exactly_one_alternative(schema, name, plain):
    # Both are JSON objects: without the consensus keys required, each matched both and oneOf failed.
    assert _matching_alternatives(schema, name, plain) == [0]
    assert _matching_alternatives(schema, name, _consensus(plain)) == [1]


def test_limits_and_retry_headers_are_documented(schema):
    operation = schema["paths"]["/api/data/price"]["get"]["responses"]
    assert {"X-Cryptohub-Source", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"} <= set(
        operation["200"]["headers"])
    limited = operation["429"]["headers"]
    assert all(limited[name]["required"] for name in ("Retry-After", "RateLimit-Limit", "RateLimit-Reset"))
    # A 503 says when to come back only when it knows (a breaker's reopening, a budget window).
    assert operation["503"]["headers"]["Retry-After"]["required"] is False
    assert operation["401"]["headers"]["WWW-Authenticate"]["required"] is True
    not_found = schema["components"]["schemas"]["DataError"]["properties"]
    assert {"field", "values", "close_matches", "attempts", "suggestions", "retry_after_s"} <= set(not_found)


def test_bodies_document_their_limits(schema):
    for path, method in (("/api/data/sentiment", "post"), ("/api/crypto-hub/proxy", "post")):
        responses = schema["paths"][path][method]["responses"]
        assert {"400", "401", "408", "413", "429", "503"} <= set(responses), path
    # The provider's own status passes through the proxy, so its ranges are documented too.
    assert {"2XX", "4XX", "502"} <= set(schema["paths"]["/api/crypto-hub/proxy"]["post"]["responses"])
