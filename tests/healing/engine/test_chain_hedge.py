"""The chain's hedging, its deadline and what it cancels, on virtual time (healing.engine.chain).

Times are binary fractions of a second (0.25, 0.125, ...), so loop times and latencies are exact
and the rules are pinned at their boundaries: a hedge starts at launch + max(hedge floor, p90),
at most two providers run at once, nothing outlives the deadline (plus the grace left for the
records), hedge losers are `cancelled`, deadline victims `timeout`, each "overran" only if it ran
at least its hedge timer."""

import logging

import pytest

from healing.engine.chain import Exhausted
from tests.healing.engine.chain_doubles import Calls, Cand, Recorder, TopOfRange, chain, fails, ok, run, table, walk

FLOOR_MS = 250.0  # the hedge floor of these tests: a hedge after 0.25 s unless p90 says more


def hedged(rec, cands, calls, **kw):
    return walk(rec, cands, calls, hedge_floor_ms=FLOOR_MS, **kw)


def test_a_slow_attempt_is_hedged_at_the_floor_and_the_loser_cancelled():
    rec = Recorder()
    calls = Calls(a=[ok(1.0, value="late")], b=[ok(0.25, value="fast")])
    (cand, value), attempts = hedged(rec, [Cand("a"), Cand("b")], calls)
    assert (cand.slug, value) == ("b", "fast")
    assert calls.times("b") == [0.25]
    assert table(attempts) == [("b", "ok", 250.0, ""), ("a", "cancelled", 500.0, "a faster provider answered")]
    # The loser ran past its hedge timer: it was the slow one, which counts against it.
    assert rec.of("cut_short") == [("a", "cancelled", 500.0, True)]


def test_the_hedge_is_logged_with_the_slow_provider_and_its_timer(caplog):
    calls = Calls(a=[ok(5.0)], b=[ok(0.125)])
    with caplog.at_level(logging.INFO, logger="healing.engine.chain"):
        hedged(Recorder(), [Cand("a", p90_ms=2000.0), Cand("b")], calls)
    assert [r.getMessage() for r in caplog.records if r.name == "healing.engine.chain"] == ["hedging a after 2000 ms"]


def test_without_a_floor_an_unknown_p90_hedges_at_once():
    """The timer is max(floor, p90): an unmeasured provider adds nothing to a zero floor."""
    calls = Calls(a=[ok(1.0)], b=[ok(0.125)])
    walk(Recorder(), [Cand("a"), Cand("b")], calls, hedge_floor_ms=0.0)
    assert calls.times("b") == [0.0]


def test_the_hedge_timer_is_the_providers_p90_when_it_is_above_the_floor():
    calls = Calls(a=[ok(1.0)], b=[ok(0.125)])
    hedged(Recorder(), [Cand("a", p90_ms=375.0), Cand("b")], calls)
    assert calls.times("b") == [0.375]


def test_a_p90_below_the_floor_or_unknown_leaves_the_floor():
    for p90 in (125.0, None):
        calls = Calls(a=[ok(1.0)], b=[ok(0.125)])
        hedged(Recorder(), [Cand("a", p90_ms=p90), Cand("b")], calls)
        assert calls.times("b") == [0.25]


def test_an_attempt_within_its_hedge_timer_is_not_hedged():
    calls = Calls(a=[ok(0.25 - 2**-10)], b=[ok()])
    (cand, _), attempts = hedged(Recorder(), [Cand("a"), Cand("b")], calls)
    assert cand.slug == "a" and calls.called() == ["a"]
    assert [a.outcome for a in attempts] == ["ok"]


def test_a_loser_cancelled_before_its_own_hedge_timer_did_not_overrun():
    rec = Recorder()
    calls = Calls(a=[ok(0.375)], b=[ok(1.0)])
    (cand, _), attempts = hedged(rec, [Cand("a"), Cand("b")], calls)
    assert cand.slug == "a"
    assert table(attempts) == [("a", "ok", 375.0, ""), ("b", "cancelled", 125.0, "a faster provider answered")]
    assert rec.of("cut_short") == [("b", "cancelled", 125.0, False)]


def test_a_loser_cancelled_exactly_at_its_hedge_timer_overran():
    rec = Recorder()
    calls = Calls(a=[ok(0.5)], b=[ok(1.0)])
    hedged(rec, [Cand("a"), Cand("b")], calls)
    assert rec.of("cut_short") == [("b", "cancelled", 250.0, True)]


def test_without_hedging_a_slow_attempt_runs_alone():
    calls = Calls(a=[ok(1.0)], b=[ok()])
    (cand, _), _ = hedged(Recorder(), [Cand("a"), Cand("b")], calls, hedge=False)
    assert cand.slug == "a" and calls.called() == ["a"]


def test_no_hedge_when_only_skipped_candidates_are_left():
    rec = Recorder()
    calls = Calls(a=[ok(1.0)])
    (cand, _), attempts = hedged(rec, [Cand("a"), Cand("b", skip="skipped_no_key")], calls)
    assert cand.slug == "a" and [a.outcome for a in attempts] == ["ok"]
    assert rec.of("skipped") == []  # the skip was never reached


def test_a_hedge_passes_over_skipped_candidates_to_the_next_live_one():
    rec = Recorder()
    calls = Calls(a=[ok(1.0)], c=[ok(0.125)])
    (cand, _), attempts = hedged(rec, [Cand("a"), Cand("b", skip="skipped_no_key", skip_detail="needs a key"),
                                       Cand("c")], calls)
    assert cand.slug == "c" and calls.times("c") == [0.25]
    assert table(attempts)[0] == ("b", "skipped_no_key", 0.0, "needs a key")


def test_at_most_two_providers_run_at_once():
    calls = Calls(a=[ok(1.0)], b=[ok(1.0)], c=[ok()])
    (cand, _), _ = hedged(Recorder(), [Cand("a"), Cand("b"), Cand("c")], calls)
    assert cand.slug == "a" and calls.called() == ["a", "b"]


def test_a_failed_hedge_lets_the_next_provider_start_at_once_beside_the_slow_one():
    """The hedge failed while the original is still the slow one: no new timer to wait out."""
    calls = Calls(a=[ok(2.0)], b=[fails("permanent", 0.125)], c=[ok(0.125, value="c")])
    (cand, _), attempts = hedged(Recorder(), [Cand("a"), Cand("b"), Cand("c")], calls)
    assert cand.slug == "c"
    assert calls.times("c") == [0.375]
    assert [(a.provider, a.outcome) for a in attempts] == [("b", "permanent"), ("c", "ok"), ("a", "cancelled")]


def test_when_the_original_fails_the_hedge_keeps_its_own_timer():
    calls = Calls(a=[fails("permanent", 0.375)], b=[ok(2.0)], c=[ok(0.125)])
    (cand, _), _ = hedged(Recorder(), [Cand("a"), Cand("b"), Cand("c")], calls)
    assert cand.slug == "c"
    assert calls.times("b") == [0.25]
    assert calls.times("c") == [0.5]  # b's launch + 0.25, not at a's failure


def test_a_hedge_whose_candidates_are_all_refused_is_not_tried_again():
    rec = Recorder(refuse={("b", False): ("skipped_budget", "budget spent", None)})
    calls = Calls(a=[ok(1.0)])
    (cand, _), attempts = hedged(rec, [Cand("a"), Cand("b")], calls)
    assert cand.slug == "a"
    assert rec.of("admit") == [("a", False), ("b", False)]
    assert [(a.provider, a.outcome) for a in attempts] == [("b", "skipped_budget"), ("a", "ok")]


def test_when_every_running_provider_fails_the_next_one_is_launched():
    calls = Calls(a=[fails("permanent", 0.125)], b=[fails("bad_data", 0.125)], c=[ok()])
    (cand, _), _ = hedged(Recorder(), [Cand("a"), Cand("b"), Cand("c")], calls)
    assert cand.slug == "c" and calls.times("b") == [0.125] and calls.times("c") == [0.25]


def test_a_hedge_never_starts_at_or_after_the_deadline():
    calls = Calls(a=[ok(0.625)], b=[ok()])
    result, attempts = walk(Recorder(), [Cand("a"), Cand("b")], calls, hedge_floor_ms=500.0, deadline_s=0.5)
    assert isinstance(result, Exhausted) and calls.called() == ["a"]
    assert table(attempts) == [("a", "timeout", 550.0, "request deadline reached")]


def test_at_the_deadline_what_still_runs_is_a_timeout_after_the_grace():
    """DEADLINE_GRACE_S = 0.05 is left for the records, then the rest is cut short as `timeout`."""
    rec = Recorder()
    calls = Calls(a=[ok(5.0)])
    result, attempts = walk(rec, [Cand("a")], calls, hedge_floor_ms=1000.0, deadline_s=1.0)
    assert isinstance(result, Exhausted)
    assert table(attempts) == [("a", "timeout", 1050.0, "request deadline reached")]
    assert rec.of("cut_short") == [("a", "timeout", 1050.0, True)]
    assert rec.events[-1] == ("flush",)


def test_a_deadline_victim_within_its_usual_latency_did_not_overrun():
    rec = Recorder()
    walk(rec, [Cand("a")], Calls(a=[ok(5.0)]), hedge_floor_ms=2000.0, deadline_s=1.0)
    assert rec.of("cut_short") == [("a", "timeout", 1050.0, False)]


@pytest.mark.parametrize(("after", "wins"), [(1.03125, True), (1.0625, False)])
def test_an_answer_inside_the_grace_still_wins(after, wins):
    calls = Calls(a=[ok(after, value="just in time")])
    result, attempts = walk(Recorder(), [Cand("a")], calls, deadline_s=1.0)
    if wins:
        assert result[1] == "just in time" and [a.outcome for a in attempts] == ["ok"]
    else:
        assert isinstance(result, Exhausted) and [a.outcome for a in attempts] == ["timeout"]


def test_a_loser_still_running_when_the_winner_answers_at_the_deadline_is_a_timeout():
    """At the deadline it has passed: what is cut short then is a deadline victim, not a hedge loser."""
    rec = Recorder()
    calls = Calls(a=[ok(1.0)], b=[ok(5.0)])
    (cand, _), attempts = hedged(rec, [Cand("a"), Cand("b")], calls, deadline_s=1.0)
    assert cand.slug == "a"
    assert table(attempts)[-1] == ("b", "timeout", 750.0, "request deadline reached")


def test_a_provider_cancelled_in_its_backoff_records_no_cut_short_call():
    """Between two attempts nothing was called, so nothing was cut short."""
    rec = Recorder()
    # a fails at 0.375 (b was hedged at 0.25) and backs off 0.1 s; b answers meanwhile.
    calls = Calls(a=[fails("transient", 0.375), ok()], b=[ok(0.1875)])
    (cand, _), attempts = hedged(rec, [Cand("a"), Cand("b")], calls, rng=TopOfRange(1.0))
    assert cand.slug == "b" and calls.called() == ["a", "b"]
    assert [(a.provider, a.outcome) for a in attempts] == [("a", "transient"), ("b", "ok")]
    assert rec.of("cut_short") == []


def test_a_retry_cut_short_is_measured_from_its_own_start():
    rec = Recorder()
    calls = Calls(a=[fails("transient", 0.125), ok(5.0)])
    walk(rec, [Cand("a")], calls, deadline_s=1.0, rng=TopOfRange(1.0))
    # The retry started at 0.225 (0.125 + the 0.1 backoff) and was cut at 1.05.
    assert rec.of("cut_short") == [("a", "timeout", pytest.approx(825.0), False)]


def test_nothing_the_chain_started_still_runs_when_it_returns():
    """The losers are cancelled and awaited before run() answers, so no call outlives the request."""
    calls = Calls(a=[ok(1.0)], b=[ok(0.125)])

    async def go():
        await chain(Recorder(), hedge_floor_ms=FLOOR_MS).run([Cand("a"), Cand("b")], calls)
        return calls.active

    assert run(go()) == 0


def test_a_provider_cut_off_at_its_retrys_gate_records_nothing_and_the_others_still_are():
    """At the deadline a (first in) waits at the gate of its retry, b is in a call: only b was cut short."""
    rec = Recorder(slow_gate={("a", True): 5.0})
    calls = Calls(a=[fails("transient", 0.375)], b=[ok(5.0)])
    result, attempts = hedged(rec, [Cand("a"), Cand("b")], calls, deadline_s=1.0, rng=TopOfRange(1.0))
    assert isinstance(result, Exhausted)
    assert table(attempts) == [("a", "transient", 375.0, ""), ("b", "timeout", 800.0, "request deadline reached")]
    assert rec.of("cut_short") == [("b", "timeout", 800.0, True)]
