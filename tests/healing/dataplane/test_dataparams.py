"""Validation and normalization of data request parameters (pure, shared by the data plane and fetch)."""

import pytest

from healing.dataplane import params as dp
from healing.dataplane.params import ParamError, UnknownRoute, parse_request, sentiment_texts
from providers import assets


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
        "address": ({"address": "0xd8da6bf26964af9d7eed9e03e53415d37aa96045"},
                    {"chain": "ethereum", "address": "0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045"}),
        "tx": ({"hash": "0x" + "AB" * 32}, {"chain": "ethereum", "hash": "0x" + "ab" * 32}),
        "candles": ({"id": "bitcoin"}, {"id": "bitcoin", "vs": "usd", "interval": "1h", "limit": 100, "start": None}),
        "orderbook": ({"id": "bitcoin"}, {"id": "bitcoin", "vs": "usd", "depth": 10}),
        "ticker": ({"id": "bitcoin"}, {"id": "bitcoin", "vs": "usd"}),
        "dex": ({"token": "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2"},
                {"chain": "ethereum", "token": "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2"}),
        "stablecoins": ({}, {"limit": 100}),
        "yields": ({}, {"chain": None, "project": None, "limit": 50}),
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
    ("sentiment", {"ids": ",".join(a.id for a in list(assets.shipped())[: dp.MAX_SENTIMENT_IDS + 1])}, "ids"),
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


# --- the size limits (settings "Request limits") ----------------------------------------------


def test_the_limits_are_the_settings_defaults():
    from django.conf import settings

    assert (dp.MAX_IDS, dp.MAX_SENTIMENT_TEXTS, dp.MAX_SENTIMENT_TEXT_CHARS) == (250, 100, 2000)
    assert (settings.CRYPTOHUB_MAX_IDS, settings.CRYPTOHUB_MAX_SENTIMENT_TEXTS,
            settings.CRYPTOHUB_MAX_SENTIMENT_TEXT_CHARS) == (250, 100, 2000)


def _coins(count: int, width: int = 8) -> str:
    return ",".join(f"c{n:0{width - 1}d}" for n in range(count))


def test_as_many_ids_as_the_limit_pass_and_one_more_is_refused_naming_the_limit():
    assert len(parse_request("price", {"ids": _coins(dp.MAX_IDS)}).params["ids"]) == dp.MAX_IDS
    with pytest.raises(ParamError) as caught:
        parse_request("price", {"ids": _coins(dp.MAX_IDS + 1)})
    assert (caught.value.field, caught.value.status) == ("ids", 400)
    assert f"at most {dp.MAX_IDS} ids" in caught.value.detail and f"got {dp.MAX_IDS + 1}" in caught.value.detail


def test_ids_are_counted_after_removing_duplicates():
    ids = _coins(dp.MAX_IDS) + "," + _coins(dp.MAX_IDS).upper()
    assert parse_request("price", {"ids": ids}).params["ids"] == _coins(dp.MAX_IDS).split(",")


def test_a_request_of_thousands_of_ids_is_refused_on_the_count_not_the_first_bad_one():
    with pytest.raises(ParamError) as caught:
        parse_request("price", {"ids": ",".join(["$"] + [f"c{n}" for n in range(5000)])})
    assert caught.value.field == "ids" and "got 5001" in caught.value.detail


def test_a_coin_id_longer_than_its_limit_is_refused():
    assert parse_request("price", {"ids": "a" * dp.MAX_ID_CHARS}).params["ids"] == ["a" * dp.MAX_ID_CHARS]
    with pytest.raises(ParamError) as caught:
        parse_request("price", {"ids": "bitcoin," + "a" * (dp.MAX_ID_CHARS + 1)})
    assert caught.value.field == "ids" and f"at most {dp.MAX_ID_CHARS} characters" in caught.value.detail


def test_the_most_ids_of_thirty_characters_fit_in_the_longest_query_string():
    from urllib.parse import urlencode

    from healing.dataplane.app import MAX_QUERY_STRING_BYTES

    query = {"ids": _coins(dp.MAX_IDS, width=30), "vs": "usd"}
    assert len(urlencode(query, safe=",")) <= MAX_QUERY_STRING_BYTES
    assert len(parse_request("price", query).params["ids"]) == dp.MAX_IDS


def test_sentiment_ids_stay_under_the_ids_limit():
    assert dp.MAX_SENTIMENT_IDS <= dp.MAX_IDS


def test_sentiment_texts_at_their_limits_pass_and_past_them_name_the_limit():
    assert len(sentiment_texts({"texts": ["x" * dp.MAX_SENTIMENT_TEXT_CHARS] * dp.MAX_SENTIMENT_TEXTS})) == 100
    with pytest.raises(ParamError) as too_many:
        sentiment_texts({"texts": ["x"] * (dp.MAX_SENTIMENT_TEXTS + 1)})
    assert f"at most {dp.MAX_SENTIMENT_TEXTS} texts" in too_many.value.detail
    with pytest.raises(ParamError) as too_long:
        sentiment_texts({"texts": ["ok", "x" * (dp.MAX_SENTIMENT_TEXT_CHARS + 1)]})
    assert too_long.value.field == "texts"
    assert f"texts[1] is longer than {dp.MAX_SENTIMENT_TEXT_CHARS} characters" in too_long.value.detail


def test_the_largest_valid_sentiment_body_fits_the_body_limit_even_escaped():
    import json

    from healing.dataplane.app import MAX_SENTIMENT_REQUEST_BYTES

    body = {"texts": ["\u00e9" * dp.MAX_SENTIMENT_TEXT_CHARS] * dp.MAX_SENTIMENT_TEXTS}
    assert len(json.dumps(body, ensure_ascii=True).encode()) <= MAX_SENTIMENT_REQUEST_BYTES
