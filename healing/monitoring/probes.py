"""Health probes: call every provider's health path concurrently, a bounded number in flight.

ORM-free and async. `run_probe_cycle()` owns its HTTP session for one event loop (a Celery task
calls it through `asyncio.run`), probes, and feeds every result to the breaker in batches.

Why the timeout starts inside the semaphore: the system cryptohub replaces started each probe's
clock when the probe was *queued*, so with 1,000 providers and a 100-connection pool the tail of
the queue "timed out" while it was still waiting for a slot. Here a probe first takes a slot,
then starts its own deadline, and the session has no connection limit of its own (the semaphore
is the one bound), so no probe ever waits for a connection inside its deadline. The HTTP
client itself (aiohttp, and why) is healing.monitoring.probe_http.
"""

from __future__ import annotations

import asyncio
import json
import logging
import resource
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
import redis.asyncio
from redis.exceptions import RedisError, WatchError

from common import json_input
from healing.engine import breaker, http, ratelimit
from healing.engine.config import ProviderConfig
from healing.monitoring import probe_gate
from healing.monitoring.probe_http import MAX_PROBE_BODY_BYTES, exchange, make_session

logger = logging.getLogger(__name__)

# Probes in flight at once, unless the caller says otherwise (settings.CRYPTOHUB_SWEEP_CONCURRENCY).
# 1,000 lets a sweep of 1,000 providers answer in one round; each probe holds one socket.
DEFAULT_CONCURRENCY = 1000
# Upper bound of one probe's deadline in seconds; a provider's own timeout_s wins when shorter.
DEFAULT_PROBE_TIMEOUT_S = 8.0
# Probes started per turn of the event loop (see probe_many). Measured at 1,000 probes of 1.1 s:
# waves of 10-25 keep the slowest probe at 1.15-1.2 s, 100 at 1.25-1.4 s, all at once 1.4-1.7 s.
LAUNCH_WAVE = 10
# File descriptors kept free for everything else in the process (database, Redis, logs) when
# the open-files limit caps the probes in flight.
FD_RESERVE = 64
# Breaker records per Redis transaction: one WATCH, one pipelined read and one MULTI/EXEC per
# batch instead of a WATCH/MULTI round trip per provider (measured: 1,000 records 0.42 s -> ~0.03 s).
BREAKER_BATCH = 200
# Breaker updates in flight at once when a batch lost its compare-and-set and falls back to
# one transaction per provider.
BREAKER_FEED_CONCURRENCY = 32
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
    retry_after_s: float | None = None  # a 429's Retry-After: the cool-down it asks for

    @property
    def counts_for_breaker(self) -> bool:
        """A success, or a failure that says the provider is unwell; skips never count."""
        return not self.skipped and (self.ok or self.error_class in BREAKER_FAILURES)


def probe_url(cfg: ProviderConfig) -> str:
    """The health path, or without one the provider's cheapest real call: its base URL itself
    (an RSS feed's URL is the feed; a JSON-RPC node takes health_method/health_body there)."""
    if not cfg.health_path:
        return cfg.base_url
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
            payload = json_input.loads(body)
        except ValueError:
            return False, ERR_BAD_DATA, "answer is not JSON"
        if isinstance(payload, dict) and payload.get("error"):
            error = payload["error"]
            detail = error.get("message", "") if isinstance(error, dict) else str(error)
            return False, ERR_RPC, _short(f"JSON-RPC error: {detail}")
    return True, "", ""


async def probe_one(
    cfg: ProviderConfig,
    *,
    session: aiohttp.ClientSession,
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
    retry_after: str | None = None
    try:
        async with asyncio.timeout(timeout_s):
            status, body, retry_after = await exchange(
                session, method, probe_url(cfg), params=params or None, headers=headers or None,
                json_body=json_body, timeout_s=timeout_s, allowed_prefix=cfg.base_url,
            )
        ok, error_class, message = _classify(status, body, is_rpc=json_body is not None)
    except TimeoutError:  # asyncio's, and aiohttp's connect/read timeouts (subclasses of it)
        ok, error_class, message = False, ERR_TIMEOUT, f"no answer within {timeout_s:g} s"
    except http.BodyTooLarge:
        ok, error_class, message = False, ERR_BAD_DATA, f"health answer above {MAX_PROBE_BODY_BYTES} bytes"
    except http.RedirectRefused as exc:
        ok, error_class, message = False, ERR_REFUSED, _short(str(exc))
    except aiohttp.ClientPayloadError:  # a body cut short or badly encoded
        ok, error_class, message = False, ERR_BAD_DATA, "unreadable health answer"
    except (aiohttp.InvalidURL, ValueError) as exc:  # e.g. a health_path that makes no valid URL
        ok, error_class, message = False, ERR_REFUSED, exc.__class__.__name__
    except (aiohttp.ClientError, OSError) as exc:
        # The class name only: a transport error's text can include the URL, and with it a key.
        ok, error_class, message = False, ERR_CONNECT, exc.__class__.__name__
    latency_ms = round((time.perf_counter() - t0) * 1000, 1)
    wait = ratelimit.parse_retry_after(retry_after, clock()) if error_class == ERR_RATE_LIMITED else None
    return ProbeResult(cfg.slug, started, ok=ok, status_code=status, latency_ms=latency_ms,
                       error_class=error_class, message=message, retry_after_s=wait)


async def probe_many(
    configs: Sequence[ProviderConfig],
    *,
    session: aiohttp.ClientSession,
    concurrency: int = DEFAULT_CONCURRENCY,
    timeout_s: float = DEFAULT_PROBE_TIMEOUT_S,
    clock: Callable[[], float] = time.time,
    on_result: Callable[[ProbeResult], None] | None = None,
) -> list[ProbeResult]:
    """Probe all `configs` with at most `concurrency` requests in flight; results in input order.

    Probes are launched LAUNCH_WAVE at a time, yielding to the loop in between. Launched all at
    once, every probe's clock starts before the loop has sent a single request: measured with
    1,000 probes, the first requests reached the server 0.25-0.6 s after their clocks started,
    all of it spent starting the other 999. In waves, each request leaves right after its start.
    """
    slots = asyncio.Semaphore(max(1, concurrency))

    async def guarded(cfg: ProviderConfig) -> ProbeResult:
        async with slots:
            # The deadline starts here, inside the slot: queueing time is never held against a provider.
            result = await probe_one(cfg, session=session, timeout_s=min(timeout_s, cfg.timeout_s), clock=clock)
        if on_result is not None:
            on_result(result)
        return result

    async with asyncio.TaskGroup() as group:
        tasks = []
        for i, cfg in enumerate(configs, 1):
            tasks.append(group.create_task(guarded(cfg)))
            if i % LAUNCH_WAVE == 0:
                await asyncio.sleep(0)  # one loop turn: connect and send the probes just started
    return [task.result() for task in tasks]


# --- the breaker --------------------------------------------------------------------------------


async def feed_breaker(
    configs: Iterable[ProviderConfig], results: Iterable[ProbeResult], *, redis_async: Any,
    clock: Callable[[], float] = time.time,
) -> int:
    """Hand probe results to the engine's breaker: a failing probe counts, a passing one closes a
    half-open breaker. Returns how many results were recorded. The one place probes meet the breaker.

    The pure transition (`breaker.record`) is applied to a batch at once: WATCH the batch's keys,
    read them in one pipeline, write the changed ones in one MULTI/EXEC. If the data plane touched
    any of those breakers meanwhile, EXEC fails and that batch goes through the store one by one.
    """
    by_slug = {cfg.slug: cfg for cfg in configs}
    counted = [(by_slug[r.slug], r.ok) for r in results if r.slug in by_slug and r.counts_for_breaker]
    recorded = 0
    for start in range(0, len(counted), BREAKER_BATCH):
        batch = counted[start:start + BREAKER_BATCH]
        try:
            recorded += await _record_batch(redis_async, batch, clock)
        except WatchError:
            recorded += await _record_one_by_one(redis_async, batch, clock)
        except RedisError as exc:  # a Redis blip must not lose the sweep's history
            logger.warning("breaker not updated for %d providers (%s ... ): %s", len(batch), batch[0][0].slug,
                           exc.__class__.__name__)
    return recorded


def _step(cfg: ProviderConfig, ok: bool, old: breaker.BreakerState, now: float) -> breaker.BreakerState | None:
    """The new state for one probe result, or None when the result does not count now."""
    if ok and old.at(now).state == breaker.OPEN:
        # The open period is the engine's cool-down: a passing probe closes the breaker only
        # once it is half-open (its period ended), never cuts the period short.
        return None
    return breaker.record(old, ok, now, breaker.BreakerPolicy.for_provider(cfg))


def _log_transition(slug: str, old: breaker.BreakerState, new: breaker.BreakerState) -> None:
    if new.state == breaker.OPEN and old.state != breaker.OPEN:
        logger.warning("breaker opened for %s until %.0f (trip %d)", slug, new.reopens_at, new.trips)
    elif new.state == breaker.CLOSED and old.state != breaker.CLOSED:
        logger.info("breaker closed for %s", slug)


async def _record_batch(r: Any, batch: list[tuple[ProviderConfig, bool]], clock: Callable[[], float]) -> int:
    keys = [breaker.breaker_key(cfg.slug) for cfg, _ in batch]
    recorded = 0
    async with r.pipeline(transaction=True) as tx:
        await tx.watch(*keys)
        # Read on another connection: WATCH guards the keys whoever reads them, and a watching
        # pipeline would send each read as its own round trip.
        reader = r.pipeline(transaction=False)
        for key in keys:
            reader.hgetall(key)
        raws = await reader.execute()
        now = clock()
        before = {key: breaker.decode_state(raw) for key, raw in zip(keys, raws)}
        after = dict(before)  # a slug listed twice in one batch sees its own first update
        slugs: dict[str, str] = {}
        for (cfg, ok), key in zip(batch, keys):
            new = _step(cfg, ok, after[key], now)
            if new is None:
                continue
            recorded += 1
            after[key], slugs[key] = new, cfg.slug
        writes = [(slugs[key], key, before[key], after[key]) for key in slugs if after[key] != before[key]]
        if not writes:
            await tx.unwatch()
            return recorded
        tx.multi()
        for _, key, old, new in writes:
            # Only an open or half-open breaker holds fields (reopen, probe lease) that the new
            # state may lack; otherwise HSET overwrites every field and the DELETE is a wasted command.
            if new == breaker.CLOSED_STATE or old.reopens_at is not None or old.probe_until is not None:
                tx.delete(key)
            if new != breaker.CLOSED_STATE:
                tx.hset(key, mapping=breaker.encode_state(new))
                tx.expire(key, breaker.STATE_TTL_S)
        await tx.execute()
    # Logged once the write stuck: a batch that lost its compare-and-set is retried one by one.
    for slug, _, old, new in writes:
        _log_transition(slug, old, new)
    return recorded


async def _record_one_by_one(r: Any, batch: list[tuple[ProviderConfig, bool]], clock: Callable[[], float]) -> int:
    """The contended path: each result through the store's own compare-and-set."""
    store = breaker.BreakerStore(r, clock)
    lanes = asyncio.Semaphore(BREAKER_FEED_CONCURRENCY)

    async def feed(cfg: ProviderConfig, ok: bool) -> int:
        async with lanes:
            try:
                if ok and (await store.state(cfg.slug)).state == breaker.OPEN:
                    return 0  # see _step: a passing probe never cuts the open period short
                await store.record(cfg, ok)
                return 1
            except RedisError as exc:
                logger.warning("breaker not updated for %s: %s", cfg.slug, exc.__class__.__name__)
                return 0

    return sum(await asyncio.gather(*(feed(cfg, ok) for cfg, ok in batch)))


# --- one sweep's I/O ----------------------------------------------------------------------------


def in_flight_cap(wanted: int) -> int:
    """`wanted`, lowered so the probes' sockets fit under the process's open-files limit."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or wanted <= soft - FD_RESERVE:
        return wanted
    capped = max(1, soft - FD_RESERVE)
    logger.warning("sweep: %d probes in flight capped to %d by the open-files limit (%d)", wanted, capped, soft)
    return capped


async def run_probe_cycle(
    configs: Sequence[ProviderConfig],
    *,
    redis_url: str,
    concurrency: int = DEFAULT_CONCURRENCY,
    timeout_s: float = DEFAULT_PROBE_TIMEOUT_S,
    clock: Callable[[], float] = time.time,
    on_result: Callable[[ProbeResult], None] | None = None,
) -> list[ProbeResult]:
    """One sweep's I/O: probe everything, then feed the breaker. Owns its session for this loop."""
    r = redis.asyncio.Redis.from_url(redis_url)
    try:
        budget = ratelimit.Budget(r, clock=clock)
        gated = await _gate(configs, budget, clock)
        admitted = [cfg for cfg in configs if cfg.slug not in gated]
        probed: list[ProbeResult] = []
        if admitted:
            size = in_flight_cap(max(1, min(concurrency, len(admitted))))
            async with make_session(timeout_s=timeout_s) as session:
                probed = await probe_many(admitted, session=session, concurrency=size, timeout_s=timeout_s,
                                          clock=clock, on_result=on_result)
        by_slug = {cfg.slug: cfg for cfg in admitted}
        for result in probed:
            await probe_gate.after_probe(by_slug[result.slug], budget, retry_after_s=result.retry_after_s,
                                         rate_limited=result.error_class == ERR_RATE_LIMITED)
        await feed_breaker(admitted, probed, redis_async=r, clock=clock)
    finally:
        await r.aclose()
    done = {res.slug: res for res in probed}
    return [done.get(cfg.slug) or gated[cfg.slug] for cfg in configs]


async def _gate(configs: Sequence[ProviderConfig], budget: ratelimit.Budget,
                clock: Callable[[], float]) -> dict[str, ProbeResult]:
    """The probes that may not go now (cool-down, interval, budget), as skipped results.

    Without Redis no budget can be checked: the probe goes (a sweep is a few calls per
    provider per interval) rather than the whole sweep failing.
    """
    skipped: dict[str, ProbeResult] = {}
    for cfg in configs:
        if cfg.key_required and not cfg.api_key():
            continue  # probe_one records it as skipped_no_key without a call
        try:
            refused = await probe_gate.admit(cfg, budget, clock)
        except RedisError as exc:
            logger.warning("probe budget not checked for %s: %s", cfg.slug, exc.__class__.__name__)
            continue
        if refused is not None:
            skipped[cfg.slug] = ProbeResult(cfg.slug, clock(), ok=False, skipped=True, error_class=refused[0],
                                            message=refused[1])
    return skipped
