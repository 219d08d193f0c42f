"""Issue-4 adapters: golden payloads -> exact normalized values, and every error class per provider."""

import copy
import json
from importlib import import_module
from pathlib import Path

import pytest

from providers.adapters.base import AdapterError, BadData, Outcome, PermanentError, RequestSpec
from providers.models import Capability
from providers.registry import ADAPTERS
from providers.schemas import GasEstimate, MarketRow, Quote

PAYLOADS = Path(__file__).resolve().parent.parent / "payloads"
JSON_SLUGS = [slug for slug in ADAPTERS if slug not in ("coindesk", "cointelegraph", "bitcoinist", "decrypt")]


def adapter(slug: str):
    module_path, _, class_name = ADAPTERS[slug].rpartition(".")
    return getattr(import_module(module_path), class_name)()


def load(slug: str, name: str):
    return json.loads((PAYLOADS / slug / f"{name}.json").read_bytes())


def q(id, symbol, price, market_cap=None, volume_24h=None, change=None, updated=None, vs="usd") -> dict:
    return Quote(id, symbol, vs, price, market_cap, volume_24h, change, updated).to_dict()


# --- registry -----------------------------------------------------------------------------


def test_every_new_adapter_resolves_to_a_class_with_its_own_slug():
    for slug in ADAPTERS:
        instance = adapter(slug)
        assert instance.slug == slug
        assert instance.capabilities
        assert instance.capabilities <= set(Capability.values)


# --- price: KuCoin, Bitfinex, OKX, CoinLore ------------------------------------------------

TWO = {"ids": ["bitcoin", "ethereum"], "vs": "usd"}
ONE = {"ids": ["bitcoin"], "vs": "usd"}


@pytest.mark.parametrize(
    ("slug", "params", "expected"),
    [
        ("kucoin", ONE, RequestSpec("/api/v1/market/orderbook/level1", {"symbol": "BTC-USDT"})),
        ("kucoin", TWO, RequestSpec("/api/v1/market/allTickers")),
        ("bitfinex", TWO, RequestSpec("/tickers", {"symbols": "tBTCUSD,tETHUSD"})),
        ("okx", ONE, RequestSpec("/api/v5/market/ticker", {"instId": "BTC-USDT"})),
        ("okx", TWO, RequestSpec("/api/v5/market/tickers", {"instType": "SPOT"})),
        ("coinlore", TWO, RequestSpec("/tickers/", {"start": 0, "limit": 100})),
    ],
)
def test_price_requests(slug, params, expected):
    assert adapter(slug).build_request("price", params) == expected


def test_bitfinex_writes_long_symbols_with_a_colon_and_uses_its_own_names():
    spec = adapter("bitfinex").build_request("price", {"ids": ["dogecoin", "tether", "ethereum"], "vs": "eur"})
    assert spec.params == {"symbols": "tDOGE:EUR,tUSTEUR,tETHEUR"}


def test_kucoin_golden_single_pair():
    quotes = adapter("kucoin").parse("price", ONE, load("kucoin", "price_level1"))
    assert quotes == [q("bitcoin", "BTC", 109612.4, updated="2025-06-10T12:00:00Z")]


def test_kucoin_golden_all_tickers():
    quotes = adapter("kucoin").parse("price", TWO, load("kucoin", "price_all_tickers"))
    assert quotes == [
        q("bitcoin", "BTC", 109612.4, None, 158996402.12, 1.23, "2025-06-10T12:00:00Z"),
        q("ethereum", "ETH", 2771.06, None, 83467001.5, -0.45, "2025-06-10T12:00:00Z"),
    ]


def test_bitfinex_golden():
    params = {"ids": ["bitcoin", "ethereum", "dogecoin"], "vs": "usd"}
    quotes = adapter("bitfinex").parse("price", params, load("bitfinex", "price"))
    assert quotes == [
        q("bitcoin", "BTC", 109612.0, None, 156032682.0, 1.2),
        q("ethereum", "ETH", 2771.0, None, 52095354.2, -0.48),
        q("dogecoin", "DOGE", 0.1902, None, 9890400.0, 1.66),
    ]


def test_okx_golden_single_and_batch():
    assert adapter("okx").parse("price", ONE, load("okx", "price")) == [
        q("bitcoin", "BTC", 109612.5, None, 412345678.9, 1.2119, "2025-06-10T12:00:00Z"),
    ]
    assert adapter("okx").parse("price", TWO, load("okx", "price_tickers")) == [
        q("bitcoin", "BTC", 109612.5, None, 412345678.9, 1.2119, "2025-06-10T12:00:00Z"),
        q("ethereum", "ETH", 2771.0, None, 201000000.0, -1.0357, "2025-06-10T11:59:59Z"),
    ]


def test_coinlore_golden_price_matches_coins_by_symbol():
    quotes = adapter("coinlore").parse("price", TWO, load("coinlore", "tickers"))
    assert quotes == [
        q("bitcoin", "BTC", 109610.52, 2179156213480.12, 35123456789.12, 1.21, "2025-06-10T12:00:00Z"),
        q("ethereum", "ETH", 2770.84, 334512345678.9, 15234567890.5, -0.47, "2025-06-10T12:00:00Z"),
    ]


def test_coinlore_golden_markets():
    spec = adapter("coinlore").build_request("markets", {"vs": "usd", "limit": 3})
    assert spec == RequestSpec("/tickers/", {"start": 0, "limit": 3})
    rows = adapter("coinlore").parse("markets", {"vs": "usd", "limit": 4}, load("coinlore", "tickers"))
    stamp = "2025-06-10T12:00:00Z"
    assert rows == [
        MarketRow("bitcoin", "BTC", "Bitcoin", 1, "usd", 109610.52, 2179156213480.12, 35123456789.12, 1.21,
                  19881234.0, stamp).to_dict(),
        MarketRow("ethereum", "ETH", "Ethereum", 2, "usd", 2770.84, 334512345678.9, 15234567890.5, -0.47,
                  120726000.0, stamp).to_dict(),
        MarketRow("tether", "USDT", "Tether", 3, "usd", 1.0, 155000000000.0, 60000000000.0, 0.01,
                  155000000000.0, stamp).to_dict(),
        # Not in the symbol map: CoinLore's own name id stands in.
        MarketRow("new-coin-x", "NEWX", "New Coin X", 98, "usd", 0.5012, 1250000000.0, 150000.5, 12.5,
                  2494014360.0, stamp).to_dict(),
    ]


def test_coinlore_caps_markets_at_one_page():
    assert adapter("coinlore").build_request("markets", {"vs": "usd", "limit": 500}).params["limit"] == 100


def test_coinlore_golden_global():
    assert adapter("coinlore").build_request("global", {}) == RequestSpec("/global/")
    assert adapter("coinlore").parse("global", {}, load("coinlore", "global")) == {
        "vs": "usd",
        "total_market_cap": 3421987654321.5,
        "total_volume_24h": 112345678901.2,
        "btc_dominance_pct": 63.68,
        "eth_dominance_pct": 9.78,
        "market_cap_change_24h_pct": 0.85,
        "active_coins": 12873,
        "updated_at": None,
    }


@pytest.mark.parametrize("slug", ["kucoin", "bitfinex", "okx", "coinlore"])
def test_unknown_id_is_permanent_before_any_request(slug):
    with pytest.raises(PermanentError):
        adapter(slug).build_request("price", {"ids": ["not-a-coin"], "vs": "usd"})


def test_coinlore_refuses_currencies_other_than_usd():
    with pytest.raises(PermanentError):
        adapter("coinlore").build_request("price", {"ids": ["bitcoin"], "vs": "eur"})


@pytest.mark.parametrize(
    ("slug", "name"),
    [("kucoin", "price_all_tickers"), ("bitfinex", "price"), ("okx", "price_tickers"), ("coinlore", "tickers")],
)
def test_a_requested_id_missing_from_the_answer_is_bad_data(slug, name):
    with pytest.raises(BadData, match="cardano"):
        adapter(slug).parse("price", {"ids": ["bitcoin", "cardano"], "vs": "usd"}, load(slug, name))


def test_price_of_zero_is_implausible():
    payload = load("kucoin", "price_level1")
    payload["data"]["price"] = "0"
    with pytest.raises(BadData, match="implausible price"):
        adapter("kucoin").parse("price", ONE, payload)
    payload = load("okx", "price")
    payload["data"][0]["last"] = "-5"
    with pytest.raises(BadData, match="implausible price"):
        adapter("okx").parse("price", ONE, payload)


def test_kucoin_unknown_pair_answers_200000_with_null_data():
    with pytest.raises(BadData, match="no data"):
        adapter("kucoin").parse("price", ONE, {"code": "200000", "data": None})


def test_bitfinex_short_row_is_bad_data():
    with pytest.raises(BadData, match="short"):
        adapter("bitfinex").parse("price", ONE, [["tBTCUSD", 1, 2, 3]])


# --- fear & greed --------------------------------------------------------------------------


def test_alternative_me_request_and_golden():
    assert adapter("alternative_me").build_request("fear_greed", {"limit": 3}) == RequestSpec(
        "/fng/", {"limit": 3, "format": "json"}
    )
    readings = adapter("alternative_me").parse("fear_greed", {"limit": 3}, load("alternative_me", "fng"))
    assert readings == [
        {"value": 72, "classification": "Greed", "timestamp": "2025-06-10T00:00:00Z"},
        {"value": 66, "classification": "Greed", "timestamp": "2025-06-09T00:00:00Z"},
        {"value": 48, "classification": "Neutral", "timestamp": "2025-06-08T00:00:00Z"},
    ]


def test_fear_greed_limit_is_clamped_and_never_zero():
    assert adapter("alternative_me").build_request("fear_greed", {"limit": 0}).params["limit"] == 1
    assert adapter("alternative_me").build_request("fear_greed", {"limit": 100000}).params["limit"] == 365
    assert adapter("alternative_me").build_request("fear_greed", {}).params["limit"] == 1


def test_coinmarketcap_latest_and_historical():
    cmc = adapter("coinmarketcap")
    assert cmc.build_request("fear_greed", {"limit": 1}) == RequestSpec("/v3/fear-and-greed/latest")
    assert cmc.build_request("fear_greed", {"limit": 3}) == RequestSpec(
        "/v3/fear-and-greed/historical", {"limit": 3}
    )
    assert cmc.parse("fear_greed", {"limit": 1}, load("coinmarketcap", "fng_latest")) == [
        {"value": 71, "classification": "Greed", "timestamp": "2025-06-10T11:45:12Z"},
    ]
    assert cmc.parse("fear_greed", {"limit": 3}, load("coinmarketcap", "fng_historical")) == [
        {"value": 71, "classification": "Greed", "timestamp": "2025-06-10T00:00:00Z"},
        {"value": 64, "classification": "Greed", "timestamp": "2025-06-09T00:00:00Z"},
        {"value": 52, "classification": "Neutral", "timestamp": "2025-06-08T00:00:00Z"},
    ]


def test_fear_greed_classification_spelling_is_unified():
    payload = load("coinmarketcap", "fng_latest")
    payload["data"]["value_classification"] = "extreme fear"
    assert adapter("coinmarketcap").parse("fear_greed", {}, payload)[0]["classification"] == "Extreme Fear"


@pytest.mark.parametrize("value", ["101", "-1", None, "lots"])
def test_fear_greed_value_outside_0_100_or_missing_is_bad_data(value):
    payload = load("alternative_me", "fng")
    payload["data"][0]["value"] = value
    with pytest.raises(BadData):
        adapter("alternative_me").parse("fear_greed", {"limit": 3}, payload)


def test_fear_greed_reading_far_ahead_of_the_others_is_bad_data():
    payload = load("alternative_me", "fng")
    payload["data"][0]["timestamp"] = "1781049600"  # a year after the next reading
    with pytest.raises(BadData, match="future"):
        adapter("alternative_me").parse("fear_greed", {"limit": 3}, payload)
    payload = load("coinmarketcap", "fng_latest")
    payload["data"]["update_time"] = "2025-06-14T00:00:00Z"  # days after the answer's own stamp
    with pytest.raises(BadData, match="future"):
        adapter("coinmarketcap").parse("fear_greed", {}, payload)


def test_alternative_me_metadata_error_is_an_error_in_200():
    with pytest.raises(AdapterError, match="Invalid limit") as raised:
        adapter("alternative_me").parse("fear_greed", {}, load("alternative_me", "error_in_200"))
    assert raised.value.outcome == Outcome.BAD_DATA


@pytest.mark.parametrize(("name", "outcome"), [("error_1002", Outcome.PERMANENT), ("error_1008", Outcome.RATE_LIMITED)])
def test_coinmarketcap_status_errors(name, outcome):
    with pytest.raises(AdapterError) as raised:
        adapter("coinmarketcap").parse("fear_greed", {}, load("coinmarketcap", name))
    assert raised.value.outcome == outcome


def test_coinmarketcap_rate_limit_code_wins_over_http_status():
    cmc = adapter("coinmarketcap")
    assert cmc.classify_http_error(429, load("coinmarketcap", "error_1008")) == Outcome.RATE_LIMITED
    assert cmc.classify_http_error(401, load("coinmarketcap", "error_1002")) == Outcome.PERMANENT


# --- TVL -----------------------------------------------------------------------------------


def test_defillama_picks_the_endpoint_from_the_params():
    llama = adapter("defillama")
    assert llama.build_request("tvl", {"protocol": "aave-v3", "chain": None}) == RequestSpec("/protocols")
    assert llama.build_request("tvl", {"protocol": None, "chain": "Ethereum"}) == RequestSpec("/v2/chains")
    assert llama.build_request("tvl", {}) == RequestSpec("/v2/chains")


def test_defillama_golden_protocol_sums_only_plain_chains():
    answer = adapter("defillama").parse("tvl", {"protocol": "aave-v3"}, load("defillama", "protocols"))
    assert answer == {
        "protocols": [
            {
                "name": "Aave V3",
                "slug": "aave-v3",
                "tvl": 25400000000.5,
                "category": "Lending",
                "symbol": "AAVE",
                "chains": ["Ethereum", "Arbitrum", "Base"],
                "chain_tvls": {"Ethereum": 21000000000.25, "Arbitrum": 2600000000.25, "Base": 1800000000.0},
                "change_1d_pct": 1.85,
            }
        ],
        "chains": [],
    }


def test_defillama_protocol_on_one_chain_by_name_case_insensitively():
    answer = adapter("defillama").parse(
        "tvl", {"protocol": "Yearn Finance", "chain": "ethereum"}, load("defillama", "protocols")
    )
    [protocol] = answer["protocols"]
    assert (protocol["slug"], protocol["tvl"], protocol["chains"]) == ("yearn-finance", 480000000.0, ["Ethereum"])
    assert protocol["chain_tvls"] == {"Ethereum": 480000000.0}


def test_defillama_golden_chains_sorted_by_tvl():
    answer = adapter("defillama").parse("tvl", {}, load("defillama", "v2_chains"))
    assert answer["protocols"] == []
    assert answer["chains"] == [
        {"name": "Ethereum", "tvl": 65123456789.12, "token_symbol": "ETH", "gecko_id": "ethereum", "chain_id": 1},
        {"name": "Solana", "tvl": 9123456789.5, "token_symbol": "SOL", "gecko_id": "solana", "chain_id": None},
        {"name": "BSC", "tvl": 6012345678.0, "token_symbol": "BNB", "gecko_id": "binancecoin", "chain_id": 56},
        {"name": "Hyperliquid L1", "tvl": 2123456.7, "token_symbol": None, "gecko_id": None, "chain_id": None},
    ]
    one = adapter("defillama").parse("tvl", {"chain": "bsc"}, load("defillama", "v2_chains"))
    assert [chain["name"] for chain in one["chains"]] == ["BSC"]


def test_defillama_unknown_protocol_or_chain_is_permanent():
    with pytest.raises(PermanentError, match="nope"):
        adapter("defillama").parse("tvl", {"protocol": "nope"}, load("defillama", "protocols"))
    with pytest.raises(PermanentError, match="Solana"):
        adapter("defillama").parse("tvl", {"protocol": "aave-v3", "chain": "Solana"}, load("defillama", "protocols"))
    with pytest.raises(PermanentError, match="Atlantis"):
        adapter("defillama").parse("tvl", {"chain": "Atlantis"}, load("defillama", "v2_chains"))


def test_defillama_requested_protocol_without_tvl_or_with_negative_tvl_is_bad_data():
    with pytest.raises(BadData, match="missing"):
        adapter("defillama").parse("tvl", {"protocol": "tiny-fork"}, load("defillama", "protocols"))
    payload = load("defillama", "v2_chains")
    payload[1]["tvl"] = -1
    with pytest.raises(BadData, match="negative"):
        adapter("defillama").parse("tvl", {}, payload)


def test_yearn_golden_sums_vaults_on_one_chain():
    params = {"protocol": "yearn-finance", "chain": "Ethereum"}
    assert adapter("yearn_ydaemon").build_request("tvl", params) == RequestSpec("/1/vaults/all")
    assert adapter("yearn_ydaemon").parse("tvl", params, load("yearn_ydaemon", "vaults_all")) == {
        "protocols": [
            {
                "name": "Yearn Finance",
                "slug": "yearn-finance",
                "tvl": 224057932.35,
                "category": "Yield Aggregator",
                "symbol": "YFI",
                "chains": ["Ethereum"],
                "chain_tvls": {"Ethereum": 224057932.35},
                "change_1d_pct": None,
            }
        ],
        "chains": [],
    }


@pytest.mark.parametrize(
    "params", [{"protocol": "aave-v3", "chain": "ethereum"}, {"protocol": "yearn"}, {"chain": "ethereum"}]
)
def test_yearn_serves_only_its_own_tvl_per_chain(params):
    with pytest.raises(PermanentError):
        adapter("yearn_ydaemon").build_request("tvl", params)


def test_yearn_vault_without_tvl_or_from_another_chain_is_bad_data():
    params = {"protocol": "yearn", "chain": "ethereum"}
    payload = load("yearn_ydaemon", "vaults_all")
    del payload[0]["tvl"]
    with pytest.raises(BadData, match="no TVL"):
        adapter("yearn_ydaemon").parse("tvl", params, payload)
    payload = load("yearn_ydaemon", "vaults_all")
    payload[1]["chainID"] = 10
    with pytest.raises(BadData, match="chain 10"):
        adapter("yearn_ydaemon").parse("tvl", params, payload)


# --- gas -----------------------------------------------------------------------------------


def gas(chain, unit, standard, slow=None, fast=None, base_fee=None, source_time=None) -> dict:
    return GasEstimate(chain, unit, standard, slow, fast, base_fee, source_time).to_dict()


def test_gas_requests():
    assert adapter("etherscan").build_request("gas", {"chain": "ethereum"}) == RequestSpec(
        "/v2/api", {"chainid": 1, "module": "gastracker", "action": "gasoracle"}
    )
    assert adapter("mempool_space").build_request("gas", {"chain": "bitcoin"}) == RequestSpec("/v1/fees/recommended")
    assert adapter("blockchair").build_request("gas", {"chain": "bitcoin"}) == RequestSpec("/bitcoin/stats")
    assert adapter("blockchair").build_request("gas", {"chain": "ethereum"}) == RequestSpec("/ethereum/stats")
    assert adapter("publicnode_eth").build_request("gas", {"chain": "ethereum"}) == RequestSpec(
        "/", method="POST", json_body={"jsonrpc": "2.0", "id": 1, "method": "eth_gasPrice", "params": []}
    )


@pytest.mark.parametrize(
    ("slug", "chain"),
    [("etherscan", "bitcoin"), ("publicnode_eth", "bitcoin"), ("mempool_space", "ethereum"), ("blockchair", "solana")],
)
def test_gas_for_a_chain_the_provider_does_not_serve_is_permanent(slug, chain):
    with pytest.raises(PermanentError):
        adapter(slug).build_request("gas", {"chain": chain})
    assert chain not in adapter(slug).chains


def test_etherscan_golden_keeps_sub_gwei_decimals():
    estimate = adapter("etherscan").parse("gas", {"chain": "ethereum"}, load("etherscan", "gasoracle"))
    assert estimate == gas("ethereum", "gwei", 0.52, slow=0.49, fast=0.61, base_fee=0.487654321)


def test_mempool_space_golden():
    estimate = adapter("mempool_space").parse("gas", {"chain": "bitcoin"}, load("mempool_space", "fees_recommended"))
    assert estimate == gas("bitcoin", "sat/vB", 4.0, slow=3.0, fast=6.0)


def test_blockchair_golden_bitcoin_and_ethereum():
    btc = adapter("blockchair").parse("gas", {"chain": "bitcoin"}, load("blockchair", "bitcoin_stats"))
    assert btc == gas("bitcoin", "sat/vB", 3.0, source_time="2025-06-10T11:56:41Z")
    eth = adapter("blockchair").parse("gas", {"chain": "ethereum"}, load("blockchair", "ethereum_stats"))
    assert eth == gas("ethereum", "gwei", 0.53, slow=0.49, fast=0.66, source_time="2025-06-10T11:59:47Z")


def test_publicnode_golden_converts_wei_hex_to_gwei():
    estimate = adapter("publicnode_eth").parse("gas", {"chain": "ethereum"}, load("publicnode_eth", "gas_price"))
    assert estimate == gas("ethereum", "gwei", 0.520773184)


@pytest.mark.parametrize(
    ("name", "outcome"),
    [
        ("error_missing_key", Outcome.PERMANENT),
        ("error_invalid_key", Outcome.PERMANENT),
        ("error_ratelimit", Outcome.RATE_LIMITED),
        ("error_v1_deprecated", Outcome.PERMANENT),
    ],
)
def test_etherscan_status_0_in_http_200_is_an_error(name, outcome):
    with pytest.raises(AdapterError) as raised:
        adapter("etherscan").parse("gas", {"chain": "ethereum"}, load("etherscan", name))
    assert raised.value.outcome == outcome
    # The "|..." tail of an invalid-key reason is not repeated in the message.
    assert "K2JGT" not in str(raised.value)


def test_etherscan_unrecognised_status_0_is_bad_data():
    with pytest.raises(AdapterError) as raised:
        adapter("etherscan").parse("gas", {"chain": "ethereum"}, {"status": "0", "message": "NOTOK", "result": "?"})
    assert raised.value.outcome == Outcome.BAD_DATA


@pytest.mark.parametrize(
    ("slug", "params", "name", "mutate"),
    [
        ("etherscan", {"chain": "ethereum"}, "gasoracle", lambda p: p["result"].update(ProposeGasPrice="0")),
        ("etherscan", {"chain": "ethereum"}, "gasoracle", lambda p: p["result"].update(FastGasPrice="0.1")),
        ("etherscan", {"chain": "ethereum"}, "gasoracle", lambda p: p["result"].pop("ProposeGasPrice")),
        ("mempool_space", {"chain": "bitcoin"}, "fees_recommended", lambda p: p.update(halfHourFee=-2)),
        ("blockchair", {"chain": "bitcoin"}, "bitcoin_stats",
         lambda p: p["data"].update(suggested_transaction_fee_per_byte_sat=0)),
        ("publicnode_eth", {"chain": "ethereum"}, "gas_price", lambda p: p.update(result="0x0")),
    ],
)
def test_gas_at_or_below_zero_out_of_order_or_missing_is_bad_data(slug, params, name, mutate):
    payload = load(slug, name)
    mutate(payload)
    with pytest.raises(BadData):
        adapter(slug).parse("gas", params, payload)


def test_blockchair_block_time_far_after_the_answer_time_is_bad_data():
    payload = load("blockchair", "bitcoin_stats")
    payload["data"]["best_block_time"] = "2025-06-20 11:56:41"
    with pytest.raises(BadData, match="future"):
        adapter("blockchair").parse("gas", {"chain": "bitcoin"}, payload)


def test_blockchair_context_error_and_limit_statuses():
    with pytest.raises(AdapterError) as raised:
        adapter("blockchair").parse("gas", {"chain": "bitcoin"}, load("blockchair", "error_402"))
    assert raised.value.outcome == Outcome.RATE_LIMITED
    for status in (402, 430, 434, 435):
        assert adapter("blockchair").classify_http_error(status, None) == Outcome.RATE_LIMITED


def test_publicnode_json_rpc_errors():
    with pytest.raises(AdapterError) as raised:
        adapter("publicnode_eth").parse("gas", {}, load("publicnode_eth", "error_ratelimit"))
    assert raised.value.outcome == Outcome.RATE_LIMITED
    with pytest.raises(AdapterError) as raised:
        not_found = {"jsonrpc": "2.0", "id": 1, "error": {"code": -32601, "message": "x"}}
        adapter("publicnode_eth").parse("gas", {}, not_found)
    assert raised.value.outcome == Outcome.PERMANENT
    with pytest.raises(BadData, match="another request"):
        adapter("publicnode_eth").parse("gas", {}, {"jsonrpc": "2.0", "id": 7, "result": "0x1"})
    with pytest.raises(BadData, match="hex"):
        adapter("publicnode_eth").parse("gas", {}, {"jsonrpc": "2.0", "id": 1, "result": "0xzz"})


def test_mempool_space_rate_limit_page_is_html():
    body = (PAYLOADS / "mempool_space" / "error_429.html").read_bytes()
    with pytest.raises(BadData, match="not JSON"):
        adapter("mempool_space").decode(body, "text/html")
    assert adapter("mempool_space").classify_http_error(429, None) == Outcome.RATE_LIMITED


# --- CryptoPanic ---------------------------------------------------------------------------


def test_cryptopanic_golden_never_passes_the_token_on():
    assert adapter("cryptopanic").build_request("news", {}) == RequestSpec(
        "/growth/v2/posts/", {"public": "true", "kind": "news"}
    )
    items = adapter("cryptopanic").parse("news", {"limit": 10}, load("cryptopanic", "posts"))
    assert items == [
        {
            "title": "Bitcoin Tops $109K as ETF Inflows Extend to Eighth Straight Day",
            "url": "https://cryptopanic.com/news/23456789/Bitcoin-Tops-109K-as-ETF-Inflows-Extend-to-Eighth-Straight-Day",
            "source": "CoinDesk",
            "published_at": "2025-06-10T11:42:17Z",
            "summary": None,
        },
        {
            "title": "Regulators probe market maker over wash trading",
            "url": "https://cryptopanic.com/news/23456700/Regulators-probe-market-maker-over-wash-trading",
            "source": "The Block",
            "published_at": "2025-06-10T10:12:00Z",
            "summary": None,
        },
    ]
    assert "SECRET_TOKEN_IN_NEXT" not in json.dumps(items)


@pytest.mark.parametrize(
    ("name", "outcome"),
    [("error_400", Outcome.PERMANENT), ("error_401", Outcome.PERMANENT), ("error_ratelimit", Outcome.RATE_LIMITED)],
)
def test_cryptopanic_api_errors(name, outcome):
    with pytest.raises(AdapterError) as raised:
        adapter("cryptopanic").parse("news", {}, load("cryptopanic", name))
    assert raised.value.outcome == outcome


def test_cryptopanic_filters_by_query_and_flags_a_post_from_the_future():
    items = adapter("cryptopanic").parse("news", {"q": "wash TRADING"}, load("cryptopanic", "posts"))
    assert [item["source"] for item in items] == ["The Block"]
    payload = load("cryptopanic", "posts")
    payload["results"].append(dict(payload["results"][1], id=1, url="https://cryptopanic.com/news/1/x"))
    payload["results"].append(dict(payload["results"][1], id=2, url="https://cryptopanic.com/news/2/y",
                                   published_at="2031-01-01T00:00:00Z"))
    with pytest.raises(BadData, match="far after"):
        adapter("cryptopanic").parse("news", {}, payload)


# --- error classes common to every JSON adapter ---------------------------------------------

CAPABILITY_PARAMS = {
    "kucoin": ("price", ONE), "bitfinex": ("price", ONE), "okx": ("price", ONE), "coinlore": ("price", ONE),
    "alternative_me": ("fear_greed", {"limit": 1}), "coinmarketcap": ("fear_greed", {"limit": 1}),
    "defillama": ("tvl", {"protocol": "aave-v3"}), "yearn_ydaemon": ("tvl", {"protocol": "yearn", "chain": "ethereum"}),
    "etherscan": ("gas", {"chain": "ethereum"}), "mempool_space": ("gas", {"chain": "bitcoin"}),
    "blockchair": ("gas", {"chain": "bitcoin"}), "publicnode_eth": ("gas", {"chain": "ethereum"}),
    "cryptopanic": ("news", {}),
    # The price adapters of the engine issue face the same malformed answers.
    "coingecko": ("price", ONE), "coinpaprika": ("price", ONE), "coincap": ("price", ONE),
    "cryptocompare": ("price", ONE), "binance": ("price", ONE), "kraken": ("price", ONE),
    "coinbase": ("price", ONE),
}


def test_every_json_adapter_has_its_params_listed_here():
    assert set(CAPABILITY_PARAMS) == set(JSON_SLUGS)


@pytest.mark.parametrize("slug", JSON_SLUGS)
@pytest.mark.parametrize(
    ("status", "outcome"),
    [(429, Outcome.RATE_LIMITED), (500, Outcome.TRANSIENT), (502, Outcome.TRANSIENT), (503, Outcome.TRANSIENT),
     (401, Outcome.PERMANENT), (404, Outcome.PERMANENT)],
)
def test_http_status_classes(slug, status, outcome):
    assert adapter(slug).classify_http_error(status, {"unrelated": True}) == outcome


@pytest.mark.parametrize("slug", JSON_SLUGS)
@pytest.mark.parametrize("payload", ["a string", 42, None, [1, 2], {"data": "nothing"}])
def test_malformed_answers_are_bad_data_never_a_crash(slug, payload):
    capability, params = CAPABILITY_PARAMS[slug]
    with pytest.raises(AdapterError) as raised:
        adapter(slug).parse(capability, params, copy.deepcopy(payload))
    assert raised.value.outcome in (Outcome.BAD_DATA, Outcome.PERMANENT, Outcome.TRANSIENT)


@pytest.mark.parametrize("slug", JSON_SLUGS)
def test_undecodable_body_is_bad_data(slug):
    with pytest.raises(BadData):
        adapter(slug).decode(b"<html>Just a moment...</html>", "text/html")


@pytest.mark.parametrize(
    ("slug", "name", "outcome"),
    [
        ("kucoin", "error_429", Outcome.RATE_LIMITED),
        ("kucoin", "error_400", Outcome.PERMANENT),
        ("okx", "error_429", Outcome.RATE_LIMITED),
        ("okx", "error_51001", Outcome.PERMANENT),
        ("bitfinex", "error_ratelimit", Outcome.RATE_LIMITED),
        ("bitfinex", "error_10020", Outcome.PERMANENT),
    ],
)
def test_exchange_business_errors_inside_http_200(slug, name, outcome):
    with pytest.raises(AdapterError) as raised:
        adapter(slug).parse("price", ONE, load(slug, name))
    assert raised.value.outcome == outcome


@pytest.mark.parametrize(
    ("slug", "status", "name", "outcome"),
    [
        ("kucoin", 429, "error_429", Outcome.RATE_LIMITED),
        ("okx", 429, "error_429", Outcome.RATE_LIMITED),
        # Bitfinex sends parameter errors with HTTP 500: retrying would not help.
        ("bitfinex", 500, "error_10020", Outcome.PERMANENT),
        ("bitfinex", 500, "error_ratelimit", Outcome.RATE_LIMITED),
    ],
)
def test_error_bodies_refine_the_http_status(slug, status, name, outcome):
    assert adapter(slug).classify_http_error(status, load(slug, name)) == outcome


def test_okx_service_unavailable_code_is_transient():
    with pytest.raises(AdapterError) as raised:
        adapter("okx").parse("price", ONE, {"code": "50001", "msg": "Service temporarily unavailable", "data": []})
    assert raised.value.outcome == Outcome.TRANSIENT


@pytest.mark.parametrize(
    ("slug", "capability", "params", "payload"),
    [
        ("coinmarketcap", "fear_greed", {}, {"status": "fine", "data": {"value": 50}}),
        ("bitfinex", "price", ONE, [[["nested"], 1, 2]]),
        ("kucoin", "price", TWO, {"code": "200000", "data": {"ticker": {"BTC-USDT": {}}}}),
        ("defillama", "tvl", {"protocol": "aave-v3"}, [{"name": "Aave V3", "slug": "aave-v3", "tvl": "lots"}]),
        ("blockchair", "gas", {"chain": "ethereum"}, {"data": {"best_block_time": "yesterday"}, "context": {}}),
    ],
)
def test_odd_shapes_inside_a_plausible_envelope_are_bad_data(slug, capability, params, payload):
    with pytest.raises(BadData):
        adapter(slug).parse(capability, params, payload)
