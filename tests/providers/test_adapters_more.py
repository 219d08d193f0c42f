"""Issue-4 adapters for price, fear & greed and TVL: golden payloads -> exact normalized values,
and each provider's own errors. Gas, news and the error classes every JSON adapter shares are in
test_adapters_gas_news.py."""

import pytest

from providers.adapters.base import AdapterError, BadData, NotFound, Outcome, PermanentError, RequestSpec
from providers.models import Capability
from providers.registry import ADAPTERS
from providers.schemas import MarketRow, Quote
from tests.providers.golden import ONE, TWO, adapter, load


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
    with pytest.raises((NotFound, PermanentError)):
        adapter(slug).build_request("price", {"ids": ["not-a-coin"], "vs": "usd"})


def test_coinlore_refuses_currencies_other_than_usd():
    with pytest.raises(PermanentError):
        adapter("coinlore").build_request("price", {"ids": ["bitcoin"], "vs": "eur"})


@pytest.mark.parametrize(
    ("slug", "name"),
    [("kucoin", "price_all_tickers"), ("bitfinex", "price"), ("okx", "price_tickers")],
)
def test_a_requested_id_missing_from_the_answer_is_bad_data(slug, name):
    with pytest.raises(BadData, match="cardano"):
        adapter(slug).parse("price", {"ids": ["bitcoin", "cardano"], "vs": "usd"}, load(slug, name))


def test_a_listed_coin_below_coinlores_top_page_is_not_found_there():
    # CoinLore's price answer is its top page: a coin it lists further down is no fault of CoinLore's.
    with pytest.raises(NotFound, match="cardano") as caught:
        adapter("coinlore").parse("price", {"ids": ["bitcoin", "cardano"], "vs": "usd"}, load("coinlore", "tickers"))
    assert caught.value.values == ["cardano"]


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
    with pytest.raises(NotFound, match="nope"):
        adapter("defillama").parse("tvl", {"protocol": "nope"}, load("defillama", "protocols"))
    with pytest.raises(PermanentError, match="Solana"):
        adapter("defillama").parse("tvl", {"protocol": "aave-v3", "chain": "Solana"}, load("defillama", "protocols"))
    with pytest.raises(NotFound, match="Atlantis"):
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


@pytest.mark.parametrize("params", [{"protocol": "yearn"}, {"chain": "ethereum"}])
def test_yearn_serves_only_its_own_tvl_per_chain(params):
    with pytest.raises(PermanentError):
        adapter("yearn_ydaemon").build_request("tvl", params)


@pytest.mark.parametrize("params, field, value", [
    ({"protocol": "aave-v3", "chain": "ethereum"}, "protocol", "aave-v3"),
    ({"protocol": "yearn", "chain": "solana"}, "chain", "solana"),
])
def test_yearn_says_not_found_for_another_protocol_or_chain(params, field, value):
    # Not a fault of Yearn's: a protocol no TVL provider knows must end as a 404, not a 503.
    with pytest.raises(NotFound) as caught:
        adapter("yearn_ydaemon").build_request("tvl", params)
    assert (caught.value.field, caught.value.values) == (field, [value])


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
