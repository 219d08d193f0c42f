import asyncio

from healing.engine import cache
from tests.fixtures.clock import T0


def test_key_ignores_param_and_list_order():
    a = cache.data_key("price", {"ids": ["bitcoin", "ethereum"], "vs": "usd"})
    b = cache.data_key("price", {"vs": "usd", "ids": ["ethereum", "bitcoin"]})
    assert a == b
    assert a != cache.data_key("price", {"ids": ["bitcoin"], "vs": "usd"})
    assert a != cache.data_key("markets", {"ids": ["bitcoin", "ethereum"], "vs": "usd"})


def test_freshness_policy():
    entry = cache.Entry({"x": 1}, "alpha", T0)
    assert entry.freshness(T0 + 9.9, 10, 60) == cache.FRESH
    assert entry.freshness(T0 + 10, 10, 60) == cache.REVALIDATE
    assert entry.freshness(T0 + 69.9, 10, 60) == cache.REVALIDATE
    assert entry.freshness(T0 + 70, 10, 60) == cache.STALE
    # A zero fresh TTL never serves from cache, and never revalidates.
    assert entry.freshness(T0, 0, 60) == cache.STALE


async def test_entry_round_trips_through_redis_with_the_stale_ttl(aredis):
    key = cache.data_key("price", {"ids": ["bitcoin"]})
    entry = cache.Entry({"bitcoin": {"usd": 1.5}}, "alpha", T0, ({"provider": "alpha", "outcome": "ok", "ms": 3},))
    await cache.write(aredis, key, entry, keep_s=86400)
    assert await cache.read(aredis, key) == entry
    assert 86390 < await aredis.ttl(key) <= 86400


async def test_unreadable_entry_is_a_miss(aredis):
    await aredis.set("ch:cache:price:broken", b"not json")
    assert await cache.read(aredis, "ch:cache:price:broken") is None


async def test_only_one_caller_claims_the_refresh(aredis):
    results = await asyncio.gather(*(cache.claim_refresh(aredis, "k", f"t{i}", 5) for i in range(50)))
    assert results.count(True) == 1
    await cache.release_refresh(aredis, "k")
    assert await cache.claim_refresh(aredis, "k", "again", 5)


def test_an_expired_entry_is_never_fresh_again_but_keeps_its_age():
    """A purge with --keep-stale: the entry stays only as the last resort, its age still true."""
    entry = cache.Entry({"x": 1}, "alpha", T0, expired=True)
    assert entry.freshness(T0, 10, 60) == cache.STALE
    assert entry.freshness(T0 + 11, 10, 60) == cache.STALE  # not even revalidate
    assert entry.age(T0 + 5) == 5


def test_the_expired_mark_round_trips_and_is_absent_from_ordinary_entries():
    ordinary = cache.Entry({"x": 1}, "alpha", T0)
    assert b'"x":true' not in ordinary.dumps() and cache.Entry.loads(ordinary.dumps()).expired is False
    marked = cache.Entry({"x": 1}, "alpha", T0, expired=True)
    assert cache.Entry.loads(marked.dumps()) == marked
    assert cache.Entry.loads(b'{"d":1,"s":"a","t":1.0,"a":[],"x":1}').expired is False  # only a JSON true marks it
