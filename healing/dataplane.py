"""The data plane: a lean Starlette app for /api/data/* and /api/crypto-hub/proxy.

`cryptohub/asgi.py` routes these paths here before Django (DESIGN.md, "Two planes"). Nothing
on this path touches the ORM or a sync middleware: config comes from the per-process snapshot
(healing.snapshot), runtime state from Redis, data from the engine. The lifespan creates the
per-process httpx client, the async Redis client and the snapshot poller.

Adding a capability is one entry in CAPABILITIES: its name and a function that validates and
normalizes the query string into the engine's params (or raises ParamError naming the field).
Nothing here answers 500: an unexpected error is logged with its traceback and answered 503.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import os
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import redis.asyncio
from django.conf import settings
from starlette.applications import Starlette
from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from healing import engine
from healing.errors import AllProvidersFailed, UnknownCapability
from healing.http import make_client
from healing.proxy import ProxyResult, proxy_call
from healing.snapshot import CHECK_INTERVAL_S, SnapshotHolder

logger = logging.getLogger(__name__)

DATA_PLANE_PREFIXES = ("/api/data/", "/api/data", "/api/crypto-hub/proxy")

# Most ids one price request may name (providers cap their batch sizes around here too).
MAX_IDS = 50
# Largest proxy request body read, in bytes; JSON-RPC bodies are small.
MAX_PROXY_REQUEST_BYTES = 256_000
# How long shutdown waits for background cache refreshes to finish (seconds).
SHUTDOWN_DRAIN_S = 5.0
_ID_RE = re.compile(r"^[a-z0-9-]+$")
_VS_RE = re.compile(r"^[a-z]{2,10}$")


# --- capabilities ----------------------------------------------------------------------------


class ParamError(Exception):
    def __init__(self, field: str, detail: str, *, status: int = 400) -> None:
        super().__init__(detail)
        self.field = field
        self.detail = detail
        self.status = status


def _ids(query: QueryParams) -> list[str]:
    raw = query.get("ids")
    if raw is None or not raw.strip():
        raise ParamError("ids", "ids is required: comma-separated coin ids, e.g. ids=bitcoin,ethereum")
    ids: list[str] = []
    for item in raw.split(","):
        coin = item.strip().lower()
        if not _ID_RE.match(coin):
            raise ParamError("ids", f"{item[:40]!r} is not a coin id (lowercase letters, digits and '-')")
        if coin not in ids:
            ids.append(coin)
    if len(ids) > MAX_IDS:
        raise ParamError("ids", f"at most {MAX_IDS} ids per request, got {len(ids)}")
    return ids


def _vs(query: QueryParams) -> str:
    vs = (query.get("vs") or "usd").strip().lower()
    if not _VS_RE.match(vs):
        raise ParamError("vs", f"{vs[:20]!r} is not a currency code (2-10 letters, e.g. usd, eur, btc)")
    return vs


def price_params(query: QueryParams) -> dict[str, Any]:
    return {"ids": _ids(query), "vs": _vs(query)}


@dataclass(frozen=True)
class CapabilityRoute:
    name: str
    params: Callable[[QueryParams], dict[str, Any]]
    example: str


CAPABILITIES: dict[str, CapabilityRoute] = {
    "price": CapabilityRoute("price", price_params, "/api/data/price?ids=bitcoin,ethereum&vs=usd"),
}


# --- runtime (per process) -------------------------------------------------------------------


@dataclass
class Runtime:
    deps: engine.Deps
    holder: SnapshotHolder

    async def aclose(self) -> None:
        # Let in-flight background refreshes finish (bounded) before their clients close.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(SHUTDOWN_DRAIN_S):
                await engine.drain_background()
        await self.holder.stop()
        await self.deps.http.aclose()
        await self.deps.redis.aclose()


async def open_runtime(
    deps_overrides: Mapping[str, Any] | None = None, check_interval_s: float = CHECK_INTERVAL_S
) -> Runtime:
    r = redis.asyncio.Redis.from_url(settings.REDIS_URL)
    deps = engine.Deps(
        redis=r, http=make_client(), settings=engine.EngineSettings.from_django_settings(),
        **dict(deps_overrides or {}),
    )
    holder = SnapshotHolder(deps.redis, check_interval_s=check_interval_s)
    await holder.start()
    logger.info("data plane ready in process %s", os.getpid())
    return Runtime(deps, holder)


async def _runtime(request: Request) -> Runtime:
    runtime = getattr(request.app.state, "runtime", None)
    if runtime is None:
        # Served without lifespan (some servers and test transports skip it): set up once.
        async with request.app.state.runtime_lock:
            runtime = getattr(request.app.state, "runtime", None)
            if runtime is None:
                runtime = await open_runtime(request.app.state.deps_overrides, request.app.state.check_interval_s)
                request.app.state.runtime = runtime
    return runtime


# --- responses -------------------------------------------------------------------------------


def error(status: int, detail: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"detail": detail, **extra}, status_code=status)


def guarded(handler: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    """Never a 500: log the traceback here, tell the caller only that it failed."""

    @functools.wraps(handler)
    async def wrapper(request: Request) -> Response:
        try:
            return await handler(request)
        except Exception:
            logger.exception("data plane error on %s %s", request.method, request.url.path)
            return error(503, "temporarily unable to answer; the server log has the details")

    return wrapper


def _failure(exc: AllProvidersFailed) -> JSONResponse:
    body = {
        "detail": f"no provider could answer {exc.capability}",
        "attempts": [a.as_dict() for a in exc.attempts],
        "suggestions": list(exc.suggestions),
    }
    return JSONResponse(body, status_code=503)


# --- endpoints -------------------------------------------------------------------------------


@guarded
async def data_index(request: Request) -> Response:
    return JSONResponse({"capabilities": {name: c.example for name, c in sorted(CAPABILITIES.items())}})


@guarded
async def data(request: Request) -> Response:
    name = request.path_params["capability"]
    route = CAPABILITIES.get(name)
    if route is None:
        return error(404, f"unknown capability {name[:40]!r}", capabilities=sorted(CAPABILITIES))
    try:
        params = route.params(request.query_params)
    except ParamError as exc:
        return error(400, exc.detail, field=exc.field)

    runtime = await _runtime(request)
    snapshot = await runtime.holder.get()
    only = request.query_params.get("provider")
    if only is not None:
        provider = snapshot.providers.get(only)
        if provider is None:
            return error(400, f"{only[:64]!r} is not a registered provider", field="provider")
        if not provider.enabled:
            return error(400, f"provider {only!r} is disabled", field="provider")

    try:
        answer = await engine.fetch_capability(name, params, snapshot=snapshot, deps=runtime.deps, only_provider=only)
    except AllProvidersFailed as exc:
        return _failure(exc)
    except UnknownCapability as exc:
        if only is not None:
            return error(400, f"provider {only!r} does not serve {name}", field="provider")
        return error(404, str(exc), capabilities=sorted(CAPABILITIES))
    return JSONResponse(
        {"data": answer.data, "meta": answer.meta(name)},
        headers={"X-Cryptohub-Source": answer.source, "X-Cryptohub-Cache": answer.served},
    )


async def _read_json(request: Request) -> Any:
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_PROXY_REQUEST_BYTES:
            raise ParamError("body", f"request body larger than {MAX_PROXY_REQUEST_BYTES} bytes", status=413)
        chunks.append(chunk)
    try:
        return json.loads(b"".join(chunks))
    except (ValueError, UnicodeDecodeError):
        raise ParamError("body", "the request body must be JSON") from None


@guarded
async def proxy(request: Request) -> Response:
    try:
        body = await _read_json(request)
    except ParamError as exc:
        return error(exc.status, exc.detail, field=exc.field)
    runtime = await _runtime(request)
    result: ProxyResult = await proxy_call(body, snapshot=await runtime.holder.get(), deps=runtime.deps)
    return Response(result.body, status_code=result.status, headers=result.headers)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


async def last_resort(request: Request, exc: Exception) -> Response:
    logger.error("unhandled data plane error on %s", request.url.path, exc_info=exc)
    return error(503, "temporarily unable to answer; the server log has the details")


def create_app(
    *, deps_overrides: Mapping[str, Any] | None = None, check_interval_s: float = CHECK_INTERVAL_S
) -> Starlette:
    """The data plane app; tests pass `deps_overrides` (clock, rng, settings) and a poll interval."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        app.state.runtime = await open_runtime(deps_overrides, check_interval_s)
        try:
            yield
        finally:
            runtime, app.state.runtime = app.state.runtime, None
            await runtime.aclose()

    routes = [
        Route("/api/data", data_index, methods=["GET"]),
        Route("/api/data/", data_index, methods=["GET"]),
        Route("/api/data/{capability}", data, methods=["GET"]),
        Route("/api/data/{capability}/", data, methods=["GET"]),
        Route("/api/crypto-hub/proxy", proxy, methods=["POST"]),
        Route("/api/crypto-hub/proxy/", proxy, methods=["POST"]),
    ]
    app = Starlette(
        routes=routes, lifespan=lifespan, exception_handlers={HTTPException: http_error, Exception: last_resort}
    )
    app.state.deps_overrides = deps_overrides
    app.state.check_interval_s = check_interval_s
    app.state.runtime = None
    app.state.runtime_lock = asyncio.Lock()
    return app


data_plane = create_app()
