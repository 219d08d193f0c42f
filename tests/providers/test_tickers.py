"""make_ticker: what follows from what a provider gives (and nothing more), and what it refuses."""

import math

import pytest

from providers.adapters.base import BadData, Outcome
from providers.tickers import Ticker, make_ticker

PARAMS = {"id": "bitcoin", "vs": "usdt"}


def ticker(**values):
    return make_ticker(slug="test", params=PARAMS, pair="BTCUSDT", **values)


def test_only_the_last_price_is_required_and_nothing_is_invented():
    assert ticker(last="109600.5") == Ticker("bitcoin", "usdt", "BTCUSDT", 109600.5).to_dict()


def test_change_and_percent_follow_from_the_open_without_float_noise():
    got = ticker(last="0.3", open="0.1")
    assert (got["open"], got["change"], got["change_pct"]) == (0.1, 0.2, 200.0)
    assert ticker(last=110, open=100)["change_pct"] == 10.0


def test_the_open_follows_from_the_change_when_only_the_change_is_given():
    got = ticker(last=109612, change=1298)
    assert (got["open"], got["change"], got["change_pct"]) == (108314.0, 1298.0, 1.1984)


def test_the_provider_s_own_change_and_percent_are_kept():
    got = ticker(last="110", open="100", change="9.99", change_pct="9.98")
    assert (got["change"], got["change_pct"]) == (9.99, 9.98)


def test_numbers_arrive_as_numbers_and_trades_as_a_whole_number():
    got = ticker(last="2.5", volume="10", quote_volume="25.0", bid="2.4", bid_size="3", ask="2.5", ask_size="0",
                 trades="42", open_time="2025-06-09T12:00:00Z", close_time="2025-06-10T12:00:00Z")
    assert (got["volume"], got["quote_volume"], got["bid"], got["bid_size"], got["ask_size"]) == (
        10.0, 25.0, 2.4, 3.0, 0.0)
    assert got["trades"] == 42 and isinstance(got["trades"], int)


def test_a_bid_equal_to_the_ask_is_a_locked_book_not_a_lie():
    assert ticker(last=100, bid=100, ask=100)["bid"] == 100.0


@pytest.mark.parametrize("values", [
    {"last": None}, {"last": ""}, {"last": 0}, {"last": "-1"}, {"last": "NaN"}, {"last": math.inf}, {"last": "abc"},
    {"last": True},
    {"last": 100, "high": 90, "low": 95},  # high below low
    {"last": 100, "bid": 100.5, "ask": 100.1},  # a bid above the ask
    {"last": 150, "high": 101, "low": 95},  # last far outside the day's range
    {"last": 100, "open": 50, "high": 101, "low": 95},  # the open too
    {"last": 100, "change": 100},  # an open of 0
    {"last": 100, "change": 150},  # a negative open
    {"last": 100, "open": 0},
    {"last": 100, "volume": "-1"},
    {"last": 100, "quote_volume": -5},
    {"last": 100, "bid_size": -0.1},
    {"last": 100, "trades": -3},
    {"last": 100, "vwap": 0},
    {"last": 100, "bid": -1},
    {"last": 100, "open_time": "2025-06-10T12:00:01Z", "close_time": "2025-06-10T12:00:00Z"},
])
def test_implausible_values_are_bad_data(values):
    with pytest.raises(BadData) as caught:
        ticker(**values)
    assert caught.value.outcome == Outcome.BAD_DATA


def test_a_last_price_a_tick_outside_the_range_is_tolerated():
    # Fields read from two snapshots a moment apart: within 1 % of the range's edge.
    assert ticker(last=101.5, high=101, low=95)["last"] == 101.5
