"""Engine hooks of the capabilities issue: future timestamps are bad data, maintenance windows drain
providers, cache hits/misses/stale are counted, and adapters that cannot serve a chain are left out."""

from datetime import UTC, datetime

import pytest

from healing.engine import cache, stats
from healing.engine import fetch as engine
from healing.engine.attempt import check_plausible
from healing.engine.candidates import serves
from healing.engine.errors import SKIPPED_MAINTENANCE
from healing.engine.fetch import AllProvidersFailed, fetch_capability
from providers.adapters.base import Adapter
from providers.runtime import rkey
from tests.fixtures.clock import T0
from tests.healing.engine_doubles import EchoAdapter, provider, snapshot, status


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class DatedAlpha(EchoAdapter):
    """Answers normalized quotes stamped `ahead_s` after T0 (the test clock's start)."""

    slug = "alpha"
    ahead_s = 0.0

    def parse(self, capability, params, payload):
        prices = super().parse(capability, params, payload)
        stamp = _iso(T0 + self.ahead_s)
        return [{"id": coin, "symbol": None, "vs": "usd", "price": value["usd"], "last_updated": stamp}
                for coin, value in prices.items()]


@pytest.fixture
def dated_alpha(monkeypatch, adapters):
    from providers import registry

    monkeypatch.setitem(registry.ADAPTERS, "alpha", f"{__name__}.DatedAlpha")
    registry.get_adapter.cache_clear()
    yield DatedAlpha
    DatedAlpha.ahead_s = 0.0


async def ask(snap, deps, **kw):
    return await fetch_capability("price", {"ids": ["bitcoin"], "vs": "usd"}, snapshot=snap, deps=deps, **kw)


# --- (a) implausible future timestamps ----------------------------------------------------------


async def test_a_quote_dated_days_ahead_is_bad_data_and_falls_back(up, deps, dated_alpha):
    dated_alpha.ahead_s = 3 * 86400
    snap = snapshot(provider(up, "alpha"), provider(up, "beta"))
    answer = await ask(snap, deps)
    assert answer.source == "beta"
    assert [(a.provider, a.outcome) for a in answer.attempts] == [("alpha", "bad_data"), ("beta", "ok")]
    assert "in the future" in answer.attempts[0].detail
    counters = (await stats.read_stats(deps.redis, ["alpha"]))["alpha"]
    assert counters["failures"] == {"bad_data": 1} and counters["ok"] == 0
    # One bad answer counts against the breaker (it stays closed below its threshold).
    state = await deps.breakers.state("alpha")
    assert (state.state, state.consecutive_failures) == ("closed", 1)


async def test_a_quote_dated_within_the_allowed_skew_is_served(up, deps, dated_alpha):
    dated_alpha.ahead_s = 3600
    snap = snapshot(provider(up, "alpha"), provider(up, "beta"))
    answer = await ask(snap, deps)
    assert answer.source == "alpha"
    assert answer.data[0]["last_updated"] == _iso(T0 + 3600)


def test_plausibility_checks_each_capability_by_its_own_timestamp_field():
    check_plausible("gas", {"standard": 1.0, "source_time": _iso(T0)}, T0, "x")
    check_plausible("news", [{"published_at": _iso(T0 + 10 * 86400)}], T0, "x")  # feeds judge their own
    with pytest.raises(Exception, match="in the future"):
        check_plausible("global", {"updated_at": _iso(T0 + 2 * 86400)}, T0, "x")
    with pytest.raises(Exception, match="in the future"):
        check_plausible("fear_greed", [{"timestamp": _iso(T0 + 2 * 86400)}], T0, "x")


# --- (b) maintenance windows ------------------------------------------------------------------------


async def test_a_provider_in_a_maintenance_window_is_skipped_without_a_call(up, deps, clock, redis_client):
    redis_client.zadd(rkey("maintenance", "providers"), {"alpha": T0 + 600})
    snap = snapshot(provider(up, "alpha"), provider(up, "beta"))
    answer = await ask(snap, deps)
    assert answer.source == "beta"
    assert [(a.provider, a.outcome) for a in answer.attempts] == [("alpha", SKIPPED_MAINTENANCE), ("beta", "ok")]
    assert answer.attempts[0].detail == "in a maintenance window for 600 s"
    assert up.count("alpha") == 0
    # Drained on purpose: not a stats event for the provider.
    assert redis_client.hgetall(stats.counters_key("alpha")) == {}


async def test_the_window_ends_on_time(up, deps, clock, redis_client):
    redis_client.zadd(rkey("maintenance", "providers"), {"alpha": T0 + 600})
    snap = snapshot(provider(up, "alpha"), provider(up, "beta"))
    clock.advance(600)
    answer = await ask(snap, deps, only_provider="alpha")
    assert answer.source == "alpha"


async def test_only_provider_in_maintenance_is_a_failure_that_says_why(up, deps, redis_client):
    redis_client.zadd(rkey("maintenance", "providers"), {"alpha": T0 + 60})
    snap = snapshot(provider(up, "alpha"), provider(up, "beta"))
    with pytest.raises(AllProvidersFailed) as caught:
        await ask(snap, deps, only_provider="alpha")
    assert [(a.provider, a.outcome) for a in caught.value.attempts] == [("alpha", SKIPPED_MAINTENANCE)]
    assert up.count("alpha") == 0


# --- (c) cache counters -------------------------------------------------------------------------------


async def test_hits_misses_and_stale_answers_are_counted_per_capability(up, deps, clock, redis_client):
    snap = snapshot(provider(up, "alpha"))
    await ask(snap, deps)  # miss
    clock.advance(5)
    await ask(snap, deps)  # hit
    await ask(snap, deps)  # hit
    clock.advance(10)
    assert (await ask(snap, deps)).served == "stale"  # stale-while-revalidate
    await engine.drain_background()
    await engine.flush_counters(deps)
    assert redis_client.hgetall(cache.counters_key()) == {"miss:price": "1", "hit:price": "2", "stale:price": "1"}


async def test_stale_if_error_counts_a_miss_and_a_stale_answer(up, deps, clock, redis_client):
    snap = snapshot(provider(up, "alpha"))
    await ask(snap, deps)
    clock.advance(3600)
    up.script("alpha", status(500))
    answer = await ask(snap, deps)
    assert answer.served == "stale"
    await engine.flush_counters(deps)
    assert redis_client.hgetall(cache.counters_key()) == {"miss:price": "2", "stale:price": "1"}


async def test_only_provider_requests_are_not_cache_events(up, deps, redis_client):
    snap = snapshot(provider(up, "alpha"))
    await ask(snap, deps, only_provider="alpha")
    await engine.flush_counters(deps)
    assert redis_client.hgetall(cache.counters_key()) == {}


async def test_counters_are_buffered_and_flushed_in_one_round_trip(redis_client, aredis):
    ticks = iter([100.0, 100.1, 100.2, 101.5])
    counters = cache.CacheCounters(monotonic=lambda: next(ticks), flush_s=1.0)
    assert counters.add("hit", "price") is True  # never flushed yet: due at once
    await counters.flush(aredis)  # t=100.1
    assert counters.add("hit", "price") is False  # t=100.2, within the interval
    assert counters.pending == {"hit:price": 1}
    assert counters.add("miss", "gas") is True  # t=101.5
    assert redis_client.hgetall(cache.counters_key()) == {"hit:price": "1"}


async def test_counts_survive_a_failed_flush():
    class Broken:
        def pipeline(self, transaction=False):
            raise ConnectionError("redis down")

    counters = cache.CacheCounters()
    counters.add("hit", "price")
    await counters.flush(Broken())
    counters.add("hit", "price")
    assert counters.pending == {"hit:price": 2}


# --- adapters that cannot serve the request -------------------------------------------------------


class ChainAdapter(Adapter):
    slug = "chained"
    capabilities = frozenset({"gas"})
    chains = frozenset({"bitcoin"})


def test_an_adapter_listing_chains_serves_only_those():
    adapter = ChainAdapter()
    assert serves(adapter, "gas", {"chain": "bitcoin"})
    assert not serves(adapter, "gas", {"chain": "ethereum"})
    assert serves(adapter, "gas")
    assert not serves(adapter, "price", {"chain": "bitcoin"})
    assert serves(EchoAdapter(), "price", {"chain": "anything"})
