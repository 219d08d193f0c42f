"""The data plane's live-feed work: price ticks fetched through the real engine from the fake
upstream (the price pool of the data plane tests), published to `prices:<coin>` for watched coins
only; the `stats` summary after a baseline; the leased loops, one publisher per job."""

import asyncio
import random

import pytest
from asgiref.sync import sync_to_async

from healing import feed_state, pool_heads
from healing.catalogue import build_snapshot
from healing.dataplane import live_ticker
from healing.engine import breaker, http, ratelimit
from healing.engine.cache import counters_key
from healing.engine.fetch import Deps, EngineSettings, drain_background
from tests.healing.feed.listen import Listener

FRESH_S, SWR_S = 10.0, 5.0
# Bounded waits for the loops (periods of 50 ms): at most 200 checks, 25 ms apart.
CHECKS, CHECK_S = 200, 0.025


class FixedHolder:
    """A SnapshotHolder that always has the same snapshot (the catalogue as the test built it)."""

    def __init__(self, snapshot):
        self.snapshot = snapshot

    async def get(self):
        return self.snapshot


@pytest.fixture
async def ticker(price_pool, aredis, clock, monkeypatch):
    """(deps, snapshot) of one data-plane process over the price pool, with the feed's observers off."""
    monkeypatch.setattr(breaker, "OBSERVERS", [])
    monkeypatch.setattr(ratelimit, "SPENT_OBSERVERS", [])
    monkeypatch.setattr(pool_heads, "_snapshots", list(pool_heads._snapshots))  # FeedTasks.start swaps it
    snapshot = await sync_to_async(build_snapshot)()
    client = http.make_client()
    settings = EngineSettings(fresh_ttl_s={"price": FRESH_S}, swr_window_s=SWR_S, deadline_s=3.0)
    deps = Deps(redis=aredis, http=client, clock=clock, rng=random.Random(3), settings=settings)
    yield deps, snapshot
    await drain_background()
    await client.aclose()


# --- one tick ------------------------------------------------------------------------------------


async def test_a_tick_is_the_price_answer_in_the_feeds_shape(ticker, fake_upstream):
    deps, snapshot = ticker
    assert await live_ticker.price_tick("bitcoin", snapshot, deps) == {
        "coin": "bitcoin", "prices": {"usd": 109600.0}, "source": "coingecko", "age_s": 0.0, "stale": False,
    }
    assert fake_upstream.calls() == 1


async def test_a_tick_shares_the_cache_with_the_clients_requests(ticker, fake_upstream, clock):
    deps, snapshot = ticker
    await live_ticker.price_tick("bitcoin", snapshot, deps)
    clock.advance(3)
    tick = await live_ticker.price_tick("bitcoin", snapshot, deps)
    assert (tick["age_s"], tick["stale"], tick["prices"]) == (3.0, False, {"usd": 109600.0})
    assert fake_upstream.calls() == 1


async def test_a_tick_falls_back_like_a_request(ticker, fake_upstream):
    deps, snapshot = ticker
    fake_upstream.fault("coingecko", "status", status=503)
    fake_upstream.set_price("coinpaprika", "bitcoin", "usd", 101000.5)
    tick = await live_ticker.price_tick("bitcoin", snapshot, deps)
    assert (tick["source"], tick["prices"], tick["stale"]) == ("coinpaprika", {"usd": 101000.5}, False)


async def test_a_tick_served_from_a_stale_copy_says_stale(ticker, fake_upstream, clock):
    deps, snapshot = ticker
    await live_ticker.price_tick("bitcoin", snapshot, deps)
    clock.advance(FRESH_S + SWR_S + 1)  # past fresh and past serving-while-revalidating
    fake_upstream.fault("*", "status", status=503)
    tick = await live_ticker.price_tick("bitcoin", snapshot, deps)
    assert (tick["stale"], tick["prices"], tick["source"]) == (True, {"usd": 109600.0}, "coingecko")
    assert tick["age_s"] >= FRESH_S + SWR_S


# --- publishing ticks ---------------------------------------------------------------------------


async def test_only_watched_coins_are_fetched_published_and_stored(ticker, fake_upstream, aredis):
    deps, snapshot = ticker
    tasks = live_ticker.FeedTasks(deps, FixedHolder(snapshot))
    listener = await Listener.on("prices:bitcoin", "prices:ethereum")
    await feed_state.watch_prices(aredis, ["bitcoin"])
    await tasks.publish_ticks()
    got = await listener.drain()
    assert [(m["channel"], m["critical"]) for m in got] == [("prices:bitcoin", False)]
    assert got[0]["data"] == {"coin": "bitcoin", "prices": {"usd": 109600.0}, "source": "coingecko", "age_s": 0.0,
                              "stale": False}
    assert await feed_state.last_tick(aredis, "bitcoin") == got[0]["data"]
    assert await feed_state.last_tick(aredis, "ethereum") is None
    asked = fake_upstream.requests()
    assert len(asked) == 1 and "bitcoin" in str(asked[0]["query"]) and "ethereum" not in str(asked[0]["query"])


async def test_nobody_watching_fetches_nothing(ticker, fake_upstream):
    deps, snapshot = ticker
    listener = await Listener.on("prices:bitcoin")
    await live_ticker.FeedTasks(deps, FixedHolder(snapshot)).publish_ticks()
    assert await listener.drain() == []
    assert fake_upstream.calls() == 0


async def test_a_coin_that_fails_does_not_starve_the_others(ticker, fake_upstream, aredis):
    deps, snapshot = ticker
    listener = await Listener.on("prices:aaa-no-such-coin", "prices:bitcoin")
    await feed_state.watch_prices(aredis, ["aaa-no-such-coin", "bitcoin"])  # the unknown one goes first
    await live_ticker.FeedTasks(deps, FixedHolder(snapshot)).publish_ticks()
    assert [m["channel"] for m in await listener.drain()] == ["prices:bitcoin"]
    assert await feed_state.last_tick(aredis, "aaa-no-such-coin") is None


# --- publishing stats ---------------------------------------------------------------------------


async def test_the_first_stats_reading_is_the_baseline_and_the_next_is_published(ticker, aredis):
    deps, snapshot = ticker
    tasks = live_ticker.FeedTasks(deps, FixedHolder(snapshot))
    listener = await Listener.on("stats")
    await aredis.hset(counters_key(), mapping={"hit:price": 100, "miss:price": 100})  # before the baseline
    await tasks.publish_stats()
    assert await listener.drain() == []
    assert await feed_state.last_summary(aredis) is None
    await aredis.hincrby(counters_key(), "hit:price", 9)
    await aredis.hincrby(counters_key(), "miss:price", 1)
    await tasks.publish_stats()
    got = await listener.data()
    assert len(got) == 1
    assert (got[0]["hit_ratio"], got[0]["errors"], got[0]["degraded"]) == (0.9, 0, False)
    assert got[0]["requests_per_s"] > 0 and got[0]["window_s"] >= 0
    assert await feed_state.last_summary(aredis) == got[0]


# --- the leased loops -----------------------------------------------------------------------------


async def wait_until(condition):
    for _ in range(CHECKS):
        if await condition():
            return True
        await asyncio.sleep(CHECK_S)
    return False


async def test_two_processes_loops_publish_through_one_lease_holder_each(ticker, aredis, settings, fake_upstream):
    settings.CRYPTOHUB_FEED_STATS_S = 0.05
    settings.CRYPTOHUB_FEED_PRICE_TICK_S = 0.05
    deps, snapshot = ticker
    await feed_state.watch_prices(aredis, ["bitcoin"])
    listener = await Listener.on("stats", "prices:bitcoin")
    first, second = (live_ticker.start_feed_tasks(deps, FixedHolder(snapshot)) for _ in range(2))
    try:
        assert first.stats_lease.ttl_ms == 150 and first.ticker_lease.ttl_ms == 150  # three periods
        assert await wait_until(lambda: _stats_published(listener))
        holder_token = (await aredis.get(first.stats_lease.key)).decode()
        leader, follower = (first, second) if holder_token == first.stats_lease.token else (second, first)
        assert holder_token == leader.stats_lease.token
        # Only the holder keeps a baseline: the other has none to mix into the leader's windows.
        assert leader._before is not None and follower._before is None
        assert await wait_until(lambda: _ticked(aredis, "bitcoin"))
        await leader.stop()  # gives its leases up: the follower takes over within a period

        async def follower_leads():
            return await aredis.get(follower.stats_lease.key) == follower.stats_lease.token.encode()

        assert await wait_until(follower_leads)
        assert await wait_until(lambda: _has_baseline(follower))
    finally:
        for tasks in (first, second):
            await tasks.stop()
    assert await aredis.get(first.stats_lease.key) is None  # released on stop
    assert await aredis.get(first.ticker_lease.key) is None


async def _stats_published(listener):
    return any(m["channel"] == "stats" for m in await listener.drain())


async def _ticked(aredis, coin):
    return await feed_state.last_tick(aredis, coin) is not None


async def _has_baseline(tasks):
    return tasks._before is not None


async def test_a_failing_period_is_retried_and_the_loop_lives_on(ticker, settings, monkeypatch, caplog):
    settings.CRYPTOHUB_FEED_STATS_S = 0.05
    deps, snapshot = ticker
    tasks = live_ticker.FeedTasks(deps, FixedHolder(snapshot))
    calls = []

    async def flaky():
        calls.append(len(calls))
        if len(calls) <= 3:
            raise ConnectionError("redis went away")

    loop = asyncio.ensure_future(tasks._every(0.01, tasks.stats_lease, flaky, "stats"))
    try:
        assert await wait_until(lambda: _more_than(calls, 5))
    finally:
        loop.cancel()
        await asyncio.gather(loop, return_exceptions=True)
        await tasks.stats_lease.release()
    # One warning for the run of failures, not one per failed period.
    assert sum("live feed stats failed" in r.getMessage() for r in caplog.records) == 1


async def _more_than(items, n):
    return len(items) > n
