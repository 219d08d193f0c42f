"""Cached answers in Redis: keys, the fresh / stale-while-revalidate / stale policy, and entries.

One key per (capability, canonical params) holds one JSON entry with the time it was fetched.
The key lives `stale_ttl_s` (24 h); freshness is decided on read against the injected clock:

    age < fresh_ttl                      -> fresh: answer it (served "cache")
    fresh_ttl <= age < fresh_ttl + swr   -> revalidate: answer it at once (served "stale") and
                                            let one background refresh run for all processes
    older                                -> stale: a miss, kept only to answer when every
                                            provider fails (served "stale", with its age)

So a fresh hit costs exactly one Redis GET. The single background refresher is chosen by a
Redis lock (SET NX) per key.

In front of Redis, `LocalCache` coalesces concurrent reads of one key into one GET and keeps
the decoded entry while its bytes in Redis stay the same, so a hit under load costs a share of
one round trip and no JSON decoding.

Hits, misses and stale answers are counted per capability in the hash rkey("stats", "cache")
(fields hit:<capability>, miss:<capability>, stale:<capability>, read by /metrics). Counting
must not add a round trip to that one GET, so `CacheCounters` buffers the increments in the
process and the engine flushes them in the background at most once per COUNTER_FLUSH_S.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import math
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
import redis.asyncio

from providers.runtime import rkey

logger = logging.getLogger(__name__)

FRESH, REVALIDATE, STALE = "fresh", "revalidate", "stale"
# Lock held by the one refresher of a key; released on success, left to expire on failure so a
# failing refresh is not retried by every following request (seconds beyond the deadline).
REFRESH_LOCK_SLACK_S = 5.0
# Buffered hit/miss/stale counts reach Redis at most this long after the request (seconds).
COUNTER_FLUSH_S = 1.0
HIT, MISS, STALE_SERVED = "hit", "miss", "stale"


def canonical(params: Mapping[str, Any]) -> str:
    """Stable text of already-normalized params: key order and list order do not matter."""

    def norm(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {str(k): norm(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
        if isinstance(value, (list, tuple, set, frozenset)):
            return sorted((norm(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True, default=str))
        return value

    return json.dumps(norm(params), sort_keys=True, separators=(",", ":"), default=str)


def data_key(capability: str, params: Mapping[str, Any]) -> str:
    digest = hashlib.sha1(canonical(params).encode()).hexdigest()[:20]
    return rkey("cache", capability, digest)


def raw_key(slug: str, method: str, path: str, params: Mapping[str, Any]) -> str:
    digest = hashlib.sha1(f"{method.upper()} {path} {canonical(params)}".encode()).hexdigest()[:20]
    return rkey("cache", "raw", slug, digest)


def refresh_lock_key(key: str) -> str:
    return key + ":refresh"


@dataclass(frozen=True)
class Entry:
    data: Any
    source: str
    fetched_at: float  # epoch seconds
    attempts: tuple = ()  # the attempts of the fetch that produced it, as dicts
    # Purged with --keep-stale (healing.cache_control): never fresh again, kept as the last resort.
    expired: bool = False

    def age(self, now: float) -> float:
        return max(0.0, now - self.fetched_at)

    def freshness(self, now: float, fresh_ttl_s: float, swr_window_s: float) -> str:
        if self.expired:
            return STALE
        age = self.age(now)
        if age < fresh_ttl_s:
            return FRESH
        if fresh_ttl_s > 0 and age < fresh_ttl_s + swr_window_s:
            return REVALIDATE
        return STALE

    def dumps(self) -> bytes:
        fields = {"d": self.data, "s": self.source, "t": self.fetched_at, "a": list(self.attempts)}
        if self.expired:  # only then: an entry's bytes stay what they always were
            fields["x"] = True
        return orjson.dumps(fields, option=orjson.OPT_NON_STR_KEYS)

    @classmethod
    def loads(cls, raw: bytes | str) -> "Entry":
        obj = orjson.loads(raw)
        return cls(data=obj["d"], source=obj["s"], fetched_at=float(obj["t"]), attempts=tuple(obj.get("a", ())),
                   expired=obj.get("x") is True)


def encode_bytes(body: bytes) -> str:
    return base64.b64encode(body).decode()


def decode_bytes(text: str) -> bytes:
    return base64.b64decode(text)


def loads_or_none(raw: bytes | str | None) -> Entry | None:
    """The entry in `raw`, or None if there is none or it is unreadable."""
    if raw is None:
        return None
    try:
        return Entry.loads(raw)
    except (ValueError, KeyError, TypeError):
        return None  # an entry from an older format is simply a miss


async def read(r: redis.asyncio.Redis, key: str) -> Entry | None:
    return loads_or_none(await r.get(key))


def queue_write(pipe: Any, key: str, entry: Entry, *, keep_s: float) -> None:
    """`write` queued on a caller's pipeline (to share a round trip)."""
    pipe.set(key, entry.dumps(), ex=max(1, math.ceil(keep_s)))


async def write(r: redis.asyncio.Redis, key: str, entry: Entry, *, keep_s: float) -> None:
    """Store the entry for `keep_s` seconds (the stale TTL); freshness is judged on read."""
    await r.set(key, entry.dumps(), ex=max(1, math.ceil(keep_s)))


async def claim_refresh(r: redis.asyncio.Redis, key: str, token: str, hold_s: float) -> bool:
    """True for exactly one caller (in any process) until the lock is released or expires."""
    return bool(await r.set(refresh_lock_key(key), token, nx=True, px=max(1, int(hold_s * 1000))))


async def release_refresh(r: redis.asyncio.Redis, key: str) -> None:
    await r.delete(refresh_lock_key(key))


# --- the in-process read cache ------------------------------------------------------------------

# Decoded entries a process keeps (least recently used dropped first).
LOCAL_MAX_ENTRIES = 2048


def encode_data(data: Any) -> bytes:
    """`data` as the data plane's JSON body: compact UTF-8 like Starlette's JSONResponse.

    orjson (several times faster than json on these answers) writes a non-finite float as null
    instead of raising; adapters' validation already refuses NaN and infinity upstream.
    """
    return orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS)


class LocalEntry:
    """An entry as last read from Redis: its raw bytes, decoded once, data pre-encoded once."""

    __slots__ = ("raw", "entry", "capability", "_data_json", "rendered", "shaped")

    def __init__(self, raw: bytes, entry: Entry, capability: str) -> None:
        self.raw, self.entry, self.capability = raw, entry, capability
        self._data_json: bytes | None = None
        self.rendered: Any = None  # the data plane's pre-built answer pieces (set by it, once)
        self.shaped: dict[Any, bytes] | None = None  # drop-in dialects' answers to it, by query

    @property
    def data_json(self) -> bytes:
        if self._data_json is None:
            self._data_json = encode_data(self.entry.data)
        return self._data_json


class LocalCache:
    """Per-process front of the Redis cache: coalesced reads and memoized decoding.

    Every answer still comes from a Redis GET that started after the request arrived, so it is
    exactly what Redis holds (a purge or a newer entry is seen at once; age and freshness are
    judged per request against the entry's own fetched_at). What is saved is the repetition:
    concurrent requests for one key share one GET, and an entry whose bytes did not change is
    not decoded or re-encoded again. So nothing here is state another process must see: it is
    a copy that is re-validated against Redis on every use, and emptied when the config
    snapshot version changes.
    """

    def __init__(self, *, max_entries: int = LOCAL_MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._items: OrderedDict[str, LocalEntry] = OrderedDict()
        self._version: int | None = None
        self._next: dict[str, asyncio.Future] = {}  # key -> the read that has not started yet
        self._running: dict[str, asyncio.Task] = {}  # key -> the read in flight
        self.gets = 0  # Redis GETs issued (tests and the bench read it)

    def __len__(self) -> int:
        return len(self._items)

    async def read(self, r: redis.asyncio.Redis, key: str, version: int, capability: str) -> LocalEntry | None:
        """The entry Redis holds for `key` now (None if none or unreadable)."""
        self._at_version(version)
        loop = asyncio.get_running_loop()
        future = self._next.get(key)
        if future is None or future.get_loop() is not loop:
            future = self._next[key] = loop.create_future()
            running = self._running.get(key)
            # A read left behind by another (closed) event loop never finishes: start afresh.
            if running is None or running.done() or running.get_loop() is not loop:
                self._start(r, key)
        # Shielded: one caller going away (a client disconnect) must not cancel everyone's read.
        raw = await asyncio.shield(future)
        if raw is None:
            self._items.pop(key, None)
            return None
        held = self._items.get(key)
        if held is None or held.raw != raw:
            try:
                held = LocalEntry(raw, Entry.loads(raw), capability)
            except (ValueError, KeyError, TypeError):
                return None  # an entry from an older format is simply a miss
            self._hold(key, held)
        self._items.move_to_end(key)
        return held

    def knows(self, key: str, version: int) -> bool:
        """Whether this process holds a copy of `key` (under config `version`) from an earlier read."""
        return version == self._version and key in self._items

    def held(self) -> list[tuple[str, bytes]]:
        """(key, raw entry) of every copy held: what degraded mode starts its own store with."""
        return [(key, held.raw) for key, held in self._items.items()]

    def put(self, key: str, version: int, entry: Entry, capability: str) -> None:
        """Hold `entry`, just written to (or read from) Redis by this process, as its copy of `key`."""
        self._at_version(version)
        self._hold(key, LocalEntry(entry.dumps(), entry, capability))

    def _at_version(self, version: int) -> None:
        """Copies held under another config version are dropped (a pool may have changed)."""
        if version != self._version:
            self._items.clear()
            self._version = version

    def _hold(self, key: str, held: LocalEntry) -> None:
        """Keep `held` as the newest copy of `key`, dropping the least recently used past max_entries."""
        self._items[key] = held
        self._items.move_to_end(key)
        while len(self._items) > self.max_entries:
            self._items.popitem(last=False)

    def _start(self, r: redis.asyncio.Redis, key: str) -> None:
        future = self._next.pop(key)
        # Held in _running (a strong reference) until it finishes.
        self._running[key] = asyncio.ensure_future(self._get(r, key, future))

    async def _get(self, r: redis.asyncio.Redis, key: str, future: asyncio.Future) -> None:
        try:
            self.gets += 1
            raw = await r.get(key)
        except BaseException as exc:  # noqa: BLE001 - handed to every waiter
            if not future.done():
                future.set_exception(exc if isinstance(exc, Exception) else ConnectionError("read cancelled"))
            if not isinstance(exc, Exception):
                raise
        else:
            if not future.done():
                future.set_result(raw)
        finally:
            if self._running.get(key) is asyncio.current_task():
                del self._running[key]
            # Requests that arrived during this read wait for one that starts after them.
            if key in self._next:
                self._start(r, key)

    def clear(self) -> None:
        self._items.clear()


# --- hit / miss / stale counters ---------------------------------------------------------------


def counters_key() -> str:
    return rkey("stats", "cache")


class CacheCounters:
    """Per-process buffer of cache counter increments (one per Deps, so per process)."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic, flush_s: float = COUNTER_FLUSH_S) -> None:
        self._pending: Counter[str] = Counter()
        self._monotonic = monotonic
        self._flush_s = flush_s
        self._last_flush = float("-inf")
        self._failing = False  # warn once per run of failed flushes (a Redis outage), not per flush

    def add(self, kind: str, capability: str) -> bool:
        """Count one event; True when a flush is due (the caller schedules it)."""
        self._pending[f"{kind}:{capability}"] += 1
        return self._monotonic() - self._last_flush >= self._flush_s

    @property
    def pending(self) -> dict[str, int]:
        return dict(self._pending)

    async def flush(self, r: redis.asyncio.Redis) -> None:
        """HINCRBY everything buffered in one round trip; on a Redis error the counts are kept."""
        self._last_flush = self._monotonic()
        batch, self._pending = self._pending, Counter()
        if not batch:
            return
        try:
            pipe = r.pipeline(transaction=False)
            for name, n in batch.items():
                pipe.hincrby(counters_key(), name, n)
            await pipe.execute()
            self._failing = False
        except Exception as exc:  # noqa: BLE001 - counters are best effort, never a request failure
            self._pending.update(batch)
            was_failing, self._failing = self._failing, True
            (logger.debug if was_failing else logger.warning)(
                "cache counters not flushed (%s); kept for the next flush", exc.__class__.__name__)
