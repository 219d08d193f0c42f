import asyncio

import pytest

from healing.engine import singleflight


def _deadline(seconds):
    return asyncio.get_running_loop().time() + seconds


async def test_many_concurrent_callers_share_one_produce(aredis):
    calls = 0

    async def produce():
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.2)
        return b"result"

    results = await asyncio.gather(*(
        singleflight.run(aredis, "k1", produce, deadline=_deadline(5), reserve_s=1) for _ in range(300)
    ))
    assert calls == 1
    assert {payload for payload, _ in results} == {b"result"}
    assert [led for _, led in results].count(True) == 1
    assert await aredis.exists(singleflight.lock_key("k1")) == 0


async def test_a_follower_in_another_client_gets_the_leaders_result(aredis, redis_server):
    import redis.asyncio

    other = redis.asyncio.Redis.from_url(redis_server.url)  # stands in for another process
    calls = 0
    started = asyncio.Event()

    async def produce():
        nonlocal calls
        calls += 1
        started.set()
        await asyncio.sleep(0.3)
        return b"from-leader"

    leader = asyncio.ensure_future(singleflight.run(aredis, "k2", produce, deadline=_deadline(5), reserve_s=1))
    await started.wait()
    # Different key in the in-process table (another loop id is not possible here), so clear it.
    singleflight._inflight.clear()
    payload, led = await singleflight.run(other, "k2", produce, deadline=_deadline(5), reserve_s=1)
    assert (payload, led) == (b"from-leader", False)
    assert (await leader) == (b"from-leader", True)
    assert calls == 1
    await other.aclose()


async def test_follower_takes_over_when_the_leader_fails(aredis):
    calls = []

    async def failing():
        calls.append("leader")
        await asyncio.sleep(0.1)
        raise RuntimeError("boom")

    async def working():
        calls.append("follower")
        return b"mine"

    leader = asyncio.ensure_future(singleflight.run(aredis, "k3", failing, deadline=_deadline(5), reserve_s=1))
    await asyncio.sleep(0.02)
    follower = await singleflight.run(aredis, "k3", working, deadline=_deadline(5), reserve_s=1)
    with pytest.raises(RuntimeError):
        await leader
    assert follower == (b"mine", True)
    assert calls == ["leader", "follower"]


async def test_waiting_is_bounded_by_the_deadline_then_the_follower_tries_itself(aredis):
    # A leader in a "dead" process: the lock is held by nobody who will ever answer.
    await aredis.set(singleflight.lock_key("k4"), b"ghost", px=60_000)

    async def produce():
        return b"own"

    loop = asyncio.get_running_loop()
    deadline = _deadline(0.6)
    payload, led = await singleflight.run(aredis, "k4", produce, deadline=deadline, reserve_s=0.3)
    assert (payload, led) == (b"own", True)
    # It gave up waiting at deadline - reserve, so it still had time of its own.
    assert loop.time() < deadline


async def test_a_vanished_leader_lets_a_follower_lead(aredis):
    await aredis.set(singleflight.lock_key("k5"), b"ghost", px=300)  # the dead leader's lock expires

    async def produce():
        return b"new-leader"

    payload, led = await singleflight.run(aredis, "k5", produce, deadline=_deadline(5), reserve_s=1)
    assert (payload, led) == (b"new-leader", True)
