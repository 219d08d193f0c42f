"""The registry end to end over the fake upstream: a coin outside the old hand-written 32 (Zcash)
answers by id, symbol or contract with fallback over several providers; the assets endpoints
answer from the registry; an operator's registry edit reaches the data plane."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async

from tests.fixtures.dataplane import clear_cache

pytestmark = pytest.mark.django_db(transaction=True)


async def test_zcash_by_symbol_falls_back_over_three_providers(catalogue, fake_upstream, engine_client, redis_client):
    sources = []
    for broken in (None, "coingecko", "coinpaprika"):
        if broken:
            fake_upstream.fault(broken, "status", status=503)
        clear_cache(redis_client)
        response = await engine_client.get("/api/data/price?ids=ZEC&vs=usd")
        assert response.status_code == 200, response.text
        body = response.json()
        assert [q["id"] for q in body["data"]] == ["zcash"] and body["data"][0]["price"] > 0
        sources.append(body["meta"]["source"])
    assert len(set(sources)) == 3 and sources[0] == "coingecko", sources


async def test_a_contract_address_and_a_mixed_request_answer_one_row_per_coin(catalogue, fake_upstream, engine_client):
    usdt = "eth:0xdAC17F958D2ee523a2206206994597C13D831ec7"
    response = await engine_client.get(f"/api/data/price?ids=bitcoin,{usdt},BTC&vs=usd")
    assert response.status_code == 200, response.text
    assert [q["id"] for q in response.json()["data"]] == ["bitcoin", "tether"]


async def test_an_unknown_contract_is_404_and_calls_no_provider(catalogue, fake_upstream, engine_client):
    before = fake_upstream.calls()
    response = await engine_client.get("/api/data/price?ids=eth:0x0000000000000000000000000000000000000bad")
    assert response.status_code == 404 and response.json()["field"] == "ids"
    assert fake_upstream.calls() == before


async def test_asset_search_and_detail(catalogue, fake_upstream, engine_client):
    found = (await engine_client.get("/api/data/assets?q=zec&limit=5")).json()
    assert found["data"][0]["id"] == "zcash" and found["count"] >= 1
    detail = (await engine_client.get("/api/data/assets/ZEC")).json()["data"]
    assert detail["providers"]["coinpaprika"] == "zec-zcash" and detail["providers"]["kraken"] == "ZEC"
    assert {"coingecko", "coinpaprika", "coincap", "binance", "kraken"} <= set(detail["capabilities"]["price"])
    # Binance's mirror lists what Binance lists; Binance.US keeps its own list, without Zcash.
    assert "binance_vision" in detail["capabilities"]["price"]
    assert "binance_us" not in detail["capabilities"]["price"]
    missing = await engine_client.get("/api/data/assets/bitcoun")
    assert missing.status_code == 404 and missing.json()["close_matches"] == {"bitcoun": ["bitcoin"]}
    bad = await engine_client.get("/api/data/assets?limit=0")
    assert bad.status_code == 400 and bad.json()["field"] == "limit"
    unknown = await engine_client.get("/api/data/assets?symbol=btc")
    assert unknown.status_code == 400 and unknown.json()["field"] == "symbol"


async def test_an_operators_registry_edit_reaches_the_data_plane(catalogue, fake_upstream, engine_client):
    from providers import asset_store
    from providers.asset_models import ProviderAsset

    await sync_to_async(asset_store.load_snapshot_file)()
    assert await _kraken_lists_zcash(engine_client, True)

    def delist() -> None:  # as the admin does: a save (the signal bumps the config version)
        row = ProviderAsset.objects.get(provider_id="kraken", key="ZEC")
        row.delisted = True
        row.save()

    await sync_to_async(delist)()
    assert await _kraken_lists_zcash(engine_client, False)


async def _kraken_lists_zcash(engine_client, expected: bool) -> bool:
    """Whether the detail shows Kraken for Zcash as `expected`, within a bounded wait."""
    for _ in range(100):
        detail = (await engine_client.get("/api/data/assets/zcash")).json()["data"]
        listed = "kraken" in detail["providers"] and "kraken" in detail["capabilities"]["price"]
        if listed == expected:
            return True
        await asyncio.sleep(0.05)
    return False
