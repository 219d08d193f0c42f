"""The later adapters end to end: the data plane in process, the engine, real Redis and real
sockets to the fake upstream. News falls through the earlier feeds to the later ones; Binance
answering 451 hands candles, books and tickers to its public data mirror unchanged; Binance.US
answers real USD pairs; DIA answers a price when every provider before it fails."""

import json

import pytest

from tests.fixtures.clock import T0
from tests.fixtures.dataplane import POOLS, clear_cache, pools_over_fake

EARLIER_NEWS = ["coindesk", "cointelegraph", "bitcoinist", "decrypt", "cryptopanic"]
LATER_NEWS = {"theblock": "The Block", "blockworks": "Blockworks", "bitcoinmagazine": "Bitcoin Magazine",
              "cryptoslate": "CryptoSlate", "newsbtc": "NewsBTC", "utoday": "U.Today", "beincrypto": "BeInCrypto",
              "cryptopotato": "CryptoPotato"}
DEPTH = {"candles": "/api/data/candles?id=bitcoin&vs=usd&interval=1h&limit=5",
         "orderbook": "/api/data/orderbook?id=bitcoin&vs=usd&depth=5",
         "ticker": "/api/data/ticker?id=bitcoin&vs=usdt"}


@pytest.fixture
def exchanges(transactional_db, fake_upstream):
    """Candles, books and tickers: Binance, its mirror, OKX, Binance.US; a price pool of the same."""
    members = ["binance", "binance_vision", "okx", "binance_us"]
    providers = pools_over_fake(fake_upstream, {**{capability: members for capability in DEPTH}, "price": members},
                                category=lambda slug: "exchange")
    fake_upstream.set_clock(T0 - 60)  # the fake's candle and ticker times just behind the engine's
    return providers


# --- news -----------------------------------------------------------------------------------------


async def test_with_the_earlier_feeds_broken_the_block_answers_then_blockworks(catalogue, fake_upstream,
                                                                               engine_client, redis_client):
    for slug in EARLIER_NEWS:
        fake_upstream.fault(slug, "status", status=503)
    response = await engine_client.get("/api/data/news?limit=10")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["meta"]["source"] == "theblock"
    # Each broken feed is tried (a 503 once more), in pool order, before The Block.
    assert list(dict.fromkeys(a["provider"] for a in body["meta"]["attempts"])) == [*EARLIER_NEWS, "theblock"]
    items = body["data"]
    assert [i["title"] for i in items] == ["Spot Bitcoin ETFs Log Eighth Day of Inflows",
                                           "Ethereum Foundation Sells 1,000 ETH"]
    # The image caption ahead of each description never becomes the summary; utm_* links come clean.
    assert [i["summary"] for i in items] == ["BlackRock's IBIT led $386 million of inflows.",
                                             "The sale funds research grants."]
    assert all("utm_" not in i["url"] and i["source"] == "The Block" for i in items)

    fake_upstream.fault("theblock", "error_in_200")  # a bot wall page with HTTP 200
    clear_cache(redis_client)
    body = (await engine_client.get("/api/data/news?limit=10")).json()
    assert body["meta"]["source"] == "blockworks"
    assert body["meta"]["attempts"][-2] == {"provider": "theblock", "outcome": "bad_data",
                                            "ms": body["meta"]["attempts"][-2]["ms"],
                                            "detail": body["meta"]["attempts"][-2]["detail"]}
    assert [i["source"] for i in body["data"]] == ["Blockworks", "Blockworks"]


@pytest.mark.parametrize("slug", sorted(LATER_NEWS))
async def test_each_later_feed_answers_clean_items_through_the_data_plane(catalogue, engine_client, slug):
    response = await engine_client.get(f"/api/data/news?provider={slug}&limit=10")
    assert response.status_code == 200, response.text
    items = response.json()["data"]
    assert items and {i["source"] for i in items} == {LATER_NEWS[slug]}
    assert all(i["url"].startswith("https://") and "utm_" not in i["url"] for i in items)
    assert all(i["published_at"].endswith("Z") for i in items)
    assert not [i for i in items if "appeared first on" in (i["summary"] or "") or "<" in (i["summary"] or "")]
    assert items == sorted(items, key=lambda i: i["published_at"], reverse=True)


# --- Binance's mirror and Binance.US ------------------------------------------------------------------


@pytest.mark.parametrize("capability", sorted(DEPTH))
async def test_binance_answering_451_hands_the_same_answer_to_its_mirror(exchanges, fake_upstream, engine_client,
                                                                         redis_client, capability):
    first = (await engine_client.get(DEPTH[capability])).json()
    assert first["meta"]["source"] == "binance"
    fake_upstream.fault("binance", "status", status=451, body="json")  # a restricted region
    clear_cache(redis_client)
    response = await engine_client.get(DEPTH[capability])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["meta"]["source"] == "binance_vision"
    assert [(a["provider"], a["outcome"]) for a in body["meta"]["attempts"]] == [
        ("binance", "permanent"), ("binance_vision", "ok")]
    assert body["data"] == first["data"]
    assert fake_upstream.calls("okx") == 0
    # The mirror was asked on Binance's own path with Binance's own pair name.
    [asked] = fake_upstream.requests("binance_vision")
    assert asked["path"].startswith("/binance_vision/api/v3/") and "BTCUSDT" in asked["query"]


async def test_binance_us_answers_the_real_usd_pair(exchanges, fake_upstream, engine_client):
    for slug in ("binance", "binance_vision", "okx"):
        fake_upstream.fault(slug, "status", status=503)
    response = await engine_client.get("/api/data/ticker?id=bitcoin&vs=usd")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["meta"]["source"], body["data"]["pair"], body["data"]["vs"]) == ("binance_us", "BTCUSD", "usd")
    assert body["data"]["last"] == pytest.approx(109600.0)
    prices = (await engine_client.get("/api/data/price?ids=bitcoin,ethereum&vs=usd")).json()
    assert prices["meta"]["source"] == "binance_us"
    assert [(q["id"], q["price"]) for q in prices["data"]] == [("bitcoin", 109600.0), ("ethereum", 2770.0)]
    asked = [r for r in fake_upstream.requests("binance_us") if r["path"].endswith("/ticker/24hr")]
    assert json.dumps(["BTCUSD", "ETHUSD"], separators=(",", ":")) in [
        value for r in asked for key, _, value in [p.partition("=") for p in _unquoted(r["query"]).split("&")]
        if key == "symbols"]


async def test_a_coin_binance_us_does_not_list_is_passed_over_without_a_call(exchanges, fake_upstream,
                                                                            engine_client):
    for slug in ("binance", "binance_vision", "okx"):
        fake_upstream.fault(slug, "status", status=503)
    response = await engine_client.get("/api/data/ticker?id=tron&vs=usd")
    # The others failed: a 503, in which Binance.US says it does not list the coin, unasked.
    assert response.status_code == 503, response.text
    outcomes = {a["provider"]: a["outcome"] for a in response.json()["attempts"]}
    assert outcomes == {"binance": "transient", "binance_vision": "transient", "okx": "transient",
                        "binance_us": "not_found"}
    assert fake_upstream.calls("binance_us") == 0
    # Asked alone, that is the caller's 404 naming the coin.
    alone = await engine_client.get("/api/data/ticker?id=tron&vs=usd&provider=binance_us")
    assert (alone.status_code, alone.json()["field"], alone.json()["values"]) == (404, "id", ["tron"])
    assert fake_upstream.calls("binance_us") == 0


def _unquoted(query: str) -> str:
    from urllib.parse import unquote

    return unquote(query)


# --- DIA --------------------------------------------------------------------------------------------


def _break_all_but_dia(fake_upstream) -> list[str]:
    before = [slug for slug in POOLS["price"] if slug != "dia"]
    for slug in before:
        fake_upstream.fault(slug, "status", status=503)
    return before


async def test_dia_answers_a_price_when_every_provider_before_it_fails(catalogue, fake_upstream, engine_client):
    before = _break_all_but_dia(fake_upstream)
    response = await engine_client.get("/api/data/price?ids=bitcoin&vs=usd")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["meta"]["source"] == "dia"
    assert list(dict.fromkeys(a["provider"] for a in body["meta"]["attempts"])) == [*before, "dia"]
    [quote] = body["data"]
    assert (quote["id"], quote["symbol"], quote["vs"], quote["price"]) == ("bitcoin", "BTC", "usd", 109600.0)
    assert quote["last_updated"].endswith("Z") and quote["change_24h_pct"] == pytest.approx(1.54)
    [asked] = fake_upstream.requests("dia")
    assert asked["path"] == "/dia/assetQuotation/Bitcoin/0x0000000000000000000000000000000000000000"


async def test_dia_asks_by_symbol_for_a_coin_it_has_no_asset_key_for(catalogue, fake_upstream, engine_client):
    _break_all_but_dia(fake_upstream)
    body = (await engine_client.get("/api/data/price?ids=cardano&vs=usd")).json()
    assert (body["meta"]["source"], body["data"][0]["price"]) == ("dia", 0.7012)
    assert [r["path"] for r in fake_upstream.requests("dia")] == ["/dia/quotation/ADA"]


@pytest.mark.parametrize("query", ["ids=bitcoin,ethereum&vs=usd", "ids=bitcoin&vs=eur"])
async def test_dia_is_not_asked_what_it_does_not_serve(catalogue, fake_upstream, engine_client, query):
    _break_all_but_dia(fake_upstream)
    response = await engine_client.get(f"/api/data/price?{query}")
    assert response.status_code == 503, response.text
    outcomes = {a["provider"]: a["outcome"] for a in response.json()["attempts"]}
    assert outcomes["dia"] == "permanent"
    assert fake_upstream.calls("dia") == 0
