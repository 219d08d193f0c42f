"""LocalCache, the in-process front of the Redis cache: coalesced GETs, memoized decoding, the
config-version reset, the LRU bound, and what a failing or cancelled read does to its waiters."""

import asyncio

import orjson
import pytest
import redis.asyncio

from healing.engine import cache
from tests.fixtures.clock import T0


class SlowRedis:
    """A Redis stand-in whose GET waits for `release` and counts its calls."""

    def __init__(self, values=None):
        self.values = dict(values or {})
        self.release = asyncio.Event()
        self.calls = []
        self.error = None

    async def get(self, key):
        self.calls.append(key)
        value = self.values.get(key)  # what Redis held when the GET arrived
        await self.release.wait()
        if self.error is not None:
            raise self.error
        return value


async def started(fake, n=1):
    """Until `n` GETs have reached the fake (each read's GET runs in a task of its own)."""
    while len(fake.calls) < n:
        await asyncio.sleep(0)


def entry(data="x"):
    return cache.Entry(data, "alpha", T0)


async def test_concurrent_reads_of_a_key_share_one_get(aredis):
    await cache.write(aredis, "k", entry(), keep_s=60)
    local = cache.LocalCache()
    results = await asyncio.gather(*(local.read(aredis, "k", 1, "price") for _ in range(20)))
    assert local.gets in (1, 2)  # one GET, or one more for the callers that came during it
    assert {id(r) for r in results} == {id(results[0])}
    assert results[0].entry == entry() and results[0].capability == "price" and results[0].raw == entry().dumps()
    assert len(local) == 1 and local.knows("k", 1)


async def test_reads_during_a_get_wait_for_one_that_starts_after_them():
    fake = SlowRedis({"k": entry("old").dumps()})
    local = cache.LocalCache()
    first = asyncio.ensure_future(local.read(fake, "k", 1, "price"))
    await started(fake)
    fake.values["k"] = entry("new").dumps()  # written after the first GET started
    later = [asyncio.ensure_future(local.read(fake, "k", 1, "price")) for _ in range(5)]
    await asyncio.sleep(0)
    fake.release.set()
    assert (await first).entry.data == "old"
    assert {(await t).entry.data for t in later} == {"new"}
    assert fake.calls == ["k", "k"] and local.gets == 2


async def test_unchanged_bytes_are_not_decoded_again(aredis):
    await cache.write(aredis, "k", entry(), keep_s=60)
    local = cache.LocalCache()
    first = await local.read(aredis, "k", 1, "price")
    second = await local.read(aredis, "k", 1, "price")
    assert second is first and local.gets == 2
    await cache.write(aredis, "k", entry("changed"), keep_s=60)
    third = await local.read(aredis, "k", 1, "price")
    assert third is not first and third.entry.data == "changed"


async def test_a_missing_or_deleted_key_is_none_and_forgotten(aredis):
    local = cache.LocalCache()
    assert await local.read(aredis, "k", 1, "price") is None
    await cache.write(aredis, "k", entry(), keep_s=60)
    assert await local.read(aredis, "k", 1, "price") is not None
    await aredis.delete("k")
    assert await local.read(aredis, "k", 1, "price") is None
    assert not local.knows("k", 1) and len(local) == 0


async def test_an_unreadable_entry_is_a_miss_and_not_held(aredis):
    local = cache.LocalCache()
    await aredis.set("k", b"not json")
    assert await local.read(aredis, "k", 1, "price") is None
    await aredis.set("k", b'{"d": 1}')
    assert await local.read(aredis, "k", 1, "price") is None
    assert len(local) == 0


async def test_a_new_config_version_empties_the_copy(aredis):
    await cache.write(aredis, "a", entry(), keep_s=60)
    await cache.write(aredis, "b", entry(), keep_s=60)
    local = cache.LocalCache()
    held = await local.read(aredis, "a", 1, "price")
    await local.read(aredis, "b", 1, "price")
    assert local.knows("a", 1) and not local.knows("a", 2)
    again = await local.read(aredis, "a", 2, "price")
    assert again is not held and len(local) == 1 and not local.knows("b", 2)


async def test_put_holds_the_entry_and_a_new_version_clears_first(aredis):
    local = cache.LocalCache()
    local.put("a", 1, entry("a"), "price")
    local.put("b", 1, entry("b"), "price")
    assert local.knows("a", 1) and local.knows("b", 1) and len(local) == 2
    local.put("c", 2, entry("c"), "price")
    assert len(local) == 1 and local.knows("c", 2) and not local.knows("a", 2)
    await cache.write(aredis, "c", entry("c"), keep_s=60)
    held = await local.read(aredis, "c", 2, "gas")
    assert held.entry == entry("c") and held.capability == "price"  # same bytes: the put copy is reused


async def test_the_least_recently_used_entry_goes_first(aredis):
    local = cache.LocalCache(max_entries=2)
    for key in "abc":
        await cache.write(aredis, key, entry(key), keep_s=60)
    await local.read(aredis, "a", 1, "price")
    await local.read(aredis, "b", 1, "price")
    await local.read(aredis, "a", 1, "price")  # a is now the most recent
    await local.read(aredis, "c", 1, "price")
    assert [k for k in "abc" if local.knows(k, 1)] == ["a", "c"]
    local.put("d", 1, entry("d"), "price")
    local.put("c", 1, entry("c"), "price")
    local.put("e", 1, entry("e"), "price")
    # put() refreshes c's place too, so d (older) goes when e comes.
    assert [k for k in "acde" if local.knows(k, 1)] == ["c", "e"] and len(local) == 2


def test_the_default_bound_is_2048_entries():
    assert cache.LocalCache().max_entries == cache.LOCAL_MAX_ENTRIES == 2048  # a process keeps 2,048 entries
    local = cache.LocalCache(max_entries=3)
    for i in range(5):
        local.put(f"k{i}", 1, entry(i), "price")
    assert len(local) == 3 and not local.knows("k1", 1) and local.knows("k2", 1)


async def test_clear_forgets_everything(aredis):
    local = cache.LocalCache()
    local.put("a", 1, entry(), "price")
    local.clear()
    assert len(local) == 0 and not local.knows("a", 1)


async def test_data_json_is_the_encoded_data_once():
    held = cache.LocalEntry(b"raw", cache.Entry({1: [1.5, "x"]}, "alpha", T0), "price")
    assert held.rendered is None
    assert held.data_json == orjson.dumps({"1": [1.5, "x"]}) == b'{"1":[1.5,"x"]}'
    assert held.data_json is held.data_json
    assert cache.encode_data({"a": 1}) == b'{"a":1}'


async def test_a_failed_get_reaches_every_waiter_and_the_next_read_retries():
    fake = SlowRedis({"k": entry().dumps()})
    fake.error = TimeoutError("redis slow")
    local = cache.LocalCache()
    waiters = [asyncio.ensure_future(local.read(fake, "k", 1, "price")) for _ in range(3)]
    await started(fake)
    fake.release.set()
    outcomes = await asyncio.gather(*waiters, return_exceptions=True)
    assert [type(o) for o in outcomes] == [TimeoutError] * 3  # the GET's own error, as it is
    assert {str(o) for o in outcomes} == {"redis slow"}
    assert local.gets == 2  # the first caller's GET, and one for the two that came during it
    fake.error = None
    assert (await local.read(fake, "k", 1, "price")).entry == entry()
    assert local.gets == 3


async def test_a_cancelled_get_fails_its_waiters_with_a_connection_error():
    fake = SlowRedis({"k": entry().dumps()})
    local = cache.LocalCache()
    waiter = asyncio.ensure_future(local.read(fake, "k", 1, "price"))
    await started(fake)
    [task] = local._running.values()
    task.cancel()
    with pytest.raises(ConnectionError, match="^read cancelled$"):
        await waiter
    await asyncio.sleep(0)
    assert task.cancelled() and local._running == {}
    fake.release.set()
    assert (await local.read(fake, "k", 1, "price")).entry == entry()


async def test_one_waiter_going_away_does_not_cancel_the_read():
    fake = SlowRedis({"k": entry().dumps()})
    local = cache.LocalCache()
    first = asyncio.ensure_future(local.read(fake, "k", 1, "price"))
    await started(fake)
    leaving = asyncio.ensure_future(local.read(fake, "k", 1, "price"))
    staying = asyncio.ensure_future(local.read(fake, "k", 1, "price"))  # both wait for the next GET
    await asyncio.sleep(0)
    leaving.cancel()
    fake.release.set()
    assert (await first).entry == entry() and (await staying).entry == entry()
    assert leaving.cancelled() and fake.calls == ["k", "k"]


async def test_the_running_read_is_forgotten_when_it_ends(aredis):
    local = cache.LocalCache()
    await local.read(aredis, "k", 1, "price")
    await asyncio.sleep(0)
    assert local._running == {} and local._next == {}


def test_a_read_left_behind_by_another_event_loop_is_not_waited_for(redis_server):
    fake = SlowRedis({"k": entry("stuck").dumps()})
    local = cache.LocalCache()
    old_loop = asyncio.new_event_loop()
    stuck = old_loop.create_task(local.read(fake, "k", 1, "price"))
    old_loop.run_until_complete(started(fake))  # its GET never answers while that loop is stopped

    async def in_a_new_loop():
        r = redis.asyncio.Redis.from_url(redis_server.url)
        await cache.write(r, "k", entry("fresh"), keep_s=60)
        held = await asyncio.wait_for(local.read(r, "k", 1, "price"), timeout=5)
        await r.aclose()
        return held.entry.data

    assert asyncio.run(in_a_new_loop()) == "fresh"
    fake.release.set()
    assert old_loop.run_until_complete(stuck).entry.data == "stuck"
    old_loop.close()


def test_a_held_entry_starts_with_nothing_rendered_or_shaped_and_renders_once_per_query():
    """The data plane renders a held entry once (native) and once per drop-in query (shaped), and
    reuses those bytes until the entry changes: a new LocalEntry must start with neither."""
    from healing.dataplane.compat.serve import render_hit

    held = cache.LocalEntry(b"{}", cache.Entry([{"price": 2.0}], "coingecko", 100.0), "price")
    assert held.rendered is None and held.shaped is None
    calls = []

    def shape(data):
        calls.append(data)
        return {"bitcoin": {"usd": data[0]["price"]}}

    first = render_hit(held, ("/compat/x", b"q=1"), shape)
    again = render_hit(held, ("/compat/x", b"q=1"), shape)
    other = render_hit(held, ("/compat/x", b"q=2"), shape)
    assert first == again and first[1] == b'{"bitcoin":{"usd":2.0}}' and other[1] == first[1]
    assert len(calls) == 2 and set(held.shaped) == {("/compat/x", b"q=1"), ("/compat/x", b"q=2")}
    assert (b"x-cryptohub-source", b"coingecko") in first[0] and (b"x-cryptohub-cache", b"cache") in first[0]
