"""DeFi adapters (dex, stablecoins, yields): golden payloads in each provider's real shape -> exact
normalized values, and each provider's own rate limits, errors inside HTTP 200, malformed and
implausible answers and "not found"."""

import copy

import pytest

from providers.adapters.base import AdapterError, BadData, NotFound, Outcome, PermanentError, RequestSpec
from tests.providers.golden import adapter, load

WETH = "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2"
USDC = "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"
DEX = {"chain": "ethereum", "token": WETH}
ALL_YIELDS = {"chain": None, "project": None, "limit": 50}


def outcome_of(slug, capability, params, payload) -> Outcome:
    with pytest.raises(AdapterError) as raised:
        adapter(slug).parse(capability, params, payload)
    return raised.value.outcome


# --- requests ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("chain", "token", "dexscreener", "geckoterminal"),
    [("ethereum", WETH, f"/tokens/v1/ethereum/{WETH}", f"/networks/eth/tokens/{WETH}/pools"),
     ("polygon", WETH, f"/tokens/v1/polygon/{WETH}", f"/networks/polygon_pos/tokens/{WETH}/pools"),
     ("avalanche", WETH, f"/tokens/v1/avalanche/{WETH}", f"/networks/avax/tokens/{WETH}/pools"),
     ("solana", "So11111111111111111111111111111111111111112",
      "/tokens/v1/solana/So11111111111111111111111111111111111111112",
      "/networks/solana/tokens/So11111111111111111111111111111111111111112/pools")],
)
def test_dex_requests_use_each_providers_own_network_id(chain, token, dexscreener, geckoterminal):
    params = {"chain": chain, "token": token}
    assert adapter("dexscreener").build_request("dex", params) == RequestSpec(dexscreener)
    assert adapter("geckoterminal").build_request("dex", params) == RequestSpec(
        geckoterminal, {"include": "base_token,quote_token,dex", "page": 1})


def test_a_chain_no_dex_provider_knows_is_permanent():
    for slug in ("dexscreener", "geckoterminal"):
        with pytest.raises(PermanentError):
            adapter(slug).build_request("dex", {"chain": "bitcoin", "token": WETH})


def test_stablecoin_and_yield_requests():
    assert adapter("defillama_stablecoins").build_request("stablecoins", {"limit": 20}) == RequestSpec(
        "/stablecoins", {"includePrices": "true"})
    assert adapter("coingecko").build_request("stablecoins", {"limit": 20}) == RequestSpec("/coins/markets", {
        "vs_currency": "usd", "category": "stablecoins", "order": "market_cap_desc", "per_page": 20, "page": 1,
        "sparkline": "false"})
    assert adapter("defillama_yields").build_request("yields", ALL_YIELDS) == RequestSpec("/pools")


# --- dex: golden answers -------------------------------------------------------------------------


def test_dexscreener_golden_most_liquid_pair_prices_the_token_even_as_quote():
    answer = adapter("dexscreener").parse("dex", DEX, load("dexscreener", "tokens_v1"))
    assert (answer["chain"], answer["token"]) == ("ethereum", WETH)
    # WETH is the quote token of the most liquid pool: priceUsd / priceNative = 0.9998 / 0.0003606.
    assert answer["price_pair"] == "0x88e6a0c2ddd26feeb64f039a2c41296fcb3f5640"
    assert answer["price_usd"] == pytest.approx(0.9998 / 0.0003606, rel=1e-12)
    first, second, third = answer["pairs"]
    assert first == {
        "dex": "uniswap", "pair_address": "0x88e6a0c2ddd26feeb64f039a2c41296fcb3f5640", "base_symbol": "USDC",
        "base_address": USDC, "quote_symbol": "WETH", "quote_address": WETH, "price_usd": 0.9998,
        "liquidity_usd": 176543210.12, "volume_24h_usd": 241823004.51, "created_at": "2021-05-05T21:42:11Z"}
    assert (second["price_usd"], second["liquidity_usd"], second["created_at"]) == (
        2771.45, 48123456.78, "2020-05-11T12:02:02Z")
    # No liquidity reported: listed last, never chosen for the price.
    assert (third["dex"], third["liquidity_usd"], third["volume_24h_usd"]) == ("sushiswap", None, 51234.5)


def test_geckoterminal_golden_agrees_in_shape_and_reads_included_tokens():
    answer = adapter("geckoterminal").parse("dex", DEX, load("geckoterminal", "token_pools"))
    assert answer["price_pair"] == "0x88e6a0c2ddd26feeb64f039a2c41296fcb3f5640"
    assert answer["price_usd"] == 2771.5212345678
    first, second = answer["pairs"]
    assert first == {
        "dex": "uniswap_v3", "pair_address": "0x88e6a0c2ddd26feeb64f039a2c41296fcb3f5640", "base_symbol": "WETH",
        "base_address": WETH, "quote_symbol": "USDC", "quote_address": USDC, "price_usd": 2771.5212345678,
        "liquidity_usd": 176543210.1234, "volume_24h_usd": 241823004.5123, "created_at": "2021-05-05T21:42:11Z"}
    assert (second["base_symbol"], second["quote_symbol"], second["price_usd"]) == ("USDC", "WETH", 0.9997)
    dexscreener = adapter("dexscreener").parse("dex", DEX, load("dexscreener", "tokens_v1"))
    assert set(answer) == set(dexscreener) and set(first) == set(dexscreener["pairs"][0])


def test_geckoterminal_without_included_takes_addresses_from_relationship_ids():
    payload = load("geckoterminal", "token_pools")
    del payload["included"]
    first = adapter("geckoterminal").parse("dex", DEX, payload)["pairs"][0]
    assert (first["base_address"], first["base_symbol"], first["quote_address"]) == (WETH, None, USDC)


# --- dex: errors, lies, not found -----------------------------------------------------------------


@pytest.mark.parametrize("payload", [[], {"schemaVersion": "1.0.0", "pairs": None}])
def test_dexscreener_token_without_pairs_is_not_found(payload):
    with pytest.raises(NotFound) as raised:
        adapter("dexscreener").parse("dex", DEX, payload)
    assert (raised.value.field, raised.value.values) == ("token", [WETH])


def test_geckoterminal_unknown_token_is_not_found_never_a_provider_fault():
    not_found = load("geckoterminal", "error_404")
    assert adapter("geckoterminal").classify_http_error(404, not_found) == Outcome.NOT_FOUND
    # A 404 without GeckoTerminal's own body (a proxy's page) is a refusal, not "no such token".
    assert adapter("geckoterminal").classify_http_error(404, None) == Outcome.PERMANENT
    for payload in (not_found, load("geckoterminal", "no_pools")):
        with pytest.raises(NotFound):
            adapter("geckoterminal").parse("dex", DEX, payload)


@pytest.mark.parametrize(
    ("slug", "status", "body", "outcome"),
    [("dexscreener", 429, {"error": "Too Many Requests"}, Outcome.RATE_LIMITED),
     ("dexscreener", 403, {"message": "Rate limit exceeded"}, Outcome.RATE_LIMITED),
     ("geckoterminal", 429, {"errors": [{"status": "429", "title": "Rate Limited"}]}, Outcome.RATE_LIMITED),
     ("geckoterminal", 503, None, Outcome.TRANSIENT),
     ("defillama_stablecoins", 429, {"message": "Too Many Requests"}, Outcome.RATE_LIMITED),
     ("defillama_yields", 429, None, Outcome.RATE_LIMITED),
     ("coingecko", 429, load("coingecko", "error_429"), Outcome.RATE_LIMITED)],
)
def test_rate_limits_and_http_errors(slug, status, body, outcome):
    assert adapter(slug).classify_http_error(status, body) == outcome


@pytest.mark.parametrize(
    ("slug", "capability", "params", "payload", "outcome"),
    [("dexscreener", "dex", DEX, {"error": "Too many requests, slow down"}, Outcome.RATE_LIMITED),
     ("dexscreener", "dex", DEX, {"error": "Something went wrong"}, Outcome.BAD_DATA),
     ("geckoterminal", "dex", DEX, load("geckoterminal", "error_429"), Outcome.RATE_LIMITED),
     ("geckoterminal", "dex", DEX, load("geckoterminal", "error_500_in_200"), Outcome.TRANSIENT),
     ("defillama_stablecoins", "stablecoins", {}, {"message": "Too Many Requests"}, Outcome.RATE_LIMITED),
     ("defillama_stablecoins", "stablecoins", {}, {"message": "Internal server error"}, Outcome.TRANSIENT),
     ("defillama_yields", "yields", ALL_YIELDS, {"status": "error", "data": []}, Outcome.BAD_DATA),
     ("coingecko", "stablecoins", {}, load("coingecko", "error_429"), Outcome.RATE_LIMITED)],
)
def test_errors_inside_http_200_are_errors(slug, capability, params, payload, outcome):
    assert outcome_of(slug, capability, params, payload) == outcome


def _dexscreener(mutate):
    payload = load("dexscreener", "tokens_v1")
    mutate(payload)
    return payload


@pytest.mark.parametrize(
    ("payload", "match"),
    [(_dexscreener(lambda p: p[1].update(priceUsd="-3")), "implausible price"),
     (_dexscreener(lambda p: p[1].update(priceUsd="0")), "implausible price"),
     (_dexscreener(lambda p: p[0]["liquidity"].update(usd=-1)), "negative liquidity"),
     (_dexscreener(lambda p: p[0].update(chainId="bsc")), "chain"),
     (_dexscreener(lambda p: p[1]["baseToken"].update(address="0x" + "1" * 40)), "does not hold"),
     (_dexscreener(lambda p: p[0].update(priceUsd="lots")), "not a number"),
     (_dexscreener(lambda p: p[0].update(pairCreatedAt=99)), "implausible timestamp"),
     (_dexscreener(lambda p: [pair.pop("priceUsd") for pair in p]), "no pair"),
     (_dexscreener(lambda p: p[0].pop("pairAddress")), "pair address")],
)
def test_dexscreener_implausible_answers_are_bad_data(payload, match):
    with pytest.raises(BadData, match=match):
        adapter("dexscreener").parse("dex", DEX, payload)


def test_geckoterminal_implausible_answers_are_bad_data():
    payload = load("geckoterminal", "token_pools")
    payload["data"][0]["attributes"]["base_token_price_usd"] = "-2771.5"
    with pytest.raises(BadData, match="implausible"):
        adapter("geckoterminal").parse("dex", DEX, payload)
    payload = load("geckoterminal", "token_pools")
    payload["data"][0]["attributes"]["reserve_in_usd"] = "-5"
    with pytest.raises(BadData, match="negative"):
        adapter("geckoterminal").parse("dex", DEX, payload)


# --- stablecoins ----------------------------------------------------------------------------------


def test_defillama_stablecoins_golden():
    coins = adapter("defillama_stablecoins").parse("stablecoins", {"limit": 10}, load("defillama_stablecoins",
                                                                                       "stablecoins"))
    assert [c["symbol"] for c in coins] == ["USDT", "USDC", "PYUSD", "EURC"]
    assert coins[0] == {"name": "Tether", "symbol": "USDT", "peg": "usd", "circulating": 154412345678.12,
                        "price": 1.0003, "peg_deviation_pct": pytest.approx(0.03), "gecko_id": "tether",
                        "chains": ["Tron", "Ethereum", "Solana", "BSC"]}
    assert coins[1]["peg_deviation_pct"] == pytest.approx(-0.015)
    pyusd, eurc = coins[2], coins[3]
    assert (pyusd["price"], pyusd["peg_deviation_pct"]) == (None, None)  # DefiLlama has no price for it
    assert (eurc["peg"], eurc["price"], eurc["peg_deviation_pct"]) == ("eur", 1.1402, None)
    assert len(adapter("defillama_stablecoins").parse("stablecoins", {"limit": 2},
                                                      load("defillama_stablecoins", "stablecoins"))) == 2


def test_coingecko_stablecoin_category_golden_infers_pegs():
    coins = adapter("coingecko").parse("stablecoins", {"limit": 10}, load("coingecko", "markets_stablecoins"))
    assert [(c["symbol"], c["peg"], c["gecko_id"]) for c in coins] == [
        ("USDT", "usd", "tether"), ("USDC", "usd", "usd-coin"), ("EURC", "eur", "euro-coin"),
        ("XAUT", "gold", "tether-gold")]
    assert coins[0] == {"name": "Tether", "symbol": "USDT", "peg": "usd", "circulating": 154412345678.12,
                        "price": 1.0002, "peg_deviation_pct": pytest.approx(0.02), "gecko_id": "tether", "chains": []}
    assert coins[3]["peg_deviation_pct"] is None
    llama = adapter("defillama_stablecoins").parse("stablecoins", {}, load("defillama_stablecoins", "stablecoins"))
    assert set(coins[0]) == set(llama[0])


@pytest.mark.parametrize(
    ("slug", "payload", "match"),
    [("defillama_stablecoins", "price0", "implausible"), ("defillama_stablecoins", "negative", "negative"),
     ("coingecko", "price0", "implausible"), ("coingecko", "negative", "negative")],
)
def test_stablecoin_price_at_or_below_zero_or_negative_supply_is_bad_data(slug, payload, match):
    if slug == "coingecko":
        body = load("coingecko", "markets_stablecoins")
        body[1].update(current_price=0) if payload == "price0" else body[1].update(circulating_supply=-5)
    else:
        body = load("defillama_stablecoins", "stablecoins")
        asset = body["peggedAssets"][1]
        asset.update(price=-0.5) if payload == "price0" else asset.update(circulating={"peggedUSD": -1})
    with pytest.raises(BadData, match=match):
        adapter(slug).parse("stablecoins", {}, body)


# --- yields ---------------------------------------------------------------------------------------


def test_defillama_yields_golden_sorted_by_tvl_and_filtered():
    pools = adapter("defillama_yields").parse("yields", ALL_YIELDS, load("defillama_yields", "pools"))
    assert [p["tvl_usd"] for p in pools] == [26012345678, 3912345678.5, 2105000000, 612000000.5, 45000000]
    assert pools[1] == {"pool": "aa70268e-4b52-42bf-a116-608b370f9501", "chain": "Ethereum", "project": "aave-v3",
                        "symbol": "USDC", "tvl_usd": 3912345678.5, "apy": 4.47, "apy_base": 4.12, "apy_reward": 0.35,
                        "stablecoin": True}
    params = {"chain": "ethereum", "project": "aave-v3", "limit": 1}
    (top,) = adapter("defillama_yields").parse("yields", params, load("defillama_yields", "pools"))
    assert (top["symbol"], top["chain"]) == ("USDC", "Ethereum")
    arbitrum = adapter("defillama_yields").parse("yields", {**ALL_YIELDS, "chain": "arbitrum"},
                                                 load("defillama_yields", "pools"))
    assert [p["pool"] for p in arbitrum] == ["d9fa8e14-0447-4207-9ae8-7810199dfa1f"]


@pytest.mark.parametrize(("params", "field"), [({**ALL_YIELDS, "project": "no-such-project"}, "project"),
                                               ({**ALL_YIELDS, "chain": "no-such-chain"}, "chain"),
                                               ({**ALL_YIELDS, "project": "lido", "chain": "arbitrum"}, "chain")])
def test_yields_nothing_matching_is_not_found(params, field):
    with pytest.raises(NotFound) as raised:
        adapter("defillama_yields").parse("yields", params, load("defillama_yields", "pools"))
    assert raised.value.field == field


def test_yields_negative_tvl_or_junk_numbers_are_bad_data():
    payload = load("defillama_yields", "pools")
    payload["data"][0]["tvlUsd"] = -10
    with pytest.raises(BadData, match="negative"):
        adapter("defillama_yields").parse("yields", ALL_YIELDS, payload)
    payload = load("defillama_yields", "pools")
    payload["data"][3]["apy"] = "NaN"
    with pytest.raises(BadData):
        adapter("defillama_yields").parse("yields", ALL_YIELDS, payload)


# --- malformed, every DeFi capability -------------------------------------------------------------

CASES = {"dexscreener": ("dex", DEX), "geckoterminal": ("dex", DEX), "defillama_stablecoins": ("stablecoins", {}),
         "defillama_yields": ("yields", ALL_YIELDS), "coingecko": ("stablecoins", {})}


@pytest.mark.parametrize("slug", sorted(CASES))
@pytest.mark.parametrize("payload", ["a string", 42, None, [1, 2], {"data": "nothing"}, {"peggedAssets": [3]},
                                     {"data": [{"attributes": 1}]}, [{"chainId": "ethereum"}]])
def test_malformed_answers_are_bad_data_never_a_crash(slug, payload):
    capability, params = CASES[slug]
    with pytest.raises(AdapterError) as raised:
        adapter(slug).parse(capability, params, copy.deepcopy(payload))
    assert raised.value.outcome in (Outcome.BAD_DATA, Outcome.PERMANENT, Outcome.TRANSIENT)


@pytest.mark.parametrize("slug", sorted(CASES))
def test_undecodable_body_is_bad_data(slug):
    with pytest.raises(BadData):
        adapter(slug).decode(b"<html>Just a moment...</html>", "text/html")
