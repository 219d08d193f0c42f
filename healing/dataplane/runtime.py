"""The data plane's per-process runtime: the engine's dependencies (async Redis client, httpx
client, settings), the config snapshot holder and the live feed's publishers, opened once per
process (by the lifespan, or on first use where a server skips it) and closed in order."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import redis.asyncio
from django.conf import settings
from starlette.applications import Starlette
from starlette.requests import Request

from healing.catalogue import snapshot_builder
from healing.dataplane import live_ticker
from healing.engine import degraded
from healing.engine import fetch as engine
from healing.engine.http import make_client
from healing.engine.snapshot import CHECK_INTERVAL_S, SnapshotHolder

logger = logging.getLogger(__name__)

# How long shutdown waits for background cache refreshes to finish (seconds).
SHUTDOWN_DRAIN_S = 5.0


@dataclass
class Runtime:
    deps: engine.Deps
    holder: SnapshotHolder
    feed: live_ticker.FeedTasks | None = None  # the live feed's publishers (healing.dataplane.live_ticker)

    async def aclose(self) -> None:
        if self.feed is not None:
            await self.feed.stop()
        # Let in-flight background refreshes finish (bounded) before their clients close.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(SHUTDOWN_DRAIN_S):
                await engine.drain_background()
        await engine.flush_counters(self.deps)
        await self.holder.stop()
        await self.deps.http.aclose()
        await self.deps.redis.aclose()


async def open_runtime(
    deps_overrides: Mapping[str, Any] | None = None, check_interval_s: float = CHECK_INTERVAL_S
) -> Runtime:
    # Short timeouts: a dead Redis must fail fast so degraded mode can answer (engine.degraded).
    r = redis.asyncio.Redis.from_url(settings.REDIS_URL, **degraded.client_options())
    deps = engine.Deps(
        redis=r, http=make_client(), settings=engine.EngineSettings.from_settings(settings),
        **dict(deps_overrides or {}),
    )
    holder = SnapshotHolder(deps.redis, builder=snapshot_builder, check_interval_s=check_interval_s)
    await holder.start()
    feed = live_ticker.start_feed_tasks(deps, holder)
    logger.info("data plane ready in process %s", os.getpid())
    return Runtime(deps, holder, feed)


async def ensure_runtime(app: Starlette) -> Runtime:
    runtime = getattr(app.state, "runtime", None)
    if runtime is None:
        # Served without lifespan (some servers and test transports skip it): set up once.
        async with app.state.runtime_lock:
            runtime = getattr(app.state, "runtime", None)
            if runtime is None:
                runtime = await open_runtime(app.state.deps_overrides, app.state.check_interval_s)
                app.state.runtime = runtime
    return runtime


async def runtime_of(request: Request) -> Runtime:
    return await ensure_runtime(request.app)
