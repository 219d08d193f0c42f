"""Which providers a request may try and the one skip rule, without Redis (healing.engine.candidates).

`serves` (capabilities, gas chains), `providers_of` (the one provider asked for, or the pool's
members), and `mark`: a maintenance window, then a missing key, then a cool-down, then an open
breaker skip a candidate (the first that applies says why), a half-open breaker makes it the
probe. The windows' own details are pinned in test_pool_maintenance.py; the reads and the order
in test_candidates_order.py."""

import pytest

from healing.engine.breaker import CLOSED_STATE, HALF_OPEN, OPEN, BreakerState
from healing.engine.candidates import Candidate, mark, providers_of, serves
from healing.engine.config import MemberConfig, PoolConfig, ProviderConfig, Snapshot
from healing.engine.errors import (
    SKIPPED_BREAKER_OPEN,
    SKIPPED_BUDGET,
    SKIPPED_MAINTENANCE,
    SKIPPED_NO_KEY,
    UnknownCapability,
)
from providers.adapters.base import Adapter
from tests.fixtures.clock import T0


def config(slug: str = "alpha", **fields) -> ProviderConfig:
    return ProviderConfig(slug=slug, name=slug.title(), category="market_data", base_url="http://x", **fields)


def cand(**fields) -> Candidate:
    return Candidate(config(**fields), Adapter())


class Prices(Adapter):
    capabilities = frozenset({"price", "markets"})


class AnyCapability(Adapter):
    """No capabilities listed: the adapter judges every request itself (raw calls)."""


class Gas(Adapter):
    capabilities = frozenset({"gas", "tvl"})
    chains = frozenset({"bitcoin"})


# --- serves ------------------------------------------------------------------------------------


def test_no_adapter_serves_nothing():
    assert not serves(None, "price")


def test_an_adapter_serves_the_capabilities_it_lists_and_no_other():
    assert serves(Prices(), "price") and serves(Prices(), "markets")
    assert not serves(Prices(), "gas")


def test_an_adapter_listing_no_capabilities_serves_any():
    assert serves(AnyCapability(), "price") and serves(AnyCapability(), "anything", {"chain": "x"})


def test_a_gas_adapter_without_a_requested_chain_serves_any_chain_request():
    assert serves(Gas(), "gas") and serves(Gas(), "gas", None) and serves(Gas(), "gas", {})
    assert not serves(Gas(), "gas", {"chain": "ethereum"})
    assert serves(Gas(), "tvl", {"chain": "ethereum"})  # chains name gas chains only


# --- providers_of ----------------------------------------------------------------------------


@pytest.fixture
def registry(monkeypatch):
    from healing.engine import candidates

    adapters = {"alpha": Prices(), "beta": Prices(), "gasman": Gas()}
    monkeypatch.setattr(candidates, "adapter_for", adapters.get)
    return adapters


def snap(*pools: PoolConfig, slugs=("alpha", "beta", "gasman")) -> Snapshot:
    return Snapshot(1, providers={s: config(s) for s in slugs}, pools={p.slug: p for p in pools})


def test_the_provider_asked_for_is_the_only_candidate(registry):
    s = snap(PoolConfig("price", "price", "priority", (MemberConfig("beta"),)))
    assert providers_of(s, "price", "alpha") == (None, [s.providers["alpha"]])


@pytest.mark.parametrize(("slug", "capability"), [("nobody", "price"), ("gasman", "price"),
                                                  ("gasman", "gas")])
def test_a_provider_asked_for_that_is_unknown_or_does_not_serve_it_is_an_unknown_capability(registry, slug,
                                                                                            capability):
    params = {"chain": "ethereum"} if capability == "gas" else None
    with pytest.raises(UnknownCapability) as caught:
        providers_of(snap(), capability, slug, params)
    assert str(caught.value) == f"provider {slug!r} does not serve {capability!r}"


def test_the_pools_members_with_a_configuration_are_the_candidates_in_member_order(registry):
    members = (MemberConfig("beta"), MemberConfig("ghost"), MemberConfig("alpha"))
    pool = PoolConfig("price", "price", "priority", members)
    s = snap(pool)
    assert providers_of(s, "price") == (pool, [s.providers["beta"], s.providers["alpha"]])


def test_a_capability_without_an_enabled_pool_is_unknown(registry):
    s = snap(PoolConfig("price", "price", "priority", (MemberConfig("alpha"),), enabled=False))
    with pytest.raises(UnknownCapability) as caught:
        providers_of(s, "price")
    assert str(caught.value) == "no enabled pool serves 'price'"


# --- mark: which skip applies ------------------------------------------------------------------

OPENED = BreakerState(state=OPEN, reopens_at=T0 + 5)


def test_a_missing_required_key_skips_and_names_its_variable(monkeypatch):
    monkeypatch.delenv("ALPHA_TEST_KEY", raising=False)
    c = mark(cand(key_required=True, api_key_env="ALPHA_TEST_KEY"), T0, breaker=CLOSED_STATE, cooling=None)
    assert (c.skip, c.skip_detail, c.skip_until) == (SKIPPED_NO_KEY, "needs an API key in ALPHA_TEST_KEY", None)


def test_a_required_key_without_a_variable_is_missing_too():
    c = mark(cand(key_required=True), T0, breaker=CLOSED_STATE, cooling=None)
    assert (c.skip, c.skip_detail) == (SKIPPED_NO_KEY, "needs an API key in its key variable")


def test_a_required_key_that_is_set_or_an_optional_one_does_not_skip(monkeypatch):
    monkeypatch.setenv("ALPHA_TEST_KEY", "k")
    keyed = cand(key_required=True, api_key_env="ALPHA_TEST_KEY")
    assert mark(keyed, T0, breaker=CLOSED_STATE, cooling=None).skip == ""
    monkeypatch.delenv("ALPHA_TEST_KEY")
    assert mark(cand(api_key_env="ALPHA_TEST_KEY"), T0, breaker=CLOSED_STATE, cooling=None).skip == ""


def test_a_missing_key_comes_before_a_cool_down_and_an_open_breaker():
    c = mark(cand(key_required=True), T0, breaker=OPENED, cooling=T0 + 7)
    assert (c.skip, c.skip_until, c.reopens_at) == (SKIPPED_NO_KEY, None, None)


def test_a_cool_down_comes_before_an_open_breaker_and_says_how_long_rounded_up():
    c = mark(cand(), T0, breaker=OPENED, cooling=T0 + 6.2)
    assert (c.skip, c.skip_until, c.reopens_at) == (SKIPPED_BUDGET, T0 + 6.2, None)
    assert c.skip_detail == "cooling down for 7 s (Retry-After)"


def test_an_open_breaker_says_how_long_rounded_up():
    c = mark(cand(), T0, breaker=BreakerState(state=OPEN, reopens_at=T0 + 29.5), cooling=None)
    assert (c.skip, c.skip_detail, c.needs_probe) == (SKIPPED_BREAKER_OPEN, "breaker open for 30 s", False)


def test_a_half_open_breaker_lets_the_candidate_through_as_the_probe():
    c = mark(cand(), T0, breaker=BreakerState(state=HALF_OPEN, reopens_at=T0 - 1), cooling=None)
    assert (c.skip, c.needs_probe, c.skip_until, c.reopens_at) == ("", True, None, None)


def test_a_closed_breaker_needs_no_probe():
    c = mark(cand(), T0, breaker=CLOSED_STATE, cooling=None)
    assert (c.skip, c.skip_detail, c.needs_probe) == ("", "", False)


def test_a_half_open_breaker_still_waits_out_a_cool_down():
    c = mark(cand(), T0, breaker=BreakerState(state=HALF_OPEN), cooling=T0 + 3)
    assert (c.skip, c.needs_probe) == (SKIPPED_BUDGET, False)


def test_a_providers_own_window_comes_before_a_missing_key():
    c = mark(cand(key_required=True), T0, breaker=OPENED, cooling=T0 + 7, drained_until=T0 + 60)
    assert (c.skip, c.skip_until, c.reopens_at, c.needs_probe) == (SKIPPED_MAINTENANCE, T0 + 60, None, False)


def test_a_drained_half_open_candidate_is_no_probe():
    c = mark(cand(), T0, breaker=BreakerState(state=HALF_OPEN), cooling=None, pool_window=("price", T0 + 9))
    assert (c.skip, c.needs_probe) == (SKIPPED_MAINTENANCE, False)


def test_mark_returns_the_candidate_it_marked():
    c = cand()
    assert mark(c, T0, breaker=OPENED, cooling=None) is c
    assert c.slug == "alpha"
