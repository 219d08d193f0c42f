"""A pool's maintenance window drains routing, and every failure says when a provider is back.

Pool windows (issue 9, point 6): the engine against a real redis-server and the scripted upstream;
the window is written to Redis as the sweep writes it (member = pool slug, score = its end). Then
the rules, pinned at their boundaries: `mark` and the drained reads (candidates, drained), the
attempt's `retry_at` and the failure's Retry-After (errors), and where the chain and the ledger
learn an end (a cool-down, a spent budget window, an open breaker).
"""

import pytest

from healing.engine import drained
from healing.engine.breaker import CLOSED_STATE, OPEN, BreakerState
from healing.engine.candidates import Candidate, mark
from healing.engine.errors import SKIPPED_BREAKER_OPEN, SKIPPED_BUDGET, SKIPPED_MAINTENANCE, Attempt, retry_after_s
from healing.engine.fetch import AllProvidersFailed, fetch_raw
from healing.engine.flight import Flight
from providers.adapters.base import Adapter, RequestSpec
from providers.runtime import rkey
from tests.fixtures.clock import T0
from tests.healing.engine_doubles import ask, outcomes, provider, snapshot, status, too_many, trip, two


def drain_pool(redis_client, slug: str, until: float) -> None:
    redis_client.zadd(rkey("maintenance", "pools"), {slug: until})


def drain_provider(redis_client, slug: str, until: float) -> None:
    redis_client.zadd(rkey("maintenance", "providers"), {slug: until})


def three(up):
    return snapshot(provider(up, "alpha"), provider(up, "beta"), provider(up, "gamma"))


async def failure(snap, deps, **options) -> AllProvidersFailed:
    with pytest.raises(AllProvidersFailed) as caught:
        await ask(snap, deps, **options)
    return caught.value


# --- the engine: a drained pool -------------------------------------------------------------------


async def test_a_pool_window_skips_every_member_without_a_call(up, deps, redis_client):
    drain_pool(redis_client, "price", T0 + 300)
    err = await failure(three(up), deps)
    assert outcomes(err) == [("alpha", SKIPPED_MAINTENANCE), ("beta", SKIPPED_MAINTENANCE),
                             ("gamma", SKIPPED_MAINTENANCE)]
    assert {a.detail for a in err.attempts} == {"pool price in a maintenance window for 300 s"}
    assert [a.retry_at for a in err.attempts] == [T0 + 300] * 3
    assert (err.retry_at, err.retry_after_s(T0)) == (T0 + 300, 300)
    assert up.count("alpha") + up.count("beta") + up.count("gamma") == 0


async def test_the_pool_window_ends_on_time_by_itself(up, deps, clock, redis_client):
    drain_pool(redis_client, "price", T0 + 300)
    snap = three(up)
    clock.advance(299.5)
    err = await failure(snap, deps, coin="a")
    assert err.attempts[0].detail == "pool price in a maintenance window for 1 s"
    assert err.retry_after_s(clock()) == 1
    clock.advance(0.5)  # the score is the end: at it the pool is back
    answer = await ask(snap, deps, coin="b")
    assert (answer.source, outcomes(answer)) == ("alpha", [("alpha", "ok")])


async def test_only_that_pools_window_drains_it(up, deps, redis_client):
    drain_pool(redis_client, "markets", T0 + 300)
    answer = await ask(three(up), deps)
    assert outcomes(answer) == [("alpha", "ok")]


async def test_a_drained_pool_answers_its_stale_copy(up, deps, clock, redis_client):
    snap = three(up)
    assert (await ask(snap, deps)).served == "live"
    clock.advance(100)  # past the fresh TTL (10 s) and the revalidate window (60 s)
    drain_pool(redis_client, "price", clock() + 60)
    answer = await ask(snap, deps)
    assert (answer.served, answer.source, round(answer.age_s)) == ("stale", "alpha", 100)
    assert {a.outcome for a in answer.attempts} == {SKIPPED_MAINTENANCE}
    assert up.count("alpha") == 1


async def test_the_all_open_last_resort_does_not_overrule_a_pool_window(up, deps, redis_client):
    snap = two(up)
    for cfg in snap.providers.values():
        await trip(deps, cfg)
    drain_pool(redis_client, "price", T0 + 60)
    err = await failure(snap, deps)
    assert outcomes(err) == [("alpha", SKIPPED_MAINTENANCE), ("beta", SKIPPED_MAINTENANCE)]
    assert up.count("alpha") + up.count("beta") == 0
    redis_client.delete(rkey("maintenance", "pools"))
    forced = await ask(snap, deps, coin="other")  # without the window: the last resort is tried
    assert outcomes(forced) == [("alpha", SKIPPED_BREAKER_OPEN), ("beta", SKIPPED_BREAKER_OPEN), ("alpha", "ok")]


async def test_provider_and_pool_windows_combine_and_the_later_end_counts(up, deps, redis_client):
    drain_pool(redis_client, "price", T0 + 300)
    drain_provider(redis_client, "alpha", T0 + 900)
    drain_provider(redis_client, "beta", T0 + 100)
    err = await failure(two(up), deps)
    assert [(a.provider, a.detail, a.retry_at) for a in err.attempts] == [
        ("alpha", "pool price in a maintenance window for 300 s; the provider's own window for 900 s", T0 + 900),
        ("beta", "pool price in a maintenance window for 300 s; the provider's own window for 100 s", T0 + 300),
    ]
    assert err.retry_after_s(T0) == 300  # beta is back first, when the pool's window ends


async def test_a_request_for_one_provider_ignores_the_pool_window(up, deps, redis_client):
    drain_pool(redis_client, "price", T0 + 300)
    answer = await ask(three(up), deps, only_provider="beta")
    assert outcomes(answer) == [("beta", "ok")]


async def test_a_raw_call_honours_the_providers_window(up, deps, redis_client):
    cfg = provider(up, "alpha")
    drain_provider(redis_client, "alpha", T0 + 45)
    with pytest.raises(AllProvidersFailed) as caught:
        await fetch_raw(cfg, RequestSpec(path="/x"), deps=deps)
    assert outcomes(caught.value) == [("alpha", SKIPPED_MAINTENANCE)]
    assert caught.value.retry_after_s(T0) == 45
    assert up.count("alpha") == 0


# --- the engine: every known end reaches the failure ---------------------------------------------


async def test_an_open_breaker_fails_with_its_reopening(up, deps, clock):
    snap = two(up)
    await trip(deps, snap.providers["beta"])
    clock.advance(10)
    err = await failure(snap, deps, only_provider="beta")
    assert (err.attempts[0].retry_at, err.retry_after_s(clock())) == (T0 + 30, 20)


async def test_a_breaker_that_opens_before_the_retry_fails_with_its_reopening(up, deps, clock):
    up.script("alpha", status(503))
    snap = snapshot(provider(up, "alpha"))
    for coin in ("a", "b"):  # two failures each (the call and its retry)
        await failure(snap, deps, coin=coin)
    clock.advance(3)
    err = await failure(snap, deps, coin="c")  # the fifth failure opens it: the retry is refused
    assert outcomes(err) == [("alpha", "transient"), ("alpha", SKIPPED_BREAKER_OPEN)]
    assert (err.attempts[1].detail, err.attempts[1].retry_at) == ("breaker opened before the retry", T0 + 33)
    assert err.retry_after_s(clock()) == 30


async def test_a_rate_limited_answer_carries_its_cool_down_and_so_does_the_next_skip(up, deps, clock):
    snap = snapshot(provider(up, "alpha"))
    up.script("alpha", too_many("30"))
    first = await failure(snap, deps, coin="a")
    assert (outcomes(first), first.attempts[0].retry_at) == ([("alpha", "rate_limited")], T0 + 30)
    clock.advance(5)
    second = await failure(snap, deps, coin="b")
    assert (outcomes(second), second.attempts[0].retry_at) == ([("alpha", SKIPPED_BUDGET)], T0 + 30)
    assert second.retry_after_s(clock()) == 25


async def test_a_spent_budget_fails_with_the_windows_next_free_token(up, deps, clock):
    snap = snapshot(provider(up, "alpha", rate_limits="1/minute;100/hour"))
    assert (await ask(snap, deps, coin="a")).source == "alpha"
    clock.advance(12)
    err = await failure(snap, deps, coin="b")
    assert (outcomes(err), err.attempts[0].detail) == ([("alpha", SKIPPED_BUDGET)], "budget 1/minute spent")
    assert (err.attempts[0].retry_at, err.retry_after_s(clock())) == (T0 + 60, 48)


async def test_transient_failures_alone_know_no_end(up, deps):
    up.script("alpha", status(503))
    err = await failure(snapshot(provider(up, "alpha")), deps)
    assert outcomes(err) == [("alpha", "transient"), ("alpha", "transient")]
    assert (err.retry_at, err.retry_after_s(T0)) == (None, None)


# --- the rules: mark --------------------------------------------------------------------------------


def cand(**cfg) -> Candidate:
    from healing.engine.config import ProviderConfig

    return Candidate(ProviderConfig(slug="alpha", name="A", category="market_data", base_url="http://x", **cfg),
                     Adapter())


def test_mark_a_pool_window_alone():
    c = mark(cand(), T0, breaker=CLOSED_STATE, cooling=None, pool_window=("price", T0 + 0.2))
    assert (c.skip, c.skip_detail, c.skip_until) == (SKIPPED_MAINTENANCE, "pool price in a maintenance window for 1 s",
                                                     T0 + 0.2)


@pytest.mark.parametrize(("own", "pool", "until"), [(T0 + 90, T0 + 60, T0 + 90), (T0 + 60, T0 + 90, T0 + 90),
                                                   (T0 + 60, T0 + 60, T0 + 60)])
def test_mark_both_windows_ends_with_the_later(own, pool, until):
    c = mark(cand(), T0, breaker=CLOSED_STATE, cooling=None, drained_until=own, pool_window=("p", pool))
    assert (c.skip, c.skip_until) == (SKIPPED_MAINTENANCE, until)
    assert c.skip_detail == f"pool p in a maintenance window for {pool - T0:.0f} s; " \
                            f"the provider's own window for {own - T0:.0f} s"


def test_mark_a_providers_window_alone_keeps_its_detail():
    c = mark(cand(), T0, breaker=CLOSED_STATE, cooling=None, drained_until=T0 + 59.1)
    assert (c.skip_detail, c.skip_until) == ("in a maintenance window for 60 s", T0 + 59.1)


def test_mark_a_pool_window_wins_over_every_other_skip():
    opened = BreakerState(state=OPEN, reopens_at=T0 + 5)
    c = mark(cand(key_required=True, api_key_env="NOPE_KEY"), T0, breaker=opened, cooling=T0 + 7,
             pool_window=("price", T0 + 9))
    assert (c.skip, c.skip_until, c.reopens_at) == (SKIPPED_MAINTENANCE, T0 + 9, None)


def test_mark_the_ends_of_a_cool_down_and_an_open_breaker():
    cooled = mark(cand(), T0, breaker=CLOSED_STATE, cooling=T0 + 7)
    assert (cooled.skip, cooled.skip_until) == (SKIPPED_BUDGET, T0 + 7)
    opened = mark(cand(), T0, breaker=BreakerState(state=OPEN, reopens_at=T0 + 5), cooling=None)
    assert (opened.skip, opened.skip_until, opened.reopens_at) == (SKIPPED_BREAKER_OPEN, T0 + 5, T0 + 5)
    clear = mark(cand(), T0, breaker=CLOSED_STATE, cooling=None)
    assert (clear.skip, clear.skip_until) == ("", None)


@pytest.mark.parametrize(("raw", "end"), [(None, None), (str(T0), None), (str(T0 - 1), None),
                                          (str(T0 + 0.001), T0 + 0.001), (str(T0 + 5).encode(), T0 + 5)])
def test_a_window_is_active_strictly_before_its_end(raw, end):
    assert drained.active_end(raw, T0) == end


# --- the rules: retry_at and Retry-After ---------------------------------------------------------


@pytest.mark.parametrize(("at", "seconds"), [(None, None), (T0 + 30, 30), (T0 + 30.001, 31), (T0 + 0.001, 1),
                                             (T0, 1), (T0 - 10, 1), (T0 + 1.5, 2)])
def test_retry_after_is_whole_seconds_rounded_up_and_at_least_one(at, seconds):
    assert retry_after_s(at, T0) == seconds


def test_the_failure_ends_at_the_earliest_provider_back_judged_by_its_last_attempt():
    err = AllProvidersFailed("price", [
        Attempt("alpha", SKIPPED_BREAKER_OPEN, 0.0, "", T0 + 10),
        Attempt("alpha", "transient", 3.0),  # tried as the last resort: its old reopening no longer holds
        Attempt("beta", SKIPPED_MAINTENANCE, 0.0, "", T0 + 50),
        Attempt("gamma", SKIPPED_BUDGET, 0.0, "", T0 + 40),
        Attempt("delta", "timeout", 900.0),
    ])
    assert (err.retry_at, err.retry_after_s(T0)) == (T0 + 40, 40)
    assert AllProvidersFailed("price", [Attempt("alpha", "transient", 1.0)]).retry_at is None
    assert AllProvidersFailed("price", []).retry_after_s(T0) is None


def test_retry_at_travels_with_the_attempt_to_followers_and_stays_out_of_equality():
    skipped = Attempt("alpha", SKIPPED_MAINTENANCE, 0.0, "pool price in a maintenance window for 9 s", T0 + 8.1234)
    assert skipped.as_dict() == {"provider": "alpha", "outcome": SKIPPED_MAINTENANCE, "ms": 0.0,
                                 "detail": "pool price in a maintenance window for 9 s", "retry_at": T0 + 8.123}
    assert Attempt("beta", "transient", 2.0).as_dict() == {"provider": "beta", "outcome": "transient", "ms": 2.0}
    published = Flight.decode(Flight(None, "live", [skipped, Attempt("beta", "transient", 2.0)], ["x"]).encode())
    assert [a.retry_at for a in published.attempts] == [T0 + 8.123, None]
    assert Attempt("alpha", "skipped_budget", 0.0, "", T0 + 1) == Attempt("alpha", "skipped_budget", 0.0, "")
