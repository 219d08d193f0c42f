"""Parameters of /api/data/candles, /api/data/orderbook and /api/data/ticker: normalization, 400s naming
the field and 404s for coins nobody has."""

import pytest

from healing.dataplane.params import ParamError, parse_request


def test_candles_normalize_so_equal_requests_share_a_cache_key():
    a = parse_request("candles", {"id": " Bitcoin", "vs": "USD", "interval": "4h", "limit": "24",
                                  "start": "2025-06-10T09:30:00Z"})
    b = parse_request("candles", {"id": "bitcoin", "interval": "4h", "limit": "24", "start": "1749546000"})
    # Both starts fall inside the 08:00 candle, so both mean "from the 12:00 candle on".
    assert a.params == b.params == {"id": "bitcoin", "vs": "usd", "interval": "4h", "limit": 24,
                                    "start": 1749556800}
    assert a.capability == "candles"


def test_a_start_without_an_offset_is_utc_and_one_on_a_boundary_stays():
    assert parse_request("candles", {"id": "bitcoin", "start": "2025-06-10T12:00:00"}).params["start"] == 1749556800
    assert parse_request("candles", {"id": "bitcoin", "start": "2025-06-10T14:00:00+02:00"}).params["start"] == (
        1749556800)


def test_orderbook_params():
    req = parse_request("orderbook", {"id": "ethereum", "vs": "eur", "depth": "100"})
    assert (req.capability, req.params) == ("orderbook", {"id": "ethereum", "vs": "eur", "depth": 100})


def test_ticker_params_name_one_coin_by_id_or_symbol_and_a_lower_case_quote():
    req = parse_request("ticker", {"id": "BTC", "vs": "USDT"})
    assert (req.capability, req.params) == ("ticker", {"id": "bitcoin", "vs": "usdt"})
    assert parse_request("ticker", {"id": "ethereum"}).params == {"id": "ethereum", "vs": "usd"}


@pytest.mark.parametrize("query", [{"id": "eth:0x" + "12" * 20}, {"id": "NOSUCH.COIN"}])
def test_a_ticker_of_a_coin_nobody_has_is_a_404_naming_id(query):
    with pytest.raises(ParamError) as caught:
        parse_request("ticker", query)
    assert (caught.value.field, caught.value.status) == ("id", 404)


@pytest.mark.parametrize(("name", "query", "field"), [
    ("candles", {}, "id"),
    ("candles", {"id": "bitcoin,ethereum"}, "id"),
    ("candles", {"id": "Bit coin!"}, "id"),
    ("candles", {"id": "x" * 101}, "id"),
    ("candles", {"id": "bitcoin", "interval": "2h"}, "interval"),
    ("candles", {"id": "bitcoin", "limit": "0"}, "limit"),
    ("candles", {"id": "bitcoin", "limit": "1001"}, "limit"),
    ("candles", {"id": "bitcoin", "start": "yesterday"}, "start"),
    ("candles", {"id": "bitcoin", "start": "1749556800000"}, "start"),  # milliseconds, not seconds
    ("candles", {"id": "bitcoin", "vs": "u$d"}, "vs"),
    ("candles", {"ids": "bitcoin"}, "ids"),  # the price endpoint's spelling is refused, not ignored
    ("orderbook", {}, "id"),
    ("orderbook", {"id": "bitcoin", "depth": "101"}, "depth"),
    ("orderbook", {"id": "bitcoin", "depth": "ten"}, "depth"),
    ("orderbook", {"id": "bitcoin", "interval": "1h"}, "interval"),
    ("orderbook", {"id": "bitcoin", "consensus": "3"}, "consensus"),
    ("ticker", {}, "id"),
    ("ticker", {"vs": "usdt"}, "id"),
    ("ticker", {"id": "bitcoin,ethereum"}, "id"),
    ("ticker", {"id": "bitcoin", "vs": "u$dt"}, "vs"),
    ("ticker", {"id": "bitcoin", "depth": "5"}, "depth"),
    ("ticker", {"ids": "bitcoin"}, "ids"),
    ("ticker", {"id": "bitcoin", "consensus": "2"}, "consensus"),
])
def test_bad_parameters_name_their_field(name, query, field):
    with pytest.raises(ParamError) as caught:
        parse_request(name, query)
    assert caught.value.field == field
    assert caught.value.status == 400
