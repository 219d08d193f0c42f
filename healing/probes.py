"""Health probes: call every provider's health path concurrently, a bounded number in flight.

ORM-free and async. `run_probe_cycle()` owns its httpx client for one event loop (a Celery task
calls it through `asyncio.run`), probes, and feeds every result to the breaker.

Why the timeout starts inside the semaphore: the system cryptohub replaces started each probe's
clock when the probe was *queued*, so with 1,000 providers and a 100-connection pool the tail of
the queue "timed out" while it was still waiting for a slot. Here a probe first takes a slot,
then starts its own deadline; the client's pool is at least as large as the number of slots, so
no probe waits for a connection either (its pool timeout is separate and short).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import redis.asyncio

from healing import http  # the one seam for outbound HTTP
from healing.config import ProviderConfig

logger = logging.getLogger(__name__)

# Probes in flight at once, unless the caller says otherwise (settings.CRYPTOHUB_SWEEP_CONCURRENCY).
DEFAULT_CONCURRENCY = 500
# Upper bound of one probe's deadline in seconds; a provider's own timeout_s wins when shorter.
DEFAULT_PROBE_TIMEOUT_S = 8.0
# Connections per httpx client. httpcore's pool scans its requests against its connections on
# every change (quadratic in the pool size); several small pools keep each scan short.
CLIENT_SHARD_SIZE = 50
# Breaker updates in flight at once after a sweep (each is a short WATCH/MULTI on its own key).
BREAKER_FEED_CONCURRENCY = 32
# A health answer is small; anything bigger than this is read no further (bad data).
MAX_PROBE_BODY_BYTES = 256_000
# Waiting for a free connection is not the provider's fault; with the pool sized to the
# semaphore it never happens, and if it does it must not eat into the probe's own deadline.
POOL_TIMEOUT_S = 30.0
# Message column width in HealthCheck.
MAX_MESSAGE = 300

# Error classes recorded with a failed probe.
ERR_TIMEOUT = "timeout"
ERR_CONNECT = "connect_error"
ERR_HTTP = "http_error"
ERR_RATE_LIMITED = "rate_limited"
ERR_RPC = "rpc_error"
ERR_BAD_DATA = "bad_data"
ERR_REFUSED = "refused"
SKIP_NO_KEY = "skipped_no_key"
# Failures that say the provider itself is unwell (they count against its breaker). A 4xx, a
# rate limit or a refused redirect says something about our request or quota instead.
BREAKER_FAILURES = frozenset({ERR_TIMEOUT, ERR_CONNECT, ERR_BAD_DATA, ERR_RPC, "server_error"})


@dataclass(frozen=True)
class ProbeResult:
    slug: str
    started_at: float  # epoch seconds when the request started (after taking a slot)
    ok: bool
    skipped: bool = False
    status_code: int | None = None
    latency_ms: float | None = None
    error_class: str = ""
    message: str = ""

    @property
    def counts_for_breaker(self) -> bool:
        """A success, or a failure that says the provider is unwell; skips never count."""
        return not self.skipped and (self.ok or self.error_class in BREAKER_FAILURES)


def probe_url(cfg: ProviderConfig) -> str:
    return cfg.base_url.rstrip("/") + "/" + cfg.health_path.lstrip("/")


def auth_parts(cfg: ProviderConfig) -> tuple[dict[str, str], dict[str, str]]:
    """Query parameters and headers carrying the provider's key (empty when it has none)."""
    key = cfg.api_key()
    if not key or cfg.auth_type == "none" or not cfg.auth_param:
        return {}, {}
    if cfg.auth_type == "query":
        return {cfg.auth_param: key}, {}
    value = f"{cfg.auth_scheme} {key}" if cfg.auth_scheme else key
    return {}, {cfg.auth_param: value}


def _short(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


def _classify(status: int, body: bytes, is_rpc: bool) -> tuple[bool, str, str]:
    """(ok, error_class, message) for an HTTP answer."""
    if status in (429, 418):
        return False, ERR_RATE_LIMITED, f"HTTP {status}"
    if status >= 500:
        return False, "server_error", f"HTTP {status}"
    if not 200 <= status < 300:
        return False, ERR_HTTP, f"HTTP {status}"
    if is_rpc:
        # JSON-RPC reports failures inside HTTP 200.
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return False, ERR_BAD_DATA, "answer is not JSON"
        if isinstance(payload, dict) and payload.get("error"):
            error = payload["error"]
            detail = error.get("message", "") if isinstance(error, dict) else str(error)
            return False, ERR_RPC, _short(f"JSON-RPC error: {detail}")
    return True, "", ""


async def probe_one(
    cfg: ProviderConfig,
    *,
    client: httpx.AsyncClient,
    timeout_s: float,
    clock: Callable[[], float] = time.time,
) -> ProbeResult:
    """Probe one provider; never raises (every failure becomes a result). Timed from now."""
    if cfg.key_required and not cfg.api_key():
        return ProbeResult(cfg.slug, clock(), ok=False, skipped=True, error_class=SKIP_NO_KEY,
                           message=f"needs its key in ${cfg.api_key_env}" if cfg.api_key_env else "needs a key")
    params, headers = auth_parts(cfg)
    method = (cfg.health_method or "GET").upper()
    json_body: Any = None
    if method == "POST" and cfg.health_body:
        try:
            json_body = json.loads(cfg.health_body)
        except ValueError:
            return ProbeResult(cfg.slug, clock(), ok=False, error_class=ERR_REFUSED,
                               message="health_body is not valid JSON")
    started = clock()
    t0 = time.perf_counter()
    status: int | None = None
    try:
        async with asyncio.timeout(timeout_s):
            raw = await http.send(
                client, method, probe_url(cfg), params=params or None, headers=headers or None,
                json_body=json_body, timeout_s=timeout_s, max_body_bytes=MAX_PROBE_BODY_BYTES,
                allowed_prefix=cfg.base_url,
            )
        status = raw.status
        ok, error_class, message = _classify(raw.status, raw.body, is_rpc=json_body is not None)
    except (TimeoutError, httpx.TimeoutException):
        ok, error_class, message = False, ERR_TIMEOUT, f"no answer within {timeout_s:g} s"
    except httpx.TransportError as exc:
        # The class name only: a transport error's text can include the URL, and with it a key.
        ok, error_class, message = False, ERR_CONNECT, exc.__class__.__name__
    except http.BodyTooLarge:
        ok, error_class, message = False, ERR_BAD_DATA, f"health answer above {MAX_PROBE_BODY_BYTES} bytes"
    except http.RedirectRefused as exc:
        ok, error_class, message = False, ERR_REFUSED, _short(str(exc))
    except (httpx.HTTPError, ValueError) as exc:  # e.g. a health_path that makes no valid URL
        ok, error_class, message = False, ERR_REFUSED, exc.__class__.__name__
    latency_ms = round((time.perf_counter() - t0) * 1000, 1)
    return ProbeResult(cfg.slug, started, ok=ok, status_code=status, latency_ms=latency_ms,
                       error_class=error_class, message=message)


async def probe_many(
    configs: Sequence[ProviderConfig],
    *,
    client: httpx.AsyncClient | Sequence[httpx.AsyncClient],
    concurrency: int = DEFAULT_CONCURRENCY,
    timeout_s: float = DEFAULT_PROBE_TIMEOUT_S,
    clock: Callable[[], float] = time.time,
    on_result: Callable[[ProbeResult], None] | None = None,
) -> list[ProbeResult]:
    """Probe all `configs` with at most `concurrency` requests in flight; results in input order.

    With several clients (shards), probes are dealt to them in turn and each shard gets an equal
    share of the slots, so no client ever has more requests in flight than its pool holds.
    """
    clients = [client] if isinstance(client, httpx.AsyncClient) else list(client)
    share = max(1, concurrency // len(clients))
    slots = [asyncio.Semaphore(share) for _ in clients]

    async def guarded(i: int, cfg: ProviderConfig) -> ProbeResult:
        shard = i % len(clients)
        async with slots[shard]:
            # The deadline starts here, inside the slot: queueing time is never held against a provider.
            result = await probe_one(cfg, client=clients[shard], timeout_s=min(timeout_s, cfg.timeout_s), clock=clock)
        if on_result is not None:
            on_result(result)
        return result

    return list(await asyncio.gather(*(guarded(i, cfg) for i, cfg in enumerate(configs))))


async def feed_breaker(
    configs: Iterable[ProviderConfig], results: Iterable[ProbeResult], *, redis_async: Any,
    clock: Callable[[], float] = time.time,
) -> int:
    """Hand probe results to the engine's breaker: a failing probe counts, a passing one closes a
    half-open breaker. Returns how many results were recorded. The one place probes meet the breaker."""
    try:
        from healing.breaker import BreakerStore
    except ImportError:  # the engine is optional for monitoring: history still works without it
        logger.warning("healing.breaker is not available; probe results not fed to the breaker")
        return 0
    store = BreakerStore(redis_async, clock)
    by_slug = {cfg.slug: cfg for cfg in configs}
    counted = [r for r in results if r.slug in by_slug and r.counts_for_breaker]
    try:
        states = await store.states(r.slug for r in counted if r.ok)
    except Exception as exc:
        logger.warning("breaker states unreadable, probe results not fed: %s", exc.__class__.__name__)
        return 0
    lanes = asyncio.Semaphore(BREAKER_FEED_CONCURRENCY)

    async def feed(result: ProbeResult) -> int:
        state = states.get(result.slug)
        if result.ok and state is not None and state.state == "open":
            # The open period is the engine's cool-down: a passing probe closes the breaker only
            # once it is half-open (its period ended), never cuts the period short.
            return 0
        try:
            async with lanes:
                await store.record(by_slug[result.slug], result.ok)
            return 1
        except Exception as exc:  # a Redis blip must not lose the sweep's history
            logger.warning("breaker not updated for %s: %s", result.slug, exc.__class__.__name__)
            return 0

    recorded = sum(await asyncio.gather(*(feed(r) for r in counted)))
    return recorded


async def run_probe_cycle(
    configs: Sequence[ProviderConfig],
    *,
    redis_url: str,
    concurrency: int = DEFAULT_CONCURRENCY,
    timeout_s: float = DEFAULT_PROBE_TIMEOUT_S,
    clock: Callable[[], float] = time.time,
    on_result: Callable[[ProbeResult], None] | None = None,
) -> list[ProbeResult]:
    """One sweep's I/O: probe everything, then feed the breaker. Owns its clients for this loop."""
    size = max(1, min(concurrency, len(configs)))
    shards = math.ceil(size / CLIENT_SHARD_SIZE)
    per_shard = math.ceil(size / shards)
    # Every shard's pool holds at least its share of the slots, so no probe waits for a
    # connection; the pool timeout is separate from (and longer than) the probe's own deadline.
    # No keep-alive: a sweep calls each provider once, so there is nothing to reuse, and 500 idle
    # kept-alive connections made httpcore's pool bookkeeping stall the loop for seconds (measured).
    limits = httpx.Limits(max_connections=per_shard, max_keepalive_connections=0)
    timeout = httpx.Timeout(timeout_s, connect=min(http.CONNECT_TIMEOUT_S, timeout_s), pool=POOL_TIMEOUT_S)
    # One TLS context for all shards: loading the CA bundle takes ~50 ms and blocks the loop.
    tls = httpx.create_ssl_context()
    async with contextlib.AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(http.make_client(limits=limits, timeout=timeout, verify=tls))
                   for _ in range(shards)]
        results = await probe_many(configs, client=clients, concurrency=size, timeout_s=timeout_s,
                                   clock=clock, on_result=on_result)
    r = redis.asyncio.Redis.from_url(redis_url)
    try:
        await feed_breaker(configs, results, redis_async=r, clock=clock)
    finally:
        await r.aclose()
    return results
