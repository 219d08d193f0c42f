"""The chain's rules of fallback and retry, on virtual time (healing.engine.chain).

Skips, unpreparable candidates, refused gates, one retry per provider after a transient failure
or timeout (full-jitter backoff, a gate of its own, never past the deadline), the attempt records
and what the recorder is told. Hedging, the deadline and cancellation: test_chain_hedge.py."""

import logging

import pytest

from healing.engine.chain import Exhausted, backoff_cap
from healing.engine.errors import Attempt
from healing.engine.http import DETAIL_MAX_CHARS
from providers.adapters.base import AdapterError, Outcome
from tests.healing.engine.chain_doubles import (
    Calls,
    Cand,
    Fixed,
    Recorder,
    Sleeps,
    TopOfRange,
    chain,
    crashes,
    fails,
    ok,
    run,
    table,
    walk,
)


def test_the_first_answer_wins_and_is_recorded_with_its_latency():
    rec = Recorder()
    calls = Calls(a=[ok(0.25, value={"p": 1})], b=[ok()])

    async def go():
        ch = chain(rec)
        cand = Cand("a")
        winner = await ch.run([cand, Cand("b")], calls)
        return ch, cand, winner

    ch, cand, winner = run(go())
    assert winner == (cand, {"p": 1})
    assert table(ch.attempts) == [("a", "ok", 250.0, "")]
    assert calls.log[0][2] == "request-of-a"  # the prepared request reaches the call
    assert rec.events == [("admit", "a", False), ("finished", "a", "ok", 250.0, "", None), ("flush",)]


def test_the_call_gets_the_chains_deadline():
    calls = Calls(a=[ok()])

    async def go():
        ch = chain(Recorder(), deadline_s=2.5)
        await ch.run([Cand("a")], calls)
        return ch.deadline

    deadline = run(go())
    assert calls.log[0][3] == deadline == 1002.5


def test_no_candidates_is_exhausted_and_still_flushes():
    rec = Recorder()
    result, attempts = walk(rec, [], Calls())
    assert isinstance(result, Exhausted) and attempts == []
    assert rec.events == [("flush",)]



def test_a_permanent_failure_is_not_retried_and_the_next_candidate_answers():
    rec = Recorder()
    calls = Calls(a=[fails("permanent", 0.1, "HTTP 403")], b=[ok(0.05)])
    (cand, value), attempts = walk(rec, [Cand("a"), Cand("b")], calls)
    assert (cand.slug, value) == ("b", "v")
    assert table(attempts) == [("a", "permanent", 100.0, "HTTP 403"), ("b", "ok", 50.0, "")]
    assert calls.called() == ["a", "b"]


@pytest.mark.parametrize("outcome", ["transient", "timeout"])
def test_a_transient_failure_or_timeout_is_retried_once_then_the_next_provider(outcome):
    """RETRIES_PER_PROVIDER = 1: two calls on the provider, then the fallback."""
    rec, sleep = Recorder(), Sleeps()
    calls = Calls(a=[fails(outcome, 0.1, "first"), fails(outcome, 0.1, "second")], b=[ok()])
    (cand, _), attempts = walk(rec, [Cand("a"), Cand("b")], calls, sleep=sleep, rng=TopOfRange(0.5))
    assert cand.slug == "b"
    assert table(attempts) == [("a", outcome, 100.0, "first"), ("a", outcome, 100.0, "second"),
                                         ("b", "ok", 0.0, "")]
    assert sleep.delays == [0.05]  # half of backoff_cap(1) = 0.1
    # The retry starts after the first call plus its backoff.
    assert calls.times("a") == [0.0, pytest.approx(0.15)]
    assert rec.of("admit") == [("a", False), ("a", True), ("b", False)]


def test_a_retry_that_succeeds_answers():
    rec = Recorder()
    calls = Calls(a=[fails("transient", 0.1), ok(0.02, value=7)])
    (cand, value), attempts = walk(rec, [Cand("a"), Cand("b")], calls)
    assert (cand.slug, value) == ("a", 7)
    assert [a.outcome for a in attempts] == ["transient", "ok"]
    assert rec.of("finished")[-1] == ("a", "ok", 20.0, "", None)


def test_the_backoff_is_full_jitter_over_the_first_retrys_cap():
    rng = TopOfRange(1.0)
    calls = Calls(a=[fails("transient"), ok()])
    walk(Recorder(), [Cand("a")], calls, rng=rng)
    assert rng.ranges == [(0, backoff_cap(1))] == [(0, 0.1)]
    assert calls.times("a") == [0.0, pytest.approx(0.1)]


def test_a_retry_whose_backoff_would_reach_the_deadline_is_not_made():
    """loop time + delay >= deadline: give up on the provider, the transient failure stands."""
    rec = Recorder()
    # The failure ends 0.0625 s before the deadline and the backoff is 0.0625 s: it would end at it.
    calls = Calls(a=[fails("transient", 0.9375)])
    result, attempts = walk(rec, [Cand("a")], calls, deadline_s=1.0, rng=Fixed(0.0625))
    assert isinstance(result, Exhausted)
    assert calls.called() == ["a"]
    assert [a.outcome for a in attempts] == ["transient"]
    assert rec.of("admit") == [("a", False)]


def test_a_retry_whose_backoff_ends_just_before_the_deadline_is_made():
    calls = Calls(a=[fails("transient", 0.9375 - 2**-10), ok(0.0)])
    (cand, _), _ = walk(Recorder(), [Cand("a")], calls, deadline_s=1.0, rng=Fixed(0.0625))
    assert calls.called() == ["a", "a"] and cand.slug == "a"


def test_a_provider_failing_its_retry_too_is_a_failure_not_a_crash(caplog):
    """The last transient failure is what the provider's run ends with."""
    calls = Calls(a=[fails("transient"), fails("timeout")], b=[ok()])
    with caplog.at_level(logging.ERROR, logger="healing.engine.chain"):
        (cand, _), attempts = walk(Recorder(), [Cand("a"), Cand("b")], calls)
    assert cand.slug == "b"
    assert [a.outcome for a in attempts] == ["transient", "timeout", "ok"]
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_a_retry_refused_by_its_gate_is_a_skip_and_the_next_provider_follows():
    """The retry needs its own token and breaker: a refusal is recorded with its end, no call is made."""
    rec = Recorder(refuse={("a", True): ("skipped_budget", "budget 1/second spent before the retry", 1234.5)})
    calls = Calls(a=[fails("transient", 0.1, "HTTP 503")], b=[ok()])
    (cand, _), attempts = walk(rec, [Cand("a"), Cand("b")], calls)
    assert cand.slug == "b"
    assert calls.called() == ["a", "b"]
    assert table(attempts) == [("a", "transient", 100.0, "HTTP 503"),
                               ("a", "skipped_budget", 0.0, "budget 1/second spent before the retry"),
                               ("b", "ok", 0.0, "")]
    assert attempts[1].retry_at == 1234.5
    assert rec.of("skipped") == [("a", "skipped_budget")]


def test_a_provider_that_fails_every_way_leaves_the_chain_exhausted_with_every_attempt():
    rec = Recorder()
    calls = Calls(a=[fails("transient"), fails("bad_data", detail="not JSON")], b=[fails("rate_limited", 0.01)])
    result, attempts = walk(rec, [Cand("a"), Cand("b")], calls)
    assert isinstance(result, Exhausted)
    assert [(a.provider, a.outcome) for a in attempts] == [
        ("a", "transient"), ("a", "bad_data"), ("b", "rate_limited")]
    assert rec.events[-1] == ("flush",)


def test_a_failures_retry_after_reaches_the_recorder_and_its_answer_is_the_attempts_retry_at():
    rec = Recorder(until={"a": 2000.0})
    calls = Calls(a=[fails("rate_limited", 0.01, "HTTP 429", retry_after_s=7.0)], b=[ok()])
    _, (first, second) = walk(rec, [Cand("a"), Cand("b")], calls)
    assert rec.of("finished")[0] == ("a", "rate_limited", 10.0, "HTTP 429", 7.0)
    assert (first.retry_at, second.retry_at) == (2000.0, None)


def test_a_skipped_candidate_is_recorded_in_order_with_its_end_and_never_called():
    rec = Recorder()
    skip = Cand("a", skip="skipped_breaker_open", skip_detail="breaker open for 30 s", skip_until=1030.0)
    calls = Calls(b=[ok()])
    _, attempts = walk(rec, [skip, Cand("b")], calls)
    assert attempts[0] == Attempt("a", "skipped_breaker_open", 0.0, "breaker open for 30 s")
    assert attempts[0].retry_at == 1030.0
    assert calls.prepared == ["b"] and calls.called() == ["b"]
    assert rec.events[:2] == [("skipped", "a", "skipped_breaker_open"), ("admit", "b", False)]


def test_a_candidate_refused_at_its_first_gate_is_a_skip_with_the_gates_end():
    rec = Recorder(refuse={("a", False): ("skipped_breaker_open", "half-open: another caller holds the probe", None)})
    calls = Calls(b=[ok()])
    _, attempts = walk(rec, [Cand("a"), Cand("b")], calls)
    assert table(attempts)[0] == ("a", "skipped_breaker_open", 0.0, "half-open: another caller holds the probe")
    assert attempts[0].retry_at is None
    assert rec.of("skipped") == [("a", "skipped_breaker_open")]
    assert calls.called() == ["b"]


def test_a_candidate_whose_request_cannot_be_built_is_recorded_but_not_gated_or_called():
    """prepare's AdapterError: its outcome and (shortened) message, no token taken, no skip counted."""
    rec = Recorder()
    calls = Calls(b=[ok()])
    calls.unpreparable["a"] = AdapterError("x" * 300, outcome=Outcome.PERMANENT)
    _, attempts = walk(rec, [Cand("a"), Cand("b")], calls)
    assert table(attempts)[0] == ("a", "permanent", 0.0, "x" * DETAIL_MAX_CHARS)
    assert rec.of("admit") == [("b", False)]
    assert rec.of("skipped") == []


def test_a_crashing_call_is_logged_and_the_next_provider_answers(caplog):
    """A bug in one attempt (not a Failure) does not fail the request."""
    calls = Calls(a=[crashes(0.01)], b=[ok(value=3)])
    with caplog.at_level(logging.ERROR, logger="healing.engine.chain"):
        (cand, value), _ = walk(Recorder(), [Cand("a"), Cand("b")], calls)
    assert (cand.slug, value) == ("b", 3)
    crashed = [r for r in caplog.records if r.getMessage() == "attempt on a crashed"]
    assert len(crashed) == 1 and crashed[0].exc_info[0] is RuntimeError


def test_a_failure_is_not_logged_as_a_crash(caplog):
    calls = Calls(a=[fails("permanent")], b=[ok()])
    with caplog.at_level(logging.ERROR, logger="healing.engine.chain"):
        walk(Recorder(), [Cand("a"), Cand("b")], calls)
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
