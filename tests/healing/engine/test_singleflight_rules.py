"""Single-flight rules test_singleflight.py leaves unpinned: the Redis names and TTLs, the peek /
on_release / settle round-trip savers, a follower that finds the result already stored, and
messages from another leader."""

import asyncio
import logging

import redis.asyncio

from healing.engine import singleflight


def _deadline(seconds):
    return asyncio.get_running_loop().time() + seconds


async def subscribed(r):
    return len([c for c in await r.client_list() if int(c["sub"]) > 0])


def test_redis_names_of_a_key():
    assert singleflight.lock_key("k") == "k:sf"
    assert singleflight._result_key("k", b"abc") == "k:sf:result:abc"
    assert singleflight._channel("k") == "k:sf:done"
    assert singleflight._as_bytes("x") == b"x" and singleflight._as_bytes(b"y") == b"y"


async def test_the_leader_holds_the_lock_until_deadline_plus_slack_then_stores_the_result(aredis):
    seen = {}

    async def produce():
        seen["pttl"] = await aredis.pttl(singleflight.lock_key("k"))
        seen["holder"] = await aredis.get(singleflight.lock_key("k"))
        return b"done"

    listener = aredis.pubsub()
    await listener.subscribe(singleflight._channel("k"))
    assert await singleflight.run(aredis, "k", produce, deadline=_deadline(3), reserve_s=1) == (b"done", True)
    messages = [await listener.get_message(timeout=1) for _ in range(2)]  # the subscribe reply, then it
    await listener.aclose()
    message = messages[1]
    assert message["data"] == seen["holder"] + b"|done"  # "<token>|<payload>"
    assert 4500 < seen["pttl"] <= 5000  # 3 s to the deadline + LOCK_SLACK_S
    [result_key] = await aredis.keys("k:sf:result:*")
    assert result_key == f"k:sf:result:{seen['holder'].decode()}".encode()
    assert await aredis.get(result_key) == b"done"
    assert 9 <= await aredis.ttl(result_key) <= singleflight.RESULT_TTL_S == 10
    assert await aredis.exists("k:sf") == 0


async def test_peek_reads_go_with_the_lock_and_on_release_writes_before_the_result(aredis):
    await aredis.set("peeked", b"p1")
    got = []

    async def produce(peeked):
        got.append(peeked)
        assert 2500 < await aredis.pttl(singleflight.lock_key("k")) <= 5000  # the lock expires on its own
        return b"v"

    def on_release(pipe):
        pipe.set("written", b"w")

    payload = await singleflight.run(aredis, "k", produce, deadline=_deadline(3), reserve_s=1,
                                     peek=lambda pipe: pipe.get("peeked"), on_release=on_release)
    assert payload == (b"v", True)
    assert got == [[b"p1"]]
    assert await aredis.get("written") == b"w"


async def test_a_follower_settles_from_its_peek_without_waiting(aredis):
    await aredis.set(singleflight.lock_key("k"), b"other", px=60_000)
    await aredis.set("entry", b"fresh")
    produced = []

    async def produce(peeked):
        produced.append(peeked)
        return b"mine"

    def settle(peeked):
        return peeked[0] if peeked[0] == b"fresh" else None

    payload = await singleflight.run(aredis, "k", produce, deadline=_deadline(3), reserve_s=1,
                                     peek=lambda pipe: pipe.get("entry"), settle=settle)
    assert payload == (b"fresh", False) and produced == []


async def test_an_unsettled_follower_that_waited_too_long_peeks_again_and_writes(aredis):
    await aredis.set(singleflight.lock_key("k"), b"ghost", px=60_000)
    await aredis.set("entry", b"old")
    produced = []

    async def produce(peeked):
        produced.append(peeked)
        return b"own"

    def on_release(pipe):
        pipe.set("written", b"w")

    payload = await singleflight.run(aredis, "k", produce, deadline=_deadline(0.3), reserve_s=0.3,
                                     peek=lambda pipe: pipe.get("entry"), on_release=on_release,
                                     settle=lambda peeked: None)
    assert payload == (b"own", True)
    assert produced == [[b"old"]]
    assert await aredis.get("written") == b"w"
    assert await aredis.get(singleflight.lock_key("k")) == b"ghost"  # it never had the lock


async def test_a_follower_finds_a_result_stored_before_it_subscribed(aredis):
    await aredis.set(singleflight.lock_key("k"), b"tok", px=60_000)
    await aredis.set(singleflight._result_key("k", b"tok"), b"stored")

    async def produce():
        raise AssertionError("a follower must not produce")

    assert await singleflight.run(aredis, "k", produce, deadline=_deadline(3), reserve_s=1) == (b"stored", False)


async def test_a_follower_takes_the_result_of_a_leader_that_released_between_checks(aredis):
    await aredis.set(singleflight.lock_key("k"), b"tok", px=60_000)

    async def produce():
        raise AssertionError("a follower must not produce")

    follower = asyncio.ensure_future(singleflight.run(aredis, "k", produce, deadline=_deadline(3), reserve_s=1))
    await asyncio.sleep(0.05)
    # The leader stores its result and releases without a message this follower reads.
    await aredis.set(singleflight._result_key("k", b"tok"), b"late")
    await aredis.delete(singleflight.lock_key("k"))
    assert await follower == (b"late", False)


async def test_a_message_from_another_leader_is_ignored(aredis):
    await aredis.set(singleflight.lock_key("k"), b"tok", px=60_000)
    before = await subscribed(aredis)

    async def produce():
        return b"unused"

    # Under a second to wait: the follower still listens for the whole of it.
    follower = asyncio.ensure_future(singleflight.run(aredis, "k", produce, deadline=_deadline(0.9), reserve_s=0.1))
    await asyncio.sleep(0.05)
    await aredis.publish(singleflight._channel("k"), b"someone-else|wrong")
    await aredis.publish(singleflight._channel("k"), b"tok|right|with|bars")
    assert await follower == (b"right|with|bars", False)
    assert await subscribed(aredis) == before  # its pubsub is closed


async def test_a_follower_moves_to_a_new_lock_holder(aredis):
    await aredis.set(singleflight.lock_key("k"), b"tok", px=60_000)

    async def produce():
        return b"own"

    follower = asyncio.ensure_future(singleflight.run(aredis, "k", produce, deadline=_deadline(1.5), reserve_s=0.2))
    await asyncio.sleep(0.05)
    await aredis.set(singleflight.lock_key("k"), b"other", px=60_000)  # tok died, "other" leads now
    await asyncio.sleep(singleflight.LEADER_CHECK_S + 0.2)
    await aredis.publish(singleflight._channel("k"), b"other|x")
    assert await follower == (b"x", False)


async def test_a_failing_pubsub_close_is_logged_not_raised(aredis, caplog, monkeypatch):
    await aredis.set(singleflight.lock_key("k"), b"tok", px=60_000)
    await aredis.set(singleflight._result_key("k", b"tok"), b"stored")
    real = aredis.pubsub

    def pubsub():
        ps = real()

        async def aclose():
            raise ConnectionError("gone")

        ps.aclose = aclose
        return ps

    monkeypatch.setattr(aredis, "pubsub", pubsub)

    async def produce():
        return b"unused"

    with caplog.at_level(logging.DEBUG, logger="healing.engine.singleflight"):
        assert await singleflight.run(aredis, "k", produce, deadline=_deadline(3), reserve_s=1) == (b"stored", False)
    [record] = [r for r in caplog.records if r.name == "healing.engine.singleflight"]
    assert record.getMessage() == "single-flight pubsub close failed for k"
    assert record.levelno == logging.DEBUG and record.exc_info[0] is ConnectionError


async def test_followers_work_with_a_client_that_decodes_to_text(redis_server):
    text = redis.asyncio.Redis.from_url(redis_server.url, decode_responses=True)
    await text.set(singleflight.lock_key("k"), "tok", px=60_000)

    async def produce():
        return b"unused"

    follower = asyncio.ensure_future(singleflight.run(text, "k", produce, deadline=_deadline(3), reserve_s=1))
    await asyncio.sleep(0.05)
    await text.publish(singleflight._channel("k"), "tok|hello")
    assert await follower == (b"hello", False)
    await text.aclose()


async def test_a_slow_local_leader_lets_a_local_follower_try_itself(aredis):
    release = asyncio.Event()

    async def slow():
        await release.wait()
        return b"slow"

    async def quick():
        return b"quick"

    leader = asyncio.ensure_future(singleflight.run(aredis, "k", slow, deadline=_deadline(5), reserve_s=1))
    await asyncio.sleep(0.02)
    asyncio.get_running_loop().call_later(0.4, release.set)  # after the follower's patience, within a second
    assert await singleflight.run(aredis, "k", quick, deadline=_deadline(0.3), reserve_s=0.2) == (b"quick", True)
    assert await leader == (b"slow", True)
    assert singleflight._inflight == {}


async def test_a_local_follower_that_gave_up_still_peeks_settles_and_writes(aredis):
    release = asyncio.Event()
    await aredis.set("entry", b"fresh")

    async def slow(peeked=None):
        await release.wait()
        return b"slow"

    async def own(peeked):
        return b"own"

    leader = asyncio.ensure_future(singleflight.run(aredis, "k", slow, deadline=_deadline(5), reserve_s=1))
    await asyncio.sleep(0.02)
    settled = await singleflight.run(aredis, "k", own, deadline=_deadline(0.2), reserve_s=0.1,
                                     peek=lambda pipe: pipe.get("entry"), settle=lambda peeked: peeked[0])
    assert settled == (b"fresh", False)
    written = await singleflight.run(aredis, "k", own, deadline=_deadline(0.2), reserve_s=0.1,
                                     peek=lambda pipe: pipe.get("entry"),
                                     on_release=lambda pipe: pipe.set("written", b"w"))
    assert written == (b"own", True) and await aredis.get("written") == b"w"
    release.set()
    assert await leader == (b"slow", True)


async def test_local_followers_never_touch_redis(aredis):
    release = asyncio.Event()

    class NoRedis:
        def __getattr__(self, name):
            raise AssertionError(f"a local follower used Redis ({name})")

    async def slow():
        await release.wait()
        return b"shared"

    leader = asyncio.ensure_future(singleflight.run(aredis, "k", slow, deadline=_deadline(5), reserve_s=1))
    await asyncio.sleep(0.02)
    follower = asyncio.ensure_future(singleflight.run(NoRedis(), "k", slow, deadline=_deadline(5), reserve_s=1))
    await asyncio.sleep(0.02)
    release.set()
    assert await follower == (b"shared", False) and await leader == (b"shared", True)


async def test_different_keys_have_different_local_leaders(aredis):
    async def make(value):
        await asyncio.sleep(0.05)
        return value

    results = await asyncio.gather(
        singleflight.run(aredis, "a", lambda: make(b"A"), deadline=_deadline(3), reserve_s=1),
        singleflight.run(aredis, "b", lambda: make(b"B"), deadline=_deadline(3), reserve_s=1),
    )
    assert results == [(b"A", True), (b"B", True)]


async def test_a_local_follower_gets_the_local_leaders_payload(aredis):
    release = asyncio.Event()

    async def slow():
        await release.wait()
        return b"shared"

    leader = asyncio.ensure_future(singleflight.run(aredis, "k", slow, deadline=_deadline(5), reserve_s=1))
    await asyncio.sleep(0.02)
    follower = asyncio.ensure_future(singleflight.run(aredis, "k", slow, deadline=_deadline(5), reserve_s=1))
    await asyncio.sleep(0.02)
    release.set()
    assert await follower == (b"shared", False)
    assert await leader == (b"shared", True)


async def test_a_follower_checks_on_its_leader_every_quarter_second(aredis, monkeypatch):
    await aredis.set(singleflight.lock_key("k"), b"tok", px=60_000)
    real = aredis.pubsub
    timeouts = []

    def pubsub():
        ps = real()
        get_message = ps.get_message

        async def recording(**kwargs):
            timeouts.append(kwargs["timeout"])
            return await get_message(**kwargs)

        ps.get_message = recording
        return ps

    monkeypatch.setattr(aredis, "pubsub", pubsub)

    async def produce():
        return b"unused"

    follower = asyncio.ensure_future(singleflight.run(aredis, "k", produce, deadline=_deadline(3), reserve_s=1))
    for _ in range(200):  # bounded: a follower that never listens fails here instead of hanging
        if timeouts:
            break
        await asyncio.sleep(0.01)
    assert timeouts, "the follower never waited for a message"
    await aredis.publish(singleflight._channel("k"), b"tok|x")
    assert await asyncio.wait_for(follower, timeout=5) == (b"x", False)
    assert timeouts[0] == 0.25  # LEADER_CHECK_S: how long one wait for the leader's message lasts
