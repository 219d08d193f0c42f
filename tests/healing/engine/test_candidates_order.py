"""The order plan against a real Redis (healing.engine.candidates): which providers are usable, the
one round trip of reads (breakers, cool-downs, windows, the hedging p90 and its memo, the
strategy's inputs), the order, the all-open last resort, and the raw call's single candidate."""

import dataclasses
import logging
import random

import pytest
import redis.asyncio

from healing.engine import drained
from healing.engine.candidates import OrderPlan, order_candidates, plan_order, raw_candidate
from healing.engine.config import MemberConfig, PoolConfig, ProviderConfig
from healing.engine.errors import SKIPPED_BREAKER_OPEN, SKIPPED_BUDGET, SKIPPED_MAINTENANCE, UnknownCapability
from pools import state as pool_state
from tests.fixtures.clock import T0
from tests.healing.engine_doubles import trip

SLUGS = ("alpha", "beta", "gamma")  # the engine fixtures' test adapters serve "price"


def config(slug: str, **fields) -> ProviderConfig:
    return ProviderConfig(slug=slug, name=slug.title(), category="market_data", base_url="http://x", **fields)


def pool(*slugs: str, strategy: str = "priority", slug: str = "price") -> PoolConfig:
    n = len(slugs)
    return PoolConfig(slug, "price", strategy, tuple(MemberConfig(s, priority=n - i) for i, s in enumerate(slugs)))


def cfgs(*slugs: str, **fields) -> list[ProviderConfig]:
    return [config(s, **fields) for s in slugs]


def summary(cands) -> list[tuple]:
    return [(c.slug, c.skip, c.forced) for c in cands]


async def order(deps, slugs=SLUGS, p=None, **kw):
    return await order_candidates(deps, p if p is not None else pool(*slugs), cfgs(*slugs), "price", **kw)


# --- which providers are usable ------------------------------------------------------------------


def test_disabled_and_unserving_providers_are_left_out_but_named_as_asked(deps):
    providers = [config("alpha"), config("beta", enabled=False), config("nobody"), config("gamma")]
    plan = plan_order(deps, None, providers, "price")
    assert list(plan.usable) == ["alpha", "gamma"]
    assert plan.asked == ("alpha", "beta", "nobody", "gamma")
    assert plan.where == "alpha, beta, nobody, gamma"
    assert plan_order(deps, None, providers, "gas").usable == {}


def test_a_plan_names_its_pool_and_strategy(deps):
    plan = plan_order(deps, pool("alpha", strategy="least_used"), cfgs("alpha"), "price")
    assert (plan.where, plan.strategy) == ("pool price", "least_used")
    assert plan_order(deps, None, cfgs("alpha"), "price").strategy == "priority"


@pytest.mark.parametrize(("strategy", "speculative"), [("priority", True), ("least_used", True),
                                                       ("round_robin", False)])
def test_only_reads_without_side_effects_are_speculative(deps, strategy, speculative):
    """Round robin advances its cursor when read, so it is read only when it will be used."""
    assert plan_order(deps, pool("alpha", strategy=strategy), cfgs("alpha"), "price").speculative is speculative


def test_a_plan_with_nothing_usable_is_not_speculative_and_reads_nothing(deps):
    plan = plan_order(deps, pool("nobody"), cfgs("nobody"), "price")
    assert plan.speculative is False
    assert plan.finish([]) == []


async def test_nothing_usable_orders_to_no_candidates_without_a_round_trip(deps, monkeypatch):
    def no_pipeline(*args, **kwargs):
        raise AssertionError("no round trip expected")

    monkeypatch.setattr(deps.redis, "pipeline", no_pipeline)
    assert await order_candidates(deps, pool("nobody"), cfgs("nobody"), "price") == []


# --- the reads and the marks ----------------------------------------------------------------------


async def test_the_strategy_orders_and_each_candidate_keeps_its_config_and_adapter(deps):
    cands = await order(deps, p=pool("gamma", "alpha", "beta"))
    assert [c.slug for c in cands] == ["gamma", "alpha", "beta"]
    assert [c.adapter.slug for c in cands] == ["gamma", "alpha", "beta"]
    assert all(c.cfg.slug == c.adapter.slug and not c.skip and not c.forced for c in cands)


async def test_without_a_pool_the_providers_are_equals_in_priority_ordered_by_slug(deps):
    cands = await order_candidates(deps, None, cfgs("gamma", "alpha"), "price")
    assert [c.slug for c in cands] == ["alpha", "gamma"]


async def test_each_candidate_gets_its_own_breaker_and_cool_down(deps, clock):
    await trip(deps, config("beta"))
    await deps.budget.cool_down("gamma", 7)
    cands = await order(deps)
    assert summary(cands) == [("alpha", "", False), ("beta", SKIPPED_BREAKER_OPEN, False),
                              ("gamma", SKIPPED_BUDGET, False)]
    assert (cands[1].skip_until, cands[2].skip_until) == (T0 + 30, T0 + 7)


async def test_a_half_open_member_is_the_probe(deps, clock):
    await trip(deps, config("alpha"))
    clock.advance(30)
    cands = await order(deps, slugs=("alpha", "beta"))
    assert [(c.slug, c.skip, c.needs_probe) for c in cands] == [("alpha", "", True), ("beta", "", False)]


async def test_a_providers_window_drains_only_that_provider_until_its_end(deps, redis_client):
    redis_client.zadd(drained.providers_key(), {"beta": T0 + 45, "alpha": T0})  # alpha's window ends now
    cands = await order(deps)
    assert summary(cands) == [("alpha", "", False), ("beta", SKIPPED_MAINTENANCE, False), ("gamma", "", False)]
    assert (cands[1].skip_until, cands[1].skip_detail) == (T0 + 45, "in a maintenance window for 45 s")


async def test_a_pool_window_drains_every_member_and_another_pools_window_none(deps, redis_client):
    redis_client.zadd(drained.pools_key(), {"other": T0 + 90})
    assert {c.skip for c in await order(deps)} == {""}
    redis_client.zadd(drained.pools_key(), {"price": T0 + 90})
    cands = await order(deps)
    assert {(c.skip, c.skip_until) for c in cands} == {(SKIPPED_MAINTENANCE, T0 + 90)}
    assert len(cands) == 3


async def test_without_a_pool_no_pool_window_applies(deps, redis_client):
    redis_client.zadd(drained.pools_key(), {"price": T0 + 90})
    cands = await order_candidates(deps, None, cfgs("alpha", "beta"), "price")
    assert summary(cands) == [("alpha", "", False), ("beta", "", False)]


async def test_the_strategys_demotions_are_honoured(deps, redis_client):
    pool_state.demote(redis_client, "price", "alpha", 60, now=T0)
    assert [c.slug for c in await order(deps)] == ["beta", "gamma", "alpha"]


async def test_least_used_reads_its_usage(deps, redis_client):
    for _ in range(3):
        pool_state.record_use(redis_client, "alpha", None, T0)
    pool_state.record_use(redis_client, "beta", None, T0)
    cands = await order(deps, p=pool(*SLUGS, strategy="least_used"))
    assert [c.slug for c in cands] == ["gamma", "beta", "alpha"]


# --- the hedging p90 and its memo -------------------------------------------------------------------


def samples(redis_client, slug: str, *ms: float) -> None:
    for value in ms:
        pool_state.record_use(redis_client, slug, value, T0)


async def test_each_candidate_carries_its_p90_and_an_unmeasured_one_none(deps, redis_client):
    samples(redis_client, "alpha", *([100.0] * 9 + [900.0]))
    cands = await order(deps, slugs=("alpha", "beta"))
    assert [c.p90_ms for c in cands] == [pool_state.p90_of(["100"] * 9 + ["900"]), None]
    assert cands[0].p90_ms is not None
    assert deps.p90_memo == {"alpha": (cands[0].p90_ms, T0), "beta": (None, T0)}


@pytest.mark.parametrize(("later", "reread"), [(0.0, False), (0.999, False), (1.0, True), (-0.001, True)])
async def test_the_p90_is_reused_for_a_second_then_read_again(deps, clock, redis_client, later, reread):
    """P90_REFRESH_S = 1.0 of the engine clock; a clock that went back reads it again too."""
    samples(redis_client, "alpha", 100.0)
    first = await order(deps, slugs=("alpha",))
    samples(redis_client, "alpha", *([500.0] * 20))
    clock.advance(later)
    second = await order(deps, slugs=("alpha",))
    assert first[0].p90_ms == 100.0
    assert second[0].p90_ms == (500.0 if reread else 100.0)
    assert deps.p90_memo["alpha"] == (second[0].p90_ms, T0 + later if reread else T0)


async def test_a_memoized_p90_is_used_beside_freshly_read_ones(deps, clock, redis_client):
    samples(redis_client, "alpha", 100.0)
    await order(deps, slugs=("alpha",))
    samples(redis_client, "beta", 300.0)
    cands = await order(deps, slugs=("alpha", "beta"))
    assert [c.p90_ms for c in cands] == [100.0, 300.0]


# --- the all-open last resort ------------------------------------------------------------------------


async def open_all(deps, clock, slugs, gap_s=2.0):
    """Trip the breakers of `slugs` one after another, `gap_s` apart: the first reopens soonest."""
    for slug in slugs:
        await trip(deps, config(slug))
        clock.advance(gap_s)


async def test_an_all_open_pool_still_tries_the_member_that_reopens_soonest_last(deps, clock):
    await open_all(deps, clock, ("beta", "alpha", "gamma"))
    cands = await order(deps)
    assert summary(cands) == [("alpha", SKIPPED_BREAKER_OPEN, False), ("beta", SKIPPED_BREAKER_OPEN, False),
                              ("gamma", SKIPPED_BREAKER_OPEN, False), ("beta", "", True)]
    forced = cands[-1]
    assert (forced.reopens_at, forced.cfg.slug, forced.adapter.slug) == (T0 + 30, "beta", "beta")
    assert forced.skip_until is None and not forced.needs_probe


async def test_without_the_last_resort_an_all_open_pool_has_no_forced_candidate(deps, clock):
    await open_all(deps, clock, SLUGS)
    assert [c.forced for c in await order(deps, last_resort=False)] == [False] * 3


async def test_one_member_not_open_means_no_last_resort(deps, clock):
    await open_all(deps, clock, ("alpha", "beta"))
    assert [c.forced for c in await order(deps)] == [False] * 3


async def test_cooling_members_do_not_stop_the_open_ones_last_resort(deps, clock):
    """Only breakers are overruled: a cool-down is the provider's own request to wait."""
    await open_all(deps, clock, ("beta", "gamma"))
    await deps.budget.cool_down("alpha", 60)
    cands = await order(deps)
    assert summary(cands)[-1] == ("beta", "", True)
    assert len(cands) == 4


async def test_a_pool_of_cooling_members_alone_has_no_last_resort(deps):
    for slug in SLUGS:
        await deps.budget.cool_down(slug, 60)
    assert [c.forced for c in await order(deps)] == [False] * 3


# --- an unknown strategy ------------------------------------------------------------------------------


async def test_an_unknown_strategy_orders_by_priority_with_a_warning(deps, redis_client, caplog):
    pool_state.demote(redis_client, "price", "alpha", 60, now=T0)
    with caplog.at_level(logging.WARNING, logger="healing.engine.candidates"):
        cands = await order(deps, p=pool("alpha", "beta", "gamma", strategy="bogus"))
    assert [c.slug for c in cands] == ["beta", "gamma", "alpha"]  # demotions still honoured
    assert [r.getMessage() for r in caplog.records] == ["pool price has unknown strategy 'bogus'; using priority"]


# --- the raw call's single candidate -------------------------------------------------------------------


async def test_a_disabled_provider_has_no_raw_candidate(deps):
    with pytest.raises(UnknownCapability) as caught:
        await raw_candidate(deps, config("alpha", enabled=False), None)
    assert str(caught.value) == "provider 'alpha' is disabled"


async def test_the_raw_candidate_is_marked_by_the_same_rule(deps, clock, redis_client):
    from tests.healing.engine_doubles import Alpha

    clean = await raw_candidate(deps, config("alpha"), Alpha())
    assert (clean.slug, clean.skip, isinstance(clean.adapter, Alpha)) == ("alpha", "", True)
    await deps.budget.cool_down("alpha", 5)
    assert (await raw_candidate(deps, config("alpha"), Alpha())).skip == SKIPPED_BUDGET
    await trip(deps, config("beta"))
    assert (await raw_candidate(deps, config("beta"), Alpha())).skip == SKIPPED_BREAKER_OPEN
    redis_client.zadd(drained.providers_key(), {"gamma": T0 + 45})
    drained_one = await raw_candidate(deps, config("gamma"), Alpha())
    assert (drained_one.skip, drained_one.skip_until) == (SKIPPED_MAINTENANCE, T0 + 45)


async def test_a_raw_candidate_whose_breaker_period_ended_is_the_probe(deps, clock):
    await trip(deps, config("alpha"))
    clock.advance(30)
    c = await raw_candidate(deps, config("alpha"), None)
    assert (c.skip, c.needs_probe) == ("", True)


def test_an_order_plan_is_built_with_an_empty_read_state(deps):
    plan = OrderPlan(deps, None, {}, True)
    assert (plan.asked, plan.now, plan.stale) == ((), 0.0, [])


# --- strategies that read more ---------------------------------------------------------------------


async def test_round_robin_starts_each_request_one_member_further(deps):
    rr = pool(*SLUGS, strategy="round_robin")
    firsts = [(await order(deps, p=rr))[0].slug for _ in range(4)]
    assert firsts == ["alpha", "beta", "gamma", "alpha"]


class Top(random.Random):
    """An rng that always draws the top of its range, and counts its draws."""

    draws = 0

    def random(self):
        self.draws += 1
        return 0.999


async def test_weighted_order_draws_from_the_engines_rng_and_honours_each_members_weight(deps):
    deps.rng = Top()
    members = (MemberConfig("delta", 4, weight=0), MemberConfig("alpha", 3), MemberConfig("beta", 2),
               MemberConfig("gamma", 1))
    cands = await order_candidates(deps, PoolConfig("price", "price", "weighted", members),
                                   cfgs("alpha", "beta", "gamma", "delta"), "price")
    # Each draw lands on the last member still pending; weight 0 is never drawn, only appended.
    assert [c.slug for c in cands] == ["gamma", "beta", "alpha", "delta"]
    assert deps.rng.draws == 3


async def test_the_order_reads_work_on_a_client_that_decodes_replies(deps, redis_server, redis_client):
    """`queue` takes any pipeline: members and values may come back as text instead of bytes."""
    text = redis.asyncio.Redis.from_url(redis_server.url, decode_responses=True)
    try:
        decoding = dataclasses.replace(deps, redis=text, p90_memo={})
        redis_client.zadd(drained.providers_key(), {"beta": T0 + 45})
        samples(redis_client, "alpha", 100.0)
        cands = await order(decoding)
        assert summary(cands) == [("alpha", "", False), ("beta", SKIPPED_MAINTENANCE, False), ("gamma", "", False)]
        assert (cands[0].p90_ms, cands[1].skip_until) == (100.0, T0 + 45)
    finally:
        await text.aclose()


async def test_the_requests_params_decide_which_adapters_serve_it(deps, monkeypatch):
    from healing.engine import candidates
    from providers.adapters.base import Adapter

    class Gas(Adapter):
        slug = "alpha"
        capabilities = frozenset({"gas"})
        chains = frozenset({"bitcoin"})

    monkeypatch.setattr(candidates, "adapter_for", lambda slug: Gas())
    gas = PoolConfig("gas", "gas", "priority", (MemberConfig("alpha"),))
    assert await order_candidates(deps, gas, cfgs("alpha"), "gas", params={"chain": "ethereum"}) == []
    assert [c.slug for c in await order_candidates(deps, gas, cfgs("alpha"), "gas", params={"chain": "bitcoin"})] \
        == ["alpha"]
