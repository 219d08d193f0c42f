"""Degraded mode: what a process does while Redis is unreachable.

Redis holds the shared runtime state, but a dead Redis must not turn every data request into a
failure. `RedisHealth` (one per process, on `Deps`) is the one place that knows "Redis is down":
the first failure logs one warning, the first success after it one info line, and while down
Redis is tried again at most every PROBE_EVERY_S, so service is shared again within about a
second of Redis coming back, without every request waiting on a dead socket meanwhile.
ORM-free.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import redis.exceptions

logger = logging.getLogger(__name__)

# Errors that mean "Redis is unreachable" (not "this command was wrong").
REDIS_DOWN: tuple[type[BaseException], ...] = (
    redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, ConnectionError, TimeoutError, OSError,
)
# While Redis is down, one request per this many seconds tries it again (the rest skip it).
PROBE_EVERY_S = 1.0
# Short client timeouts: a dead Redis fails a request in well under a second instead of hanging it.
CONNECT_TIMEOUT_S = 0.5
SOCKET_TIMEOUT_S = 1.0
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
