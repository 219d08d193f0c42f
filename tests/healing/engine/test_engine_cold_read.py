"""A key the process holds no copy of: its cache read rides on the single-flight lock attempt.

One Redis round trip before the upstream call on a cold miss (the lock, the read and the order
inputs together), and the copy that attempt reads answers by itself when it is usable: fresh is
a hit, within the stale-while-revalidate window it is the stale answer plus one refresh, past it
it is the fallback when every provider fails. A caller that finds another leader answers a fresh
copy at once instead of waiting for that leader.
"""

from healing.engine import cache, singleflight
from healing.engine import fetch as engine
from tests.healing.engine_doubles import ask, log_round_trips, provider, snapshot, status

KEY = cache.data_key("price", {"ids": ["bitcoin"], "vs": "usd"})
OLD = {"bitcoin": {"usd": 1.0, "market_cap": None, "vol_24h": None, "change_24h_pct": None,
                   "last_updated": None}}


async def test_a_cold_miss_makes_one_redis_round_trip_before_the_upstream_call(up, deps, monkeypatch):
    log: list[str] = []
    await engine.flush_counters(deps)  # the buffered cache counters are not due during this request
    log_round_trips(monkeypatch, deps, log)
    answer = await ask(snapshot(provider(up, "alpha"), provider(up, "beta")), deps)
    assert (answer.served, answer.source) == ("live", "alpha")
    assert log[:log.index("call")] == ["redis"], log
    assert deps.local.knows(KEY, 1)  # the next request reads through the process's copy


async def test_a_cold_key_fresh_in_redis_is_a_hit_and_leaves_no_lock(up, deps, aredis, clock):
    await cache.write(aredis, KEY, cache.Entry(OLD, "beta", clock() - 2.0), keep_s=60)
    answer = await ask(snapshot(provider(up, "alpha")), deps)
    assert (answer.served, answer.source, answer.data, answer.age_s) == ("cache", "beta", OLD, 2.0)
    assert up.count("alpha") == 0
    assert await aredis.exists(singleflight.lock_key(KEY)) == 0
    await engine.drain_background()
    await engine.flush_counters(deps)
    assert await aredis.hgetall(cache.counters_key()) == {b"hit:price": b"1"}  # a hit, not a miss


async def test_a_cold_key_to_revalidate_answers_stale_then_refreshes_once(up, deps, aredis, clock):
    fetched = clock() - deps.settings.fresh_ttl("price") - 1.0
    await cache.write(aredis, KEY, cache.Entry(OLD, "beta", fetched), keep_s=600)
    snap = snapshot(provider(up, "alpha"))
    answers = [await ask(snap, deps), await ask(snap, deps)]
    assert [(a.served, a.source) for a in answers] == [("stale", "beta"), ("stale", "beta")]
    await engine.drain_background()
    assert up.count("alpha") == 1
    refreshed = await cache.read(aredis, KEY)
    assert refreshed.source == "alpha" and refreshed.fetched_at == clock()


async def test_a_cold_key_past_its_window_is_the_fallback_when_every_provider_fails(up, deps, aredis, clock):
    fetched = clock() - deps.settings.fresh_ttl("price") - deps.settings.swr_window_s - 1.0
    await cache.write(aredis, KEY, cache.Entry(OLD, "beta", fetched), keep_s=600)
    up.script("alpha", status(500), status(500))
    answer = await ask(snapshot(provider(up, "alpha")), deps)
    assert (answer.served, answer.source, answer.data) == ("stale", "beta", OLD)
    assert [a.outcome for a in answer.attempts] == ["transient", "transient"]


async def test_a_cold_follower_answers_a_fresh_copy_without_waiting_for_the_leader(
    up, deps, aredis, clock, monkeypatch
):
    async def follow(*args, **kwargs):
        raise AssertionError("waited for the other leader")

    monkeypatch.setattr(singleflight, "_follow", follow)
    await aredis.set(singleflight.lock_key(KEY), b"another-leader", px=60_000)
    await cache.write(aredis, KEY, cache.Entry(OLD, "beta", clock() - 1.0), keep_s=60)
    answer = await ask(snapshot(provider(up, "alpha")), deps)
    assert (answer.served, answer.source) == ("cache", "beta")
    assert up.count("alpha") == 0
    assert await aredis.get(singleflight.lock_key(KEY)) == b"another-leader"  # not ours to release
