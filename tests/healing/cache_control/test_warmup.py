"""Warm-up: the answers clients ask for most are counted per process and shared in Redis without a
round trip on the request path, and a warm-up asks again for those whose copy is gone or old,
through the engine (the fake upstream answers), then halves the counts."""

import pytest
import redis
from django.conf import settings

from healing import cache_control, cache_warmup
from healing.dataplane.wanted import Wanted, wanted_key, wanted_params_key
from healing.engine import cache

pytestmark = pytest.mark.django_db(transaction=True)

PRICE = "/api/data/price?ids=bitcoin&vs=usd"
PRICE_KEY = cache.data_key("price", {"ids": ["bitcoin"], "vs": "usd"})


def _sync_redis():
    return redis.Redis.from_url(settings.REDIS_URL)


async def test_requests_are_counted_hits_included_and_flushed_in_one_batch(catalogue, data_client, aredis):
    for _ in range(3):  # one miss, then fast-path hits
        assert (await data_client.get(PRICE)).status_code == 200
    await data_client.get("/api/data/fear-greed?limit=2")
    assert await aredis.zcard(wanted_key()) == 0  # nothing written on the request path yet
    await data_client.app.wanted.flush(aredis)
    assert await aredis.zscore(wanted_key(), PRICE_KEY) == 3
    assert await aredis.zcard(wanted_key()) == 2
    assert await aredis.hget(wanted_params_key(), PRICE_KEY) == b'["price",{"ids":["bitcoin"],"vs":"usd"}]'


async def test_a_flush_is_due_only_after_its_period_and_a_failed_one_keeps_what_asks(aredis):
    now = [100.0]
    wanted = Wanted(monotonic=lambda: now[0], flush_s=10)
    assert wanted.note("k", "price", {"ids": ["x"]}) is False
    now[0] += 10
    assert wanted.note("k") is True
    broken = redis.asyncio.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    await wanted.flush(broken)
    await broken.aclose()
    assert wanted.note("k") is False  # the failed flush still counts as the last one
    await wanted.flush(aredis)
    assert await aredis.zscore(wanted_key(), "k") == 1  # counts of the failed flush are gone...
    assert await aredis.hget(wanted_params_key(), "k") == b'["price",{"ids":["x"]}]'  # ...what asks is not


def test_a_warmup_asks_again_for_what_is_gone_and_skips_what_is_fresh(catalogue, fake_upstream):
    r = _sync_redis()
    fear_key = cache.data_key("fear_greed", {"limit": 2})
    r.zadd(wanted_key(), {PRICE_KEY: 8, fear_key: 4, "ch-unknown": 2})
    r.hset(wanted_params_key(), mapping={PRICE_KEY: b'["price",{"ids":["bitcoin"],"vs":"usd"}]',
                                         fear_key: b'["fear-greed",{"limit":2}]'})
    report = cache_warmup.warm(top=10)
    assert report.summary() == {"warmed": 2, "fresh": 0, "failed": 0}
    assert cache.loads_or_none(r.get(PRICE_KEY)).data[0]["id"] == "bitcoin"
    assert r.zscore(wanted_key(), PRICE_KEY) == 4  # halved

    calls = fake_upstream.calls()
    assert cache_warmup.warm(top=10).summary() == {"warmed": 0, "fresh": 2, "failed": 0}
    assert fake_upstream.calls() == calls  # fresh copies cost no upstream call

    cache_control.purge(capability="price", keep_stale=True)  # expired: asked again
    assert cache_warmup.warm(top=1).summary() == {"warmed": 1, "fresh": 0, "failed": 0}
    assert cache.loads_or_none(r.get(PRICE_KEY)).expired is False


def test_a_warmup_whose_providers_all_fail_says_so(catalogue, fake_upstream):
    r = _sync_redis()
    r.zadd(wanted_key(), {PRICE_KEY: 1})
    r.hset(wanted_params_key(), PRICE_KEY, b'["price",{"ids":["bitcoin"],"vs":"usd"}]')
    fake_upstream.fault("*", "status", status=503)
    assert cache_warmup.warm(top=5).summary() == {"warmed": 0, "fresh": 0, "failed": 1}
