"""The data plane: a lean Starlette app for /api/data/* and /api/crypto-hub/proxy.

`cryptohub/asgi.py` routes these paths here before Django (DESIGN.md, "Two planes"). Nothing
on this path touches the ORM or a sync middleware: config comes from the per-process snapshot
(healing.engine.snapshot), runtime state from Redis, data from the engine. The lifespan creates the
per-process httpx client, the async Redis client and the snapshot poller.

Capabilities, their parameters and validation live in healing.dataplane.params (shared with
`manage.py fetch`); what a request does lives in healing.dataplane.requests. This module only reads the
request, calls them and shapes the answer. Nothing here answers 500: an unexpected error is
logged with its traceback and answered 503.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from django.conf import settings
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from healing import activity
from healing.dataplane import activity_notes, asset_routes
from healing.dataplane import requests as data_requests
from healing.dataplane.body import read_json
from healing.dataplane.compat import serve as compat
from healing.dataplane.compat.dialects import DIALECTS, ROUTE_TAIL, dialect_for
from healing.dataplane.failures import failure_answer as _failure
from healing.dataplane.headers import secure_send
from healing.dataplane.hit import render_hit
from healing.dataplane.inbound import inbound_send
from healing.dataplane.param_errors import check_query_length
from healing.dataplane.params import (  # noqa: F401
    CAPABILITIES,
    DATA_PLANE_PREFIXES,
    MAX_IDS,
    OLD_PATHS,
    CapabilityRoute,
    ParamError,
    UnknownRoute,
    is_data_plane_path,
    parse_request,
    sentiment_texts,
    unaliased,
)
from healing.dataplane.proxy import ProxyResult, proxy_call
from healing.dataplane.runtime import Runtime, ensure_runtime, open_runtime, runtime_of
from healing.dataplane.wanted import Wanted
from healing.engine import cache, degraded
from healing.engine import fetch as engine
from healing.engine.background import spawn
from healing.engine.errors import AllProvidersFailed, UnknownCapability
from healing.engine.snapshot import CHECK_INTERVAL_S

logger = logging.getLogger(__name__)

# Request limits, read once from the settings ("Request limits"): the largest proxy and POST
# /api/data/sentiment bodies (bytes), the longest body read (seconds: a client that stops sending
# gets a 408, not a held worker) and the longest query string (bytes, 414 beyond).
MAX_PROXY_REQUEST_BYTES: int = settings.CRYPTOHUB_MAX_PROXY_BODY_BYTES
MAX_SENTIMENT_REQUEST_BYTES: int = settings.CRYPTOHUB_MAX_SENTIMENT_BODY_BYTES
BODY_READ_TIMEOUT_S: float = settings.CRYPTOHUB_BODY_READ_TIMEOUT_S
MAX_QUERY_STRING_BYTES: int = settings.CRYPTOHUB_MAX_QUERY_BYTES
# Query strings whose cache key this process remembers for the hit fast path (most kept).
HOT_QUERIES_MAX = 4096


# --- responses -------------------------------------------------------------------------------


def error(status: int, detail: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"detail": detail, **extra}, status_code=status)


UNABLE_TO_ANSWER = "temporarily unable to answer; the server log has the details"


def guarded(handler: Callable[[Request], Awaitable[Response]],
            failed: Callable[[], Response] = lambda: error(503, UNABLE_TO_ANSWER),
            ) -> Callable[[Request], Awaitable[Response]]:
    """Never a 500: log the traceback here, tell the caller only that it failed (in the
    endpoint's own error shape: `failed` builds the answer)."""

    @functools.wraps(handler)
    async def wrapper(request: Request) -> Response:
        try:
            return await handler(request)
        except Exception:
            logger.exception("data plane error on %s %s", request.method, request.url.path)
            return failed()

    return wrapper


class FastJSONResponse(JSONResponse):
    """A data answer rendered by orjson: the same compact UTF-8 the cache-hit fast path sends
    (cache.encode_data), at a fraction of json's cost on a miss."""

    def render(self, content: Any) -> bytes:
        return cache.encode_data(content)


def _answer(answer: data_requests.DataAnswer) -> JSONResponse:
    headers = {"X-Cryptohub-Source": answer.source, "X-Cryptohub-Cache": answer.served}
    if answer.meta.get("degraded"):
        headers[degraded.DEGRADED_HEADER.decode()] = answer.meta["degraded"]
    return FastJSONResponse(answer.body(), headers=headers)


# --- endpoints -------------------------------------------------------------------------------


@guarded
async def data_index(request: Request) -> Response:
    return JSONResponse({"capabilities": {name: c.example for name, c in sorted(CAPABILITIES.items())}})


@guarded
async def assets_search(request: Request) -> Response:
    return await asset_routes.asset_search(request, await (await runtime_of(request)).holder.get())


@guarded
async def asset_detail(request: Request) -> Response:
    return await asset_routes.asset_detail(request, await (await runtime_of(request)).holder.get())


@guarded
async def data(request: Request) -> Response:
    name = request.path_params["capability"]
    try:
        check_query_length(request.scope.get("query_string", b""), MAX_QUERY_STRING_BYTES)
        req = parse_request(name, request.query_params)
    except UnknownRoute:
        return error(404, f"unknown capability {name[:40]!r}", capabilities=sorted(CAPABILITIES))
    except ParamError as exc:
        return error(exc.status, exc.detail, field=exc.field, **exc.extra)

    runtime = await runtime_of(request)
    snapshot = await runtime.holder.get()
    params = activity_notes.params_text(req.params)
    activity_notes.note(request.scope, capability=req.capability, params=params, provider=req.provider)
    if req.provider is None and req.consensus is None:
        # A plain cached capability: remember this query's cache key so the next identical
        # request can be answered by DataPlane's fast path without parsing or routing.
        if req.route.name == "sentiment":
            key = data_requests.sentiment_key(req.params["ids"], data_requests.get_backend().name)
            request.app.remember_query(request.scope, data_requests.SENTIMENT_CAPABILITY, key, params)
        else:
            key = cache.data_key(req.capability, req.params)
            request.app.remember_query(request.scope, req.capability, key, params)
        request.app.note_wanted(runtime, key, req.route.name, req.params)
    try:
        answer = await data_requests.fetch_data(req, snapshot=snapshot, deps=runtime.deps)
    except ParamError as exc:
        return error(exc.status, exc.detail, field=exc.field, **exc.extra)
    except AllProvidersFailed as exc:
        activity_notes.note(request.scope, attempts=activity.attempts_summary(exc.attempts))
        return _failure(exc, req.params, now=runtime.deps.clock())
    except UnknownCapability as exc:
        if req.provider is not None:
            return error(400, f"provider {req.provider!r} does not serve {req.route.name}", field="provider")
        return error(404, str(exc), capabilities=sorted(CAPABILITIES))
    activity_notes.note_answer(request.scope, answer.meta)
    return _answer(answer)


@guarded
async def score_sentiment(request: Request) -> Response:
    try:
        if request.query_params:
            key = next(iter(request.query_params))
            raise ParamError(key[:40], "POST /api/data/sentiment takes only a JSON body: {\"texts\": [...]}")
        texts = sentiment_texts(await read_json(request, MAX_SENTIMENT_REQUEST_BYTES, BODY_READ_TIMEOUT_S))
    except ParamError as exc:
        return error(exc.status, exc.detail, field=exc.field, **exc.extra)
    runtime = await runtime_of(request)
    return _answer(await data_requests.score_texts(texts, now=runtime.deps.clock()))


def compat_endpoint(dialect):  # noqa: ANN001, ANN201 - one endpoint per drop-in dialect
    async def endpoint(request: Request) -> Response:
        return await compat.answer(dialect, request, await runtime_of(request))

    return guarded(endpoint, lambda: compat.error_response(dialect, 503, UNABLE_TO_ANSWER))


@guarded
async def proxy(request: Request) -> Response:
    try:
        body = await read_json(request, MAX_PROXY_REQUEST_BYTES, BODY_READ_TIMEOUT_S)
    except ParamError as exc:
        return error(exc.status, exc.detail, field=exc.field, **exc.extra)
    runtime = await runtime_of(request)
    snapshot = await runtime.holder.get()
    result: ProxyResult
    result, _ = await degraded.with_fallback(runtime.deps, lambda d: proxy_call(body, snapshot=snapshot, deps=d))
    method = body.get("method") if isinstance(body, dict) and isinstance(body.get("method"), str) else "GET"
    activity_notes.note(request.scope, provider=result.source, method=method[:10].upper(), attempt=result.attempts,
                        served=result.headers.get("x-cryptohub-cache"))
    return Response(result.body, status_code=result.status, headers=result.headers)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


async def last_resort(request: Request, exc: Exception) -> Response:
    logger.error("unhandled data plane error on %s", request.url.path, exc_info=exc)
    return error(503, UNABLE_TO_ANSWER)


class DataPlane(Starlette):
    """Starlette, plus a fast path for repeated cache hits.

    A hit is most of the traffic and its answer is a copy of a fresh entry, so routing, query
    parsing, key hashing and JSON encoding are skipped for a query string already seen: its
    cache key is memoized, and engine.local_hit reads the entry through the per-process
    coalescing cache, which keeps its data pre-encoded while it does not change. Everything
    else, and any miss, goes through Starlette as usual.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # (path, query string) -> (capability, cache key, params text, drop-in shape or None)
        self.hot_queries: dict[tuple[str, bytes], tuple[str, str, str, Any]] = {}
        self._hot_version: int | None = None
        self.wanted = Wanted()
        self.activity = activity.ActivityBuffer()

    def note_wanted(self, runtime: Runtime, key: str, endpoint: str | None = None, params: Any = None) -> None:
        if self.wanted.note(key, endpoint, params):
            spawn(self.wanted.flush(runtime.deps.redis))

    def remember_query(self, scope: Mapping[str, Any], capability: str, key: str, params: str = "",
                       shape: Any = None) -> None:
        hot = self.hot_queries
        if len(hot) >= HOT_QUERIES_MAX:
            del hot[next(iter(hot))]  # oldest first; a forgotten query just takes the full path
        hot[(scope["path"], scope.get("query_string", b""))] = (capability, key, params, shape)

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001 - the ASGI signature
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        scope = unaliased(scope)
        runtime = await ensure_runtime(self)
        if not activity.enabled():
            await self._serve(runtime, scope, receive, send)
            return
        recording, status, started = activity_notes.start(scope, send)
        try:
            await self._serve(runtime, scope, receive, recording)
        finally:
            if activity_notes.log(self.activity, scope, status[0], started):
                spawn(self.activity.flush(runtime.deps.redis))

    async def _serve(self, runtime: Runtime, scope, receive, send) -> None:  # noqa: ANN001
        # The inbound check (keys, limits) runs here, once, for the fast path and Starlette alike;
        # never skipped, so a first request without lifespan cannot pass unchecked.
        dialect = dialect_for(scope["path"])
        refusal = None if dialect is None else functools.partial(compat.refusal_body, dialect)
        send = await inbound_send(runtime, scope, send, refusal)
        if send is None:
            return
        if scope["method"] == "GET":
            memo_key = (scope["path"], scope.get("query_string", b""))
            memo = self.hot_queries.get(memo_key)
            if memo is not None:
                snapshot = await runtime.holder.get()
                if snapshot.version != self._hot_version:
                    # A config edit may have removed the capability's pool: re-parse everything.
                    self.hot_queries.clear()
                    self._hot_version = snapshot.version
                    held = None
                else:
                    held = await engine.local_hit(memo[0], memo[1], snapshot.version, runtime.deps)
                rendered = None
                if held is not None:
                    rendered = (render_hit(held, runtime.deps.clock(), runtime.deps.health.down) if memo[3] is None
                                else compat.render_hit(held, memo_key, memo[3], runtime.deps.health.down))
                if rendered is not None:
                    self.note_wanted(runtime, memo[1])
                    activity_notes.note(scope, hit=(memo[0], memo[2] or None, held.entry.source))
                    headers, body = rendered
                    await send({"type": "http.response.start", "status": 200, "headers": headers})
                    await send({"type": "http.response.body", "body": body})
                    return
        # Every other answer (errors included) gets the security headers and loses any cookie.
        await super().__call__(scope, receive, secure_send(send))


def create_app(
    *, deps_overrides: Mapping[str, Any] | None = None, check_interval_s: float = CHECK_INTERVAL_S
) -> DataPlane:
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
        Route("/api/data/sentiment", score_sentiment, methods=["POST"]),
        Route("/api/data/sentiment/", score_sentiment, methods=["POST"]),
        Route("/api/data/assets", assets_search, methods=["GET"]),
        Route("/api/data/assets/", assets_search, methods=["GET"]),
        Route("/api/data/assets/{asset_id:path}", asset_detail, methods=["GET"]),
        Route("/api/data/{capability}", data, methods=["GET"]),
        Route("/api/data/{capability}/", data, methods=["GET"]),
        Route("/api/crypto-hub/proxy", proxy, methods=["POST"]),
        Route("/api/crypto-hub/proxy/", proxy, methods=["POST"]),
        *(Route(d.prefix + ROUTE_TAIL, compat_endpoint(d), methods=["GET"]) for d in DIALECTS),
    ]
    app = DataPlane(
        routes=routes, lifespan=lifespan, exception_handlers={HTTPException: http_error, Exception: last_resort}
    )
    app.state.deps_overrides = deps_overrides
    app.state.check_interval_s = check_interval_s
    app.state.runtime = None
    app.state.runtime_lock = asyncio.Lock()
    return app


data_plane = create_app()
