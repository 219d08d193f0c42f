"""A pair an exchange does not list (or a coin CoinGecko does not know) is "not found": the caller's
mistake, which no breaker counts and which the next provider may still know; when every provider
asked says so, the answer is a 404. Other refusals stay permanent, and a rate limit still wins."""

import pytest

from providers.adapters.base import AdapterError, Outcome, ProviderError
from providers.registry import get_adapter


@pytest.mark.parametrize(("slug", "status", "body", "outcome"), [
    ("binance", 400, {"code": -1121, "msg": "Invalid symbol."}, Outcome.NOT_FOUND),
    ("binance", 400, {"code": -1100, "msg": "Illegal characters found in parameter 'symbol'"}, Outcome.PERMANENT),
    ("binance", 429, {"code": -1003, "msg": "Too many requests."}, Outcome.RATE_LIMITED),
    ("okx", 400, {"code": "51001", "msg": "Instrument ID does not exist", "data": []}, Outcome.NOT_FOUND),
    ("okx", 400, {"code": "51000", "msg": "Parameter instId error", "data": []}, Outcome.PERMANENT),
    ("coingecko", 404, {"error": "coin not found"}, Outcome.NOT_FOUND),
])
def test_http_answers_saying_no_such_pair_are_not_found(slug, status, body, outcome):
    assert get_adapter(slug).classify_http_error(status, body) == outcome


@pytest.mark.parametrize(("slug", "body", "outcome"), [
    ("okx", {"code": "51001", "msg": "Instrument ID does not exist", "data": []}, Outcome.NOT_FOUND),
    ("okx", {"code": "51008", "msg": "Order failed", "data": []}, Outcome.PERMANENT),
    ("okx", {"code": "50011", "msg": "Too Many Requests", "data": []}, Outcome.RATE_LIMITED),
    ("kraken", {"error": ["EQuery:Unknown asset pair"], "result": {}}, Outcome.NOT_FOUND),
    ("kraken", {"error": ["EQuery:Invalid asset pair"], "result": {}}, Outcome.PERMANENT),
    ("kraken", {"error": ["EAPI:Rate limit exceeded"], "result": {}}, Outcome.RATE_LIMITED),
])
def test_errors_inside_http_200_saying_no_such_pair_are_not_found(slug, body, outcome):
    with pytest.raises(AdapterError) as raised:
        get_adapter(slug).raise_for_body_error(body)
    assert raised.value.outcome == outcome


def test_a_rate_limit_wins_over_not_found_and_not_found_over_a_refusal():
    adapter = get_adapter("kraken")
    both = ProviderError("two errors", text="EQuery:Unknown asset pair; EAPI:Rate limit exceeded")
    assert adapter.error_outcome(both) == Outcome.RATE_LIMITED
    assert adapter.error_outcome(ProviderError("one", text="EQuery:Unknown asset pair")) == Outcome.NOT_FOUND
    assert not Outcome.NOT_FOUND.counts_against_breaker


@pytest.mark.parametrize(("status", "outcome"), [
    (400, Outcome.NOT_FOUND), (404, Outcome.NOT_FOUND), (429, Outcome.RATE_LIMITED), (418, Outcome.RATE_LIMITED),
    (408, Outcome.TRANSIENT), (500, Outcome.TRANSIENT), (503, Outcome.TRANSIENT), (451, Outcome.PERMANENT),
])
def test_not_found_in_a_body_refines_only_a_plain_refusal(status, outcome):
    assert get_adapter("binance").classify_http_error(status, {"code": -1121, "msg": "Invalid symbol."}) == outcome
