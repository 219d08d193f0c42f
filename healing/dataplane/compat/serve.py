"""Running a dialect's plan on the data plane, and answering its repeats from the fast path.

`answer()` is the full path of a compat request: the dialect's plan, the engine's fetch (with the
degraded fallback the native endpoints have), the dialect's shape, its error shapes. A single-answer
plan is remembered for the query string (`DataPlane.remember_query`, with its shape), so the next
identical request is a cache hit answered by `render_hit()` without routing or parsing: the shaped
bytes are kept beside the held entry and re-encoded only when the entry changes.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from starlette.requests import Request
from starlette.responses import Response

from healing.dataplane import activity_notes
from healing.dataplane.compat.core import (
    CompatError,
    Composite,
    Dialect,
    Fetched,
    OneAnswer,
    Shape,
    WithHeaders,
    all_not_found,
    worst_served,
)
from healing.dataplane.hit import hit_headers
from healing.dataplane.param_errors import ParamError, check_query_length
from healing.engine import cache, degraded
from healing.engine import fetch as engine
from healing.engine.errors import AllProvidersFailed, UnknownCapability

logger = logging.getLogger(__name__)

SOURCE_HEADER, CACHE_HEADER = "X-Cryptohub-Source", "X-Cryptohub-Cache"
# The longest query string a drop-in request may have (bytes), as on the native endpoints.
MAX_QUERY_BYTES: int = settings.CRYPTOHUB_MAX_QUERY_BYTES
# The source named when an answer needed no provider (registry lookups, static answers).
OWN_SOURCE = "cryptohub"


def json_response(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Response:
    return Response(cache.encode_data(body), status_code=status, media_type="application/json",
                    headers=dict(headers or {}))


def error_response(dialect: Dialect, status: int, message: str, headers: Mapping[str, str] | None = None
                   ) -> Response:
    return json_response(status, dialect.error(status, message), headers)


def refusal_body(dialect: Dialect, status: int, message: str) -> bytes:
    """The inbound check's refusal (a client over its limit, a bad key) in the dialect's shape."""
    return cache.encode_data(dialect.error(status, message))


async def answer(dialect: Dialect, request: Request, runtime: Any) -> Response:
    """The dialect's answer to `request` (never a 500: the caller's guard logs anything unexpected)."""
    try:
        check_query_length(request.scope.get("query_string", b""), MAX_QUERY_BYTES)
    except ParamError as exc:
        return error_response(dialect, exc.status, exc.detail)
    try:
        plan = dialect.plan(request.path_params.get("rest", "").strip("/"), request.query_params)
        if isinstance(plan, OneAnswer):
            return await _one(dialect, plan, request, runtime)
        if isinstance(plan, Composite):
            return await _composite(dialect, plan, request, runtime)
        return json_response(200, plan, {SOURCE_HEADER: OWN_SOURCE, CACHE_HEADER: "live"})
    except CompatError as exc:
        return json_response(exc.status, exc.body, exc.headers)
    except UnknownCapability as exc:
        # No enabled pool serves what the dialect needs: the operator's configuration, not the caller.
        return error_response(dialect, 503, str(exc))


async def _fetch(runtime: Any, capability: str, params: Mapping[str, Any]) -> tuple[engine.Answer, bool]:
    snapshot = await runtime.holder.get()
    return await degraded.with_fallback(
        runtime.deps, lambda d: engine.fetch_capability(capability, params, snapshot=snapshot, deps=d))


def _headers(source: str, served: str, was_degraded: bool) -> dict[str, str]:
    headers = {SOURCE_HEADER: source, CACHE_HEADER: served}
    if was_degraded:
        headers[degraded.DEGRADED_HEADER.decode()] = degraded.DEGRADED_REDIS
    return headers


async def _one(dialect: Dialect, plan: OneAnswer, request: Request, runtime: Any) -> Response:
    params = activity_notes.params_text(plan.params)
    activity_notes.note(request.scope, capability=plan.capability, params=params)
    key = cache.data_key(plan.capability, plan.params)
    request.app.remember_query(request.scope, plan.capability, key, params, plan.shape)
    request.app.note_wanted(runtime, key, plan.capability, plan.params)
    try:
        got, was_degraded = await _fetch(runtime, plan.capability, plan.params)
    except AllProvidersFailed as exc:
        if plan.not_found is not None and all_not_found(exc):
            raise plan.not_found() from None
        raise dialect.failure(exc, plan) from None
    activity_notes.note_answer(request.scope, got.meta(plan.capability))
    return json_response(200, plan.shape(got.data), _headers(got.source, got.served, was_degraded))


async def _composite(dialect: Dialect, plan: Composite, request: Request, runtime: Any) -> Response:
    used: list[Fetched] = []
    degraded_parts: list[bool] = []

    async def fetch(capability: str, params: Mapping[str, Any]) -> Fetched:
        got, was_degraded = await _fetch(runtime, capability, params)
        degraded_parts.append(was_degraded)
        used.append(Fetched(got.data, got.source, got.served))
        return used[-1]

    activity_notes.note(request.scope, capability=plan.capability)
    try:
        body = await plan.run(fetch)
    except AllProvidersFailed as exc:
        raise dialect.failure(exc, plan) from None
    own_headers: Mapping[str, str] = {}
    if isinstance(body, WithHeaders):
        body, own_headers = body.body, body.headers
    sources = list(dict.fromkeys(f.source for f in used)) or [OWN_SOURCE]
    served = worst_served([f.served for f in used]) if used else "live"
    activity_notes.note(request.scope, source=",".join(sources), served=served)
    return json_response(200, body, {**_headers(",".join(sources), served, any(degraded_parts)), **own_headers})


# --- the fast path --------------------------------------------------------------------------------


def render_hit(held: cache.LocalEntry, memo_key: Any, shape: Shape, down: bool = False
               ) -> tuple[list[tuple[bytes, bytes]], bytes] | None:
    """Headers and body of a compat cache hit (None: shape it on the full path instead)."""
    shaped = held.shaped
    if shaped is None:
        shaped = held.shaped = {}
    body = shaped.get(memo_key)
    if body is None:
        try:
            body = shaped[memo_key] = cache.encode_data(shape(held.entry.data))
        except Exception:  # a shape that cannot read this entry: the full path says why
            logger.debug("compat shape failed on a held entry", exc_info=True)
            return None
    return hit_headers(held.entry.source.encode("latin-1"), body, down), body


