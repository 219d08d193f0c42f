"""Every endpoint the adapters call, fetched from the fake upstream over real HTTP and fed to the real
adapter's decode + parse: the fake and the adapters agree, and the fake's faults and lies reach
every capability."""

import httpx
import pytest

from providers.adapters.base import AdapterError, BadData, Outcome
from providers.registry import ADAPTERS, get_adapter
from tests.fake_upstream.chain_explorers import RPC_NODES
from tests.fake_upstream.server import PROVIDERS

SNAPSHOT_EPOCH = 1749556800  # 2025-06-10T12:00:00Z
THREE = {"ids": ["bitcoin", "ethereum", "solana"], "vs": "usd"}
ONE = {"ids": ["bitcoin"], "vs": "usd"}
TOP5 = ["bitcoin", "ethereum", "tether", "ripple", "binancecoin"]


def fetch(fake, slug: str, capability: str, params: dict) -> httpx.Response:
    """One call the way the engine makes it: the adapter's request joined to the provider's base URL."""
    spec = get_adapter(slug).build_request(capability, params)
    return httpx.request(spec.method, fake.base_url(slug) + spec.path, params=dict(spec.params),
                         headers=dict(spec.headers), json=spec.json_body, timeout=5)


def answer(fake, slug: str, capability: str, params: dict):
    response = fetch(fake, slug, capability, params)
    assert response.status_code == 200, response.text[:300]
    adapter = get_adapter(slug)
    return adapter.parse(capability, params, adapter.decode(response.content, response.headers["content-type"]))


def test_every_registered_adapter_has_an_answer_in_the_fake():
    # The JSON-RPC nodes need no handler: every POST with a body gets a JSON-RPC answer, whatever the slug.
    assert set(ADAPTERS) - set(PROVIDERS) == set(RPC_NODES)


# --- price --------------------------------------------------------------------------------------


@pytest.mark.parametrize("slug", ["kucoin", "bitfinex", "okx", "coinlore"])
@pytest.mark.parametrize("params", [ONE, THREE])
def test_price_from_the_other_exchanges_and_coinlore(fake_upstream, slug, params):
    quotes = answer(fake_upstream, slug, "price", params)
    assert [q["id"] for q in quotes] == params["ids"]
    assert [q["price"] for q in quotes] == pytest.approx([109600.0, 2770.0, 163.8][: len(params["ids"])], rel=1e-9)


@pytest.mark.parametrize("slug", ["kucoin", "bitfinex", "okx"])
def test_exchanges_quote_the_majors_in_eur_too(fake_upstream, slug):
    (quote,) = answer(fake_upstream, slug, "price", {"ids": ["ethereum"], "vs": "eur"})
    assert quote["price"] == pytest.approx(2770.0 * 0.8771, rel=1e-9)


def test_kucoin_and_okx_changes_and_volumes_come_through_as_numbers(fake_upstream):
    kucoin = answer(fake_upstream, "kucoin", "price", THREE)
    okx = answer(fake_upstream, "okx", "price", THREE)
    assert [q["change_24h_pct"] for q in kucoin] == [1.54, 3.12, -0.77]
    assert [q["change_24h_pct"] for q in okx] == pytest.approx([1.54, 3.12, -0.77], abs=1e-3)
    assert all(q["volume_24h"] > 0 for q in kucoin + okx)


@pytest.mark.parametrize(
    ("slug", "params", "outcome", "match"),
    [
        ("kucoin", {"ids": ["tether"], "vs": "usd"}, Outcome.BAD_DATA, "no data"),  # USDT-USDT: data null
        ("okx", {"ids": ["tether"], "vs": "usd"}, Outcome.NOT_FOUND, "51001"),
        ("bitfinex", {"ids": ["bitcoin"], "vs": "chf"}, Outcome.BAD_DATA, "missing"),  # left out of the rows
    ],
)
def test_unlisted_pairs_fail_the_way_each_exchange_fails(fake_upstream, slug, params, outcome, match):
    with pytest.raises(AdapterError, match=match) as raised:
        answer(fake_upstream, slug, "price", params)
    assert raised.value.outcome == outcome


def test_coinlore_single_ticker_path_answers_its_own_ids(fake_upstream):
    rows = httpx.get(fake_upstream.base_url("coinlore") + "/api/ticker/", params={"id": "90,80"}).json()
    assert [(row["symbol"], row["price_usd"]) for row in rows] == [("BTC", "109600.0"), ("ETH", "2770.0")]


# --- markets, global, trending ----------------------------------------------------------------


@pytest.mark.parametrize("slug", ["coingecko", "coinpaprika", "coincap", "coinlore"])
def test_markets_list_the_same_top_coins_in_rank_order(fake_upstream, slug):
    rows = answer(fake_upstream, slug, "markets", {"vs": "usd", "limit": 5})
    assert [(r["id"], r["rank"]) for r in rows] == [(coin_id, rank) for rank, coin_id in enumerate(TOP5, 1)]
    assert [r["price"] for r in rows[:2]] == pytest.approx([109600.0, 2770.0], rel=1e-9)
    assert rows[0]["market_cap"] == pytest.approx(109600.0 * 19_877_312, rel=1e-9)


def test_coingecko_markets_in_eur(fake_upstream):
    rows = answer(fake_upstream, "coingecko", "markets", {"vs": "eur", "limit": 2})
    assert [r["price"] for r in rows] == pytest.approx([109600.0 * 0.8771, 2770.0 * 0.8771], rel=1e-9)


def test_global_totals_and_dominance_agree_across_providers(fake_upstream):
    stats = {slug: answer(fake_upstream, slug, "global", {}) for slug in ("coingecko", "coinpaprika", "coinlore")}
    caps = [s["total_market_cap"] for s in stats.values()]
    assert caps == pytest.approx([caps[0]] * 3, rel=1e-9)
    assert 3.3e12 < caps[0] < 3.6e12
    assert [s["btc_dominance_pct"] for s in stats.values()] == pytest.approx([63.6] * 3, abs=0.5)
    assert stats["coingecko"]["eth_dominance_pct"] == pytest.approx(stats["coinlore"]["eth_dominance_pct"], abs=0.01)
    assert {s["active_coins"] for s in stats.values()} == {17523, 11042, 12873}


def test_coingecko_trending_and_coinpaprika_top_gainers(fake_upstream):
    gecko = answer(fake_upstream, "coingecko", "trending", {})
    assert (len(gecko), gecko[0]["id"], gecko[0]["price_usd"]) == (15, "pepe", 0.00001297)
    paprika = answer(fake_upstream, "coinpaprika", "trending", {"limit": 3})
    assert [(c["id"], c["position"]) for c in paprika] == [("aave", 1), ("uniswap", 2), ("pepe", 3)]


# --- fear & greed, TVL, gas, news --------------------------------------------------------------


@pytest.mark.parametrize("slug", ["alternative_me", "coinmarketcap"])
def test_fear_greed_readings_are_daily_and_newest_first(fake_upstream, slug):
    fake_upstream.set_clock(SNAPSHOT_EPOCH)
    readings = answer(fake_upstream, slug, "fear_greed", {"limit": 3})
    assert [r["timestamp"][:10] for r in readings] == ["2025-06-10", "2025-06-09", "2025-06-08"]
    assert all(0 <= r["value"] <= 100 for r in readings)
    (latest,) = answer(fake_upstream, slug, "fear_greed", {"limit": 1})
    assert latest["value"] == readings[0]["value"]


def test_tvl_of_a_protocol_a_chain_and_yearn_from_both_sources(fake_upstream):
    (aave,) = answer(fake_upstream, "defillama", "tvl", {"protocol": "aave-v3"})["protocols"]
    assert (aave["tvl"], aave["chains"]) == (25400000000.5, ["Ethereum", "Arbitrum", "Base"])
    chains = answer(fake_upstream, "defillama", "tvl", {"chain": "Ethereum"})["chains"]
    assert [(c["name"], c["chain_id"]) for c in chains] == [("Ethereum", 1)]
    params = {"protocol": "yearn-finance", "chain": "Ethereum"}
    (llama,) = answer(fake_upstream, "defillama", "tvl", params)["protocols"]
    (ydaemon,) = answer(fake_upstream, "yearn_ydaemon", "tvl", params)["protocols"]
    assert llama["tvl"] == ydaemon["tvl"] == round(45_210 * 2770.0 + 98_765_432.1, 2)


@pytest.mark.parametrize(
    ("slug", "chain", "unit", "standard"),
    [("etherscan", "ethereum", "gwei", 0.52), ("publicnode_eth", "ethereum", "gwei", 0.52),
     ("blockchair", "ethereum", "gwei", 0.52), ("mempool_space", "bitcoin", "sat/vB", 4.0),
     ("blockchair", "bitcoin", "sat/vB", 4.0)],
)
def test_gas_from_every_source(fake_upstream, slug, chain, unit, standard):
    estimate = answer(fake_upstream, slug, "gas", {"chain": chain})
    assert (estimate["chain"], estimate["unit"], estimate["standard"]) == (chain, unit, standard)


def test_fixed_clock_dates_blockchair_and_news(fake_upstream):
    fake_upstream.set_clock(SNAPSHOT_EPOCH)
    assert answer(fake_upstream, "blockchair", "gas", {"chain": "bitcoin"})["source_time"] == "2025-06-10T11:56:40Z"
    items = answer(fake_upstream, "coindesk", "news", {})
    assert items[0]["published_at"] == "2025-06-10T11:42:00Z"


@pytest.mark.parametrize(("slug", "source", "count"), [
    ("coindesk", "CoinDesk", 3), ("cointelegraph", "Cointelegraph", 3), ("bitcoinist", "Bitcoinist", 3),
    ("decrypt", "Decrypt", 2), ("cryptopanic", "CoinDesk", 5), ("theblock", "The Block", 2),
    ("blockworks", "Blockworks", 2), ("bitcoinmagazine", "Bitcoin Magazine", 2), ("cryptoslate", "CryptoSlate", 1),
    ("newsbtc", "NewsBTC", 2), ("utoday", "U.Today", 2), ("beincrypto", "BeInCrypto", 2),
    ("cryptopotato", "CryptoPotato", 2)])
def test_news_from_every_source(fake_upstream, slug, source, count):
    items = answer(fake_upstream, slug, "news", {"limit": 10})
    assert len(items) == count
    assert source in {item["source"] for item in items}
    assert all(item["title"] and item["url"].startswith("https://") for item in items)


@pytest.mark.parametrize("path", ["", "/", "/arc/outboundfeeds/rss/"])
def test_a_feed_answers_on_its_slug_with_or_without_a_path(fake_upstream, path):
    response = httpx.get(fake_upstream.base_url("coindesk") + path)
    assert (response.status_code, response.headers["content-type"]) == (200, "application/rss+xml")


def test_cointelegraph_is_latin_1_declared_in_the_prolog_only(fake_upstream):
    response = httpx.get(fake_upstream.base_url("cointelegraph"))
    assert response.content.startswith(b'<?xml version="1.0" encoding="ISO-8859-1"?>')
    assert "charset" not in response.headers["content-type"]
    assert "Soci\xe9t\xe9".encode("iso-8859-1") in response.content
    items = answer(fake_upstream, "cointelegraph", "news", {"q": "stablecoin"})
    assert items[0]["title"] == "Société Générale's Euro Stablecoin Wins Approval, a Great Step for Adoption"
    assert items[0]["summary"] == "The bank's EURCV token gains momentum in Málaga and beyond, priced at £0.86."
    assert "utm_" not in items[0]["url"]


def test_decrypt_is_atom_and_bitcoinist_has_missing_fields(fake_upstream):
    atom = get_adapter("decrypt").decode(httpx.get(fake_upstream.base_url("decrypt")).content, "application/atom+xml")
    assert atom["version"].startswith("atom")
    items = answer(fake_upstream, "bitcoinist", "news", {})
    undated = [item for item in items if item["published_at"] is None]
    assert [item["title"] for item in undated] == ["Analysts Warn of Painful Bitcoin Correction Ahead"]
    assert "https://bitcoinist.com/?p=480003" in {item["url"] for item in items}
    assert all("appeared first on" not in (item["summary"] or "") for item in items)


def test_cryptopanic_echoes_the_token_in_next_but_the_adapter_never_passes_it_on(fake_upstream):
    spec = get_adapter("cryptopanic").build_request("news", {})
    params = {**spec.params, "auth_token": "SECRET-TOKEN"}
    response = httpx.get(fake_upstream.base_url("cryptopanic") + spec.path, params=params)
    assert "SECRET-TOKEN" in response.json()["next"]
    assert "SECRET-TOKEN" not in str(get_adapter("cryptopanic").parse("news", {}, response.json()))
    gone = httpx.get(fake_upstream.base_url("cryptopanic") + "/developer/v2/posts/")
    assert (gone.status_code, gone.headers["content-type"]) == (404, "text/html")


# --- lies -------------------------------------------------------------------------------------


def test_a_price_lie_moves_every_price_like_answer_of_that_provider_only(fake_upstream):
    fake_upstream.set_price("coinlore", "bitcoin", "usd", 150000.0)
    assert answer(fake_upstream, "coinlore", "price", ONE)[0]["price"] == 150000.0
    assert answer(fake_upstream, "coinlore", "markets", {"vs": "usd", "limit": 1})[0]["price"] == 150000.0
    lying = answer(fake_upstream, "coinlore", "global", {})
    honest = answer(fake_upstream, "coingecko", "global", {})
    assert lying["total_market_cap"] - honest["total_market_cap"] == pytest.approx(40400.0 * 19_877_312, rel=1e-6)
    assert lying["btc_dominance_pct"] > honest["btc_dominance_pct"]
    assert answer(fake_upstream, "kucoin", "price", ONE)[0]["price"] == 109600.0


@pytest.mark.parametrize("slug", ["kucoin", "bitfinex", "okx", "coingecko", "coinpaprika"])
def test_a_price_lie_reaches_the_new_capabilities_and_exchanges(fake_upstream, slug):
    fake_upstream.set_price(slug, "ethereum", "usd", 3500.0)
    capability, params = ("price", THREE) if slug in ("kucoin", "bitfinex", "okx") else ("markets", {"vs": "usd"})
    by_id = {row["id"]: row["price"] for row in answer(fake_upstream, slug, capability, params)}
    assert (by_id["ethereum"], by_id["bitcoin"]) == (3500.0, 109600.0)


def test_a_gas_lie_scales_one_providers_ladder(fake_upstream):
    fake_upstream.set_gas("etherscan", "ethereum", 5.2)
    lying = answer(fake_upstream, "etherscan", "gas", {"chain": "ethereum"})
    assert (lying["slow"], lying["standard"], lying["fast"]) == (4.9, 5.2, 6.1)
    assert answer(fake_upstream, "publicnode_eth", "gas", {"chain": "ethereum"})["standard"] == 0.52
    fake_upstream.set_gas(None, "bitcoin", 40)
    assert answer(fake_upstream, "mempool_space", "gas", {"chain": "bitcoin"})["standard"] == 40.0
    fake_upstream.reset()
    assert answer(fake_upstream, "etherscan", "gas", {"chain": "ethereum"})["standard"] == 0.52


def test_bad_gas_control_requests_are_refused(fake_upstream):
    response = httpx.post(f"{fake_upstream.url}/_control/gas", json={"chain": "solana", "standard": 1})
    assert (response.status_code, "chain" in response.json()["error"]) == (400, True)


# --- faults -------------------------------------------------------------------------------------

NEW = {
    "kucoin": ("price", ONE), "bitfinex": ("price", ONE), "okx": ("price", ONE), "coinlore": ("price", ONE),
    "alternative_me": ("fear_greed", {"limit": 1}), "coinmarketcap": ("fear_greed", {"limit": 1}),
    "defillama": ("tvl", {"protocol": "aave-v3"}), "yearn_ydaemon": ("tvl", {"protocol": "yearn", "chain": "ethereum"}),
    "etherscan": ("gas", {"chain": "ethereum"}), "mempool_space": ("gas", {"chain": "bitcoin"}),
    "blockchair": ("gas", {"chain": "bitcoin"}), "publicnode_eth": ("gas", {"chain": "ethereum"}),
    "coindesk": ("news", {}), "cointelegraph": ("news", {}), "bitcoinist": ("news", {}), "decrypt": ("news", {}),
    "cryptopanic": ("news", {}),
    **{slug: ("news", {}) for slug in ("theblock", "blockworks", "bitcoinmagazine", "cryptoslate", "newsbtc",
                                       "utoday", "beincrypto", "cryptopotato")},
    "binance_vision": ("ticker", {"id": "bitcoin", "vs": "usd"}), "binance_us": ("price", ONE), "dia": ("price", ONE),
    "coingecko": ("trending", {}), "coinpaprika": ("global", {}), "coincap": ("markets", {"vs": "usd"}),
}


@pytest.mark.parametrize(
    ("slug", "variant", "outcome"),
    [
        ("kucoin", None, Outcome.BAD_DATA), ("kucoin", "rate_limit", Outcome.RATE_LIMITED),
        ("bitfinex", None, Outcome.TRANSIENT), ("bitfinex", "rate_limit", Outcome.RATE_LIMITED),
        ("okx", None, Outcome.TRANSIENT), ("okx", "rate_limit", Outcome.RATE_LIMITED),
        ("coinlore", None, Outcome.BAD_DATA),
        ("alternative_me", None, Outcome.BAD_DATA),
        ("coinmarketcap", None, Outcome.BAD_DATA), ("coinmarketcap", "rate_limit", Outcome.RATE_LIMITED),
        ("defillama", None, Outcome.BAD_DATA), ("yearn_ydaemon", None, Outcome.BAD_DATA),
        ("etherscan", None, Outcome.BAD_DATA), ("etherscan", "rate_limit", Outcome.RATE_LIMITED),
        ("mempool_space", None, Outcome.BAD_DATA),
        ("blockchair", None, Outcome.TRANSIENT), ("blockchair", "rate_limit", Outcome.RATE_LIMITED),
        ("publicnode_eth", None, Outcome.TRANSIENT), ("publicnode_eth", "rate_limit", Outcome.RATE_LIMITED),
        ("cryptopanic", None, Outcome.BAD_DATA), ("cryptopanic", "rate_limit", Outcome.RATE_LIMITED),
        ("coindesk", None, Outcome.BAD_DATA), ("decrypt", None, Outcome.BAD_DATA),
        ("coingecko", None, Outcome.RATE_LIMITED), ("coinpaprika", None, Outcome.BAD_DATA),
        ("coincap", None, Outcome.BAD_DATA),
        ("theblock", None, Outcome.BAD_DATA), ("utoday", None, Outcome.BAD_DATA),
        ("binance_vision", None, Outcome.BAD_DATA), ("binance_vision", "rate_limit", Outcome.RATE_LIMITED),
        ("binance_us", None, Outcome.BAD_DATA), ("dia", None, Outcome.BAD_DATA),
        ("dia", "rate_limit", Outcome.RATE_LIMITED),
    ],
)
def test_error_in_200_is_an_error_for_every_capability(fake_upstream, slug, variant, outcome):
    fake_upstream.fault(slug, "error_in_200", **({"variant": variant} if variant else {}))
    capability, params = NEW[slug]
    with pytest.raises(AdapterError) as raised:
        answer(fake_upstream, slug, capability, params)
    assert raised.value.outcome == outcome


@pytest.mark.parametrize("slug", sorted(NEW))
def test_rate_limit_is_a_429_the_adapter_classifies_as_rate_limited(fake_upstream, slug):
    fake_upstream.fault(slug, "rate_limit", retry_after="7")
    capability, params = NEW[slug]
    response = fetch(fake_upstream, slug, capability, params)
    assert (response.status_code, response.headers["retry-after"]) == (429, "7")
    body = response.json() if response.headers["content-type"] == "application/json" else None
    assert get_adapter(slug).classify_http_error(429, body) == Outcome.RATE_LIMITED


@pytest.mark.parametrize("slug", ["okx", "defillama", "blockchair", "cryptopanic", "alternative_me"])
def test_malformed_json_is_bad_data_at_decode(fake_upstream, slug):
    fake_upstream.fault(slug, "malformed")
    capability, params = NEW[slug]
    response = fetch(fake_upstream, slug, capability, params)
    with pytest.raises(BadData):
        get_adapter(slug).decode(response.content, response.headers["content-type"])


def test_a_malformed_feed_is_cut_short_and_keeps_its_xml_type(fake_upstream):
    fake_upstream.fault("coindesk", "malformed")
    response = httpx.get(fake_upstream.base_url("coindesk"))
    assert response.headers["content-type"] == "application/rss+xml"
    assert response.content.startswith(b"<?xml") and not response.content.rstrip().endswith(b"</rss>")


def test_status_fault_reaches_post_json_rpc_too(fake_upstream):
    fake_upstream.fault("publicnode_eth", "status", status=502)
    assert fetch(fake_upstream, "publicnode_eth", "gas", {"chain": "ethereum"}).status_code == 502
    assert get_adapter("publicnode_eth").classify_http_error(502, None) == Outcome.TRANSIENT


@pytest.mark.parametrize(
    ("slug", "path"),
    [("etherscan", "/v2/api?chainid=1&module=proxy&action=eth_blockNumber"), ("blockchair", "/stats"),
     ("coinmarketcap", "/v1/key/info"), ("kucoin", "/api/v1/timestamp"), ("defillama", "/tvl/uniswap"),
     ("yearn_ydaemon", "/1/vaults/all?limit=1"), ("cryptopanic", "/growth/v2/posts/?public=true")],
)
def test_catalogue_health_paths_answer_200(fake_upstream, slug, path):
    assert httpx.get(fake_upstream.base_url(slug) + path).status_code == 200
