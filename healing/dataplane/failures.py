"""The answer when no provider produced data: a 404 when every provider asked said "not found"
(the caller named something that does not exist, so no breaker counted it), else a 503 with
every attempt.

When the failure knows when a provider is back (a maintenance window's end, a breaker's
reopening, a cool-down, a spent budget window: AllProvidersFailed.retry_at), the 503 says so:
`Retry-After` in whole seconds and `retry_after_s` in the body. Transient failures alone say
nothing, so neither is sent.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from starlette.responses import JSONResponse

from healing.engine.errors import CANCELLED, SKIPPED, AllProvidersFailed
from providers import assets
from providers.adapters.base import Outcome

# Request parameters that name things a provider can answer "not found" about, most specific first.
_NAMED_FIELDS = ("ids", "id", "protocol", "project", "token", "hash", "address", "chain")


def _not_found(exc: AllProvidersFailed, params: Mapping[str, Any]) -> JSONResponse | None:
    """The 404 when every provider that was called said "not found" (None otherwise)."""
    called = [a for a in exc.attempts if a.outcome not in SKIPPED and a.outcome != CANCELLED]
    if not called or any(a.outcome != Outcome.NOT_FOUND.value for a in called):
        return None
    name = next((f for f in _NAMED_FIELDS if params.get(f)), None)
    if name is None:
        return None
    raw = params[name]
    values = [str(v) for v in (raw if isinstance(raw, (list, tuple)) else [raw])]
    body: dict[str, Any] = {"detail": f"not found: {name} {', '.join(values)}", "field": name, "values": values,
                            "attempts": [a.as_dict() for a in exc.attempts]}
    if name == "ids":
        registry = assets.current()
        matches = {v: registry.close_matches(v, limit=3) for v in values}
        body["close_matches"] = {v: m for v, m in matches.items() if m}
    return JSONResponse(body, status_code=404)


def failure_answer(
    exc: AllProvidersFailed, params: Mapping[str, Any] | None = None, *, now: float | None = None
) -> JSONResponse:
    """The 404 or 503 of a failed request; `now` is the engine clock's reading (epoch seconds)."""
    missing = _not_found(exc, params or {})
    if missing is not None:
        return missing
    body: dict[str, Any] = {
        "detail": f"no provider could answer {exc.capability}",
        "attempts": [a.as_dict() for a in exc.attempts],
        "suggestions": list(exc.suggestions),
    }
    wait_s = exc.retry_after_s(time.time() if now is None else now)
    if wait_s is None:
        return JSONResponse(body, status_code=503)
    body["retry_after_s"] = wait_s
    return JSONResponse(body, status_code=503, headers={"Retry-After": str(wait_s)})
