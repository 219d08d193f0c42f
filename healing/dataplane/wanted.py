"""Which answers clients ask for most, shared across processes, so the cache can be warmed with
them after a purge or a restart (healing.cache_warmup).

Counting must cost a cache hit nothing it can measure: each process counts in a dict and writes
the counts to Redis at most once per FLUSH_S, in one pipelined round trip started in the
background by the request that finds a flush due (as the cache counters do). Two keys:

- `cache:wanted`, a sorted set: cache key -> requests (halved by every warm-up, so it follows
  what is asked now);
- `cache:wanted:params`, a hash: cache key -> JSON [endpoint name, normalized params], what a
  warm-up needs to ask for that answer again. It never holds a client key or a query string:
  only the parameters the endpoint parsed.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import orjson
import redis.asyncio

from providers.runtime import rkey

logger = logging.getLogger(__name__)

FLUSH_S = 10.0
# Both keys go when nothing was asked for this long (a warm-up has nothing to say then).
KEEP_S = 2 * 86400


def wanted_key() -> str:
    return rkey("cache", "wanted")


def wanted_params_key() -> str:
    return rkey("cache", "wanted", "params")


class Wanted:
    """One process's counts since its last flush."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic, flush_s: float = FLUSH_S) -> None:
        self._counts: Counter[str] = Counter()
        self._params: dict[str, bytes] = {}
        self._monotonic = monotonic
        self._flush_s = flush_s
        self._last_flush = monotonic()

    def note(self, key: str, endpoint: str | None = None, params: Any = None) -> bool:
        """One request for `key` (with what asks for it, the first time); True when a flush is due."""
        if endpoint is not None:
            self._params[key] = orjson.dumps([endpoint, params])
        self._counts[key] += 1
        return self._monotonic() - self._last_flush >= self._flush_s

    async def flush(self, r: redis.asyncio.Redis) -> None:
        self._last_flush = self._monotonic()
        counts, params = self._counts, self._params
        self._counts, self._params = Counter(), {}
        if not counts:
            return
        try:
            pipe = r.pipeline(transaction=False)
            for key, n in counts.items():
                pipe.zincrby(wanted_key(), n, key)
            if params:
                pipe.hset(wanted_params_key(), mapping=params)
            pipe.expire(wanted_key(), int(KEEP_S))
            pipe.expire(wanted_params_key(), int(KEEP_S))
            await pipe.execute()
        except Exception as exc:  # noqa: BLE001 - best effort: a lost count only makes a warm-up less exact
            self._params.update(params)  # what asks for an answer is kept; the counts start again
            logger.debug("wanted counts not flushed: %s", exc.__class__.__name__)
