"""The DeFi capabilities end to end: the data plane (in process, and once through a real uvicorn
process), the engine, real Redis and real sockets to the fake DEX, stablecoin and yield providers;
fallback from the first provider to the next with the same shape, 404 for a token nobody knows,
a clean 503 for the one-provider yields pool, and `manage.py fetch` for each."""

import dataclasses
import io
import json

import httpx
import pytest
from django.core.management import call_command

from healing.engine.breaker import BreakerStore
from providers import defi_records
from tests.fixtures.dataplane import clear_cache, pools_over_fake

WETH = "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2"
SOL = "So11111111111111111111111111111111111111112"
# Each DeFi pool in priority order, as the shipped catalogue orders it.
DEFI_POOLS = {"dex": ["dexscreener", "geckoterminal"], "stablecoins": ["defillama_stablecoins", "coingecko"],
              "yields": ["defillama_yields"]}
# (path, the providers that can serve it in pool order, the dataclass of its records)
CASES = {
    "dex-ethereum": (f"/api/data/dex?chain=ethereum&token={WETH}", DEFI_POOLS["dex"], defi_records.DexPair),
    "dex-solana": (f"/api/data/dex?chain=solana&token={SOL}", DEFI_POOLS["dex"], defi_records.DexPair),
    "stablecoins": ("/api/data/stablecoins?limit=10", DEFI_POOLS["stablecoins"], defi_records.Stablecoin),
    "yields": ("/api/data/yields?chain=ethereum&limit=5", DEFI_POOLS["yields"], defi_records.YieldPool),
}


@pytest.fixture
def defi_catalogue(transactional_db, fake_upstream):
    """The DeFi pools over the fake upstream, no keys, no rate limits."""
    return pools_over_fake(fake_upstream, DEFI_POOLS,
                           category=lambda slug: "market_data" if slug == "coingecko" else "defi")


def fields(cls) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def records(data):
    return data["pairs"] if isinstance(data, dict) else data


def shape(value):
    """Keys all the way down (values ignored): two answers with one shape differ only in numbers."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value and isinstance(value[0], dict | list) else "list"
    return "scalar"


# --- every capability, and fallback ------------------------------------------------------------------


@pytest.mark.parametrize("case", sorted(CASES))
async def test_every_defi_capability_answers_the_normalized_shape(defi_catalogue, fake_upstream, engine_client, case):
    path, providers, cls = CASES[case]
    response = await engine_client.get(path)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["meta"]["source"], body["meta"]["served"]) == (providers[0], "live")
    assert response.headers["x-cryptohub-source"] == providers[0]
    rows = records(body["data"])
    assert rows and all(set(row) == fields(cls) for row in rows)
    if case.startswith("dex"):
        assert set(body["data"]) == fields(defi_records.DexTokenAnswer)
    again = await engine_client.get(path)
    assert again.json()["meta"]["served"] == "cache"


@pytest.mark.parametrize("case", sorted(c for c in CASES if len(CASES[c][1]) > 1))
@pytest.mark.parametrize("fault", [{"kind": "status", "status": 503}, {"kind": "error_in_200", "variant": "rate_limit"},
                                   {"kind": "malformed"}])
async def test_fallback_from_the_first_provider_to_the_next_keeps_the_shape(defi_catalogue, fake_upstream, engine_client,
                                                                           redis_client, case, fault):
    path, (first, second), _ = CASES[case]
    baseline = await engine_client.get(path)
    assert baseline.json()["meta"]["source"] == first
    fake_upstream.fault(first, **fault)
    clear_cache(redis_client)
    response = await engine_client.get(path)
    assert response.status_code == 200, response.text
    meta = response.json()["meta"]
    assert meta["source"] == second, meta["attempts"]
    assert shape(response.json()["data"]) == shape(baseline.json()["data"])
    assert [a["provider"] for a in meta["attempts"]][-1] == second
    assert {a["provider"] for a in meta["attempts"][:-1]} == {first}


async def test_both_dex_providers_agree_on_the_token_price_and_pairs(defi_catalogue, fake_upstream, engine_client,
                                                                    redis_client):
    first = (await engine_client.get(CASES["dex-ethereum"][0])).json()["data"]
    fake_upstream.fault("dexscreener", "status", status=503)
    clear_cache(redis_client)
    second = (await engine_client.get(CASES["dex-ethereum"][0])).json()["data"]
    assert first["price_usd"] == second["price_usd"] == 2770.0
    assert first["price_pair"] == second["price_pair"] == "0x88e6a0c2ddd26feeb64f039a2c41296fcb3f5640"
    assert [p["pair_address"] for p in first["pairs"]] == [p["pair_address"] for p in second["pairs"]]


async def test_a_dex_price_lie_reaches_the_answer(defi_catalogue, fake_upstream, engine_client):
    fake_upstream.set_price("dexscreener", "ethereum", "usd", 3100.0)
    data = (await engine_client.get(CASES["dex-ethereum"][0])).json()["data"]
    assert data["price_usd"] == 3100.0


# --- not found, bad input, one-provider yields ---------------------------------------------------------


async def test_a_token_without_pairs_is_a_404_that_feeds_no_breaker(defi_catalogue, fake_upstream, engine_client,
                                                                    clock):
    unknown = "0x" + "1" * 40
    response = await engine_client.get(f"/api/data/dex?chain=ethereum&token={unknown}")
    assert response.status_code == 404, response.text
    body = response.json()
    assert (body["field"], body["values"]) == ("token", [unknown])
    assert [(a["provider"], a["outcome"]) for a in body["attempts"]] == [
        ("dexscreener", "not_found"), ("geckoterminal", "not_found")]
    import redis.asyncio
    from django.conf import settings

    r = redis.asyncio.Redis.from_url(settings.REDIS_URL)
    try:
        store = BreakerStore(r, clock)
        for slug in DEFI_POOLS["dex"]:
            assert (await store.state(slug)).consecutive_failures == 0
    finally:
        await r.aclose()


@pytest.mark.parametrize(("path", "field"), [("/api/data/dex?token=0x1234", "token"),
                                             (f"/api/data/dex?chain=solana&token={WETH}", "token"),
                                             ("/api/data/dex?chain=ethereum", "token"),
                                             (f"/api/data/dex?chain=dogechain&token={WETH}", "chain"),
                                             ("/api/data/yields?limit=501", "limit"),
                                             ("/api/data/stablecoins?limit=0", "limit")])
async def test_bad_input_is_a_400_naming_the_field_before_any_call(defi_catalogue, fake_upstream, engine_client, path,
                                                                   field):
    response = await engine_client.get(path)
    assert response.status_code == 400
    assert response.json()["field"] == field
    assert fake_upstream.calls() == 0


async def test_yields_has_one_provider_so_its_failure_is_a_clean_503_with_attempts(defi_catalogue, fake_upstream,
                                                                                  engine_client):
    fake_upstream.fault("defillama_yields", "status", status=503)
    response = await engine_client.get("/api/data/yields?project=lido")
    assert response.status_code == 503
    body = response.json()
    # A transient failure is retried once on the same provider; there is no other to move on to.
    assert {(a["provider"], a["outcome"]) for a in body["attempts"]} == {("defillama_yields", "transient")}
    assert body["suggestions"]


async def test_yields_filters_and_unknown_project_is_a_404(defi_catalogue, engine_client):
    pools = (await engine_client.get("/api/data/yields?project=aave-v3&limit=2")).json()["data"]
    assert [(p["chain"], p["symbol"]) for p in pools] == [("Ethereum", "USDC"), ("Ethereum", "WETH")]
    missing = await engine_client.get("/api/data/yields?project=no-such-project")
    assert (missing.status_code, missing.json()["field"]) == (404, "project")


async def test_stablecoins_from_coingecko_keep_supply_and_peg_but_list_no_chains(defi_catalogue, fake_upstream,
                                                                                 engine_client):
    llama = (await engine_client.get("/api/data/stablecoins?limit=3")).json()["data"]
    gecko = (await engine_client.get("/api/data/stablecoins?limit=3&provider=coingecko")).json()["data"]
    assert [c["symbol"] for c in llama] == [c["symbol"] for c in gecko] == ["USDT", "USDC", "DAI"]
    assert [c["circulating"] for c in llama] == [c["circulating"] for c in gecko]
    assert [c["peg_deviation_pct"] for c in llama] == pytest.approx([0.02, -0.01, 0.0])
    assert llama[0]["chains"] and gecko[0]["chains"] == []


# --- manage.py fetch, and one real server process --------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "source", "header"),
    [(["dex", "--chain", "ethereum", "--token", WETH], "dexscreener", f"{WETH} on ethereum: 2,770.00 USD"),
     (["stablecoins", "--limit", "3"], "defillama_stablecoins", "SYMBOL  NAME"),
     (["yields", "--project", "aave-v3", "--chain", "ethereum"], "defillama_yields", "CHAIN     PROJECT")],
)
def test_fetch_command_serves_each_defi_capability(defi_catalogue, args, source, header):
    out = io.StringIO()
    call_command("fetch", *args, stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith(header)
    assert f"source {source}, served live" in lines[-1]
    out = io.StringIO()
    call_command("fetch", *args, "--json", stdout=out)
    assert json.loads(out.getvalue())["meta"]["source"] == source


@pytest.mark.slow
def test_defi_capabilities_through_a_real_uvicorn_process(defi_catalogue, fake_upstream, live_servers):
    server = live_servers()
    with httpx.Client(base_url=server.url, timeout=20, trust_env=False) as http:
        fake_upstream.fault("dexscreener", "status", status=502)
        dex = http.get(f"/api/data/dex?chain=eth&token={WETH}")
        assert dex.status_code == 200, server.output()
        assert (dex.headers["x-cryptohub-source"], dex.json()["data"]["price_usd"]) == ("geckoterminal", 2770.0)
        assert http.get("/api/data/stablecoins").json()["data"][0]["symbol"] == "USDT"
        assert http.get("/api/data/yields?limit=1").json()["data"][0]["project"] == "lido"
        assert {"dex", "stablecoins", "yields"} <= set(http.get("/api/data/").json()["capabilities"])
