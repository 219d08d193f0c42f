"""OrderedBreakers: a success's record deferred past the answer is never lost and never overtaken,
and the store's log lines and give-up answers say what happened."""

import asyncio
import logging

import pytest

from healing.engine import breaker
from healing.engine.breaker import CLOSED, OPEN, BreakerState, BreakerStore, OrderedBreakers
from healing.engine.config import ProviderConfig
from tests.fixtures.clock import T0, FakeClock


def cfg(slug="alpha", **kw):
    return ProviderConfig(slug=slug, name=slug, category="market_data", base_url="http://127.0.0.1:1", **kw)


async def stored(aredis, slug="alpha") -> BreakerState:
    """What another process would read now: straight from Redis, without waiting for anything."""
    return breaker.decode_state(await aredis.hgetall(breaker.breaker_key(slug)))


async def trip(store, slug="alpha"):
    for _ in range(5):
        await BreakerStore.record(store, cfg(slug), False)


async def test_a_deferred_record_lands_before_the_next_read_in_this_process(aredis):
    store = OrderedBreakers(aredis, FakeClock())
    store.record_later(cfg(), False)
    assert await stored(aredis) == breaker.CLOSED_STATE  # not yet: it waits for the caller's turn
    assert (await store.state("alpha")).consecutive_failures == 1
    store.record_later(cfg("beta"), False)
    assert (await store.states(["beta"]))["beta"].consecutive_failures == 1
    assert store._later == {"alpha": set(), "beta": set()}  # finished records are forgotten


async def test_a_deferred_success_is_not_overtaken_by_a_later_failure(aredis):
    store = OrderedBreakers(aredis, FakeClock())
    store.record_later(cfg(), True)
    await store.record(cfg(), False)
    assert (await stored(aredis)).window == "01"  # success first, as it happened
    store.record_later(cfg(), False)
    assert await store.allow(cfg())
    assert (await stored(aredis)).window == "011"


async def test_allow_and_reset_wait_for_deferred_records_too(aredis):
    store = OrderedBreakers(aredis, FakeClock())
    await trip(store)
    store.record_later(cfg(), True)  # the probe's success closes it ...
    assert await store.allow(cfg())  # ... before allow looks
    store.record_later(cfg(), False)
    await store.reset("alpha")  # the failure lands first, then reset wipes it
    assert await aredis.exists(breaker.breaker_key("alpha")) == 0


async def test_a_gated_record_waits_for_its_gate(aredis, monkeypatch):
    monkeypatch.setattr(breaker, "LATE_GATE_MAX_S", 60.0)
    store = OrderedBreakers(aredis, FakeClock())
    gate = asyncio.Event()
    store.record_later(cfg(), False, gate)
    for _ in range(20):
        await aredis.ping()  # the caller's own round trips
    assert await stored(aredis) == breaker.CLOSED_STATE
    gate.set()
    assert (await asyncio.wait_for(store.state("alpha"), 10)).consecutive_failures == 1


async def test_a_gate_that_never_opens_delays_the_record_at_most_late_gate_max_s(aredis):
    assert breaker.LATE_GATE_MAX_S == 0.05  # fifty milliseconds, so the answer is long gone
    store = OrderedBreakers(aredis, FakeClock())
    store.record_later(cfg(), False, asyncio.Event())
    state = await asyncio.wait_for(store.state("alpha"), 10)
    assert state.consecutive_failures == 1


async def test_an_ungated_record_only_yields_once_before_recording(aredis, monkeypatch):
    delays = []
    real_sleep = asyncio.sleep

    async def spy(delay, *args):
        delays.append(delay)
        await real_sleep(delay, *args)

    monkeypatch.setattr(asyncio, "sleep", spy)
    store = OrderedBreakers(aredis, FakeClock())
    store.record_later(cfg(), True)
    await store.state("alpha")
    assert delays == [0]


async def test_a_failing_deferred_record_is_logged_and_does_not_block_readers(aredis, monkeypatch, caplog):
    async def broken(self, provider, ok):
        raise RuntimeError("redis went away")

    monkeypatch.setattr(BreakerStore, "record", broken)
    store = OrderedBreakers(aredis, FakeClock())
    with caplog.at_level(logging.WARNING, logger=breaker.__name__):
        store.record_later(cfg(), True)
        assert await store.state("alpha") == breaker.CLOSED_STATE
    assert [r.getMessage() for r in caplog.records] == [
        "deferred breaker record for alpha failed: RuntimeError('redis went away')"
    ]


async def test_the_store_logs_opening_and_closing_once(aredis, caplog):
    store = BreakerStore(aredis, FakeClock())

    async def lines_of(*outcomes):
        caplog.clear()
        with caplog.at_level(logging.INFO, logger=breaker.__name__):
            for ok in outcomes:
                await store.record(cfg(), ok)
        # The store's own lines (its observers, the live feed's publishers, log elsewhere).
        return [(r.levelname, r.getMessage()) for r in caplog.records if r.name == breaker.__name__]

    assert await lines_of(False, False, False, False) == []
    assert await lines_of(False) == [("WARNING", f"breaker opened for alpha until {T0 + 30:.0f} (trip 1)")]
    assert await lines_of(False) == []  # a straggler while open: nothing changed, nothing said
    assert await lines_of(True) == [("INFO", "breaker closed for alpha")]
    assert await lines_of(True) == []  # closed already


async def test_under_endless_contention_allow_says_no(aredis, monkeypatch, caplog):
    from redis.exceptions import WatchError

    clock = FakeClock()
    store = BreakerStore(aredis, clock)
    await trip(store)
    clock.advance(30)  # half-open: allow would claim the probe, which is a write

    async def always_contended(self, *args, **kwargs):
        raise WatchError("someone else wrote")

    monkeypatch.setattr(type(aredis.pipeline()), "execute", always_contended)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger=breaker.__name__):
        assert await store.allow(cfg()) is False  # two probes would break the half-open promise
    assert [r.getMessage() for r in caplog.records] == ["breaker update for alpha gave up after 20 contended retries"]


def test_a_stored_hash_without_a_state_reads_as_closed():
    state = breaker.decode_state({"c": "2", "w": "11"})
    assert (state.state, state.consecutive_failures, state.window_calls) == (CLOSED, 2, 2)
    assert breaker.decode_state({b"s": b"open"}).state == OPEN


@pytest.mark.parametrize("slugs", [[], ["alpha"]])
async def test_ordered_states_accepts_any_iterable(aredis, slugs):
    store = OrderedBreakers(aredis, FakeClock())
    assert list(await store.states(iter(slugs))) == slugs


async def test_a_cancelled_deferred_record_does_not_break_the_next_read(aredis):
    store = OrderedBreakers(aredis, FakeClock())
    store.record_later(cfg(), False, asyncio.Event())
    (task,) = store._later["alpha"]
    task.cancel()  # e.g. the loop shutting down: the record is lost, the reader is not
    assert await store.state("alpha") == breaker.CLOSED_STATE
    assert task.cancelled()


async def test_ordered_breakers_run_on_the_clock_they_are_given(aredis):
    clock = FakeClock()
    store = OrderedBreakers(aredis, clock)
    for _ in range(5):
        await store.record(cfg(), False)
    assert await store.state("alpha") == BreakerState(state=OPEN, reopens_at=T0 + 30, trips=1)
    clock.advance(30)
    assert await store.allow(cfg())
    assert await store.record(cfg(), True) == breaker.CLOSED_STATE  # the probe's success closes it


async def test_a_deferred_record_pending_on_another_event_loop_is_not_awaited(aredis, monkeypatch):
    import threading

    monkeypatch.setattr(breaker, "LATE_GATE_MAX_S", 60.0)
    store = OrderedBreakers(aredis, FakeClock())
    started, held = threading.Event(), {}

    def other_loop():
        async def main():
            held["loop"] = asyncio.get_running_loop()
            store.record_later(cfg(), False, asyncio.Event())  # waits for a gate nobody opens
            (held["task"],) = store._later["alpha"]
            started.set()
            await asyncio.gather(held["task"], return_exceptions=True)

        asyncio.run(main())

    thread = threading.Thread(target=other_loop)
    thread.start()
    try:
        assert await asyncio.to_thread(started.wait, 10)
        assert await store.state("alpha") == breaker.CLOSED_STATE  # no waiting on a foreign loop's task
    finally:
        held["loop"].call_soon_threadsafe(held["task"].cancel)
        await asyncio.to_thread(thread.join, 10)
    assert not thread.is_alive()
