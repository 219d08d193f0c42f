"""GET /api/data/assets?q=&limit= (search the registry by id, symbol or name) and
GET /api/data/assets/{id} (one asset: every provider's name for it and which capabilities can serve
it). Answered from the process's registry (providers.assets) — no provider call, no ORM; the
registry is current once the config snapshot is (the snapshot's rebuild installs it)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from healing.dataplane.params import ParamError, coin_id
from healing.engine.config import Snapshot
from providers import assets
from providers.registry import get_adapter

SEARCH_DEFAULT_LIMIT, SEARCH_MAX_LIMIT = 20, 250
MAX_QUERY_CHARS = 100
# Capabilities asked about one coin: the detail says which providers of their pools list it.
COIN_CAPABILITIES = ("price", "candles", "orderbook", "ticker")
# Providers that take any CoinGecko-style id as it is (no listing needed).
ID_BASED = frozenset({"coingecko"})


def _error(status: int, detail: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"detail": detail, **extra}, status_code=status)


def _limit(raw: str | None) -> int:
    if raw is None or not raw.strip():
        return SEARCH_DEFAULT_LIMIT
    try:
        value = int(raw)
    except ValueError:
        raise ParamError("limit", f"limit must be a whole number, got {raw[:20]!r}") from None
    if not 1 <= value <= SEARCH_MAX_LIMIT:
        raise ParamError("limit", f"limit must be between 1 and {SEARCH_MAX_LIMIT}, got {value}")
    return value


def search_answer(query: dict[str, str], registry: assets.Registry) -> dict[str, Any]:
    for key in query:
        if key not in ("q", "limit"):
            raise ParamError(key[:40], f"unknown parameter {key[:40]!r}; assets takes q and limit")
    q = " ".join((query.get("q") or "").split())
    if len(q) > MAX_QUERY_CHARS:
        raise ParamError("q", f"q is at most {MAX_QUERY_CHARS} characters, got {len(q)}")
    found = registry.search(q, _limit(query.get("limit")))
    return {"data": [_summary(a) for a in found], "count": len(found), "registry_size": len(registry)}


def _summary(asset: assets.Asset) -> dict[str, Any]:
    return {"id": asset.id, "symbol": asset.symbol, "name": asset.name, "rank": asset.rank, "delisted": asset.delisted}


def detail_answer(token: str, registry: assets.Registry, snapshot: Snapshot) -> dict[str, Any]:
    asset = registry.get(coin_id(token, "id"))
    if asset is None:
        raise ParamError("id", f"no asset {token[:60]!r}", status=404, values=[token],
                         close_matches={token: registry.close_matches(token.lower())})
    serving: dict[str, list[str]] = {}
    for capability in COIN_CAPABILITIES:
        pool = snapshot.pool_for(capability)
        if pool is None:
            continue
        serving[capability] = [
            m.provider for m in pool.members
            if (adapter := get_adapter(m.provider)) is not None and capability in adapter.capabilities
            # A mirror lists what the provider it mirrors lists (the adapter's names_from).
            and (m.provider in ID_BASED or asset.names.get(adapter.names_slug))]
    return {"data": {**asset.to_dict(), "capabilities": serving}}


async def _answered(request: Request, build: Callable[[], Awaitable[dict[str, Any]]]) -> Response:
    try:
        return JSONResponse(await build())
    except ParamError as exc:
        return _error(exc.status, exc.detail, field=exc.field, **exc.extra)


async def asset_search(request: Request, snapshot: Snapshot) -> Response:
    async def build() -> dict[str, Any]:
        return search_answer(dict(request.query_params), assets.current())
    return await _answered(request, build)


async def asset_detail(request: Request, snapshot: Snapshot) -> Response:
    async def build() -> dict[str, Any]:
        return detail_answer(request.path_params["asset_id"].rstrip("/"), assets.current(), snapshot)
    return await _answered(request, build)
