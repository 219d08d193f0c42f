"""The data plane's live-feed work, started with each process's runtime (healing.dataplane.app).

Every process: its breaker transitions and spent budgets are published (healing.breaker_feed;
installed by healing.apps), pool heads are judged on this process's snapshot, and each pool's
head is remembered at startup, so a first automatic head change has a known `from`.

One process of the cluster each (a `Lease`, renewed every period, taken over when its holder dies):
- the `stats` summary every CRYPTOHUB_FEED_STATS_S (healing.dataplane.live_stats);
- the price ticker: every CRYPTOHUB_FEED_PRICE_TICK_S (default: the price capability's fresh
  TTL), each coin some live client watches (healing.feed_state) is fetched exactly as
  GET /api/data/price?ids=<coin>&vs=usd is (cached, rate-limited, coalesced with the clients' own
  requests) and published to `prices:<coin>`:

    {"coin": "bitcoin", "prices": {"usd": 97000.5}, "source": "coingecko", "age_s": 0.4, "stale": false}

A period that fails (Redis down, every provider failing) is logged once per run of failures and
retried the next period; the loops end only at shutdown (`stop`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from django.conf import settings

from healing import events, feed_state, pool_heads
from healing.dataplane import live_stats
from healing.dataplane import requests as data_requests
from healing.dataplane.lease import Lease
from healing.dataplane.params import parse_request
from healing.engine import fetch as engine
from healing.engine.snapshot import SnapshotHolder

logger = logging.getLogger(__name__)

# The currency of the ticks (the dashboard's prices are in US dollars).
TICK_VS = "usd"
# A lease outlives this many missed periods before another process takes over.
LEASE_PERIODS = 3
# Served answers that are older than fresh (stale-if-error, degraded copies).
STALE_SERVED = frozenset({"stale"})
# How long shutdown waits for a loop in the middle of a period (a fetch) to end.
STOP_TIMEOUT_S = 5.0


def tick_period_s(deps: engine.Deps) -> float:
    configured = getattr(settings, "CRYPTOHUB_FEED_PRICE_TICK_S", None)
    return float(configured) if configured else max(1.0, deps.settings.fresh_ttl("price"))


async def price_tick(coin: str, snapshot: Any, deps: engine.Deps) -> dict[str, Any]:
    """One coin's tick, fetched as a client's GET /api/data/price?ids=<coin>&vs=usd would be."""
    req = parse_request("price", {"ids": coin, "vs": TICK_VS})
    answer = await data_requests.fetch_data(req, snapshot=snapshot, deps=deps)
    return {"coin": coin, "prices": {TICK_VS: _price_of(answer.data, coin)}, "source": answer.source,
            "age_s": answer.meta.get("age_s"), "stale": answer.served in STALE_SERVED or "degraded" in answer.meta}


def _price_of(quotes: Any, coin: str) -> float | None:
    """The coin's TICK_VS price in a price answer's data: a list of quotes (providers.schemas.Quote)."""
    for quote in quotes if isinstance(quotes, list) else ():
        if isinstance(quote, dict) and quote.get("id") == coin and quote.get("vs") == TICK_VS:
            return quote.get("price")
    return None


class FeedTasks:
    """This process's live-feed loops; `stop()` ends them (and gives up the leases it holds)."""

    def __init__(self, deps: engine.Deps, holder: SnapshotHolder) -> None:
        self.deps, self.holder = deps, holder
        self.stats_s = float(getattr(settings, "CRYPTOHUB_FEED_STATS_S", 5.0))
        self.tick_s = tick_period_s(deps)
        self.stats_lease = Lease(deps.redis, "feed:stats", self.stats_s * LEASE_PERIODS)
        self.ticker_lease = Lease(deps.redis, "feed:prices", self.tick_s * LEASE_PERIODS)
        self._before: live_stats.Totals | None = None
        self._failing: set[str] = set()
        self._tasks: list[asyncio.Task] = []
        self._stopped = asyncio.Event()

    def start(self) -> None:
        pool_heads.use_snapshots(lambda _redis: self.holder.get())
        self._tasks = [
            asyncio.ensure_future(self._seed_heads()),
            asyncio.ensure_future(self._every(self.stats_s, self.stats_lease, self.publish_stats, "stats",
                                              lost=self._forget_baseline)),
            asyncio.ensure_future(self._every(self.tick_s, self.ticker_lease, self.publish_ticks, "price ticker")),
        ]

    async def stop(self) -> None:
        # The event as well as the cancel: a cancel that lands inside a job can be swallowed by
        # the code it interrupts (a fetch's own error handling), and the loop must end anyway.
        self._stopped.set()
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=STOP_TIMEOUT_S)
        for lease in (self.stats_lease, self.ticker_lease):
            with contextlib.suppress(Exception):
                await lease.release()

    async def _seed_heads(self) -> None:
        await pool_heads.seed_heads(self.deps.redis, await self.holder.get())

    def _forget_baseline(self) -> None:
        # Another process publishes now: a reading of ours from before would span its windows too.
        self._before = None

    async def _every(self, period_s: float, lease: Lease, job: Callable[[], Awaitable[None]], name: str,
                     lost: Callable[[], None] | None = None) -> None:
        while not self._stopped.is_set():
            try:
                if await lease.hold():
                    await job()
                elif lost is not None:
                    lost()
                self._failing.discard(name)
            except Exception as exc:  # noqa: BLE001 - a failed period is retried the next one
                if name not in self._failing:
                    logger.warning("live feed %s failed (retrying every %.1f s): %r", name, period_s, exc)
                    self._failing.add(name)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopped.wait(), period_s)

    async def publish_stats(self) -> None:
        snapshot = await self.holder.get()
        now = await live_stats.read_totals(self.deps.redis, sorted(snapshot.providers), time.monotonic())
        before, self._before = self._before, now
        if before is None:
            return  # the first reading after taking the lease is the baseline
        data = live_stats.summary(before, now)
        await feed_state.store_summary(self.deps.redis, data)
        await events.apublish(events.STATS, [data])

    async def publish_ticks(self) -> None:
        coins = await feed_state.watched_prices(self.deps.redis)
        if not coins:
            return
        snapshot = await self.holder.get()
        for coin in coins:
            try:
                tick = await price_tick(coin, snapshot, self.deps)
            except Exception as exc:  # noqa: BLE001 - one coin failing must not starve the others
                logger.info("no price tick for %s: %r", coin, exc)
                continue
            await feed_state.store_tick(self.deps.redis, coin, tick)
            await events.apublish(events.price_channel(coin), [tick])


def start_feed_tasks(deps: engine.Deps, holder: SnapshotHolder) -> FeedTasks:
    tasks = FeedTasks(deps, holder)
    tasks.start()
    return tasks
