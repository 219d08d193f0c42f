"""Degraded mode: what a process does while Redis is unreachable.

Redis holds the shared runtime state, but a dead Redis must not turn every data request into a
failure. `RedisHealth` (one per process, on `Deps`) is the one place that knows "Redis is down":
the first failure logs one warning, the first success after it one info line, and while down
Redis is tried again at most every PROBE_EVERY_S, so service is shared again within about a
second of Redis coming back, without every request waiting on a dead socket meanwhile.

While it is down, requests run against the process's *twin* (`Deps.degraded_twin`): the same
engine on a `LocalStore`, an in-process Redis stand-in (fakeredis) seeded with the cache copies
this process holds. The same Lua scripts and WATCH/MULTI run there, so breakers, budgets,
cool-downs, single-flight and stale-if-error work exactly as in shared mode, only per process;
each process takes 1/N of every provider's budget (N = CRYPTOHUB_PROCESS_COUNT), so N processes
together stay inside the provider's free limit. A second hand-written in-memory engine would be
the same rules twice, and drift. ORM-free.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

import fakeredis
import fakeredis.aioredis
import redis.exceptions

logger = logging.getLogger(__name__)

# Errors that mean "Redis is unreachable" (not "this command was wrong").
REDIS_DOWN: tuple[type[BaseException], ...] = (
    redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, ConnectionError, TimeoutError, OSError,
)
# While Redis is down, one request per this many seconds tries it again (the rest skip it).
PROBE_EVERY_S = 1.0
# Client timeouts: a stopped Redis refuses at once, an unreachable one fails within the connect
# timeout. Neither is shorter: on a busy event loop (a burst of 1,000 misses on 2 cores opens
# hundreds of connections) a healthy Redis's connect or reply can wait over half a second to be
# seen, and that must not count as an outage (it would send the burst to providers).
CONNECT_TIMEOUT_S = 2.0
SOCKET_TIMEOUT_S = 5.0
# Marks on an answer served without Redis (meta "degraded" and this header).
DEGRADED_REDIS = "redis"
DEGRADED_HEADER = b"x-cryptohub-degraded"


class RedisHealth:
    """Whether this process currently sees Redis as down, and when to try it again."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic, probe_every_s: float = PROBE_EVERY_S) -> None:
        self._monotonic = monotonic
        self._probe_every_s = probe_every_s
        self.down = False
        self._last_try = float("-inf")
        self.outages = 0  # outages seen by this process (tests and /metrics read it)

    def may_try(self) -> bool:
        """Should this request use Redis? Always when up; once per PROBE_EVERY_S when down."""
        if not self.down:
            return True
        now = self._monotonic()
        if now - self._last_try >= self._probe_every_s:
            self._last_try = now
            return True
        return False

    def failed(self, exc: BaseException) -> None:
        """A Redis call failed because Redis is unreachable: one warning per outage, not per request."""
        self._last_try = self._monotonic()
        if not self.down:
            self.down = True
            self.outages += 1
            logger.warning("Redis unreachable (%s); serving in-process copies until it returns",
                           exc.__class__.__name__)

    def ok(self) -> None:
        """A Redis call succeeded: shared service again."""
        if self.down:
            self.down = False
            logger.info("Redis reachable again; shared service restored")


def client_options() -> dict[str, float | bool]:
    """redis.asyncio client options that make a dead Redis fail fast."""
    return {"socket_connect_timeout": CONNECT_TIMEOUT_S, "socket_timeout": SOCKET_TIMEOUT_S,
            "health_check_interval": 0, "retry_on_timeout": False}


class LocalStore:
    """A process-local stand-in for Redis, seeded with the cache copies the process holds."""

    def __init__(self) -> None:
        self.server = fakeredis.FakeServer()
        with warnings.catch_warnings():
            # fakeredis passes redis-py a deprecated option on construction; nothing of ours.
            warnings.simplefilter("ignore", DeprecationWarning)
            self.client = fakeredis.aioredis.FakeRedis(server=self.server)
            # Same server, synchronous: seeding happens in one step, with no await in between.
            self._sync = fakeredis.FakeRedis(server=self.server)

    def seed(self, items: Iterable[tuple[str, bytes]], keep_s: float) -> int:
        """Store every (cache key, raw entry) as the shared cache held it; returns how many."""
        pipe = self._sync.pipeline(transaction=False)
        count = 0
        for key, raw in items:
            pipe.set(key, raw, ex=max(1, int(keep_s)))
            count += 1
        pipe.execute()
        return count


T = TypeVar("T")


async def with_fallback(deps: Any, run: Callable[[Any], Awaitable[T]]) -> tuple[T, bool]:
    """`run(deps)` on shared state; while Redis is unreachable, `run(twin)` on the process's own.

    Returns (result, degraded). Only Redis being unreachable switches: every other error is the
    caller's. While down, one request per PROBE_EVERY_S tries shared state again (a stopped
    Redis refuses at once, an unreachable one within CONNECT_TIMEOUT_S), so the switch back
    needs no separate watcher.
    """
    if deps.health.may_try():
        try:
            result = await run(deps)
        except REDIS_DOWN as exc:
            deps.health.failed(exc)
        else:
            deps.health.ok()
            return result, False
    return await run(deps.degraded_twin()), True
