"""Validation and normalization of data request parameters (pure, shared by the data plane and fetch)."""

import pytest

from healing.dataplane import params as dp
from healing.dataplane.params import ParamError, UnknownRoute, parse_request, sentiment_texts


def test_every_endpoint_normalizes_its_defaults():
    expected = {
        "price": ({"ids": "bitcoin"}, {"ids": ["bitcoin"], "vs": "usd"}),
        "markets": ({}, {"vs": "usd", "limit": 100}),
        "global": ({}, {"vs": "usd"}),
        "fear-greed": ({}, {"limit": 1}),
        "trending": ({}, {"limit": 15}),
        "tvl": ({}, {"protocol": None, "chain": None}),
        "gas": ({}, {"chain": "ethereum"}),
        "news": ({}, {"limit": 20, "q": ""}),
        "sentiment": ({"ids": "bitcoin"}, {"ids": ["bitcoin"]}),
    }
    assert set(expected) == set(dp.CAPABILITIES)
    for name, (query, params) in expected.items():
        req = parse_request(name, query)
        assert req.params == params, name
        assert (req.provider, req.consensus) == (None, None)


def test_equal_requests_normalize_equally():
    a = parse_request("price", {"ids": " Bitcoin,ethereum,bitcoin", "vs": "USD"})
    b = parse_request("price", {"ids": "bitcoin,ethereum", "vs": "usd"})
    assert a.params == b.params == {"ids": ["bitcoin", "ethereum"], "vs": "usd"}
    assert parse_request("news", {"q": "  ETF   Inflows "}).params["q"] == "etf inflows"
    assert parse_request("tvl", {"protocol": "Aave", "chain": " Ethereum "}).params == {
        "protocol": "aave", "chain": "ethereum"}


def test_the_engine_capability_behind_each_endpoint():
    assert parse_request("fear-greed", {}).capability == "fear_greed"
    assert parse_request("fear_greed", {"limit": "7"}).route.name == "fear-greed"
    assert parse_request("sentiment", {"ids": "ethereum"}).capability == "news"


@pytest.mark.parametrize("name,query,field", [
    ("price", {}, "ids"),
    ("price", {"ids": "bitcoin", "vs": "u$d"}, "vs"),
    ("price", {"ids": ",".join(f"c{n}" for n in range(dp.MAX_IDS + 1))}, "ids"),
    ("price", {"idz": "bitcoin"}, "idz"),
    ("markets", {"limit": "0"}, "limit"),
    ("markets", {"limit": str(dp.MARKETS_MAX_LIMIT + 1)}, "limit"),
    ("markets", {"limit": "ten"}, "limit"),
    ("fear-greed", {"limit": "366"}, "limit"),
    ("gas", {"chain": "solana"}, "chain"),
    ("tvl", {"protocol": "<script>"}, "protocol"),
    ("tvl", {"chain": "x" * 80}, "chain"),
    ("news", {"q": "x" * (dp.MAX_QUERY_CHARS + 1)}, "q"),
    ("news", {"limit": "101"}, "limit"),
    ("sentiment", {"ids": "bitcoin,notacoin"}, "ids"),
    ("sentiment", {"ids": ",".join(c.id for c in dp.symbols.COINS[: dp.MAX_SENTIMENT_IDS + 1])}, "ids"),
    ("trending", {"limit": "31"}, "limit"),
    ("trending", {"ids": "bitcoin"}, "ids"),
    ("price", {"ids": "bitcoin", "provider": "Coin Gecko!"}, "provider"),
    ("markets", {"consensus": "3"}, "consensus"),
    ("price", {"ids": "bitcoin", "consensus": "1"}, "consensus"),
    ("price", {"ids": "bitcoin", "consensus": str(dp.MAX_CONSENSUS + 1)}, "consensus"),
    ("price", {"ids": "bitcoin", "consensus": "3", "provider": "kraken"}, "consensus"),
])
def test_bad_parameters_name_their_field(name, query, field):
    with pytest.raises(ParamError) as caught:
        parse_request(name, query)
    assert caught.value.field == field
    assert caught.value.status == 400
    assert caught.value.detail


def test_consensus_and_provider_are_read_where_they_apply():
    assert parse_request("gas", {"chain": "bitcoin", "consensus": "3"}).consensus == 3
    assert parse_request("global", {"consensus": "2"}).consensus == 2
    assert parse_request("news", {"provider": "CoinDesk"}).provider == "coindesk"


def test_an_unknown_endpoint_is_its_own_error():
    with pytest.raises(UnknownRoute):
        parse_request("moon-phase", {})


def test_sentiment_texts_accepts_a_list_of_short_strings():
    assert sentiment_texts({"texts": [" Bitcoin surges ", "ETH plunges"]}) == ["Bitcoin surges", "ETH plunges"]


@pytest.mark.parametrize("body,field", [
    ([], "body"),
    ("texts", "body"),
    ({}, "texts"),
    ({"texts": []}, "texts"),
    ({"texts": "one text"}, "texts"),
    ({"texts": ["ok", 3]}, "texts"),
    ({"texts": ["ok", "  "]}, "texts"),
    ({"texts": ["x" * (dp.MAX_SENTIMENT_TEXT_CHARS + 1)]}, "texts"),
    ({"texts": ["x"] * (dp.MAX_SENTIMENT_TEXTS + 1)}, "texts"),
    ({"texts": ["ok"], "model": "big"}, "model"),
])
def test_sentiment_texts_refuses_bad_bodies(body, field):
    with pytest.raises(ParamError) as caught:
        sentiment_texts(body)
    assert caught.value.field == field
