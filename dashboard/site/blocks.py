"""The data behind the Market, Sentiment and Tools tabs, fetched in-process through the same
functions the data plane's handlers call (healing.dataplane.requests, .proxy), so a page shows
exactly what /api/data/* would answer, provenance included, without an HTTP hop to itself.

Every fetch becomes a `Block`: its data and `meta` (source, served, age), or the reason it could
not be had and the attempts made. Nothing here raises for a provider's failure: a page renders
"unavailable: <reason>" for that block and the rest of the page still shows.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from common import json_input
from healing.dataplane import requests as data_requests
from healing.dataplane.app import data_plane, ensure_runtime
from healing.dataplane.inbound import InboundGuard
from healing.dataplane.params import ParamError, UnknownRoute, parse_request, sentiment_texts
from healing.dataplane.proxy import proxy_call
from healing.engine import degraded
from healing.engine.errors import AllProvidersFailed, UnknownCapability

logger = logging.getLogger(__name__)

# Answer headers of the proxy worth showing an operator (the proxy passes only safe ones anyway),
# and the inbound limit's own (RateLimit-*), which the data plane adds to every answer.
SHOWN_PROXY_HEADERS = ("content-type", "cache-control", "etag", "last-modified", "retry-after",
                       "x-cryptohub-source", "x-cryptohub-cache",
                       "ratelimit-limit", "ratelimit-remaining", "ratelimit-reset")
# The data plane's paths whose inbound rules (request class, counters) the two forms share.
PROXY_PATH = "/api/crypto-hub/proxy"
SENTIMENT_PATH = "/api/data/sentiment"
# The proxy console shows at most this much of an answer body (characters).
PROXY_BODY_SHOWN = 20_000


@dataclass
class Block:
    data: Any = None
    meta: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    attempts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.error

    @property
    def stale(self) -> bool:
        return self.meta.get("served") == "stale" or bool(self.meta.get("degraded"))


async def runtime():
    """The data plane's per-process runtime (engine deps + config snapshot), shared with it."""
    return await ensure_runtime(data_plane)


async def data_block(name: str, query: Mapping[str, str] | None = None) -> Block:
    """What GET /api/data/<name>?<query> answers, as a Block (never raises)."""
    try:
        req = parse_request(name, query or {})
        rt = await runtime()
        snapshot = await rt.holder.get()
        answer = await data_requests.fetch_data(req, snapshot=snapshot, deps=rt.deps)
    except AllProvidersFailed as exc:
        attempts = [a.as_dict() for a in exc.attempts]
        reason = "every provider failed" if attempts else "no provider serves it"
        return Block(error=reason, attempts=attempts)
    except (ParamError, UnknownRoute, UnknownCapability) as exc:
        return Block(error=str(exc) or name)
    except Exception:
        logger.exception("dashboard block %s failed", name)
        return Block(error="temporarily unable to fetch; the server log has the details")
    return Block(answer.data, answer.meta)


async def score_text(text: str) -> tuple[Block, str]:
    """POST /api/data/sentiment for one text: (block, the field error or "")."""
    try:
        texts = sentiment_texts({"texts": [text]})
    except ParamError as exc:
        return Block(error=exc.detail), exc.detail
    rt = await runtime()
    answer = await data_requests.score_texts(texts, now=rt.deps.clock())
    return Block(answer.data, answer.meta), ""


async def registered_providers() -> list[dict[str, str]]:
    """The providers the proxy accepts (enabled ones of the snapshot), for the console's choice."""
    rt = await runtime()
    snapshot = await rt.holder.get()
    rows = [{"slug": p.slug, "name": p.name, "base_url": p.base_url}
            for p in snapshot.providers.values() if p.enabled]
    return sorted(rows, key=lambda row: row["slug"])


@dataclass
class Refusal:
    """The data plane's inbound answer to a caller it does not serve (401, 403, 429)."""

    status: int
    detail: str
    headers: dict[str, str]

    @property
    def retry_after(self) -> str:
        return self.headers.get("retry-after", "")


async def _inbound_verdict(scope: Mapping[str, Any], path: str):
    """What the data plane's inbound check says to this caller POSTing to `path`: the same guard
    (one per process, made here if no data-plane request made it yet) and the same counters."""
    rt = await runtime()
    if getattr(rt, "inbound", None) is None:
        rt.inbound = InboundGuard(rt.deps.redis, rt.deps.health)
    as_data_plane = {**scope, "type": "http", "method": "POST", "path": path}
    return await rt.inbound.check(as_data_plane, (await rt.holder.get()).clients)


def _shown_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items() if k.lower() in SHOWN_PROXY_HEADERS}


def _verdict_headers(verdict) -> dict[str, str]:
    """The inbound verdict's ASGI header pairs (bytes) as the console shows headers."""
    return _shown_headers({k.decode("latin-1"): v.decode("latin-1") for k, v in verdict.headers})


async def inbound_refusal(scope: Mapping[str, Any], path: str) -> Refusal | None:
    """None when the data plane would serve this caller on `path` (the hit is counted), else why not."""
    verdict = await _inbound_verdict(scope, path)
    if not verdict.status:
        return None
    return Refusal(verdict.status, verdict.detail, _verdict_headers(verdict))


@dataclass
class ProxyAnswer:
    status: int
    headers: dict[str, str]
    body: str
    truncated: bool
    detail: str = ""


async def proxy_answer(body: Mapping[str, Any], scope: Mapping[str, Any]) -> ProxyAnswer:
    """What POST /api/crypto-hub/proxy with `body` answers the caller of `scope` (the inbound check
    first, as there), shaped for the console (body as text, capped)."""
    verdict = await _inbound_verdict(scope, PROXY_PATH)
    if verdict.status:
        text = verdict.body().decode()
        return ProxyAnswer(verdict.status, _verdict_headers(verdict), _pretty(text, "json"), False, verdict.detail)
    rt = await runtime()
    snapshot = await rt.holder.get()
    result, _ = await degraded.with_fallback(rt.deps, lambda d: proxy_call(dict(body), snapshot=snapshot, deps=d))
    headers = {**_shown_headers(result.headers), **_verdict_headers(verdict)}
    text = result.body.decode("utf-8", errors="replace")
    detail = ""
    if result.status >= 400:
        detail = _detail_of(text)
    text = _pretty(text, headers.get("content-type", ""))
    return ProxyAnswer(result.status, headers, text[:PROXY_BODY_SHOWN], len(text) > PROXY_BODY_SHOWN, detail)


def _detail_of(text: str) -> str:
    try:
        payload = json_input.loads(text)
    except ValueError:
        return ""
    return str(payload.get("detail", "")) if isinstance(payload, dict) else ""


def _pretty(text: str, content_type: str) -> str:
    if "json" not in content_type:
        return text
    try:
        return json.dumps(json_input.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text
