"""The base adapter's own rules, without any provider: what an AdapterError carries to the engine,
what an adapter that does not serve a capability says, and the HTTP status classes at their edges."""

import pytest

from providers.adapters.base import (
    Adapter,
    AdapterError,
    Outcome,
    PermanentError,
    ProviderError,
    RateLimitedError,
    UnsupportedCapability,
)


class Bare(Adapter):
    slug = "bare"


class Reporting(Adapter):
    """Reports every dict payload's "error" as a body error with code 7."""

    slug = "reporting"
    error_codes = {7: Outcome.PERMANENT}

    def body_error(self, payload):
        if isinstance(payload, dict) and "error" in payload:
            return ProviderError(payload["error"], code=7)
        return None


def test_an_adapter_error_carries_the_retry_after_it_was_given():
    """The engine turns AdapterError.retry_after_s into the failure's cool-down (http.py)."""
    assert AdapterError("slow down", outcome=Outcome.RATE_LIMITED, retry_after_s=12.5).retry_after_s == 12.5
    assert RateLimitedError("slow down", retry_after_s=3).retry_after_s == 3
    assert AdapterError("no hint").retry_after_s is None


def test_an_adapter_error_keeps_its_class_outcome_unless_given_one():
    assert AdapterError("x").outcome is Outcome.BAD_DATA
    assert PermanentError("x").outcome is Outcome.PERMANENT
    assert PermanentError("x", outcome=Outcome.TRANSIENT).outcome is Outcome.TRANSIENT
    assert str(AdapterError("the message")) == "the message"


@pytest.mark.parametrize("hook", ["build_request", "parse"])
def test_a_capability_the_adapter_does_not_implement_is_unsupported_and_named(hook):
    """The base hooks refuse with "<slug> does not serve <capability>" (the attempt's detail)."""
    args = ("price", {}) if hook == "build_request" else ("price", {}, {})
    with pytest.raises(UnsupportedCapability) as caught:
        getattr(Bare(), hook)(*args)
    assert str(caught.value) == "bare does not serve price"
    assert caught.value.outcome is Outcome.PERMANENT


def test_a_body_error_is_raised_with_the_slug_and_the_providers_summary():
    with pytest.raises(AdapterError) as caught:
        Reporting().raise_for_body_error({"error": "key revoked"})
    assert str(caught.value) == "reporting: key revoked"
    assert caught.value.outcome is Outcome.PERMANENT
    Reporting().raise_for_body_error({"data": 1})  # no error reported: nothing raised


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (407, Outcome.PERMANENT),
        (408, Outcome.TRANSIENT),  # request timeout
        (409, Outcome.PERMANENT),
        (424, Outcome.PERMANENT),
        (425, Outcome.TRANSIENT),  # too early
        (426, Outcome.PERMANENT),
        (417, Outcome.PERMANENT),
        (418, Outcome.RATE_LIMITED),
        (419, Outcome.PERMANENT),
        (428, Outcome.PERMANENT),
        (429, Outcome.RATE_LIMITED),
        (430, Outcome.PERMANENT),
        (499, Outcome.PERMANENT),
        (500, Outcome.TRANSIENT),
        (599, Outcome.TRANSIENT),
    ],
)
def test_http_status_classes_at_their_edges(status, outcome):
    """Only 408 and 425 among the 4xx are worth a retry; 418 and 429 are rate limits."""
    assert Bare().classify_http_error(status, None) is outcome


class Refining(Adapter):
    """Reports {"missing": ...} as "no such thing" and lets that refine the HTTP status."""

    slug = "refining"
    error_codes = {"missing": Outcome.NOT_FOUND, "slow": Outcome.RATE_LIMITED}
    body_overrides_status = frozenset({Outcome.RATE_LIMITED, Outcome.NOT_FOUND})

    def body_error(self, payload):
        return ProviderError("reported", code=payload["code"]) if isinstance(payload, dict) else None


@pytest.mark.parametrize(("status", "outcome"), [
    (400, Outcome.NOT_FOUND), (404, Outcome.NOT_FOUND), (409, Outcome.NOT_FOUND), (419, Outcome.NOT_FOUND),
    (426, Outcome.NOT_FOUND), (451, Outcome.NOT_FOUND), (499, Outcome.NOT_FOUND),
    # A retry-worthy status, a rate limit and a server error stay what the status says.
    (408, Outcome.TRANSIENT), (425, Outcome.TRANSIENT), (418, Outcome.RATE_LIMITED), (429, Outcome.RATE_LIMITED),
    (500, Outcome.TRANSIENT), (501, Outcome.TRANSIENT), (503, Outcome.TRANSIENT),
])
def test_not_found_in_the_body_refines_only_a_plain_refusal(status, outcome):
    assert Refining().classify_http_error(status, {"code": "missing"}) is outcome


@pytest.mark.parametrize("status", [400, 404, 500, 503])
def test_a_rate_limit_in_the_body_overrides_any_status(status):
    assert Refining().classify_http_error(status, {"code": "slow"}) is Outcome.RATE_LIMITED


def test_an_answer_that_is_not_json_or_nests_past_the_decoders_reach_is_bad_data():
    from providers.adapters.base import BadData

    assert Bare().decode(b'{"ok": [1]}') == {"ok": [1]}
    for body in (b"<html>", b"\xff\xfe", b"[" * 100_000 + b"]" * 100_000):
        with pytest.raises(BadData) as caught:
            Bare().decode(body)
        assert caught.value.outcome == Outcome.BAD_DATA and "bare: answer is not JSON" in str(caught.value)
