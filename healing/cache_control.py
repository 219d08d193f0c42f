"""Purging the cache: by capability, by capability + parameters, by the provider that produced the
answers, or all of it. The one service the admin, `DELETE /api/cache` and `manage.py cache clear`
call.

Every process sees a purge at once: the per-process copies (healing.engine.cache.LocalCache) are
re-validated against Redis on every use, so a key gone from Redis is gone everywhere. With
`keep_stale` a data answer is not deleted but marked expired: never fresh again, still there as
the last resort when every provider fails (the raw proxy's cache has no such use: it is deleted).

Answers record the provider that produced them (`Entry.source`), so a provider's purge reads the
entries under the scope (SCAN, then values in batches) and removes those it produced. A purge is
rare and bounded by the cache's size; nothing on the request path pays for it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import redis

from healing.dataplane import params as data_params
from healing.dataplane import requests as data_requests
from healing.engine import cache
from providers.models import Provider
from providers.runtime import rkey, sync_redis

SCAN_BATCH = 500
# An answer's key ends in its digest (healing.engine.cache.data_key / raw_key); the keys beside it
# (`:refresh`, `:sf`, `:sf:done`) belong to requests in flight and are left alone.
ANSWER_KEY = re.compile(r":[0-9a-f]{20}$")
# Compare-and-set: mark an entry expired only if it is still the one read (a fresh answer written
# meanwhile by another process must not be turned into an expired copy of the old one).
_MARK_EXPIRED = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
  return 1
end
return 0
"""


class PurgeError(ValueError):
    def __init__(self, field: str, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.field = field
        self.status = status


@dataclass
class PurgeReport:
    deleted: int = 0
    expired: int = 0
    scope: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"deleted": self.deleted, "expired": self.expired, "scope": self.scope}


def cache_capability(name: str) -> str:
    """The cache's name for a data endpoint (`fear-greed` and `fear_greed` are `fear_greed`;
    `sentiment` is the scored answers, not the news they come from)."""
    route = data_params.CAPABILITIES.get(data_params.ALIASES.get(name, name))
    if route is None:
        known = ", ".join(sorted(data_params.CAPABILITIES))
        raise PurgeError("capability", f"unknown capability {name[:40]!r}; one of {known}")
    return data_requests.SENTIMENT_CAPABILITY if route.name == "sentiment" else route.capability


def _exact_key(name: str, query: Mapping[str, str]) -> str:
    try:
        request = data_params.parse_request(data_params.ALIASES.get(name, name), query)
    except data_params.ParamError as exc:
        raise PurgeError(exc.field, exc.detail) from None
    if request.route.name == "sentiment":
        return data_requests.sentiment_key(request.params["ids"], data_requests.get_backend().name)
    return cache.data_key(request.capability, request.params)


def _scan(r: redis.Redis, pattern: str) -> Iterator[list[str]]:
    batch: list[str] = []
    for key in r.scan_iter(match=pattern, count=SCAN_BATCH):
        key = key.decode() if isinstance(key, bytes) else key
        if not ANSWER_KEY.search(key):  # a refresher's lock or a single-flight's state, not an answer
            continue
        batch.append(key)
        if len(batch) >= SCAN_BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def answer_counts(r: redis.Redis | None = None) -> dict[str, int]:
    """How many answers the cache holds per cache capability ("raw" for the proxy's), for the admin."""
    r = r or sync_redis()
    prefix = rkey("cache", "")
    counts: dict[str, int] = {}
    for keys in _scan(r, rkey("cache", "*")):
        for key in keys:
            name = key[len(prefix):].split(":", 1)[0]
            counts[name] = counts.get(name, 0) + 1
    return dict(sorted(counts.items()))


def purge(*, capability: str = "", params: Mapping[str, str] | None = None, provider: str = "",
          everything: bool = False, keep_stale: bool = False, r: redis.Redis | None = None) -> PurgeReport:
    """Remove (or, with keep_stale, expire) the cached answers in the scope named."""
    params = dict(params or {})
    if params and not capability:
        raise PurgeError("capability", "parameters name one answer of a capability: give the capability too")
    if not (capability or provider or everything):
        raise PurgeError("capability", "name what to purge: a capability, a provider, or everything")
    if provider and not Provider.objects.filter(slug=provider).exists():
        raise PurgeError("provider", f"unknown provider {provider[:64]!r}", status=404)
    r = r or sync_redis()
    report = PurgeReport(scope={"capability": capability or None, "params": params or None,
                                "provider": provider or None, "keep_stale": keep_stale})
    if capability:
        name = cache_capability(capability)
        batches: Iterator[list[str]] = iter([[_exact_key(capability, params)]]) if params else \
            _scan(r, rkey("cache", name, "*"))
    else:
        batches = _scan(r, rkey("cache", "*"))
    raw_prefix = rkey("cache", "raw", "")
    for keys in batches:
        _purge_batch(r, keys, provider, keep_stale, raw_prefix, report)
    if report.deleted or report.expired:
        from healing.tasks import enqueue_cache_warmup  # tasks import the monitoring stack; only here

        enqueue_cache_warmup()
    return report


def _purge_batch(r: redis.Redis, keys: list[str], provider: str, keep_stale: bool, raw_prefix: str,
                 report: PurgeReport) -> None:
    values = r.mget(keys)
    doomed, expire = [], []
    for key, raw in zip(keys, values, strict=True):
        if raw is None:
            continue
        is_raw = key.startswith(raw_prefix)
        if provider:
            owner = key[len(raw_prefix):].split(":", 1)[0] if is_raw else getattr(cache.loads_or_none(raw), "source", None)
            if owner != provider:
                continue
        if keep_stale and not is_raw:
            expire.append((key, raw))
        else:
            doomed.append(key)
    if doomed:
        report.deleted += int(r.delete(*doomed))
    mark = r.register_script(_MARK_EXPIRED)
    for key, raw in expire:
        entry = cache.loads_or_none(raw)
        if entry is None or entry.expired:
            continue
        marked = cache.Entry(entry.data, entry.source, entry.fetched_at, entry.attempts, expired=True)
        report.expired += int(mark(keys=[key], args=[raw, marked.dumps()]))
