"""The OpenAPI schema documents the data plane (which is not Django) next to the Django API."""

import dataclasses

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
        assert {"200", "400", "404", "503"} <= set(operation["responses"]), name
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
