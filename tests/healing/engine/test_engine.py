"""The engine end to end: real Redis, real sockets to a scripted upstream, an injected clock.

Here the cache, single-flight, the order of providers and its skips, rate limits and the HTTP seam;
classification, retries, breakers, hedging, bookkeeping and raw calls are in test_engine_failures.py."""

import asyncio
import multiprocessing
import time

import pytest

from healing.engine import cache, http
from healing.engine.breaker import CLOSED
from healing.engine.fetch import (
    AllProvidersFailed,
    Attempt,
    drain_background,
)
from healing.engine.http import with_auth
from providers.adapters.base import RequestSpec
from tests.healing.engine_doubles import (
    OK,
    ask,
    big,
    child_burst,
    latency,
    outcomes,
    provider,
    redirect,
    snapshot,
    status,
    trip,
    two,
)

# --- 1. cache: fresh, stale-while-revalidate, stale -----------------------------------------------


async def test_fresh_hit_is_served_from_cache_without_an_upstream_call(up, deps, clock):
    snap = two(up)
    first = await ask(snap, deps)
    assert (first.served, first.source, first.data) == ("live", "alpha", {"bitcoin": {"usd": 100.0}})
    clock.advance(9)
    second = await ask(snap, deps)
    assert (second.served, second.source, second.age_s, second.data) == ("cache", "alpha", 9, first.data)
    assert second.fetched_at == first.fetched_at
    assert up.count("alpha") == 1


async def test_stale_while_revalidate_answers_at_once_and_refreshes_once(up, deps, clock):
    snap = snapshot(provider(up, "alpha"))
    await ask(snap, deps)
    clock.advance(15)
    up.script("alpha", latency(0.3))
    answers = await asyncio.gather(*(ask(snap, deps) for _ in range(25)))
    # Answered before the refresh could have finished: all stale, with the copy's age.
    assert {(a.served, a.age_s) for a in answers} == {("stale", 15)}
    await drain_background()
    assert up.count("alpha") == 2  # one refresh for all 25 callers
    after = await ask(snap, deps)
    assert (after.served, after.age_s) == ("cache", 0)
    key = cache.data_key("price", {"ids": ["bitcoin"], "vs": "usd"})
    assert await deps.redis.exists(cache.refresh_lock_key(key)) == 0  # released after the refresh


async def test_refresh_lock_is_shared_so_another_process_does_not_refresh_again(up, deps, clock):
    snap = two(up)
    await ask(snap, deps)
    clock.advance(15)
    key = cache.data_key("price", {"ids": ["bitcoin"], "vs": "usd"})
    assert await cache.claim_refresh(deps.redis, key, "another-process", 30)
    answer = await ask(snap, deps)
    await drain_background()
    assert answer.served == "stale"
    assert up.count("alpha") == 1


async def test_past_the_revalidate_window_a_request_fetches_live(up, deps, clock):
    snap = two(up)
    await ask(snap, deps)
    clock.advance(10 + 60)
    answer = await ask(snap, deps)
    assert (answer.served, answer.age_s) == ("live", 0)
    assert up.count("alpha") == 2


# --- 2. single-flight -----------------------------------------------------------------------------


async def test_concurrent_identical_misses_make_one_upstream_call(up, deps):
    up.script("alpha", latency(0.3))
    snap = snapshot(provider(up, "alpha"))  # alone, so no hedge muddies the count
    answers = await asyncio.gather(*(ask(snap, deps) for _ in range(500)))
    assert up.count("alpha") == 1
    assert {a.source for a in answers} == {"alpha"}
    # Followers report the leader's attempts: that fetch answered them too.
    assert {tuple(outcomes(a)) for a in answers} == {(("alpha", "ok"),)}
    assert {str(a.data) for a in answers} == {str({"bitcoin": {"usd": 100.0}})}


@pytest.mark.slow
async def test_two_processes_with_concurrent_misses_make_one_upstream_call(up, redis_server):
    up.script("alpha", latency(0.5))
    snap = snapshot(provider(up, "alpha"))
    ctx = multiprocessing.get_context("spawn")
    start, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=child_burst, args=(redis_server.url, snap, 100, start, out)) for _ in range(2)]
    for p in procs:
        p.start()
    await asyncio.to_thread(time.sleep, 1.5)  # let both children import and connect
    start.set()
    results = [await asyncio.to_thread(out.get, True, 60) for _ in procs]
    for p in procs:
        await asyncio.to_thread(p.join, 30)
    assert [len(r) for r in results] == [100, 100]
    assert {source for r in results for source, _ in r} == {"alpha"}
    assert up.count("alpha") == 1


# --- 3. order and skips ---------------------------------------------------------------------------


async def test_priority_order_falls_back_to_the_next_provider(up, deps):
    up.script("alpha", status(503))
    answer = await ask(two(up), deps)
    assert answer.source == "beta"
    assert outcomes(answer) == [("alpha", "transient"), ("alpha", "transient"), ("beta", "ok")]
    assert (up.count("alpha"), up.count("beta")) == (2, 1)


async def test_disabled_provider_is_never_called(up, deps):
    answer = await ask(two(up, enabled=False), deps)
    assert outcomes(answer) == [("beta", "ok")]
    assert up.count("alpha") == 0


async def test_provider_without_its_required_key_is_skipped(up, deps, monkeypatch):
    monkeypatch.delenv("CRYPTOHUB_TEST_ALPHA_KEY", raising=False)
    answer = await ask(two(up, key_required=True, api_key_env="CRYPTOHUB_TEST_ALPHA_KEY"), deps)
    assert outcomes(answer) == [("alpha", "skipped_no_key"), ("beta", "ok")]
    assert up.count("alpha") == 0


async def test_open_breaker_is_skipped_without_a_call(up, deps):
    snap = two(up)
    await trip(deps, snap.providers["alpha"])
    answer = await ask(snap, deps)
    assert outcomes(answer) == [("alpha", "skipped_breaker_open"), ("beta", "ok")]
    assert up.count("alpha") == 0


async def test_when_every_member_is_open_the_soonest_to_reopen_is_tried_last(up, deps, clock):
    snap = snapshot(provider(up, "alpha"), provider(up, "beta"), provider(up, "gamma"))
    await trip(deps, snap.providers["beta"])  # reopens at T0 + 30
    clock.advance(5)
    await trip(deps, snap.providers["alpha"])  # reopens at T0 + 35
    await trip(deps, snap.providers["gamma"])
    answer = await ask(snap, deps)
    assert outcomes(answer) == [
        ("alpha", "skipped_breaker_open"), ("beta", "skipped_breaker_open"), ("gamma", "skipped_breaker_open"),
        ("beta", "ok"),
    ]
    assert (up.count("alpha"), up.count("beta"), up.count("gamma")) == (0, 1, 0)
    assert (await deps.breakers.state("beta")).state == CLOSED  # its success closed it


async def test_half_open_breaker_lets_one_probe_through_and_success_closes_it(up, deps, clock):
    snap = two(up)
    await trip(deps, snap.providers["alpha"])
    clock.advance(30)
    answer = await ask(snap, deps)
    assert outcomes(answer) == [("alpha", "ok")]
    assert (await deps.breakers.state("alpha")).state == CLOSED


async def test_round_robin_pool_spreads_requests(up, deps):
    snap = snapshot(provider(up, "alpha"), provider(up, "beta"), provider(up, "gamma"), strategy="round_robin")
    sources = [(await ask(snap, deps, coin=f"coin{i}")).source for i in range(3)]
    assert sorted(sources) == ["alpha", "beta", "gamma"]


def test_key_is_added_server_side_as_the_provider_says(monkeypatch, up):
    monkeypatch.setenv("CRYPTOHUB_TEST_KEY", "s3cret")
    spec = RequestSpec(path="/x", params={"a": 1}, headers={"Accept": "application/json"})
    query = provider(up, "alpha", auth_type="query", auth_param="apikey", api_key_env="CRYPTOHUB_TEST_KEY")
    header = provider(up, "alpha", auth_type="header", auth_param="Authorization", auth_scheme="Bearer",
                      api_key_env="CRYPTOHUB_TEST_KEY")
    assert with_auth(query, spec) == ({"a": 1, "apikey": "s3cret"}, {"Accept": "application/json"})
    assert with_auth(header, spec) == ({"a": 1}, {"Accept": "application/json", "Authorization": "Bearer s3cret"})
    assert spec.params == {"a": 1}  # the adapter's spec is not modified


# --- 4. rate limits -------------------------------------------------------------------------------


async def test_spent_budget_routes_to_the_next_provider_before_any_call(up, deps):
    snap = two(up, rate_limits="2/minute")
    sources = [(await ask(snap, deps, coin=f"c{i}")).source for i in range(4)]
    assert sources == ["alpha", "alpha", "beta", "beta"]
    assert up.count("alpha") == 2  # never a call beyond the limit
    last = await ask(snap, deps, coin="c9")
    assert last.attempts[0] == Attempt("alpha", "skipped_budget", 0.0, "budget 2/minute spent")


async def test_all_budgets_spent_fails_saying_when_each_frees(up, deps, clock):
    snap = snapshot(
        provider(up, "alpha", rate_limits="1/second;100/hour"), provider(up, "beta", rate_limits="1/minute")
    )
    assert (await ask(snap, deps, coin="a")).source == "alpha"
    assert (await ask(snap, deps, coin="b")).source == "beta"
    with pytest.raises(AllProvidersFailed) as err:
        await ask(snap, deps, coin="c")
    assert outcomes(err.value) == [("alpha", "skipped_budget"), ("beta", "skipped_budget")]
    assert err.value.suggestions == ["alpha: budget 1/second frees in 1.0 s", "beta: budget 1/minute frees in 60.0 s"]
    assert (up.count("alpha"), up.count("beta")) == (1, 1)
    clock.advance(1.01)  # the window includes its boundary
    assert (await ask(snap, deps, coin="c")).source == "alpha"


# --- 5. the HTTP seam -----------------------------------------------------------------------------


async def test_oversized_body_is_bad_data(up, deps):
    up.script("alpha", big(50_000))
    answer = await ask(two(up), deps)
    assert outcomes(answer) == [("alpha", "bad_data"), ("beta", "ok")]
    assert "exceeds 20000" in answer.attempts[0].detail


async def test_redirect_to_another_host_is_refused(up, deps):
    up.script("alpha", redirect(f"http://localhost:{up.port}/p/gamma/price"))
    answer = await ask(two(up), deps)
    assert outcomes(answer) == [("alpha", "permanent"), ("beta", "ok")]
    assert "another host" in answer.attempts[0].detail
    assert up.count("gamma") == 0


async def test_same_host_redirect_is_followed_once(up, deps):
    up.script("alpha", redirect("/p/alpha/moved?ids=bitcoin&vs=usd"), OK)
    answer = await ask(two(up), deps)
    assert outcomes(answer) == [("alpha", "ok")]
    assert up.paths["alpha"] == ["/p/alpha/price", "/p/alpha/moved"]


async def test_a_second_redirect_is_not_followed(up, deps):
    up.script("alpha", redirect("/p/alpha/a"), redirect("/p/alpha/b"), OK)
    answer = await ask(two(up), deps)
    assert outcomes(answer) == [("alpha", "permanent"), ("beta", "ok")]
    assert up.count("alpha") == 2


async def test_redirect_outside_the_base_url_is_refused(up, deps):
    up.script("alpha", redirect("/p/gamma/price"))
    answer = await ask(two(up), deps)
    assert outcomes(answer) == [("alpha", "permanent"), ("beta", "ok")]
    assert up.count("gamma") == 0


async def test_the_client_has_explicit_timeouts_and_no_redirects():
    client = http.make_client()
    assert client.follow_redirects is False
    assert client.timeout.connect == http.CONNECT_TIMEOUT_S
    assert client.timeout.read == http.DEFAULT_READ_TIMEOUT_S
    assert client.headers["user-agent"] == http.USER_AGENT
    await client.aclose()
