"""Purging the cache (healing.cache_control) over the real data plane, the fake upstream and Redis:
by capability, one answer of it, by the provider that produced the answers, or all; with
--keep-stale an answer is never fresh again but still saves a request when every provider fails."""

import io

import pytest
import redis
from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from healing import cache_control
from healing.engine import cache

pytestmark = pytest.mark.django_db(transaction=True)

PRICE = "/api/data/price?ids=bitcoin&vs=usd"
OTHER_PRICE = "/api/data/price?ids=ethereum&vs=usd"
FEAR = "/api/data/fear-greed?limit=2"


async def _served(client, path: str) -> str:
    answer = await client.get(path)
    assert answer.status_code == 200, answer.text
    return answer.json()["meta"]["served"]


def _keys(pattern: str = "*") -> set[str]:
    r = redis.Redis.from_url(settings.REDIS_URL, decode_responses=True)
    return {k for k in r.scan_iter(match=settings.CRYPTOHUB_REDIS_PREFIX + "cache:" + pattern)
            if cache_control.ANSWER_KEY.search(k)}


async def _fill(client) -> None:
    for path in (PRICE, OTHER_PRICE, FEAR):
        await _served(client, path)
    assert [await _served(client, p) for p in (PRICE, OTHER_PRICE, FEAR)] == ["cache"] * 3


async def test_a_capability_or_one_answer_of_it(catalogue, data_client):
    await _fill(data_client)
    one = cache_control.purge(capability="price", params={"ids": "bitcoin", "vs": "usd"})
    assert (one.deleted, one.expired) == (1, 0)
    assert await _served(data_client, PRICE) == "live"
    assert await _served(data_client, OTHER_PRICE) == "cache"

    every = cache_control.purge(capability="fear_greed")  # the engine's spelling works too
    assert every.deleted >= 1 and _keys("fear_greed:*") == set()
    assert await _served(data_client, OTHER_PRICE) == "cache" and await _served(data_client, FEAR) == "live"


async def test_a_providers_answers_and_everything(catalogue, data_client):
    await _fill(data_client)
    first = (await data_client.get(PRICE)).json()["meta"]["source"]
    report = await sync_to_async(cache_control.purge)(provider=first)
    assert report.deleted >= 1
    remaining = redis.Redis.from_url(settings.REDIS_URL).mget(sorted(_keys()))
    assert all(cache.loads_or_none(raw).source != first for raw in remaining if raw)
    assert cache_control.purge(everything=True).deleted == len(remaining)
    assert _keys() == set()


async def test_keep_stale_answers_when_every_provider_fails(catalogue, data_client, fake_upstream):
    await _fill(data_client)
    report = cache_control.purge(capability="price", keep_stale=True)
    assert (report.deleted, report.expired) == (0, 2)
    assert cache_control.purge(capability="price", keep_stale=True).expired == 0  # already expired
    fake_upstream.fault("*", "status", status=503)
    kept = await data_client.get(PRICE)
    assert kept.status_code == 200 and kept.json()["meta"]["served"] == "stale"

    cache_control.purge(capability="fear-greed")
    assert (await data_client.get(FEAR)).status_code == 503  # no copy left to fall back on


def test_refusals_name_their_field(catalogue):
    for kwargs, field in (({}, "capability"), ({"params": {"ids": "x"}}, "capability"),
                          ({"capability": "weather"}, "capability"),
                          ({"capability": "price", "params": {"idz": "bitcoin"}}, "idz"),
                          ({"provider": "nope"}, "provider")):
        with pytest.raises(cache_control.PurgeError) as refused:
            cache_control.purge(**kwargs)
        assert refused.value.field == field
    assert cache_control.cache_capability("sentiment") == "sentiment"  # scored answers, not their news


def test_the_api_and_the_command(catalogue):
    staff = APIClient()
    staff.force_authenticate(get_user_model().objects.create_user("ops", is_staff=True))
    r = redis.Redis.from_url(settings.REDIS_URL)
    key = cache.data_key("price", {"ids": ["bitcoin"], "vs": "usd"})
    r.set(key, cache.Entry({"bitcoin": {"usd": 1}}, "coingecko", 1.0).dumps())
    assert APIClient().delete("/api/cache?all=true").status_code in (401, 403)
    assert r.exists(key)
    answer = staff.delete("/api/cache?capability=price&ids=bitcoin&vs=usd&keep_stale=true")
    assert answer.status_code == 200 and answer.json()["expired"] == 1
    assert cache.loads_or_none(r.get(key)).expired is True
    assert staff.delete("/api/cache?keep_stale=maybe").json()["keep_stale"]
    assert staff.delete("/api/cache/?provider=nope").status_code == 404
    assert staff.delete("/api/cache?capability=price&vs=xx!").status_code == 400

    out = io.StringIO()
    call_command("cache", "clear", "--capability", "price", "--param", "ids=bitcoin", "--param", "vs=usd", stdout=out)
    assert "1 deleted" in out.getvalue() and not r.exists(key)
    with pytest.raises(CommandError, match="capability"):
        call_command("cache", "clear")
    with pytest.raises(CommandError, match="NAME=VALUE"):
        call_command("cache", "clear", "--capability", "price", "--param", "ids")


def test_a_purge_over_http_is_seen_by_every_worker_at_once(catalogue, fake_upstream, live_servers):
    import httpx
    from rest_framework.authtoken.models import Token

    server = live_servers(workers=2)
    token = Token.objects.create(user=get_user_model().objects.create_user("ops2", is_staff=True)).key
    fake_upstream.set_price(None, "bitcoin", "usd", 100.0)

    def price() -> float:
        with httpx.Client(base_url=server.url, timeout=30, trust_env=False) as fresh:  # a new connection
            return fresh.get(PRICE).json()["data"][0]["price"]

    assert {price() for _ in range(12)} == {100.0}  # cached in Redis and in each worker's copy
    fake_upstream.set_price(None, "bitcoin", "usd", 200.0)
    assert {price() for _ in range(6)} == {100.0}  # still fresh: the cache answers
    with httpx.Client(base_url=server.url, timeout=30, trust_env=False) as api:
        purged = api.delete("/api/cache", params={"capability": "price"}, headers={"Authorization": f"Token {token}"})
    assert purged.status_code == 200 and purged.json()["deleted"] >= 1
    assert {price() for _ in range(12)} == {200.0}  # no worker answers the purged copy
