"""The pieces every OpenAPI table of the data plane is written with (openapi.py and the endpoint
families' openapi_* modules), kept apart so those modules share them without importing openapi.py,
which imports them."""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def query_param(name: str, text: str, schema: Schema, *, required: bool = False) -> Schema:
    return {"name": name, "in": "query", "required": required, "description": text, "schema": schema}
