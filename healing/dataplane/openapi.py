"""OpenAPI for the data plane, which is not Django and so invisible to drf-spectacular.

`add_data_plane` is a drf-spectacular postprocessing hook (SPECTACULAR_SETTINGS): it adds a
path per data endpoint of healing.dataplane.params.CAPABILITIES (its parameters, the 200 body as
`data` + `meta`, and every status the data plane can answer: 400, 401/403 for client keys, 404,
414, 429 and 503, with their headers), POST /api/data/sentiment and the proxy (plus 408/413 for
bodies). The normalized schemas are derived from the frozen dataclasses in providers.schemas, so
a field added there shows up here without a second edit.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any

from healing.dataplane import openapi_defi, openapi_depth, openapi_onchain
from healing.dataplane import params as dp
from healing.dataplane.openapi_parts import ref as _ref
from providers import schemas, sentiment

Schema = dict[str, Any]

# The normalized shapes, by component name.
DATACLASSES = (
    schemas.Quote, schemas.MarketRow, schemas.GlobalStats, schemas.FearGreedReading, schemas.TrendingCoin,
    schemas.TvlProtocol, schemas.TvlChain, schemas.GasEstimate, schemas.NewsItem, sentiment.SentimentScore,
    *openapi_onchain.ONCHAIN_DATACLASSES, *openapi_depth.DEPTH_DATACLASSES, *openapi_defi.DATACLASSES,
)
_SCALARS = {str: {"type": "string"}, float: {"type": "number"}, int: {"type": "integer"}, bool: {"type": "boolean"}}
_TIME_FIELDS = {"last_updated", "updated_at", "source_time", "timestamp", "published_at", "open_time",
                "close_time"}



def _type_schema(hint: Any, name: str) -> Schema:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        inner = [a for a in args if a is not type(None)]
        schema = _type_schema(inner[0], name)
        return {**schema, "nullable": True} if len(inner) < len(args) else schema
    if origin is tuple or origin is list:
        return {"type": "array", "items": _type_schema(args[0], name)}
    if origin is dict:
        return {"type": "object", "additionalProperties": _type_schema(args[1], name)}
    if dataclasses.is_dataclass(hint):  # a nested record: its own component
        return _ref(hint.__name__)
    schema = dict(_SCALARS.get(hint, {}))
    if hint is str and name in _TIME_FIELDS:
        schema["format"] = "date-time"
    return schema


def dataclass_schema(cls: type) -> Schema:
    """An OpenAPI object schema from a dataclass's type hints (fields without defaults are required)."""
    hints = typing.get_type_hints(cls)
    properties, required = {}, []
    for f in dataclasses.fields(cls):
        properties[f.name] = _type_schema(hints[f.name], f.name)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            required.append(f.name)
    schema: Schema = {"type": "object", "properties": properties, "required": required}
    if cls.__doc__ and not cls.__doc__.startswith(cls.__name__ + "("):
        schema["description"] = " ".join(cls.__doc__.split())
    return schema


def _array(name: str) -> Schema:
    return {"type": "array", "items": _ref(name)}


# The `data` of each endpoint.
DATA_SCHEMAS: dict[str, Schema] = {
    "price": _array("Quote"),
    "markets": _array("MarketRow"),
    "global": _ref("GlobalStats"),
    "fear-greed": _array("FearGreedReading"),
    "trending": _array("TrendingCoin"),
    "tvl": _ref("TvlAnswer"),
    "gas": _ref("GasEstimate"),
    "news": _array("NewsItem"),
    "sentiment": _ref("CoinSentimentAnswer"),
    **openapi_onchain.ONCHAIN_DATA_SCHEMAS, **openapi_depth.DEPTH_DATA_SCHEMAS, **openapi_defi.DATA_SCHEMAS,
}


def _int_param(name: str, default: int, high: int, text: str) -> Schema:
    return {"name": name, "in": "query", "required": False, "description": text,
            "schema": {"type": "integer", "minimum": 1, "maximum": high, "default": default}}


def _str_param(name: str, text: str, *, required: bool = False, **schema: Any) -> Schema:
    return {"name": name, "in": "query", "required": required, "description": text,
            "schema": {"type": "string", **schema}}


ROUTE_PARAMS: dict[str, list[Schema]] = {
    "price": [
        _str_param("ids", f"Comma-separated coin ids (CoinGecko style), at most {dp.MAX_IDS}.", required=True,
                   example="bitcoin,ethereum"),
        _str_param("vs", "Quote currency.", default="usd", example="usd"),
    ],
    "markets": [
        _str_param("vs", "Quote currency.", default="usd"),
        _int_param("limit", dp.MARKETS_DEFAULT_LIMIT, dp.MARKETS_MAX_LIMIT, "How many coins, by market cap."),
    ],
    "global": [_str_param("vs", "Quote currency.", default="usd")],
    "fear-greed": [_int_param("limit", 1, schemas.FEAR_GREED_MAX_LIMIT, "Daily readings, newest first.")],
    "trending": [_int_param("limit", dp.TRENDING_DEFAULT_LIMIT, dp.TRENDING_MAX_LIMIT, "How many coins.")],
    "tvl": [
        _str_param("protocol", "Protocol slug or name (DefiLlama style); without it, chains are listed.",
                   example="aave"),
        _str_param("chain", "Chain name: one chain's TVL, or the protocol's TVL on that chain.", example="ethereum"),
    ],
    "gas": [_str_param("chain", "Which network.", enum=list(dp.GAS_CHAINS), default="ethereum")],
    "news": [
        _int_param("limit", dp.NEWS_DEFAULT_LIMIT, dp.NEWS_MAX_LIMIT, "How many headlines, newest first."),
        _str_param("q", "Only items containing every word (case-insensitive).", maxLength=dp.MAX_QUERY_CHARS),
    ],
    "sentiment": [
        _str_param("ids", f"Comma-separated coin ids, at most {dp.MAX_SENTIMENT_IDS}.", required=True,
                   example="bitcoin,ethereum"),
    ],
    **openapi_onchain.ONCHAIN_ROUTE_PARAMS, **openapi_depth.DEPTH_ROUTE_PARAMS, **openapi_defi.ROUTE_PARAMS,
}
PROVIDER_PARAM = _str_param("provider", "Ask this provider only: no fallback, no cache read or write.",
                            example="coingecko")
CONSENSUS_PARAM = {
    "name": "consensus", "in": "query", "required": False,
    "description": "Ask this many providers in parallel and answer the median; outliers are flagged "
                   "(and counted against their provider as bad data).",
    "schema": {"type": "integer", "minimum": dp.MIN_CONSENSUS, "maximum": dp.MAX_CONSENSUS},
}


def components() -> dict[str, Schema]:
    out = {cls.__name__: dataclass_schema(cls) for cls in DATACLASSES}
    out["TvlAnswer"] = {"type": "object", "required": ["protocols", "chains"], "properties": {
        "protocols": _array("TvlProtocol"), "chains": _array("TvlChain")}}
    out.update(_sentiment_components())
    out.update(_envelope_components())
    out.update(_consensus_components())
    out["ProxyRequest"] = {"type": "object", "properties": {
        "provider": {"type": "string", "description": "A registered provider's slug (with path)."},
        "path": {"type": "string", "description": "Path under the provider's base URL."},
        "url": {"type": "string", "description": "A full URL under a registered provider's base URL."},
        "params": {"type": "object", "additionalProperties": True},
        "method": {"type": "string", "enum": ["GET", "HEAD", "POST"], "default": "GET"},
        "body": {"description": "JSON body (JSON-RPC providers marked for POST only)."},
        "cache_ttl_s": {"type": "integer", "minimum": 0}}}
    return out


def _sentiment_components() -> dict[str, Schema]:
    """The sentiment endpoints' summaries, per-coin answers and text scoring bodies."""
    out: dict[str, Schema] = {}
    summary = {
        "score": {"type": "number", "minimum": -1, "maximum": 1},
        "label": {"type": "string", "enum": list(sentiment.LABELS)},
        "count": {"type": "integer"},
        "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
    }
    out["SentimentSummary"] = {"type": "object", "properties": summary, "required": list(summary)}
    headline = {"type": "object", "properties": {
        "title": {"type": "string"}, "url": {"type": "string", "nullable": True},
        "source": {"type": "string", "nullable": True},
        "published_at": {"type": "string", "format": "date-time", "nullable": True},
        "score": {"type": "number"}, "label": {"type": "string", "enum": list(sentiment.LABELS)}}}
    out["CoinSentiment"] = {"allOf": [_ref("SentimentSummary"), {"type": "object", "properties": {
        "headlines": {"type": "array", "items": headline}}}]}
    out["CoinSentimentAnswer"] = {"type": "object", "required": ["coins", "backend"], "properties": {
        "coins": {"type": "object", "additionalProperties": _ref("CoinSentiment")},
        "backend": {"type": "string", "example": "vader"},
        "headlines_scanned": {"type": "integer"}}}
    out["SentimentTextsRequest"] = {"type": "object", "required": ["texts"], "properties": {"texts": {
        "type": "array", "minItems": 1, "maxItems": dp.MAX_SENTIMENT_TEXTS,
        "items": {"type": "string", "minLength": 1, "maxLength": dp.MAX_SENTIMENT_TEXT_CHARS}}}}
    out["SentimentTextsAnswer"] = {"type": "object", "properties": {
        "scores": _array("SentimentScore"), "summary": _ref("SentimentSummary"), "backend": {"type": "string"}}}
    return out


def _envelope_components() -> dict[str, Schema]:
    """The meta block and the error body every data answer shares."""
    out: dict[str, Schema] = {}
    out["DataAttempt"] = {"type": "object", "required": ["provider", "outcome", "ms"], "properties": {
        "provider": {"type": "string"},
        "outcome": {"type": "string", "description": "ok, timeout, transient, rate_limited, permanent, bad_data, "
                                                     "cancelled or skipped_* (breaker open, budget, no key, "
                                                     "maintenance)"},
        "ms": {"type": "number"}, "detail": {"type": "string"}}}
    out["DataMeta"] = {"type": "object", "required": ["capability", "source", "served", "age_s", "fetched_at",
                                                      "attempts"], "properties": {
        "capability": {"type": "string"},
        "source": {"type": "string",
                   "description": "The provider that answered (consensus: every one, comma-separated)."},
        "served": {"type": "string", "enum": ["live", "cache", "stale", "consensus"]},
        "age_s": {"type": "number"}, "fetched_at": {"type": "string", "format": "date-time"},
        "attempts": _array("DataAttempt"),
        "degraded": {"type": "string", "enum": ["redis"],
                     "description": "Present while Redis is unreachable: answered from this process's state."}}}
    strings = {"type": "array", "items": {"type": "string"}}
    out["DataError"] = {"type": "object", "required": ["detail"], "properties": {
        "detail": {"type": "string"},
        "field": {"type": "string", "description": "The input at fault: a parameter, `body` or `query`."},
        "values": {**strings, "description": "The values nothing was found for (404)."},
        "close_matches": {"type": "object", "additionalProperties": strings,
                          "description": "Known coin ids close to each unknown one (404 for `ids`)."},
        "capabilities": {**strings, "description": "Known endpoints (404 for an unknown endpoint)."},
        "attempts": _array("DataAttempt"),
        "suggestions": {**strings, "description": "What to do next (503)."},
        "retry_after_s": {"type": "integer", "description": "When a provider is expected back (503)."}}}
    return out


def _consensus_components() -> dict[str, Schema]:
    """ConsensusValue, then `<Capability>Consensus` for each route that can ask several providers."""
    out: dict[str, Schema] = {}
    comparison = {"type": "object", "properties": {
        "median": {"type": "number"}, "low": {"type": "number"}, "high": {"type": "number"},
        "spread": {"type": "number"}, "spread_pct": {"type": "number", "nullable": True},
        "by_provider": {"type": "object", "additionalProperties": {"type": "number"}},
        "deviation_pct": {"type": "object", "additionalProperties": {"type": "number", "nullable": True}},
        "outliers": {"type": "array", "items": {"type": "string"}}}}
    out["ConsensusValue"] = comparison
    for name, route in dp.CAPABILITIES.items():
        if route.consensus:
            # Every key required: that is what tells a consensus answer from a plain one (oneOf).
            out[_component(name, "Consensus")] = {"type": "object", "required": list(CONSENSUS_KEYS), "properties": {
                "median": DATA_SCHEMAS[name],
                "values": {"type": "object", "additionalProperties": _ref("ConsensusValue")},
                "providers": {"type": "object", "additionalProperties": DATA_SCHEMAS[name],
                              "description": "Each answering provider's own answer."},
                "outliers": {"type": "array", "items": {"type": "string"}},
                "missing": {"type": "array", "items": {"type": "object", "properties": {
                    "provider": {"type": "string"}, "reason": {"type": "string"}}}},
                "asked": {"type": "integer"}, "answered": {"type": "integer"}, "requested": {"type": "integer"},
                "outlier_pct": {"type": "number"}}}
    return out


CONSENSUS_KEYS = ("median", "values", "providers", "outliers", "missing", "asked", "answered", "requested",
                  "outlier_pct")


def _component(route_name: str, suffix: str) -> str:
    return "".join(part.title() for part in route_name.replace("-", "_").split("_")) + suffix


def _json(schema: Schema, description: str) -> Schema:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _header(description: str, *, required: bool = False, kind: str = "integer") -> Schema:
    return {"description": description, "required": required, "schema": {"type": kind}}


# RateLimit-* ride on every answer that passed the inbound check (a caller without any limit gets none).
RATE_HEADERS = {
    "RateLimit-Limit": _header("Requests allowed in the tightest window."),
    "RateLimit-Remaining": _header("Requests left in that window."),
    "RateLimit-Reset": _header("Seconds until that window resets."),
}
SOURCE_HEADERS = {
    "X-Cryptohub-Source": _header("The provider that answered.", kind="string"),
    "X-Cryptohub-Cache": _header("live, cache, stale or consensus.", kind="string"),
}


def _error(description: str, **headers: Schema) -> Schema:
    return {**_json(_ref("DataError"), description), "headers": headers}


def _rate_limited() -> Schema:
    required = {name: {**header, "required": True} for name, header in RATE_HEADERS.items()}
    return _error("Over the caller's inbound limit (per client key, or per IP when anonymous).",
                  **{"Retry-After": _header("Seconds to wait.", required=True)}, **required)


# What any data plane request can be answered besides its own statuses.
COMMON_ERRORS = {
    "401": _error("No API key where one is required, or an unknown or disabled key.",
                  **{"WWW-Authenticate": _header("Bearer", required=True, kind="string")}),
    "403": _error("This client key may not call this endpoint."),
    "429": _rate_limited(),
    "503": _error("No provider could answer and no stale copy exists (every attempt is listed), or the "
                  "gateway could not answer now.",
                  **{"Retry-After": _header("Seconds until a provider is expected back, when known.")},
                  **RATE_HEADERS),
}
ERRORS = {
    "400": _error("A bad parameter; `field` names it.", **RATE_HEADERS),
    "404": _error("Unknown endpoint, no pool serves it (`capabilities`), or nothing found for the named "
                  "values (`field`, `values`, `close_matches`).", **RATE_HEADERS),
    "414": _error("The query string is too long (`field` is query)."),
    **COMMON_ERRORS,
}
BODY_ERRORS = {
    "400": _error("A bad body; `field` names what is wrong.", **RATE_HEADERS),
    "408": _error("The body did not arrive in time (`field` is body)."),
    "413": _error("The body is too large (`field` is body)."),
    **COMMON_ERRORS,
}


def paths() -> dict[str, Schema]:
    out: dict[str, Schema] = {}
    for name, route in dp.CAPABILITIES.items():
        data = DATA_SCHEMAS[name]
        if route.consensus:
            data = {"oneOf": [data, _ref(_component(name, "Consensus"))]}
        answer = {"type": "object", "required": ["data", "meta"],
                  "properties": {"data": data, "meta": _ref("DataMeta")}}
        params = [*ROUTE_PARAMS[name], PROVIDER_PARAM, *([CONSENSUS_PARAM] if route.consensus else [])]
        out[f"/api/data/{name}"] = {"get": {
            "operationId": f"data_{name.replace('-', '_')}",
            "summary": route.summary,
            "description": f"Example: `{route.example}`. Served by the `{route.capability}` pool with fallback, "
                           "cache and stale-if-error; headers X-Cryptohub-Source and X-Cryptohub-Cache say "
                           "where the answer came from.",
            "tags": ["data"], "parameters": params,
            "responses": {"200": {**_json(answer, "Normalized data with its provenance."),
                                  "headers": {**SOURCE_HEADERS, **RATE_HEADERS}}, **ERRORS},
        }}
    out["/api/data/sentiment"]["post"] = {
        "operationId": "data_sentiment_score", "summary": "Sentiment of the given texts", "tags": ["data"],
        "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("SentimentTextsRequest")}}},
        "responses": {
            "200": _json({"type": "object", "properties": {"data": _ref("SentimentTextsAnswer"),
                                                           "meta": _ref("DataMeta")}}, "One score per text, in order."),
            **BODY_ERRORS,
        },
    }
    out["/api/data"] = {"get": {
        "operationId": "data_index", "summary": "The data endpoints, each with an example", "tags": ["data"],
        "responses": {"200": _json({"type": "object", "properties": {"capabilities": {
            "type": "object", "additionalProperties": {"type": "string"}}}}, "Endpoint name -> example URL."),
            **COMMON_ERRORS},
    }}
    out["/api/crypto-hub/proxy"] = {"post": {
        "operationId": "crypto_hub_proxy", "tags": ["proxy"],
        "summary": "A raw call to a registered provider (key added server-side)",
        "description": "Only URLs under a registered, enabled provider's base URL; no redirects followed; only "
                       "safe response headers pass back. Same breaker, rate limits, retries and optional cache "
                       "as data requests. The old system's body, `url` without `provider`, is answered in its "
                       "envelope `{success, status_code, data, source, attempt}` (same HTTP status; a 204 "
                       "becomes 200); `provider` + `path` (or `url` with `provider`) answers the raw body.",
        "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("ProxyRequest")}}},
        "responses": _proxy_responses(),
    }}
    out.update(_old_aliases(out))
    return out


def _old_aliases(real: dict[str, Schema]) -> dict[str, Schema]:
    """The old system's paths: the same operations as the endpoints they stand for, marked so."""
    out: dict[str, Schema] = {}
    for old, target in dp.OLD_PATHS.items():
        operations = {}
        for method, operation in real[target].items():
            operations[method] = {
                **operation, "operationId": f"old{old.replace('/', '_').replace('-', '_')}_{method}",
                "deprecated": True, "summary": f"Alias of {target} (the old system's path)",
                "description": f"Answers exactly as `{method.upper()} {target}`: " + operation.get("description", ""),
            }
        out[old] = operations
    return out


def _proxy_responses() -> Schema:
    # The provider's own status passes through (a 404 for an unknown path, say) with its own body,
    # so the ranges carry no schema; the gateway's own refusals are DataError bodies.
    passed = "the provider's own answer, passed through as it sent it (status, body, safe headers)"
    return {
        "2XX": {"description": f"Success: {passed}.", "headers": {**SOURCE_HEADERS, **RATE_HEADERS}},
        "4XX": {"description": f"A client error of the provider: {passed}; or the gateway's refusal "
                               "(a DataError naming `field`)."},
        **BODY_ERRORS,
        "400": {"description": "A refused request (`detail` says why, `field` names the input), or the "
                               f"provider's own 400: {passed}.", "headers": RATE_HEADERS},
        "403": {"description": "Provider disabled or method not allowed for it, a client key that may not "
                               f"use the proxy, or the provider's own 403: {passed}."},
        "502": _error("The provider call failed (attempts listed) or answered a redirect, which is not followed."),
    }


def add_data_plane(result: dict[str, Any], generator: Any = None, request: Any = None, public: bool = True,
                   **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: the data plane's paths and schemas join the Django ones."""
    result.setdefault("paths", {}).update(paths())
    result.setdefault("components", {}).setdefault("schemas", {}).update(components())
    tags = result.setdefault("tags", [])
    known = {t.get("name") for t in tags}
    for tag, text in (("data", "Normalized crypto data (the data plane)"), ("proxy", "The safe raw proxy")):
        if tag not in known:
            tags.append({"name": tag, "description": text})
    return result
