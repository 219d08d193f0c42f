"""The asset registry's endpoints in the OpenAPI schema (a drf-spectacular postprocessing hook
after healing.dataplane.openapi's): GET /api/data/assets and GET /api/data/assets/{id}."""

from __future__ import annotations

from typing import Any

from healing.dataplane import asset_routes as ar
from healing.dataplane.openapi import COMMON_ERRORS, _error, _json, _ref

Schema = dict[str, Any]

ASSET_PROPERTIES: Schema = {
    "id": {"type": "string", "description": "CoinGecko-style id, the id every data endpoint takes."},
    "symbol": {"type": "string"}, "name": {"type": "string"},
    "rank": {"type": "integer", "nullable": True, "description": "By market cap; null when unranked."},
    "delisted": {"type": "boolean", "description": "Gone from the listings: found by id, never by symbol."},
}


def components() -> dict[str, Schema]:
    summary = {"type": "object", "required": list(ASSET_PROPERTIES), "properties": ASSET_PROPERTIES}
    detail = {"type": "object", "required": [*ASSET_PROPERTIES, "platforms", "providers", "capabilities"],
              "properties": {
                  **ASSET_PROPERTIES,
                  "platforms": {"type": "object", "additionalProperties": {"type": "string"},
                                "description": "Platform -> contract address."},
                  "providers": {"type": "object", "additionalProperties": {"type": "string"},
                                "description": "Provider slug -> that provider's own name for the asset."},
                  "capabilities": {"type": "object", "additionalProperties": {"type": "array", "items": {
                      "type": "string"}}, "description": "Capability -> the providers of its pool that list it."},
              }}
    return {"AssetSummary": summary, "AssetDetail": detail}


def paths() -> dict[str, Schema]:
    not_found = _error("No asset by that id, symbol or contract (`close_matches` suggests ids).")
    bad = _error("A bad parameter; `field` names it (an ambiguous symbol lists its `candidates`).")
    search = {"get": {
        "operationId": "data_assets", "tags": ["data"], "summary": "Search the asset registry",
        "description": "By id, symbol or name: exact matches first, then prefixes, then substrings; best ranked "
                       "first. Answered from the registry, no provider is called.",
        "parameters": [
            {"name": "q", "in": "query", "required": False,
             "schema": {"type": "string", "maxLength": ar.MAX_QUERY_CHARS}},
            {"name": "limit", "in": "query", "required": False,
             "schema": {"type": "integer", "minimum": 1, "maximum": ar.SEARCH_MAX_LIMIT,
                        "default": ar.SEARCH_DEFAULT_LIMIT}},
        ],
        "responses": {"200": _json({"type": "object", "required": ["data", "count", "registry_size"], "properties": {
            "data": {"type": "array", "items": _ref("AssetSummary")}, "count": {"type": "integer"},
            "registry_size": {"type": "integer"}}}, "Matching assets."), "400": bad, **COMMON_ERRORS},
    }}
    detail = {"get": {
        "operationId": "data_asset", "tags": ["data"], "summary": "One asset and who can serve it",
        "description": "`id` is an id, a symbol (BTC) or chain:contract (eth:0x...).",
        "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"},
                        "example": "bitcoin"}],
        "responses": {"200": _json({"type": "object", "required": ["data"], "properties": {
            "data": _ref("AssetDetail")}}, "The asset."), "400": bad, "404": not_found, **COMMON_ERRORS},
    }}
    return {"/api/data/assets": search, "/api/data/assets/{id}": detail}


def add_asset_paths(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    result.setdefault("paths", {}).update(paths())
    result.setdefault("components", {}).setdefault("schemas", {}).update(components())
    return result
