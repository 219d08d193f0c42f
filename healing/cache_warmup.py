"""Warming the cache with the answers clients ask for most (healing.dataplane.wanted counts them):
the top WARM_TOP whose cached copy is missing or no longer fresh are asked for again, through the
engine like any request (pools, breakers, shared limits, single-flight and the cache write).

Runs as a Celery task: every 5 minutes from beat and after a purge. After a restart the beat
schedule runs it at once when its last run is older than the period (django-celery-beat keeps
last_run_at in the database); a hook on the worker's start was tried and dropped: queueing a task
from inside worker start-up left kombu's connection half set up, and the worker died at the next
Redis outage. Each run halves the counts afterwards, so the ranking follows what is asked now.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

import orjson
import redis
import redis.asyncio
from django.conf import settings

from healing.catalogue import build_snapshot
from healing.dataplane import params as data_params
from healing.dataplane import requests as data_requests
from healing.dataplane.wanted import wanted_key, wanted_params_key
from healing.engine import cache
from healing.engine import fetch as engine
from healing.engine.config import Snapshot
from healing.engine.errors import AllProvidersFailed, UnknownCapability
from healing.engine.http import make_client
from providers.runtime import CONFIG_VERSION_KEY, rkey, sync_redis

logger = logging.getLogger(__name__)

# Answers one run may ask for, and the most keys the ranking keeps between runs.
WARM_TOP = 50
RANKING_MAX = 1000


@dataclass
class WarmReport:
    warmed: list[str] = field(default_factory=list)  # "endpoint params" asked again
    fresh: int = 0  # already fresh: nothing to do
    failed: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {"warmed": len(self.warmed), "fresh": self.fresh, "failed": len(self.failed)}


def warm(top: int | None = None) -> WarmReport:
    """Sync entry point (the Celery task): one event loop and its own clients for this run."""
    try:
        version = int(sync_redis().get(rkey(CONFIG_VERSION_KEY)) or 0)
    except redis.RedisError:
        version = 0
    snapshot = build_snapshot(version)
    return asyncio.run(_warm(snapshot, top or int(getattr(settings, "CRYPTOHUB_CACHE_WARM_TOP", WARM_TOP))))


async def _warm(snapshot: Snapshot, top: int) -> WarmReport:
    r = redis.asyncio.Redis.from_url(settings.REDIS_URL)
    deps = engine.Deps(redis=r, http=make_client(), settings=engine.EngineSettings.from_settings(settings))
    report = WarmReport()
    try:
        keys = [k.decode() for k in await r.zrevrange(wanted_key(), 0, top - 1)]
        asks = await r.hmget(wanted_params_key(), keys) if keys else []
        for key, ask in zip(keys, asks, strict=True):
            await _warm_one(deps, snapshot, key, ask, report)
        await r.zunionstore(wanted_key(), {wanted_key(): 0.5})  # yesterday's favourites fade
        await r.zremrangebyrank(wanted_key(), 0, -RANKING_MAX - 1)
    finally:
        await engine.drain_background()
        await deps.http.aclose()
        await r.aclose()
    logger.info("cache warm-up: %s", report.summary())
    return report


async def _warm_one(deps: engine.Deps, snapshot: Snapshot, key: str, ask: bytes | None, report: WarmReport) -> None:
    try:
        endpoint, params = orjson.loads(ask)
        route = data_params.CAPABILITIES[endpoint]
    except (TypeError, ValueError, KeyError):
        return  # counted before its parameters were written, or from an older version: skip
    capability = data_requests.SENTIMENT_CAPABILITY if endpoint == "sentiment" else route.capability
    held = await cache.read(deps.redis, key)
    if held is not None and held.freshness(deps.clock(), deps.settings.fresh_ttl(capability), 0) == cache.FRESH:
        report.fresh += 1
        return
    label = f"{endpoint} {orjson.dumps(params).decode()}"
    try:
        await data_requests.fetch_data(data_params.DataRequest(route, params), snapshot=snapshot, deps=deps)
        report.warmed.append(label)
    except (AllProvidersFailed, UnknownCapability, data_params.ParamError) as exc:
        logger.info("cache warm-up of %s failed: %s", label, exc)
        report.failed.append(label)
