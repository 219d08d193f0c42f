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

from common import json_input
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
    source: str | None = None  # the provider called, if one was
    attempts: int = 0  # calls made to it (retries included)

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


def is_old_form(request: Any) -> bool:
    """The old system's body, {"url", "method"} without a provider: its clients read an envelope."""
    return isinstance(request, Mapping) and request.get("url") is not None and request.get("provider") is None


def old_envelope(result: ProxyResult) -> ProxyResult:
    """The old answer {success, status_code, data, source, attempt} around what the proxy got; the
    HTTP status stays the real one, and a refusal keeps its `detail` and `field` at the top."""
    if result.status == 204 or not result.body:
        data: Any = None
    else:
        try:
            data = json_input.loads(result.body)
        except ValueError:
            data = result.body.decode("utf-8", errors="replace")
    envelope: dict[str, Any] = {"success": 200 <= result.status < 300, "status_code": result.status, "data": data,
                                "source": result.source, "attempt": result.attempts}
    if not envelope["success"] and isinstance(data, dict):
        envelope.update({k: data[k] for k in ("detail", "field") if k in data})
    headers = {k: v for k, v in result.headers.items() if k.startswith("x-cryptohub-") or k == "retry-after"}
    headers["content-type"] = "application/json"
    # A 204 or 304 answer may carry no body: the envelope then goes out as a 200 (status_code says 204).
    status = 200 if result.status in (204, 304) else result.status
    return ProxyResult(status, json.dumps(envelope).encode(), headers, result.source, result.attempts)


async def proxy_call(request: Any, *, snapshot: Snapshot, deps: engine.Deps) -> ProxyResult:
    result = await _proxy_call(request, snapshot=snapshot, deps=deps)
    return old_envelope(result) if is_old_form(request) else result


async def _proxy_call(request: Any, *, snapshot: Snapshot, deps: engine.Deps) -> ProxyResult:
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
        failed = failure_result(exc, deps.clock())
        failed.source, failed.attempts = provider.slug, len(exc.attempts)
        return failed
    except UnknownCapability as exc:  # disabled between the snapshot read and the call
        return ProxyResult.error(403, {"detail": str(exc), "field": "provider"})

    if raw.status in REDIRECT_STATUSES:
        # Never the redirected content, and never the Location itself (it may carry a token).
        logger.warning("proxy: %s answered HTTP %s redirect; refused", provider.slug, raw.status)
        refused = ProxyResult.error(
            502, {"detail": _redirect_reason(raw.status, raw.headers),
                  "attempts": [a.as_dict() for a in raw.attempts]},
        )
        refused.source, refused.attempts = provider.slug, len(raw.attempts)
        return refused
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
    return ProxyResult(raw.status, body, headers, provider.slug, len(raw.attempts))
