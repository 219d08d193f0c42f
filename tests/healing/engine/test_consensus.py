"""Consensus maths (pure): medians, spreads, outliers and the median answer in the normalized shape."""

import math

import pytest

from healing.engine.consensus import compare, deviation_pct, judge, key_values, median_answer, median_record


def quote(coin, price, **extra):
    return {"id": coin, "symbol": coin[:3].upper(), "vs": "usd", "price": price, "market_cap": None,
            "volume_24h": None, "change_24h_pct": None, "last_updated": None, **extra}


def test_deviation_is_in_percent_of_the_median():
    assert deviation_pct(102.0, 100.0) == pytest.approx(2.0)
    assert deviation_pct(95.0, 100.0) == pytest.approx(5.0)
    assert deviation_pct(0.0, 0.0) == 0.0
    assert deviation_pct(1.0, 0.0) == math.inf


def test_compare_flags_values_beyond_the_threshold_only():
    result = compare("bitcoin", {"a": 100.0, "b": 101.0, "c": 99.5, "d": 110.0}, 2.0)
    assert result.median == 100.5
    assert result.outliers == ("d",)
    assert (result.low, result.high, result.spread) == (99.5, 110.0, 10.5)
    assert result.spread_pct == pytest.approx(10.5 / 100.5 * 100)
    assert result.deviation_pct["b"] == pytest.approx(0.4975, abs=1e-4)


def test_a_value_exactly_at_the_threshold_is_not_an_outlier():
    assert compare("x", {"a": 100.0, "b": 100.0, "c": 102.0}, 2.0).outliers == ()


def test_two_disagreeing_providers_name_no_outlier():
    result = compare("bitcoin", {"a": 100.0, "b": 150.0}, 2.0)
    assert result.outliers == ()
    assert result.median == 125.0
    assert result.spread_pct == pytest.approx(40.0)


def test_compare_needs_values():
    with pytest.raises(ValueError):
        compare("x", {}, 2.0)


def test_key_values_per_capability():
    assert key_values("price", [quote("bitcoin", 100.0), quote("ethereum", 5.0)]) == {"bitcoin": 100.0, "ethereum": 5.0}
    assert key_values("global", {"total_market_cap": 3e12, "btc_dominance_pct": 60.0}) == {"total_market_cap": 3e12}
    assert key_values("gas", {"chain": "ethereum", "standard": 1.5, "fast": 3.0}) == {"standard": 1.5}
    assert key_values("gas", {"standard": None}) == {}
    assert key_values("news", [{"title": "x"}]) == {}


def test_median_record_keeps_the_shape_counts_whole_and_the_newest_time():
    records = [
        {"vs": "usd", "total_market_cap": 3.0e12, "active_coins": 100, "btc_dominance_pct": None,
         "updated_at": "2026-01-01T00:00:00Z"},
        {"vs": "usd", "total_market_cap": 3.3e12, "active_coins": 103, "btc_dominance_pct": 60.0,
         "updated_at": "2026-01-01T00:05:00Z"},
        {"vs": "usd", "total_market_cap": 3.1e12, "active_coins": 102, "btc_dominance_pct": 62.0,
         "updated_at": None},
    ]
    assert median_record(records) == {"vs": "usd", "total_market_cap": 3.1e12, "active_coins": 102,
                                      "btc_dominance_pct": 61.0, "updated_at": "2026-01-01T00:05:00Z"}


def test_median_answer_of_prices_is_a_quote_list_in_the_first_answers_order():
    answers = {
        "a": [quote("bitcoin", 100.0), quote("ethereum", 10.0)],
        "b": [quote("bitcoin", 102.0), quote("ethereum", 11.0)],
        "c": [quote("bitcoin", 101.0), quote("ethereum", 12.0)],
    }
    result = median_answer("price", answers)
    assert [(q["id"], q["price"]) for q in result] == [("bitcoin", 101.0), ("ethereum", 11.0)]
    assert set(result[0]) == set(quote("bitcoin", 1.0))


def test_judge_names_each_outlier_with_its_deviation():
    answers = {
        "a": [quote("bitcoin", 100.0), quote("ethereum", 10.0)],
        "b": [quote("bitcoin", 100.5), quote("ethereum", 10.0)],
        "c": [quote("bitcoin", 150.0), quote("ethereum", 10.1)],
    }
    verdict = judge("price", answers, 2.0)
    assert list(verdict.outliers) == ["c"]
    assert verdict.outliers["c"] == {"bitcoin": pytest.approx(49.2537, abs=1e-3)}
    assert verdict.values["ethereum"].outliers == ()
    assert [q["price"] for q in verdict.median] == [100.5, 10.0]
    as_dict = verdict.values["bitcoin"].to_dict()
    assert as_dict["by_provider"] == {"a": 100.0, "b": 100.5, "c": 150.0}
    assert as_dict["outliers"] == ["c"]


def test_infinite_deviations_become_null_in_the_json_shape():
    assert compare("x", {"a": 0.0, "b": 0.0, "c": 1.0}, 2.0).to_dict()["deviation_pct"]["c"] is None
