"""The data plane end to end, in-process: real Redis, real sockets to the fake upstream."""

import asyncio
import logging

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings as django_settings

from healing.dataplane.app import CAPABILITIES, MAX_IDS
from healing.engine import fetch as engine

PRICE = "/api/data/price?ids=bitcoin,ethereum&vs=usd"


def _quotes(body):
    """{coin id: price} from a price answer, whatever the container shape."""
    data = body["data"]
    items = data.values() if isinstance(data, dict) and "bitcoin" in data else data
    if isinstance(items, dict):
        items = items.get("quotes", items.values())
    return {q["id"]: q["price"] for q in items}


async def test_price_answers_live_with_meta_and_headers(price_pool, fake_upstream, data_client, clock):
    response = await data_client.get(PRICE)
    assert response.status_code == 200, response.text
    body = response.json()
    assert _quotes(body) == {"bitcoin": 109600.0, "ethereum": 2770.0}
    meta = body["meta"]
    assert (meta["capability"], meta["source"], meta["served"]) == ("price", "coingecko", "live")
    assert meta["attempts"] == [{"provider": "coingecko", "outcome": "ok", "ms": meta["attempts"][0]["ms"]}]
    assert meta["fetched_at"].endswith("Z") and meta["age_s"] == 0
    assert response.headers["x-cryptohub-source"] == "coingecko"
    assert response.headers["x-cryptohub-cache"] == "live"
    assert fake_upstream.calls() == 1


async def test_second_request_is_a_cache_hit_without_an_upstream_call(price_pool, fake_upstream, data_client, clock):
    await data_client.get(PRICE)
    clock.advance(3)
    response = await data_client.get("/api/data/price/?vs=USD&ids=bitcoin,ethereum")
    assert response.status_code == 200
    assert response.headers["x-cryptohub-cache"] == "cache"
    assert response.json()["meta"]["served"] == "cache"
    assert response.json()["meta"]["age_s"] == 3
    assert fake_upstream.calls() == 1


async def test_falls_back_when_the_primary_answers_5xx(price_pool, fake_upstream, data_client):
    fake_upstream.fault("coingecko", "status", status=503)
    response = await data_client.get(PRICE)
    assert response.status_code == 200
    meta = response.json()["meta"]
    assert meta["source"] == "coinpaprika"
    assert response.headers["x-cryptohub-source"] == "coinpaprika"
    outcomes = [(a["provider"], a["outcome"]) for a in meta["attempts"]]
    assert outcomes[0] == ("coingecko", "transient")
    assert outcomes[-1] == ("coinpaprika", "ok")
    assert _quotes(response.json())["bitcoin"] == 109600.0


async def test_only_provider_asks_that_provider_and_skips_the_cache(price_pool, fake_upstream, data_client):
    for _ in range(2):
        response = await data_client.get(PRICE + "&provider=coincap")
        assert response.status_code == 200
        assert response.json()["meta"]["source"] == "coincap"
        assert response.headers["x-cryptohub-cache"] == "live"
    assert fake_upstream.calls("coincap") == 2
    assert fake_upstream.calls("coingecko") == 0


@pytest.mark.parametrize("query,field", [
    ("", "ids"),
    ("?ids=", "ids"),
    ("?ids=bitcoin,,ethereum", "ids"),
    ("?ids=bit$coin", "ids"),
    ("?ids=bitcoin&vs=u", "vs"),
    ("?ids=bitcoin&vs=us1", "vs"),
    ("?ids=bitcoin&vs=abcdefghijk", "vs"),
    ("?ids=" + ",".join(f"coin-{n}" for n in range(MAX_IDS + 1)), "ids"),
    ("?ids=bitcoin&provider=nope", "provider"),
])
async def test_bad_input_is_a_400_naming_the_field(price_pool, fake_upstream, data_client, query, field):
    response = await data_client.get("/api/data/price" + query)
    assert response.status_code == 400
    assert response.json()["field"] == field
    assert response.json()["detail"]
    assert fake_upstream.calls() == 0


async def test_a_disabled_provider_or_one_without_the_capability_is_a_400(price_pool, fake_upstream, data_client):
    from providers.models import Provider

    await sync_to_async(Provider.objects.create)(slug="etherscan", name="Etherscan", category="explorer",
                                                 base_url=fake_upstream.base_url("etherscan"))
    coincap = price_pool["coincap"]
    coincap.enabled = False
    await sync_to_async(coincap.save)()
    await data_client.app.state.runtime.holder.refresh()
    for slug, words in (("coincap", "disabled"), ("etherscan", "does not serve")):
        response = await data_client.get(PRICE + f"&provider={slug}")
        assert response.status_code == 400
        assert response.json()["field"] == "provider"
        assert words in response.json()["detail"]
    assert fake_upstream.calls() == 0


async def test_unknown_capability_is_a_404_listing_the_capabilities(price_pool, fake_upstream, data_client):
    response = await data_client.get("/api/data/moon-phase?ids=bitcoin")
    assert response.status_code == 404
    assert response.json()["capabilities"] == sorted(dataplane_capabilities())
    assert "moon-phase" in response.json()["detail"]
    assert fake_upstream.calls() == 0


def dataplane_capabilities():
    return CAPABILITIES


async def test_a_capability_without_a_pool_is_a_404(transactional_db, fake_upstream, data_client):
    response = await data_client.get(PRICE)
    assert response.status_code == 404
    assert "price" in response.json()["detail"]


async def test_the_index_lists_capabilities_and_wrong_methods_answer_json(price_pool, data_client):
    for path in ("/api/data", "/api/data/"):
        response = await data_client.get(path)
        assert response.status_code == 200
        assert "price" in response.json()["capabilities"]
    response = await data_client.post("/api/data/price?ids=bitcoin")
    assert response.status_code == 405
    assert response.json()["detail"]
    response = await data_client.get("/api/data/price/extra/segment")
    assert response.status_code == 404
    assert response.json()["detail"]


async def test_all_providers_failing_is_a_503_with_attempts_and_suggestions(price_pool, fake_upstream, data_client):
    fake_upstream.fault("*", "status", status=502)
    response = await data_client.get(PRICE)
    assert response.status_code == 503
    body = response.json()
    assert "price" in body["detail"]
    tried = {a["provider"] for a in body["attempts"]}
    assert tried == {"coingecko", "coinpaprika", "coincap"}
    assert all(a["outcome"] == "transient" for a in body["attempts"])
    assert isinstance(body["suggestions"], list) and body["suggestions"]


async def test_stale_copy_is_served_with_its_age_when_everything_fails(price_pool, fake_upstream, data_client, clock):
    first = await data_client.get(PRICE)
    assert first.status_code == 200
    settings = engine.EngineSettings.from_settings(django_settings)
    # Past the fresh TTL and past the stale-while-revalidate window: a miss that must go upstream.
    clock.advance(settings.fresh_ttl("price") + settings.swr_window_s + 30)
    fake_upstream.fault("*", "status", status=500)
    calls_before = fake_upstream.calls()
    response = await data_client.get(PRICE)
    assert response.status_code == 200
    meta = response.json()["meta"]
    assert meta["served"] == "stale"
    assert response.headers["x-cryptohub-cache"] == "stale"
    assert meta["age_s"] == settings.fresh_ttl("price") + settings.swr_window_s + 30
    assert meta["fetched_at"] == first.json()["meta"]["fetched_at"]
    assert {a["outcome"] for a in meta["attempts"]} == {"transient"}
    assert _quotes(response.json()) == _quotes(first.json())
    assert fake_upstream.calls() > calls_before


async def test_an_orm_edit_is_live_without_a_restart(price_pool, fake_upstream, data_client):
    assert (await data_client.get(PRICE + "&provider=coingecko")).status_code == 200
    coingecko = price_pool["coingecko"]
    coingecko.enabled = False
    await sync_to_async(coingecko.save)()
    # The poller looks every 50 ms here; bounded wait.
    for _ in range(100):
        response = await data_client.get(PRICE + "&provider=coingecko")
        if response.status_code == 400:
            break
        await asyncio.sleep(0.02)
    assert response.status_code == 400
    assert "disabled" in response.json()["detail"]
    fresh = await data_client.get("/api/data/price?ids=solana")
    assert fresh.json()["meta"]["source"] == "coinpaprika"


async def test_an_unexpected_error_is_a_503_without_a_traceback(price_pool, data_client, monkeypatch, caplog):
    async def explode(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(engine, "fetch_capability", explode)
    with caplog.at_level(logging.ERROR, logger="healing.dataplane.app"):
        response = await data_client.get(PRICE)
    assert response.status_code == 503
    assert response.json() == {"detail": "temporarily unable to answer; the server log has the details"}
    assert "secret internals" not in response.text
    assert any(r.exc_info and "secret internals" in str(r.exc_info[1]) for r in caplog.records)


async def test_works_without_lifespan(price_pool, fake_upstream):
    import httpx

    from healing.dataplane.app import create_app

    app = create_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        response = await client.get(PRICE)
    assert response.status_code == 200
    assert response.json()["meta"]["source"] == "coingecko"
    await app.state.runtime.aclose()


def test_the_registry_maps_a_capability_to_its_validator():
    from starlette.datastructures import QueryParams

    route = CAPABILITIES["price"]
    assert route.params(QueryParams("ids=Bitcoin, ethereum,bitcoin&vs=EUR")) == {
        "ids": ["bitcoin", "ethereum"], "vs": "eur"}
    assert route.params(QueryParams("ids=bitcoin")) == {"ids": ["bitcoin"], "vs": "usd"}
