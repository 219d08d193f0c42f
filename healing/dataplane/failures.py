"""The answer when no provider produced data: a 404 when every provider asked said "not found"
(the caller named something that does not exist, so no breaker counted it), else a 503 with
every attempt."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from starlette.responses import JSONResponse

from healing.engine.errors import AllProvidersFailed
from providers import symbols


# Request parameters that name things a provider can answer "not found" about, most specific first.
_NAMED_FIELDS = ("ids", "protocol", "chain", "address")


def _not_found(exc: AllProvidersFailed, params: Mapping[str, Any]) -> JSONResponse | None:
    """The 404 when every provider that was called said "not found" (None otherwise)."""
    called = [a for a in exc.attempts if not a.outcome.startswith("skipped") and a.outcome != "cancelled"]
    if not called or any(a.outcome != "not_found" for a in called):
        return None
    name = next((f for f in _NAMED_FIELDS if params.get(f)), None)
    if name is None:
        return None
    raw = params[name]
    values = [str(v) for v in (raw if isinstance(raw, (list, tuple)) else [raw])]
    body: dict[str, Any] = {"detail": f"not found: {name} {', '.join(values)}", "field": name, "values": values,
                            "attempts": [a.as_dict() for a in exc.attempts]}
    if name == "ids":
        universe = list(symbols.BY_ID)
        matches = {v: difflib.get_close_matches(v, universe, n=3) for v in values}
        body["close_matches"] = {v: m for v, m in matches.items() if m}
    return JSONResponse(body, status_code=404)


def failure_answer(exc: AllProvidersFailed, params: Mapping[str, Any] | None = None) -> JSONResponse:
    missing = _not_found(exc, params or {})
    if missing is not None:
        return missing
    body = {
        "detail": f"no provider could answer {exc.capability}",
        "attempts": [a.as_dict() for a in exc.attempts],
        "suggestions": list(exc.suggestions),
    }
    return JSONResponse(body, status_code=503)
