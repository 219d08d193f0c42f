"""Parameters of /api/data/candles and /api/data/orderbook: normalization and 400s naming the field."""

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
])
def test_bad_parameters_name_their_field(name, query, field):
    with pytest.raises(ParamError) as caught:
        parse_request(name, query)
    assert caught.value.field == field
    assert caught.value.status == 400
