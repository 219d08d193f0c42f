"""The inbound check of the data plane: who is calling, may they, and are they within their limits.

Called once at the top of DataPlane.__call__, so the cache-hit fast path and the Starlette path
share it. A key (`Authorization: Bearer <key>` or `X-API-Key: <key>`) is looked up by its sha256
in the config snapshot (no ORM): unknown or disabled -> 401, capability not allowed -> 403.
Anonymous callers are limited per IP by CRYPTOHUB_ANON_LIMITS, a client by its own `limits`.
Counters live in Redis (fixed windows of the `limits` library, shared by every process); when
Redis fails the check falls back to an in-process limiter instead of failing the request.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import redis.asyncio
from django.conf import settings
from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.strategies import FixedWindowRateLimiter

from healing.engine.snapshot import ClientConfig
from healing.dataplane.headers import SECURITY_HEADERS
from providers.runtime import rkey

logger = logging.getLogger(__name__)

ANONYMOUS = "anonymous"
USAGE_KEY = "clients:usage"


def parse_anon_limits(raw: str) -> dict[str, str]:
    """"read=600/minute,proxy=60/minute" -> {"read": "600/minute", ...}; ";" separates windows."""
    out: dict[str, str] = {}
    for part in raw.split(","):
        if "=" in part:
            cls, spec = part.split("=", 1)
            parse_many(spec.strip())  # a typo fails at start-up, not on a request
            out[cls.strip()] = spec.strip()
    return out


def request_class(method: str, path: str) -> str:
    if method == "POST" and path.startswith("/api/crypto-hub/proxy"):
        return "proxy"
    if method == "POST" and path.startswith("/api/data/sentiment"):
        return "sentiment"
    return "read"


def capability_of(path: str) -> str | None:
    if path.startswith("/api/crypto-hub/proxy"):
        return "proxy"
    rest = path[len("/api/data/"):].strip("/") if path.startswith("/api/data/") else ""
    return rest or None


@dataclass
class Verdict:
    status: int
    headers: list[tuple[bytes, bytes]]
    detail: str = ""

    def body(self) -> bytes:
        return json.dumps({"detail": self.detail}).encode()


def _header(scope: Mapping[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


def presented_key(scope: Mapping[str, Any]) -> str | None:
    auth = _header(scope, b"authorization")
    if auth and auth[:7].lower() == "bearer ":
        return auth[7:].strip() or None
    return (_header(scope, b"x-api-key") or "").strip() or None


def client_ip(scope: Mapping[str, Any]) -> str:
    trusted = int(getattr(settings, "CRYPTOHUB_TRUSTED_PROXIES", 0))
    forwarded = [p.strip() for p in (_header(scope, b"x-forwarded-for") or "").split(",") if p.strip()]
    if trusted and len(forwarded) >= trusted:
        return forwarded[-trusted]
    client = scope.get("client")
    return client[0] if client else "unknown"


class InboundGuard:
    """One per process: the limiters (Redis, and the in-process fallback) and the parsed limits."""

    def __init__(self, redis_client: redis.asyncio.Redis) -> None:
        self.redis = redis_client
        storage = RedisStorage("async+redis://", implementation="redispy", key_prefix=rkey("inbound"),
                               connection_pool=redis_client.connection_pool)
        self.shared = FixedWindowRateLimiter(storage)
        self.local = FixedWindowRateLimiter(MemoryStorage())
        self.anon = {c: parse_many(s) for c, s in parse_anon_limits(settings.CRYPTOHUB_ANON_LIMITS).items()}
        self._parsed: dict[str, list[RateLimitItem]] = {}
        self._redis_down = False

    def _items(self, spec: str) -> list[RateLimitItem]:
        items = self._parsed.get(spec)
        if items is None:
            items = self._parsed[spec] = parse_many(spec) if spec else []
        return items

    async def check(self, scope: Mapping[str, Any], clients: Mapping[str, ClientConfig]) -> Verdict:
        """Status 0 with the RateLimit-* headers to add, or the refusal to send instead."""
        key = presented_key(scope)
        cls = request_class(scope.get("method", "GET"), scope.get("path", ""))
        if key is None:
            if not settings.CRYPTOHUB_PUBLIC_READ:
                return Verdict(401, [(b"www-authenticate", b"Bearer")], "an API key is required")
            return await self._limit(ANONYMOUS, f"ip:{client_ip(scope)}:{cls}", self.anon.get(cls, []))
        client = clients.get(hashlib.sha256(key.encode()).hexdigest())
        if client is None or not client.enabled:
            return Verdict(401, [(b"www-authenticate", b"Bearer")], "unknown or disabled API key")
        capability = capability_of(scope.get("path", ""))
        if client.capabilities and capability and capability not in client.capabilities:
            return Verdict(403, [], f"this key may not call {capability[:40]!r}")
        return await self._limit(client.name, f"client:{client.name}", self._items(client.limits))

    async def _limit(self, usage_name: str, ident: str, items: list[RateLimitItem]) -> Verdict:
        try:
            verdict = await self._hit(self.shared, ident, items)
            await self.redis.hincrby(rkey(USAGE_KEY, usage_name), "limited" if verdict.status else "requests", 1)
            if self._redis_down:
                self._redis_down = False
                logger.warning("inbound limits shared in Redis again")
        except (redis.RedisError, OSError, ConnectionError):
            if not self._redis_down:
                self._redis_down = True  # one warning per outage, not one per request
                logger.warning("Redis unreachable: inbound limits counted in this process only")
            verdict = await self._hit(self.local, ident, items)
        return verdict

    async def _hit(self, limiter: FixedWindowRateLimiter, ident: str, items: list[RateLimitItem]) -> Verdict:
        tightest: tuple[int, int, float] | None = None  # limit, remaining, reset epoch
        for item in items:
            allowed = await limiter.hit(item, ident)
            stats = await limiter.get_window_stats(item, ident)
            if not allowed:
                retry = max(1, int(stats.reset_time - time.time()) + 1)
                return Verdict(429, _rate_headers(item.amount, 0, stats.reset_time)
                               + [(b"retry-after", str(retry).encode())], f"rate limit {item} exceeded")
            if tightest is None or stats.remaining < tightest[1]:
                tightest = (item.amount, stats.remaining, stats.reset_time)
        return Verdict(0, _rate_headers(*tightest) if tightest else [])


def _rate_headers(limit: int, remaining: int, reset_epoch: float) -> list[tuple[bytes, bytes]]:
    reset = max(0, int(reset_epoch - time.time()) + 1)
    return [(b"ratelimit-limit", str(limit).encode()), (b"ratelimit-remaining", str(max(0, remaining)).encode()),
            (b"ratelimit-reset", str(reset).encode())]


async def inbound_send(runtime: Any, scope: Mapping[str, Any], send: Any) -> Any:
    """The `send` to answer with (RateLimit-* headers added), or None when refused here."""
    if runtime is None or runtime.holder.current is None:
        return send  # no lifespan yet: Starlette's path sets the runtime up
    guard = getattr(runtime, "inbound", None)
    if guard is None:
        guard = runtime.inbound = InboundGuard(runtime.deps.redis)
    verdict = await guard.check(scope, runtime.holder.current.clients)
    if verdict.status:
        body = verdict.body()
        headers = [*verdict.headers, (b"content-type", b"application/json"),
                   (b"content-length", str(len(body)).encode()), *SECURITY_HEADERS]
        await send({"type": "http.response.start", "status": verdict.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return None
    if not verdict.headers:
        return send

    async def with_rate_headers(message: dict) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", ()), *verdict.headers]}
        await send(message)

    return with_rate_headers
