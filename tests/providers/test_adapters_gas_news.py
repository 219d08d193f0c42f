"""Issue-4 adapters for gas and news: golden payloads -> exact normalized values and each provider's
own errors; then the error classes every JSON adapter shares."""

import copy
import json

import pytest

from providers.adapters.base import AdapterError, BadData, Outcome, PermanentError, RequestSpec
from providers.adapters.rss import RssAdapter
from providers.registry import ADAPTERS
from providers.schemas import GasEstimate
from tests.providers.golden import ONE, PAYLOADS, TWO, adapter, load

# Every adapter but the feeds (tests/providers/test_rss*.py): those decode XML, not JSON.
JSON_SLUGS = [slug for slug in ADAPTERS if not isinstance(adapter(slug), RssAdapter)]


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
    "blockstream": ("tx", {"chain": "bitcoin", "hash": "ab" * 32}),
    "trongrid": ("tx", {"chain": "tron", "hash": "ab" * 32}),
    "tronscan": ("tx", {"chain": "tron", "hash": "ab" * 32}),
    "blockscout_eth": ("tx", {"chain": "ethereum", "hash": "0x" + "ab" * 32}),
    "llamarpc_eth": ("gas", {"chain": "ethereum"}), "drpc_eth": ("gas", {"chain": "ethereum"}),
    "cloudflare_eth": ("tx", {"chain": "ethereum", "hash": "0x" + "ab" * 32}),
    "blockchain_info": ("tx", {"chain": "bitcoin", "hash": "ab" * 32}),
    "coinbase_exchange": ("orderbook", {"id": "bitcoin", "vs": "usd", "depth": 10}),
    "bitstamp": ("price", ONE), "gemini": ("price", ONE), "bybit": ("price", ONE), "gateio": ("price", ONE),
    # The price adapters of the engine issue face the same malformed answers.
    "coingecko": ("price", ONE), "coinpaprika": ("price", ONE), "coincap": ("price", ONE),
    "cryptocompare": ("price", ONE), "binance": ("price", ONE), "kraken": ("price", ONE),
    "coinbase": ("price", ONE),
    # Binance's API elsewhere, and DIA (tests/providers/test_adapters_mirrors.py has their own cases).
    "binance_vision": ("price", ONE), "binance_us": ("price", ONE), "dia": ("price", ONE),
    # DeFi (tests/providers/test_adapters_defi.py has their own cases).
    "dexscreener": ("dex", {"chain": "ethereum", "token": "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2"}),
    "geckoterminal": ("dex", {"chain": "ethereum", "token": "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2"}),
    "defillama_stablecoins": ("stablecoins", {}), "defillama_yields": ("yields", {"limit": 50}),
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
        ("okx", "error_51001", Outcome.NOT_FOUND),
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
