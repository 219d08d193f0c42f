"""The safe raw proxy: one validated call to a registered provider through the engine.

`proxy_call()` takes the decoded request body, checks it with `proxy_policy.resolve()` (pure),
sends it with `engine.fetch_raw()` (same breaker, rate limits, retries and optional cache as a
data request, key added server-side) and shapes what goes back: the upstream status and body,
only the safe headers, and our provenance headers. It never raises for a caller's mistake or an
upstream failure; every refusal is a `ProxyResult` with a reason.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from healing.dataplane.proxy_policy import ProxyRefused, resolve, safe_headers
from healing.engine import fetch as engine
from healing.engine.config import Snapshot
from healing.engine.errors import SKIPPED, AllProvidersFailed, UnknownCapability
from providers.adapters.base import RequestSpec

logger = logging.getLogger(__name__)

REDIRECT_STATUSES = range(300, 400)
REDACTED = b"[redacted]"


@dataclass
class ProxyResult:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def error(cls, status: int, payload: Mapping[str, Any]) -> ProxyResult:
        return cls(status, json.dumps(payload).encode(), {"content-type": "application/json"})


def _redirect_reason(status: int, headers: Mapping[str, str]) -> str:
    location = {k.lower(): v for k, v in headers.items()}.get("location", "")
    host = urlsplit(location).hostname if location else None
    where = f" to {host}" if host else ""
    return f"the provider answered a redirect (HTTP {status}{where}); the proxy does not follow redirects"


def failure_result(exc: AllProvidersFailed, now: float) -> ProxyResult:
    """502 when the provider was called and failed; 503 when it could not be called at all, with
    Retry-After when it is known when the provider is back (`now`: the engine clock, epoch seconds)."""
    attempts = [a.as_dict() for a in exc.attempts]
    only_skipped = bool(exc.attempts) and all(a.outcome in SKIPPED for a in exc.attempts)
    if any("redirect" in a.detail.lower() for a in exc.attempts):
        detail = "the provider answered a redirect; the proxy does not follow redirects"
    elif only_skipped:
        detail = "the provider cannot be called right now (maintenance, breaker open, budget spent or key missing)"
    else:
        detail = "the provider call failed"
    payload: dict[str, Any] = {"detail": detail, "attempts": attempts, "suggestions": list(exc.suggestions)}
    wait_s = exc.retry_after_s(now) if only_skipped else None
    if wait_s is None:
        return ProxyResult.error(503 if only_skipped else 502, payload)
    payload["retry_after_s"] = wait_s
    result = ProxyResult.error(503, payload)
    result.headers["retry-after"] = str(wait_s)
    return result


async def proxy_call(request: Any, *, snapshot: Snapshot, deps: engine.Deps) -> ProxyResult:
    try:
        target = resolve(request, snapshot.providers)
    except ProxyRefused as refused:
        logger.info("proxy refused (%s): %s", refused.status, refused.reason)
        return ProxyResult.error(refused.status, refused.as_json())

    provider = snapshot.providers[target.provider]
    spec = RequestSpec(path=target.path, params=target.params, method=target.method, json_body=target.body)
    try:
        raw = await engine.fetch_raw(provider, spec, deps=deps, cache_ttl_s=target.cache_ttl_s)
    except AllProvidersFailed as exc:
        logger.info("proxy call to %s failed: %s", provider.slug, exc)
        return failure_result(exc, deps.clock())
    except UnknownCapability as exc:  # disabled between the snapshot read and the call
        return ProxyResult.error(403, {"detail": str(exc), "field": "provider"})

    if raw.status in REDIRECT_STATUSES:
        # Never the redirected content, and never the Location itself (it may carry a token).
        logger.warning("proxy: %s answered HTTP %s redirect; refused", provider.slug, raw.status)
        return ProxyResult.error(
            502, {"detail": _redirect_reason(raw.status, raw.headers),
                  "attempts": [a.as_dict() for a in raw.attempts]},
        )
    headers = safe_headers(raw.headers)
    body = b"" if target.method == "HEAD" else raw.body
    key = provider.api_key()
    if key and (key.encode() in body or any(key in v for v in headers.values())):
        # Some providers echo the request (or the key, in an error message): the key still
        # never reaches the caller.
        logger.warning("proxy: %s echoed its API key; redacted from the answer", provider.slug)
        body = body.replace(key.encode(), REDACTED)
        headers = {k: v.replace(key, REDACTED.decode()) for k, v in headers.items()}
    headers["x-cryptohub-source"] = raw.source
    headers["x-cryptohub-cache"] = raw.served
    return ProxyResult(raw.status, body, headers)
