"""The breaker's Redis store: every field survives a round trip, the hash expires after a day,
reads batch (`states`, `queue_read`), and contended records are retried, never dropped."""

import asyncio

import pytest

from healing.engine import breaker
from healing.engine.breaker import CLOSED, CLOSED_STATE, HALF_OPEN, OPEN, BreakerState, BreakerStore
from healing.engine.config import ProviderConfig
from tests.fixtures.clock import T0, FakeClock

FULL = BreakerState(
    state=HALF_OPEN,
    reopens_at=T0 + 0.125,
    consecutive_failures=4,
    window_failures=4,
    window_calls=7,
    trips=6,
    window="1001011",
    probe_until=T0 + 15.5,
)


def cfg(slug="alpha", **kw):
    return ProviderConfig(slug=slug, name=slug, category="market_data", base_url="http://127.0.0.1:1", **kw)


def test_encode_decode_round_trips_every_field():
    encoded = breaker.encode_state(FULL)
    assert encoded == {"s": HALF_OPEN, "c": "4", "w": "1001011", "t": "6", "r": repr(T0 + 0.125), "p": repr(T0 + 15.5)}
    assert breaker.decode_state(encoded) == FULL
    as_bytes = {k.encode(): v.encode() for k, v in encoded.items()}  # what Redis answers
    assert breaker.decode_state(as_bytes) == FULL


def test_unset_times_are_left_out_and_read_back_as_none():
    state = BreakerState(window="01", window_calls=2, window_failures=1, consecutive_failures=1)
    encoded = breaker.encode_state(state)
    assert set(encoded) == {"s", "c", "w", "t"}
    assert breaker.decode_state(encoded) == state
    assert breaker.decode_state({}) is CLOSED_STATE
    assert breaker.decode_state(None) is CLOSED_STATE
    assert breaker.decode_state({"s": OPEN}) == BreakerState(state=OPEN)


def test_window_counters_are_derived_from_the_stored_window():
    decoded = breaker.decode_state({"s": CLOSED, "w": "110101", "c": "1", "t": "0"})
    assert (decoded.window_calls, decoded.window_failures) == (6, 4)


def test_breaker_keys_are_per_provider_under_the_project_prefix():
    assert breaker.breaker_key("alpha") != breaker.breaker_key("beta")
    assert breaker.breaker_key("alpha").endswith("breaker:alpha")


async def test_a_recorded_state_round_trips_through_redis_with_a_day_ttl(aredis, monkeypatch):
    expiries = []
    real_pipeline = aredis.pipeline

    def spying_pipeline(*args, **kwargs):
        pipe = real_pipeline(*args, **kwargs)
        real_expire = pipe.expire
        pipe.expire = lambda name, seconds: expiries.append((name, seconds)) or real_expire(name, seconds)
        return pipe

    monkeypatch.setattr(aredis, "pipeline", spying_pipeline)
    store = BreakerStore(aredis, FakeClock())
    for ok in (False, True, False, False):
        await store.record(cfg(), ok)
    key = breaker.breaker_key("alpha")
    assert expiries[-1] == (key, breaker.STATE_TTL_S)
    assert 0 < await aredis.ttl(key) <= 86400
    stored = await store.state("alpha")
    assert stored == BreakerState(window="1011", window_calls=4, window_failures=3, consecutive_failures=2)
    assert stored.as_dict() == {
        "state": CLOSED,
        "reopens_at": None,
        "consecutive_failures": 2,
        "window_failures": 3,
        "window_calls": 4,
        "trips": 0,
    }


async def test_an_open_and_a_probing_breaker_round_trip_through_redis(aredis):
    clock = FakeClock()
    store = BreakerStore(aredis, clock)
    for _ in range(5):
        await store.record(cfg(), False)
    key = breaker.breaker_key("alpha")
    assert await store.state("alpha") == BreakerState(state=OPEN, reopens_at=T0 + 30, trips=1)
    clock.advance(30)
    assert await store.allow(cfg())
    raw = await aredis.hgetall(key)
    assert breaker.decode_state(raw) == BreakerState(state=HALF_OPEN, reopens_at=T0 + 30, trips=1, probe_until=T0 + 45)
    # The probe fails: open again for twice as long, and the old probe claim is gone from the hash.
    await store.record(cfg(), False)
    assert set(await aredis.hgetall(key)) == {b"s", b"c", b"w", b"t", b"r"}
    assert await store.state("alpha") == BreakerState(state=OPEN, reopens_at=T0 + 90, trips=2)
    assert 0 < await aredis.ttl(key) <= breaker.STATE_TTL_S


async def test_states_reads_many_providers_in_one_batch_as_of_the_clock(aredis):
    clock = FakeClock()
    store = BreakerStore(aredis, clock)
    for _ in range(5):
        await store.record(cfg("alpha"), False)
    await store.record(cfg("beta"), False)
    assert await store.states([]) == {}
    states = await store.states(iter(["alpha", "beta", "gamma"]))
    assert list(states) == ["alpha", "beta", "gamma"]
    assert states["alpha"] == BreakerState(state=OPEN, reopens_at=T0 + 30, trips=1)
    assert states["beta"] == BreakerState(window="1", window_calls=1, window_failures=1, consecutive_failures=1)
    assert states["gamma"] == CLOSED_STATE
    clock.advance(30)
    assert (await store.states(["alpha"]))["alpha"].state == HALF_OPEN


async def test_queue_read_batches_a_breaker_read_on_the_callers_pipeline(aredis):
    store = BreakerStore(aredis, FakeClock())
    await store.record(cfg("alpha"), False)
    pipe = aredis.pipeline(transaction=False)
    pipe.get("unrelated")
    store.queue_read(pipe, "alpha")
    store.queue_read(pipe, "beta")
    unrelated, alpha, beta = await pipe.execute()
    assert unrelated is None
    assert breaker.decode_state(alpha) == await store.state("alpha")
    assert breaker.decode_state(alpha).consecutive_failures == 1
    assert breaker.decode_state(beta) is CLOSED_STATE


async def test_an_unchanged_state_writes_nothing(aredis):
    store = BreakerStore(aredis, FakeClock())
    for _ in range(5):
        await store.record(cfg(), False)
    key = breaker.breaker_key("alpha")
    await aredis.persist(key)
    await store.record(cfg(), False)  # a straggler while open changes nothing ...
    assert not await store.allow(cfg())  # ... and neither does a refused call
    assert await aredis.ttl(key) == -1  # so no write refreshed the expiry


async def _record_concurrently(aredis, monkeypatch, writers, per_writer, ok):
    steps = []
    real_record = breaker.record

    def counting_record(*args):
        steps.append(args)
        return real_record(*args)

    monkeypatch.setattr(breaker, "record", counting_record)
    provider = cfg(breaker_failure_threshold=100)

    async def writer(store):
        return [await store.record(provider, ok) for _ in range(per_writer)]

    stores = [BreakerStore(aredis, FakeClock()) for _ in range(writers)]
    await asyncio.gather(*(writer(s) for s in stores))
    return len(steps), await stores[0].state("alpha")


@pytest.mark.parametrize("writers", [5, 8, 10])
async def test_concurrent_successes_are_all_recorded(aredis, monkeypatch, writers):
    attempts, state = await _record_concurrently(aredis, monkeypatch, writers, per_writer=2, ok=True)
    assert attempts > 2 * writers  # the writers really collided, so some records were retried
    assert state == BreakerState(window="0" * 2 * writers, window_calls=2 * writers, window_failures=0)


async def test_concurrent_failures_are_all_recorded(aredis, monkeypatch):
    # Nine failures (below both the 100-failure threshold and the ten-call minimum of the ratio).
    attempts, state = await _record_concurrently(aredis, monkeypatch, writers=9, per_writer=1, ok=False)
    assert attempts > 9
    assert (state.state, state.consecutive_failures, state.window_calls, state.window_failures) == (CLOSED, 9, 9, 9)


async def test_a_record_that_cannot_win_gives_up_after_the_retry_limit(aredis, monkeypatch, caplog):
    from redis.exceptions import WatchError

    attempts = []

    async def always_contended(self, *args, **kwargs):
        attempts.append(1)
        raise WatchError("someone else wrote")

    monkeypatch.setattr(type(aredis.pipeline()), "execute", always_contended)
    store = BreakerStore(aredis, FakeClock())
    assert await store.record(cfg(), False) is None
    assert await store.allow(cfg()) is True  # closed: allow changes nothing, so it never writes
    assert len(attempts) == breaker.MAX_CAS_RETRIES == 20
    assert [r.getMessage() for r in caplog.records if r.name == breaker.__name__] == [
        "breaker update for alpha gave up after 20 contended retries"
    ]
