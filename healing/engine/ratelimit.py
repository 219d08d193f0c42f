"""Rate-limit budgets and Retry-After cool-downs per provider, shared by every process via Redis.

Budgets use the `limits` library's moving-window strategy over its redis-py async storage, for
every window in the provider's `rate_limits` string ("2/second;100/minute"): a call goes only
when all windows have room, so a spent budget routes to the next provider before the provider
ever answers 429.

`limits` stamps entries with `time.time()`; `ClockedRedisStorage` runs the very same Lua scripts
with the injected clock instead, so tests move time to free a window instead of sleeping.

A granted token is not yet a call: the request reaches the provider some milliseconds later
(task scheduling, the connection pool, the network), and that delay varies. Under a saturating
burst a moving window hands out each token the instant one frees, so two windows' grants can
land inside one window at the provider. `guard_s` pads every window on our side: a token is
granted only when fewer than `limit` grants lie within `window + guard_s`, so arrivals jittered
by less than the guard still fit the provider's window.

Cool-downs are separate: a 429/418 answer sets `cooldown:<slug>` to the epoch time the provider
asked us to wait until (Retry-After), and every process skips it until then.
"""

from __future__ import annotations

import email.utils
import functools
import logging
import math
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import redis.asyncio
from limits import RateLimitItem
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.util import parse_many

from providers.runtime import rkey

logger = logging.getLogger(__name__)

# Cool-down when a provider says "slow down" without a usable Retry-After (seconds).
DEFAULT_COOLDOWN_S = 60.0
# Never trust a Retry-After longer than this (seconds): a typo upstream must not bench a provider for days.
MAX_COOLDOWN_S = 3600.0
# Lua: the moving-window acquire of `limits`, with the window (ARGV[3], float seconds, guard
# included) kept apart from the key's TTL (ARGV[5], whole seconds: EXPIRE takes integers only).
_ACQUIRE_GUARDED = """
local timestamp = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local amount = tonumber(ARGV[4])
if amount > limit then return false end
local entry = redis.call('lindex', KEYS[1], limit - amount)
if entry and tonumber(entry) >= timestamp - window then return false end
for i = 1, amount do redis.call('lpush', KEYS[1], timestamp) end
redis.call('ltrim', KEYS[1], 0, limit - 1)
redis.call('expire', KEYS[1], tonumber(ARGV[5]))
return true
"""
# Shortest cool-down honoured (seconds): "Retry-After: 0" still means "not right now".
MIN_COOLDOWN_S = 1.0


class ClockedRedisStorage(RedisStorage):
    """limits' async Redis storage (redis-py bridge), stamping moving-window entries with `clock`."""

    def __init__(
        self, uri: str, *, clock: Callable[[], float] = time.time, guard_s: float = 0.0, **options: Any
    ):
        super().__init__(uri, implementation="redispy", **options)
        self.clock = clock
        self.guard_s = max(0.0, guard_s)
        self._acquire_guarded = None

    async def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        bridge = self.bridge
        if not self.guard_s:
            args = [self.clock(), limit, expiry, amount]
            return bool(await bridge.lua_acquire_moving_window([bridge.prefixed_key(key)], args))
        if self._acquire_guarded is None:
            self._acquire_guarded = bridge.get_connection().register_script(_ACQUIRE_GUARDED)
        window = expiry + self.guard_s
        return bool(await self._acquire_guarded(
            [bridge.prefixed_key(key)], [self.clock(), limit, window, amount, math.ceil(window)]
        ))

    async def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        bridge = self.bridge
        now = self.clock()
        # The guard counts here too, so "remaining" agrees with what acquire would grant.
        window = await bridge.lua_moving_window([bridge.prefixed_key(key)], [now - expiry - self.guard_s, limit])
        if window:
            return float(window[0]), int(window[1])
        return now, 0


@functools.lru_cache(maxsize=512)
def parse_limits(spec: str) -> tuple[RateLimitItem, ...]:
    """The windows of a limits string, shortest first; an unparseable string means no limit."""
    if not spec or not spec.strip():
        return ()
    try:
        items = parse_many(spec)
    except ValueError:
        logger.warning("ignoring unparseable rate limit %r", spec)
        return ()
    # Shortest window first: if a later (longer) window is spent, the token wasted in an earlier
    # one belongs to a window that frees soon anyway.
    return tuple(sorted(items, key=lambda item: item.get_expiry()))


def share_of(item: RateLimitItem, processes: int) -> RateLimitItem:
    """One process's part of a window that `processes` processes split (at least 1 call).

    Integer division, never a float share: 600 split three ways is 200 each, not 199.
    """
    if processes <= 1:
        return item
    return type(item)(max(1, item.amount // processes), item.multiples, item.namespace)


@functools.lru_cache(maxsize=512)
def shared_limits(spec: str, processes: int) -> tuple[RateLimitItem, ...]:
    """The windows of a limits string, each as one of `processes` processes' part of it."""
    return tuple(share_of(item, processes) for item in parse_limits(spec))


def limit_text(item: RateLimitItem) -> str:
    """The window as people write it: "2/second", "10/6 seconds"."""
    unit = item.GRANULARITY.name
    return f"{item.amount}/{unit}" if item.multiples == 1 else f"{item.amount}/{item.multiples} {unit}s"


def cooldown_key(slug: str) -> str:
    return rkey("cooldown", slug)


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - now)


def cooldown_seconds(retry_after_s: float | None) -> float:
    if retry_after_s is None or math.isnan(retry_after_s):
        return DEFAULT_COOLDOWN_S
    return min(MAX_COOLDOWN_S, max(MIN_COOLDOWN_S, retry_after_s))


# Async callables awaited with (budget, provider slug) when a provider's budget is found spent (a
# refused token, at most once per SPENT_NOTICE_S per provider and process) or its cool-down starts
# (the live feed installs one: healing.breaker_feed). Never called while tokens are granted.
SPENT_OBSERVERS: list[Callable[[Any, str], Awaitable[None]]] = []
SPENT_NOTICE_S = 1.0


class Budget:
    """Shared budgets and cool-downs. Build it from a redis.asyncio client (sharing its pool),
    a redis URL, or a ready limits storage."""

    def __init__(
        self,
        source: redis.asyncio.Redis | str | RedisStorage,
        *,
        clock: Callable[[], float] = time.time,
        guard_s: float = 0.0,
        processes: int = 1,
    ):
        self.clock = clock
        self.guard_s = guard_s
        # Processes splitting each window (while Redis is down each of N grants 1/N of it).
        self.processes = processes
        prefix = rkey("rl")
        if isinstance(source, RedisStorage):
            self.storage = source
            self.redis = source.bridge.get_connection()
        elif isinstance(source, str):
            url = source if source.startswith("async+") else "async+" + source
            self.storage = ClockedRedisStorage(url, clock=clock, guard_s=guard_s, key_prefix=prefix)
            self.redis = self.storage.bridge.get_connection()
        else:
            self.storage = ClockedRedisStorage(
                "async+redis://", clock=clock, guard_s=guard_s, key_prefix=prefix,
                connection_pool=source.connection_pool,
            )
            self.redis = source
        self.limiter = MovingWindowRateLimiter(self.storage)
        self._noticed: dict[str, float] = {}  # slug -> when observers last heard of its spent budget

    async def acquire(self, cfg: Any) -> str | None:
        """Take one token in every window; None if taken, else the spent limit ("2/second")."""
        for item in shared_limits(cfg.rate_limits, self.processes):
            if not await self.limiter.hit(item, cfg.slug):
                now = self.clock()
                if not 0 <= now - self._noticed.get(cfg.slug, -SPENT_NOTICE_S) < SPENT_NOTICE_S:
                    self._noticed[cfg.slug] = now
                    await self._tell_spent(cfg.slug)
                return limit_text(item)
        return None

    async def _tell_spent(self, slug: str) -> None:
        for observer in list(SPENT_OBSERVERS):
            try:
                await observer(self, slug)
            except Exception as exc:  # noqa: BLE001 - an observer must never fail a request
                logger.warning("budget observer failed for %s: %r", slug, exc)

    async def try_acquire(self, cfg: Any) -> bool:
        return await self.acquire(cfg) is None

    async def remaining(self, cfg: Any) -> list[dict]:
        """Per window: the limit, tokens left, and when the next token frees (epoch seconds)."""
        out = []
        for item in shared_limits(cfg.rate_limits, self.processes):
            stats = await self.limiter.get_window_stats(item, cfg.slug)
            # limits reports oldest grant + window; the guard holds the token that much longer.
            resets_at = stats.reset_time + self.guard_s
            out.append({"limit": limit_text(item), "remaining": max(0, stats.remaining), "resets_at": resets_at})
        return out

    async def cool_down(self, slug: str, seconds: float) -> float:
        """Skip `slug` everywhere for `seconds`; returns the epoch time the cool-down ends."""
        until = self.clock() + seconds
        # The key outlives the cool-down a little; readers compare against the clock anyway.
        await self.redis.set(cooldown_key(slug), repr(until), ex=max(1, math.ceil(seconds)) + 60)
        logger.info("provider %s cooling down for %.1f s", slug, seconds)
        await self._tell_spent(slug)
        return until

    def queue_cooling(self, pipe: Any, slug: str) -> None:
        pipe.get(cooldown_key(slug))

    def parse_cooling(self, raw: Any) -> float | None:
        if raw is None:
            return None
        until = float(raw)
        return until if until > self.clock() else None

    async def cooling_until(self, slug: str) -> float | None:
        """Epoch time the provider's cool-down ends, or None if it is not cooling down."""
        return self.parse_cooling(await self.redis.get(cooldown_key(slug)))

    async def reset(self, slug: str, cfg: Any = None) -> None:
        """Forget the cool-down and every budget window of `slug`."""
        keys = [cooldown_key(slug)]
        pattern = self.storage.bridge.prefixed_key(f"LIMITER/{slug}/*")
        async for key in self.redis.scan_iter(match=pattern, count=500):
            keys.append(key)
        await self.redis.delete(*keys)


def describe_budgets(slug: str, windows: Iterable[dict], now: float) -> list[str]:
    """Suggestions for spent windows: "binance: budget 1/second frees in 0.4 s"."""
    out = []
    for w in windows:
        if w["remaining"] <= 0:
            out.append(f"{slug}: budget {w['limit']} frees in {max(0.0, w['resets_at'] - now):.1f} s")
    return out
