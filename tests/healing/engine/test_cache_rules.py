"""The cache's keys, entry format, TTLs, freshness edges and hit/miss counters, rule by rule."""

import hashlib
import json
import logging

import pytest
import redis.exceptions

from healing.engine import cache
from providers.runtime import rkey
from tests.fixtures.clock import T0


def test_canonical_text_is_compact_sorted_json():
    assert cache.canonical({"b": 1, "a": [3, 1, 2]}) == '{"a":[1,2,3],"b":1}'
    assert cache.canonical({"x": {"z": 1, "y": 2}}) == '{"x":{"y":2,"z":1}}'
    assert cache.canonical({"s": {"b", "a"}, "t": ("b", "a"), "f": frozenset({2, 1})}) == (
        '{"f":[1,2],"s":["a","b"],"t":["a","b"]}'
    )


def test_canonical_orders_nested_values_by_their_json():
    assert cache.canonical({"l": [{"b": 1}, {"a": 2}]}) == '{"l":[{"a":2},{"b":1}]}'
    assert cache.canonical({"l": [[1], [2, 1]]}) == '{"l":[[1,2],[1]]}'  # by JSON text: "[1, 2]" < "[1]"
    # Keys become text, also inside nested mappings; mixed keys sort by their text.
    assert cache.canonical({"m": {2: "b", 10: "a"}}) == '{"m":{"10":"a","2":"b"}}'
    assert json.loads(cache.canonical({1: "x"})) == {"1": "x"}
    # Mixed key types sort by their text (no int/str comparison), and of two keys with the
    # same text the later one in that order wins, whatever the values.
    assert cache.canonical({1: "x", "b": "y"}) == '{"1":"x","b":"y"}'
    assert cache.canonical({1: "b", "1": "a"}) == '{"1":"a"}'


def test_canonical_writes_unknown_values_as_text():
    class Thing:
        def __str__(self):
            return "thing"

    assert cache.canonical({"t": Thing()}) == '{"t":"thing"}'
    assert cache.canonical({"l": [Thing(), "a"]}) == '{"l":["a","thing"]}'


def test_data_key_is_namespaced_by_capability_with_a_short_digest():
    key = cache.data_key("price", {"ids": ["bitcoin"]})
    prefix = rkey("cache", "price") + ":"
    assert key.startswith(prefix)
    digest = key[len(prefix):]
    assert len(digest) == 20 and int(digest, 16) >= 0


def test_key_digests_are_the_sha1_of_the_canonical_request():
    params = {"a": 1}
    text = "GET /v1/p " + cache.canonical(params)
    assert cache.raw_key("alpha", "get", "/v1/p", params).endswith(":" + hashlib.sha1(text.encode()).hexdigest()[:20])
    digest = hashlib.sha1(cache.canonical(params).encode()).hexdigest()[:20]
    assert cache.data_key("price", params) == rkey("cache", "price", digest)


def test_raw_key_depends_on_slug_method_path_and_params():
    key = cache.raw_key("alpha", "get", "/v1/p", {"a": 1})
    assert key.startswith(rkey("cache", "raw", "alpha") + ":") and len(key.rsplit(":", 1)[1]) == 20
    assert key == cache.raw_key("alpha", "GET", "/v1/p", {"a": 1})  # the method's case does not matter
    others = {
        cache.raw_key("beta", "GET", "/v1/p", {"a": 1}),
        cache.raw_key("alpha", "POST", "/v1/p", {"a": 1}),
        cache.raw_key("alpha", "GET", "/v1/q", {"a": 1}),
        cache.raw_key("alpha", "GET", "/v1/p", {"a": 2}),
    }
    assert key not in others and len(others) == 4


def test_refresh_lock_key():
    assert cache.refresh_lock_key("ch:cache:price:abc") == "ch:cache:price:abc:refresh"


def test_age_is_never_negative():
    entry = cache.Entry(1, "alpha", T0)
    assert entry.age(T0 + 2.5) == 2.5
    assert entry.age(T0 - 5) == 0.0


def test_freshness_without_a_revalidate_window_goes_straight_to_stale():
    entry = cache.Entry(1, "alpha", T0)
    assert entry.freshness(T0 + 9.9, 10, 0) == cache.FRESH
    assert entry.freshness(T0 + 10, 10, 0) == cache.STALE
    # An entry from the future (clock skew) is fresh, not stale.
    assert entry.freshness(T0 - 30, 10, 60) == cache.FRESH
    assert entry.freshness(T0 - 30, 0, 60) == cache.STALE
    # Any positive fresh TTL revalidates, also one under a second.
    assert entry.freshness(T0 + 0.7, 0.5, 60) == cache.REVALIDATE


def test_entry_format_on_the_wire():
    entry = cache.Entry({1: "x"}, "alpha", T0, ({"provider": "alpha"},))
    assert json.loads(entry.dumps()) == {"d": {"1": "x"}, "s": "alpha", "t": T0, "a": [{"provider": "alpha"}]}
    old = json.dumps({"d": [1], "s": "beta", "t": int(T0)})  # an entry written before attempts were kept
    loaded = cache.Entry.loads(old)
    assert loaded == cache.Entry([1], "beta", T0, ())
    assert isinstance(loaded.fetched_at, float) and loaded.attempts == ()
    assert cache.Entry.loads(entry.dumps().decode()).attempts == ({"provider": "alpha"},)


def test_bytes_round_trip_as_base64_text():
    assert cache.encode_bytes(b"\x00\xffhi") == "AP9oaQ=="
    assert cache.decode_bytes("AP9oaQ==") == b"\x00\xffhi"


@pytest.mark.parametrize("raw", [None, b"not json", b'{"d": 1}', b"[1, 2]", b'{"d": 1, "s": "a", "t": null}'])
def test_anything_unreadable_is_none(raw):
    assert cache.loads_or_none(raw) is None


def test_a_readable_entry_is_loaded():
    entry = cache.Entry([1], "alpha", T0)
    assert cache.loads_or_none(entry.dumps()) == entry


async def test_write_keeps_at_least_a_second_and_rounds_up(aredis):
    entry = cache.Entry(1, "alpha", T0)
    await cache.write(aredis, "k-short", entry, keep_s=0.2)
    await cache.write(aredis, "k-frac", entry, keep_s=10.2)
    assert await aredis.pttl("k-short") > 0 and await aredis.ttl("k-short") == 1
    assert await aredis.ttl("k-frac") == 11
    assert await cache.read(aredis, "k-frac") == entry


async def test_queue_write_goes_in_the_callers_pipeline_with_the_same_ttl(aredis):
    entry = cache.Entry({"a": 1}, "alpha", T0)
    pipe = aredis.pipeline(transaction=False)
    cache.queue_write(pipe, "k-q", entry, keep_s=10.2)
    cache.queue_write(pipe, "k-q2", entry, keep_s=0.2)
    assert await aredis.exists("k-q") == 0
    await pipe.execute()
    assert await cache.read(aredis, "k-q") == entry
    assert await aredis.ttl("k-q") == 11 and await aredis.ttl("k-q2") == 1


async def test_read_of_a_missing_key_is_none(aredis):
    assert await cache.read(aredis, "nothing-here") is None


async def test_the_refresh_lock_holds_its_token_for_hold_s(aredis):
    assert await cache.claim_refresh(aredis, "k", "t1", 2.5)
    assert await aredis.get(cache.refresh_lock_key("k")) == b"t1"
    assert 2400 < await aredis.pttl(cache.refresh_lock_key("k")) <= 2500
    assert not await cache.claim_refresh(aredis, "k", "t2", 2.5)
    assert await cache.claim_refresh(aredis, "tiny", "t3", 0)  # never zero: at least a millisecond
    assert await aredis.get(cache.refresh_lock_key("tiny")) in (b"t3", None)


async def test_release_frees_only_the_lock(aredis):
    await aredis.set("k", b"entry")
    assert await cache.claim_refresh(aredis, "k", "t1", 5)
    await cache.release_refresh(aredis, "k")
    assert await aredis.exists(cache.refresh_lock_key("k")) == 0
    assert await aredis.get("k") == b"entry"


def test_counters_buffer_and_say_when_a_flush_is_due():
    now = [100.0]
    counters = cache.CacheCounters(monotonic=lambda: now[0], flush_s=1.0)
    assert counters.add(cache.HIT, "price")  # never flushed: due at once
    assert counters.add(cache.HIT, "price")
    assert counters.add(cache.MISS, "gas")
    assert counters.pending == {"hit:price": 2, "miss:gas": 1}


async def test_counters_flush_in_one_batch_then_wait_flush_s(aredis):
    now = [100.0]
    counters = cache.CacheCounters(monotonic=lambda: now[0], flush_s=1.0)
    counters.add(cache.HIT, "price")
    counters.add(cache.HIT, "price")
    counters.add(cache.STALE_SERVED, "price")
    await counters.flush(aredis)
    assert counters.pending == {}
    assert await aredis.hgetall(cache.counters_key()) == {b"hit:price": b"2", b"stale:price": b"1"}
    assert cache.counters_key() == rkey("stats", "cache")
    assert not counters.add(cache.HIT, "price")
    now[0] = 100.9
    assert not counters.add(cache.HIT, "price")
    now[0] = 101.0
    assert counters.add(cache.HIT, "price")
    await counters.flush(aredis)
    assert await aredis.hget(cache.counters_key(), "hit:price") == b"5"


async def test_an_empty_flush_writes_nothing_but_restarts_the_wait(aredis):
    now = [100.0]
    counters = cache.CacheCounters(monotonic=lambda: now[0], flush_s=1.0)
    await counters.flush(aredis)
    assert await aredis.exists(cache.counters_key()) == 0
    assert not counters.add(cache.MISS, "price")


def test_default_counters_flush_at_most_once_a_second():
    now = [50.0]
    counters = cache.CacheCounters(monotonic=lambda: now[0])
    counters._last_flush = 50.0
    now[0] = 50.75
    assert not counters.add(cache.HIT, "x")
    now[0] = 51.0
    assert counters.add(cache.HIT, "x")


class BrokenRedis:
    """A Redis whose pipelines fail on execute (a connection lost mid-flush)."""

    def pipeline(self, transaction=True):
        return self

    def hincrby(self, *args):
        return self

    async def execute(self):
        raise redis.exceptions.ConnectionError("gone")


async def test_a_failed_flush_keeps_the_counts(aredis, caplog):
    counters = cache.CacheCounters(monotonic=lambda: 0.0)
    counters.add(cache.HIT, "price")
    with caplog.at_level(logging.WARNING, logger="healing.engine.cache"):
        await counters.flush(BrokenRedis())
    assert counters.pending == {"hit:price": 1}
    assert caplog.messages == ["cache counters not flushed (ConnectionError); kept for the next flush"]
    counters.add(cache.HIT, "price")
    await counters.flush(aredis)
    assert await aredis.hget(cache.counters_key(), "hit:price") == b"2"


async def test_failed_flushes_warn_once_per_outage_and_again_after_a_success(aredis, caplog):
    counters = cache.CacheCounters(monotonic=lambda: 0.0)
    with caplog.at_level(logging.DEBUG, logger="healing.engine.cache"):
        for _ in range(3):  # one outage: the first failure warns, the rest are debug lines
            counters.add(cache.HIT, "price")
            await counters.flush(BrokenRedis())
        counters.add(cache.HIT, "price")
        await counters.flush(aredis)  # Redis is back: the next outage warns again
        counters.add(cache.HIT, "price")
        await counters.flush(BrokenRedis())
    levels = [r.levelno for r in caplog.records if r.name == "healing.engine.cache"]
    assert levels == [logging.WARNING, logging.DEBUG, logging.DEBUG, logging.WARNING]
    assert await aredis.hget(cache.counters_key(), "hit:price") == b"4"
