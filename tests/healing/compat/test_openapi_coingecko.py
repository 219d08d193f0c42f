"""The CoinGecko drop-in in the OpenAPI schema: every compat path is there, and what the endpoints
really answer (over the fake upstream) validates against the documented 200 and error schemas."""

import copy

import jsonschema
import pytest
from rest_framework.test import APIClient

from healing.dataplane.compat import openapi_coingecko
from tests.healing.compat.test_coingecko_e2e import ROOT
from tests.healing.dataplane.test_openapi_data import _nullable_as_type

PATHS = ["ping", "simple/price", "simple/supported_vs_currencies", "coins/list", "coins/markets", "coins/{id}",
         "coins/{id}/ohlc", "coins/{id}/market_chart", "global", "search", "search/trending"]
# (request, the documented path it is an answer of, status)
ANSWERS = [
    ("ping", "ping", 200),
    ("simple/price?ids=bitcoin,ethereum&vs_currencies=usd,eur&include_market_cap=true&include_last_updated_at=true",
     "simple/price", 200),
    ("simple/price?ids=bitcoin", "simple/price", 400),
    ("simple/supported_vs_currencies", "simple/supported_vs_currencies", 200),
    ("coins/list?include_platform=true", "coins/list", 200),
    ("coins/markets?vs_currency=usd&per_page=3&sparkline=true&price_change_percentage=1h,24h", "coins/markets", 200),
    ("coins/markets?vs_currency=usd&ids=bitcoin", "coins/markets", 200),
    ("coins/bitcoin", "coins/{id}", 200),
    ("coins/notacoin", "coins/{id}", 404),
    ("coins/bitcoin/ohlc?vs_currency=usd&days=1", "coins/{id}/ohlc", 200),
    ("coins/bitcoin/market_chart?vs_currency=usd&days=2", "coins/{id}/market_chart", 200),
    ("global", "global", 200),
    ("search?query=bit", "search", 200),
    ("search/trending", "search/trending", 200),
]


def test_the_schema_lists_every_compat_path_with_coingeckos_errors(db):
    response = APIClient().get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    for path in PATHS:
        operation = schema["paths"][ROOT + path]["get"]
        assert operation["operationId"].startswith("compat_coingecko_") and operation["tags"] == ["compat-coingecko"]
        assert {"200", "429", "503"} <= set(operation["responses"])
        assert operation["responses"]["429"]["headers"]["Retry-After"]["required"] is True
    assert {"CoinGeckoError", "CoinGeckoStatusError", "CoinGeckoMarketRow"} <= set(schema["components"]["schemas"])
    assert "compat-coingecko" in {tag["name"] for tag in schema["tags"]}


def _validator(path: str, status: int) -> jsonschema.Draft7Validator:
    components = {"components": {"schemas": openapi_coingecko.components()}}
    response = openapi_coingecko.paths()[ROOT + path]["get"]["responses"][str(status)]
    body = response["content"]["application/json"]["schema"]
    return jsonschema.Draft7Validator(_nullable_as_type({**copy.deepcopy(components), **body}))


@pytest.mark.parametrize(("request_path", "documented", "status"), ANSWERS)
async def test_real_answers_match_their_documented_schema(gecko_catalogue, engine_client, request_path,
                                                          documented, status):
    response = await engine_client.get(ROOT + request_path)
    assert response.status_code == status, response.text
    errors = list(_validator(documented, status).iter_errors(response.json()))
    assert errors == []


async def test_a_503_matches_the_documented_status_shape(gecko_catalogue, fake_upstream, engine_client):
    fake_upstream.fault("*", "status", status=500)
    response = await engine_client.get(ROOT + "search/trending")
    assert response.status_code == 503
    assert list(_validator("search/trending", 503).iter_errors(response.json())) == []
