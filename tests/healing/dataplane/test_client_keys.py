"""Client keys and inbound limits on the data plane (real Redis, the fake upstream's catalogue)."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def _client(**kw):
    from healing.models import ApiClient

    c = ApiClient(name=kw.pop("name", "bench"), **kw)
    key = c.set_new_key()
    c.save()
    return c, key


async def _ready(data_client):
    # The snapshot (with its clients) loads at lifespan start; one request makes sure it is in.
    await data_client.get("/api/data/")


async def test_key_stored_hashed_and_both_headers_work(price_pool, settings):
    import hashlib

    from tests.live_server import serve_in_process

    c, key = await _sync(_client, limits="1000/minute")
    assert c.key_hash == hashlib.sha256(key.encode()).hexdigest() and key not in (c.key_hash, c.key_prefix)
    async with serve_in_process(check_interval_s=0.05) as client:
        r1 = await client.get("/api/data/", headers={"Authorization": f"Bearer {key}"})
        r2 = await client.get("/api/data/", headers={"X-API-Key": key})
        bad = await client.get("/api/data/", headers={"X-API-Key": "chk_nope"})
    assert r1.status_code == r2.status_code == 200
    assert r1.headers["ratelimit-limit"] == "1000"
    assert bad.status_code == 401 and key not in bad.text


async def test_capability_forbidden_and_public_read_off(price_pool, settings):
    from tests.live_server import serve_in_process

    _, key = await _sync(_client, capabilities=["markets"])
    async with serve_in_process(check_interval_s=0.05) as client:
        r = await client.get("/api/data/price?ids=bitcoin", headers={"X-API-Key": key})
        assert r.status_code == 403
        settings.CRYPTOHUB_PUBLIC_READ = False
        anon = await client.get("/api/data/price?ids=bitcoin")
    assert anon.status_code == 401


async def test_anonymous_limit_429_with_headers_client_independent(price_pool, settings):
    from tests.live_server import serve_in_process

    settings.CRYPTOHUB_ANON_LIMITS = "read=3/minute"
    _, key = await _sync(_client, limits="100/minute")
    async with serve_in_process(check_interval_s=0.05) as client:
        codes = [(await client.get("/api/data/")).status_code for _ in range(4)]
        over = await client.get("/api/data/")
        keyed = await client.get("/api/data/", headers={"X-API-Key": key})
    assert codes[:3] == [200, 200, 200] and codes[3] == 429
    assert int(over.headers["retry-after"]) >= 1 and over.headers["ratelimit-remaining"] == "0"
    assert keyed.status_code == 200


async def _sync(fn, **kw):
    from asgiref.sync import sync_to_async

    return await sync_to_async(fn, thread_sensitive=False)(**kw)
