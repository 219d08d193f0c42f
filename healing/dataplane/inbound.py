"""The inbound check of the data plane: who is calling, may they, and are they within their limits.

Called once at the top of DataPlane.__call__, so the cache-hit fast path and the Starlette path
share it. A key (`Authorization: Bearer <key>` or `X-API-Key: <key>`) is looked up by its sha256
in the config snapshot (no ORM): unknown or disabled -> 401, capability not allowed -> 403.
With CRYPTOHUB_PUBLIC_READ off, a caller without a key needs the session cookie of an active
staff user (Django's session store, asked in a worker thread; the verdict kept STAFF_VERDICT_TTL_S).
Anonymous callers are limited per IP by CRYPTOHUB_ANON_LIMITS, a client by its own `limits`.

Counters live in Redis, shared by every process: fixed windows that start at a window's first
hit (the `limits` library's fixed-window rule), one counter per identity and window,
`inbound:<identity>:<amount>/<multiples>/<granularity>`, expiring with its window. One Lua
rule per request increments the windows (stopping at the first one over its limit) and the
caller's usage (key format: healing.models.clients); the checks of one event-loop turn share one
script call (healing.dataplane.inbound_batch), so a busy process makes one round trip per turn. While Redis is down
(the process's RedisHealth) the check does not wait on it: each process limits in memory to
1/CRYPTOHUB_PROCESS_COUNT of every limit, and keeps the usage counts until Redis is back.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import redis.asyncio
from asgiref.sync import sync_to_async
from django.conf import settings
from django.http.cookie import parse_cookie
from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import FixedWindowRateLimiter

from healing.dataplane import activity_notes
from healing.dataplane.headers import SECURITY_HEADERS
from healing.dataplane.inbound_batch import CheckBatcher
from healing.engine.degraded import REDIS_DOWN, RedisHealth
from healing.engine.ratelimit import share_of
from healing.engine.snapshot import ClientConfig
from healing.models.clients import ANONYMOUS, STAFF_SESSION, USAGE_DAY_TTL_S, usage_key, utc_day
from providers.runtime import rkey

logger = logging.getLogger(__name__)

# How long a staff-session verdict is trusted without asking the database again (seconds):
# a logout or a demotion reaches the data plane within this long.
STAFF_VERDICT_TTL_S = 30.0
# Session keys whose verdict a process remembers (oldest dropped first).
STAFF_VERDICTS_MAX = 10_000

def window_key(ident: str, item: RateLimitItem) -> str:
    return rkey("inbound", ident, f"{item.amount}/{item.multiples}/{item.GRANULARITY.name}")


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
    client: str = ""  # who asked: a client key's name, or the anonymous / staff usage name

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


def session_key_of(scope: Mapping[str, Any]) -> str | None:
    """The Django session cookie's value, when it has the shape of a session key."""
    cookie = _header(scope, b"cookie")
    key = parse_cookie(cookie).get(settings.SESSION_COOKIE_NAME) if cookie else None
    return key if key and key.isalnum() and 8 <= len(key) <= 64 else None


def client_ip(scope: Mapping[str, Any]) -> str:
    trusted = int(getattr(settings, "CRYPTOHUB_TRUSTED_PROXIES", 0))
    forwarded = [p.strip() for p in (_header(scope, b"x-forwarded-for") or "").split(",") if p.strip()]
    if trusted and len(forwarded) >= trusted:
        return forwarded[-trusted]
    client = scope.get("client")
    return client[0] if client else "unknown"


def staff_session_in_db(session_key: str) -> bool:
    """Does this session belong to an active staff user? Sync: Django's session store and auth."""
    from importlib import import_module
    from types import SimpleNamespace

    from django.contrib.auth import get_user
    from django.db import connections

    try:
        store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
        # get_user checks the session's auth hash too (a changed password logs the session out).
        user = get_user(SimpleNamespace(session=store))
        return bool(user.is_active and user.is_staff)
    finally:
        connections.close_all()  # an executor thread Django knows nothing about


class StaffSessions:
    """Staff-session verdicts per session key, cached STAFF_VERDICT_TTL_S (no DB hit per request)."""

    def __init__(self, lookup: Callable[[str], bool] = staff_session_in_db,
                 monotonic: Callable[[], float] = time.monotonic, ttl_s: float = STAFF_VERDICT_TTL_S) -> None:
        self._lookup = sync_to_async(lookup, thread_sensitive=False)
        self._monotonic = monotonic
        self._ttl_s = ttl_s
        self._verdicts: dict[str, tuple[bool, float]] = {}

    async def is_staff(self, session_key: str) -> bool:
        cached = self._verdicts.get(session_key)
        if cached is not None and cached[1] > self._monotonic():
            return cached[0]
        try:
            verdict = await self._lookup(session_key)
        except Exception:  # the database is down: no verdict to cache, and no 500 either
            logger.warning("staff session check failed", exc_info=True)
            return False
        if len(self._verdicts) >= STAFF_VERDICTS_MAX:
            del self._verdicts[next(iter(self._verdicts))]
        self._verdicts.pop(session_key, None)
        self._verdicts[session_key] = (verdict, self._monotonic() + self._ttl_s)
        return verdict


def _unauthorized(detail: str) -> Verdict:
    return Verdict(401, [(b"www-authenticate", b"Bearer")], detail)


class InboundGuard:
    """One per process: the shared limiter (one Lua script), the in-memory fallback, the parsed limits."""

    def __init__(self, redis_client: redis.asyncio.Redis, health: RedisHealth | None = None,
                 sessions: StaffSessions | None = None) -> None:
        self.redis = redis_client
        self.health = health or RedisHealth()
        self.sessions = sessions or StaffSessions()
        self.batcher = CheckBatcher(redis_client)
        self.local = FixedWindowRateLimiter(MemoryStorage())
        # Read once: how many processes share the limits while each counts alone.
        self.process_count = max(1, int(getattr(settings, "CRYPTOHUB_PROCESS_COUNT", 1)))
        self.anon = {c: parse_many(s) for c, s in parse_anon_limits(settings.CRYPTOHUB_ANON_LIMITS).items()}
        self._parsed: dict[str, list[RateLimitItem]] = {}
        self._shares: dict[RateLimitItem, RateLimitItem] = {}
        # Usage counted while Redis was down, added to Redis by the next request that reaches it.
        self._pending: Counter[tuple[str, str | None, str]] = Counter()
        self._pending_seen: dict[str, float] = {}

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
            usage_name = ANONYMOUS
            if not settings.CRYPTOHUB_PUBLIC_READ:
                session_key = session_key_of(scope)
                if session_key is None or not await self.sessions.is_staff(session_key):
                    return _unauthorized("an API key or a staff session is required")
                usage_name = STAFF_SESSION
            return await self._limit(usage_name, f"ip:{client_ip(scope)}:{cls}", self.anon.get(cls, []))
        client = clients.get(hashlib.sha256(key.encode()).hexdigest())
        if client is None or not client.enabled:
            return _unauthorized("unknown or disabled API key")
        capability = capability_of(scope.get("path", ""))
        if client.capabilities and capability and capability not in client.capabilities:
            return Verdict(403, [], f"this key may not call {capability[:40]!r}")
        return await self._limit(client.name, f"client:{client.name}", self._items(client.limits))

    async def _limit(self, usage_name: str, ident: str, items: list[RateLimitItem]) -> Verdict:
        now = time.time()
        if self.health.may_try():
            try:
                if self._pending:
                    await self._flush_pending()
                verdict = await self._shared_hit(usage_name, ident, items, now)
            except REDIS_DOWN as exc:
                self.health.failed(exc)
            except redis.RedisError:  # not an outage but still no reason to refuse the request
                logger.warning("inbound limits: Redis refused the script", exc_info=True)
            else:
                self.health.ok()
                verdict.client = usage_name
                return verdict
        verdict = await self._local_hit(ident, items)
        self._count_locally(usage_name, now, limited=verdict.status == 429)
        verdict.client = usage_name
        return verdict

    async def _shared_hit(self, usage_name: str, ident: str, items: list[RateLimitItem], now: float) -> Verdict:
        keys = [window_key(ident, item) for item in items]
        keys += [usage_key(usage_name), usage_key(usage_name, utc_day(now))]
        args = [len(items), *(i.amount for i in items), *(i.get_expiry() for i in items), now, USAGE_DAY_TTL_S]
        out = await self.batcher.run(keys, args)
        tightest: tuple[int, int, float] | None = None  # limit, remaining, seconds to reset
        for item, count, ttl_ms in zip(items, out[::2], out[1::2], strict=False):
            reset_s = int(ttl_ms) / 1000
            if count > item.amount:
                return _too_many(item, reset_s)
            if tightest is None or item.amount - count < tightest[1]:
                tightest = (item.amount, item.amount - count, reset_s)
        return Verdict(0, _rate_headers(*tightest) if tightest else [])

    def _share(self, item: RateLimitItem) -> RateLimitItem:
        """This process's part of a limit while it counts alone (the engine's budgets' rule)."""
        share = self._shares.get(item)
        if share is None:
            share = self._shares[item] = share_of(item, self.process_count)
        return share

    async def _local_hit(self, ident: str, items: list[RateLimitItem]) -> Verdict:
        tightest: tuple[int, int, float] | None = None
        for item in map(self._share, items):
            allowed = await self.local.hit(item, ident)
            stats = await self.local.get_window_stats(item, ident)
            reset_s = stats.reset_time - time.time()
            if not allowed:
                return _too_many(item, reset_s)
            if tightest is None or stats.remaining < tightest[1]:
                tightest = (item.amount, stats.remaining, reset_s)
        return Verdict(0, _rate_headers(*tightest) if tightest else [])

    def _count_locally(self, usage_name: str, now: float, *, limited: bool) -> None:
        for day in (None, utc_day(now)):
            self._pending[(usage_name, day, "requests")] += 1
            if limited:
                self._pending[(usage_name, day, "limited")] += 1
        self._pending_seen[usage_name] = now

    async def _flush_pending(self) -> None:
        """Add the usage counted during an outage (one pipeline, once after it, before the next hit)."""
        pending, seen = self._pending, self._pending_seen
        self._pending, self._pending_seen = Counter(), {}
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for (name, day, field), n in pending.items():
                    pipe.hincrby(usage_key(name, day), field, n)
                    if day is not None:
                        pipe.expire(usage_key(name, day), USAGE_DAY_TTL_S)
                for name, last in seen.items():
                    pipe.hset(usage_key(name), "last_seen", last)
                await pipe.execute()
        except BaseException:
            self._pending.update(pending)  # kept for the next request that reaches Redis
            self._pending_seen = {**seen, **self._pending_seen}
            raise


def _too_many(item: RateLimitItem, reset_s: float) -> Verdict:
    retry = max(1, int(reset_s) + 1)
    return Verdict(429, _rate_headers(item.amount, 0, reset_s) + [(b"retry-after", str(retry).encode())],
                   f"rate limit {item} exceeded")


def _rate_headers(limit: int, remaining: int, reset_s: float) -> list[tuple[bytes, bytes]]:
    reset = max(0, int(reset_s) + 1)
    return [(b"ratelimit-limit", str(limit).encode()), (b"ratelimit-remaining", str(max(0, remaining)).encode()),
            (b"ratelimit-reset", str(reset).encode())]


async def inbound_send(runtime: Any, scope: Mapping[str, Any], send: Any,
                       refusal: Callable[[int, str], bytes] | None = None) -> Any:
    """The `send` to answer with (RateLimit-* headers added), or None when refused here.

    `refusal` renders a refusal's body in a drop-in dialect's shape (the native one otherwise)."""
    guard = getattr(runtime, "inbound", None)
    if guard is None:
        guard = runtime.inbound = InboundGuard(runtime.deps.redis, runtime.deps.health)
    # The snapshot holds the clients; get() loads it if the poller has not yet.
    verdict = await guard.check(scope, (await runtime.holder.get()).clients)
    scope[activity_notes.CLIENT] = verdict.client or None  # the activity log says who asked
    if verdict.status:
        body = verdict.body() if refusal is None else refusal(verdict.status, verdict.detail)
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
