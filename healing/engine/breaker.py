"""Circuit breaker per provider: a pure state machine, and a Redis store every process shares.

States: closed (calls flow) -> open (calls skipped until `reopens_at`) -> half_open (exactly one
probe call is admitted) -> closed on success, or open again for twice as long on failure.

The transition functions (`allow`, `record`) are pure: state + event + time in, state out.
`BreakerStore` applies them atomically in Redis with WATCH/MULTI (optimistic compare-and-set),
so two processes never both claim the half-open probe and no recorded result is lost.
`OrderedBreakers` (the engine's store) can also defer a success's record past the answer.
Every change of state a store writes (or resets) is told to `OBSERVERS` as one `Transition`
(the live feed installs one: healing.breaker_feed); a call that changes no state tells nobody.

Only outcomes that say the provider is unhealthy are recorded (Outcome.counts_against_breaker:
transient, timeout, bad data); rate-limited answers cool the provider down instead
(healing.engine.ratelimit) and permanent ones (unknown symbol, bad key) say nothing about its health.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

import redis.asyncio
from redis.exceptions import WatchError

from healing.engine.background import track
from providers.runtime import rkey

logger = logging.getLogger(__name__)

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"

# Calls remembered for the failure-ratio rule, and the fewest calls before the ratio applies.
WINDOW_CALLS = 20
WINDOW_MIN_CALLS = 10
# Trip when at least this share of the remembered calls failed.
FAILURE_RATIO = 0.5
# Longest open period: the doubling on each re-trip stops here (seconds).
MAX_OPEN_S = 600.0
# How long a half-open probe holds its slot; if its process dies, another probe may go after this.
PROBE_LEASE_S = 15.0
# Breaker hashes of idle providers expire after a day: old failures say nothing about today.
STATE_TTL_S = 86400
# Compare-and-set retries under contention before a record is given up (and logged).
MAX_CAS_RETRIES = 20
# Longest a success's deferred breaker record waits for its request's answer (seconds).
LATE_GATE_MAX_S = 0.05


@dataclass(frozen=True)
class BreakerPolicy:
    failure_threshold: int = 5  # consecutive failures that trip the breaker
    open_s: float = 30.0  # first open period; doubles on each re-trip
    window: int = WINDOW_CALLS
    min_calls: int = WINDOW_MIN_CALLS
    failure_ratio: float = FAILURE_RATIO
    max_open_s: float = MAX_OPEN_S

    @classmethod
    def for_provider(cls, cfg: Any) -> "BreakerPolicy":
        return cls(
            failure_threshold=max(1, int(getattr(cfg, "breaker_failure_threshold", 5))),
            open_s=max(1.0, float(getattr(cfg, "breaker_open_s", 30))),
        )

    def open_period(self, trips: int) -> float:
        """Open period for the `trips`-th consecutive trip (1 = first)."""
        return min(self.open_s * 2 ** max(0, trips - 1), self.max_open_s)


@dataclass(frozen=True)
class BreakerState:
    state: str = CLOSED
    reopens_at: float | None = None
    consecutive_failures: int = 0
    window_failures: int = 0
    window_calls: int = 0
    trips: int = 0  # consecutive trips without a success in between (drives the doubling)
    window: str = ""  # recent calls, oldest first: "1" failed, "0" succeeded
    probe_until: float | None = None  # half-open: the probe's slot is taken until then

    def at(self, now: float) -> "BreakerState":
        """The state as a reader should see it: an open breaker whose period ended is half-open."""
        if self.state == OPEN and self.reopens_at is not None and now >= self.reopens_at:
            return replace(self, state=HALF_OPEN, probe_until=None)
        return self

    def as_dict(self) -> dict:
        return {
            "state": self.state,
            "reopens_at": self.reopens_at,
            "consecutive_failures": self.consecutive_failures,
            "window_failures": self.window_failures,
            "window_calls": self.window_calls,
            "trips": self.trips,
        }


CLOSED_STATE = BreakerState()


def _with_window(state: BreakerState, window: str, consecutive: int) -> BreakerState:
    return replace(
        state,
        window=window,
        window_calls=len(window),
        window_failures=window.count("1"),
        consecutive_failures=consecutive,
    )


def _trip(state: BreakerState, now: float, policy: BreakerPolicy) -> BreakerState:
    trips = state.trips + 1
    return BreakerState(state=OPEN, reopens_at=now + policy.open_period(trips), trips=trips)


def allow(state: BreakerState, now: float) -> tuple[bool, BreakerState]:
    """May a call go now? Claiming the half-open probe is part of the new state."""
    current = state.at(now)
    if current.state == CLOSED:
        return True, state
    if current.state == OPEN:
        return False, state
    if current.probe_until is not None and current.probe_until > now:
        return False, state  # another caller holds the probe
    return True, replace(current, probe_until=now + PROBE_LEASE_S)


def record(state: BreakerState, ok: bool, now: float, policy: BreakerPolicy) -> BreakerState:
    """The state after one call that counts (success, or a failure that counts against it)."""
    if state.state in (OPEN, HALF_OPEN):
        if ok:
            # The probe (or any late call) got through: the provider works again.
            return CLOSED_STATE
        if state.at(now).state == HALF_OPEN:
            return _trip(state, now, policy)
        # A straggler that failed while the breaker was already open changes nothing.
        return state
    window = (state.window + ("0" if ok else "1"))[-policy.window:]
    consecutive = 0 if ok else state.consecutive_failures + 1
    updated = _with_window(state, window, consecutive)
    if not ok and (
        consecutive >= policy.failure_threshold
        or (len(window) >= policy.min_calls and window.count("1") >= policy.failure_ratio * len(window))
    ):
        return _trip(updated, now, policy)
    return updated


# --- transitions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Transition:
    """One change of a provider's breaker state, as observers are told it."""

    provider: str
    before: str
    after: str
    reopens_at: float | None
    trips: int
    reason: str
    at: float


# Async callables every store of this process awaits with (store, Transition) after each change it writes.
OBSERVERS: list[Callable[[Any, Transition], Awaitable[None]]] = []


def record_reason(old: BreakerState, ok: bool, now: float, policy: BreakerPolicy) -> str:
    """Why `record` moved the breaker from `old` to `new` (a changed state only)."""
    if ok:
        return "probe succeeded"
    if old.at(now).state == HALF_OPEN:
        return "probe failed"
    if old.consecutive_failures + 1 >= policy.failure_threshold:
        return f"failures: {old.consecutive_failures + 1} consecutive"
    return "error rate"


def transition_of(slug: str, old: BreakerState, new: BreakerState, now: float, reason: str) -> Transition | None:
    """The Transition from `old` (as readers saw it at `now`) to `new`, or None when the state is the same."""
    before = old.at(now).state
    if new.state == before and not (before == HALF_OPEN and old.state == OPEN):
        return None
    return Transition(slug, before if before != new.state else old.state, new.state,
                      new.reopens_at if new.state == OPEN else None, new.trips, reason, now)


# --- Redis store ----------------------------------------------------------------------------


def breaker_key(slug: str) -> str:
    return rkey("breaker", slug)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def decode_state(raw: dict | None) -> BreakerState:
    if not raw:
        return CLOSED_STATE
    fields = {_text(k): _text(v) for k, v in raw.items()}
    window = fields.get("w", "")
    return BreakerState(
        state=fields.get("s", CLOSED),
        reopens_at=float(fields["r"]) if fields.get("r") else None,
        consecutive_failures=int(fields.get("c", 0)),
        window_failures=window.count("1"),
        window_calls=len(window),
        trips=int(fields.get("t", 0)),
        window=window,
        probe_until=float(fields["p"]) if fields.get("p") else None,
    )


def encode_state(state: BreakerState) -> dict[str, str]:
    out = {"s": state.state, "c": str(state.consecutive_failures), "w": state.window, "t": str(state.trips)}
    if state.reopens_at is not None:
        out["r"] = repr(state.reopens_at)
    if state.probe_until is not None:
        out["p"] = repr(state.probe_until)
    return out


class BreakerStore:
    """Breaker states in Redis: `state`/`states` read, `allow`/`record` are atomic CAS updates."""

    def __init__(self, redis_client: redis.asyncio.Redis, clock: Callable[[], float] = time.time):
        self.redis = redis_client
        self.clock = clock

    def queue_read(self, pipe: Any, slug: str) -> None:
        """Queue this provider's read on a caller's pipeline (to batch it with other reads)."""
        pipe.hgetall(breaker_key(slug))

    async def state(self, slug: str) -> BreakerState:
        return decode_state(await self.redis.hgetall(breaker_key(slug))).at(self.clock())

    async def states(self, slugs: Iterable[str]) -> dict[str, BreakerState]:
        slugs = list(slugs)
        if not slugs:
            return {}
        pipe = self.redis.pipeline(transaction=False)
        for slug in slugs:
            self.queue_read(pipe, slug)
        now = self.clock()
        return {s: decode_state(raw).at(now) for s, raw in zip(slugs, await pipe.execute())}

    async def allow(self, cfg: Any) -> bool:
        """True if a call may go; in half-open only the one caller that claims the probe gets True."""
        made: list[Transition] = []

        def step(st: BreakerState, now: float) -> tuple[bool, BreakerState]:
            may, new = allow(st, now)
            made[:] = [t] if (t := transition_of(cfg.slug, st, new, now, "period ended, probe allowed")) else []
            return may, new

        # Under extreme contention the answer is "no": two probes would break the half-open promise.
        may = await self._update(cfg.slug, step, give_up=False, made=made)
        await self._tell(made)
        return may

    async def record(self, cfg: Any, ok: bool) -> BreakerState:
        policy = BreakerPolicy.for_provider(cfg)
        made: list[Transition] = []

        def step(st: BreakerState, now: float) -> tuple[BreakerState, BreakerState]:
            new = record(st, ok, now, policy)
            if new.state == OPEN and st.state != OPEN:
                logger.warning("breaker opened for %s until %.0f (trip %d)", cfg.slug, new.reopens_at, new.trips)
            elif new.state == CLOSED and st.state != CLOSED:
                logger.info("breaker closed for %s", cfg.slug)
            made[:] = [replace(t, reason=record_reason(st, ok, now, policy))] if (
                t := transition_of(cfg.slug, st, new, now, "")) else []
            return new, new

        state = await self._update(cfg.slug, step, give_up=None, made=made)
        await self._tell(made)
        return state

    async def reset(self, slug: str) -> None:
        key = breaker_key(slug)
        pipe = self.redis.pipeline(transaction=True)
        pipe.hgetall(key)
        pipe.delete(key)
        raw, _ = await pipe.execute()
        now = self.clock()
        await self._tell([t] if (t := transition_of(slug, decode_state(raw), CLOSED_STATE, now,
                                                    "reset by operator")) else [])

    async def _tell(self, made: list[Transition]) -> None:
        """Tell the observers (only ever after a write that changed the state)."""
        for transition in made:
            for observer in list(OBSERVERS):
                try:
                    await observer(self, transition)
                except Exception as exc:  # noqa: BLE001 - an observer must never fail a request
                    logger.warning("breaker observer failed for %s: %r", transition.provider, exc)

    async def _update(
        self, slug: str, step: Callable[[BreakerState, float], tuple[Any, BreakerState]], *, give_up: Any,
        made: list[Transition] | None = None,
    ) -> Any:
        """Apply `step` by compare-and-set. `made` holds the transitions `step` computed; it is
        emptied when the update is given up, since the change its last attempt computed never happened."""
        key = breaker_key(slug)
        for _ in range(MAX_CAS_RETRIES):
            async with self.redis.pipeline(transaction=True) as pipe:
                try:
                    await pipe.watch(key)
                    old = decode_state(await pipe.hgetall(key))
                    result, new = step(old, self.clock())
                    if new == old:
                        await pipe.unwatch()
                        return result
                    pipe.multi()
                    pipe.delete(key)
                    if new != CLOSED_STATE:
                        pipe.hset(key, mapping=encode_state(new))
                        pipe.expire(key, STATE_TTL_S)
                    await pipe.execute()
                    return result
                except WatchError:
                    continue
        logger.warning("breaker update for %s gave up after %d contended retries", slug, MAX_CAS_RETRIES)
        if made is not None:
            made.clear()
        return give_up


class OrderedBreakers(BreakerStore):
    """The breaker store, plus success records deferred past the answer (`record_later`).

    A deferred record must not overtake a later one: every read or update of a provider's
    breaker in this process first waits for that provider's deferred records, so the breaker
    sees outcomes in the order they happened. Other processes see a success a few hundred
    microseconds late, which is what "after the answer" costs; it is never skipped.
    """

    def __init__(self, redis_client: redis.asyncio.Redis, clock: Callable[[], float] = time.time):
        super().__init__(redis_client, clock)
        self._later: dict[str, set[asyncio.Future]] = {}

    def record_later(self, cfg: Any, ok: bool, gate: asyncio.Event | None = None) -> None:
        """Record after the caller's answer is out: a tracked task (drain_background waits for it).

        With `gate`, the record waits until the caller sets it (once its answer is ready), at
        most LATE_GATE_MAX_S, so its round trips never delay that answer.
        """
        async def late() -> None:
            if gate is None:
                await asyncio.sleep(0)  # the request's own remaining round trips go first
            else:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(LATE_GATE_MAX_S):
                        await gate.wait()
            try:
                await BreakerStore.record(self, cfg, ok)
            except Exception as exc:  # noqa: BLE001 - bookkeeping must not crash the loop
                logger.warning("deferred breaker record for %s failed: %r", cfg.slug, exc)

        task = track(asyncio.ensure_future(late()))
        pending = self._later.setdefault(cfg.slug, set())
        pending.add(task)
        task.add_done_callback(pending.discard)

    async def _settle(self, slugs: Iterable[str]) -> None:
        loop = asyncio.get_running_loop()
        waiting = [t for slug in slugs for t in self._later.get(slug, ()) if t.get_loop() is loop and not t.done()]
        if waiting and asyncio.current_task() not in waiting:
            await asyncio.gather(*waiting, return_exceptions=True)

    async def state(self, slug: str) -> BreakerState:
        await self._settle([slug])
        return await super().state(slug)

    async def states(self, slugs: Iterable[str]) -> dict[str, BreakerState]:
        slugs = list(slugs)
        await self._settle(slugs)
        return await super().states(slugs)

    async def allow(self, cfg: Any) -> bool:
        await self._settle([cfg.slug])
        return await super().allow(cfg)

    async def record(self, cfg: Any, ok: bool) -> BreakerState:
        await self._settle([cfg.slug])
        return await super().record(cfg, ok)

    async def reset(self, slug: str) -> None:
        await self._settle([slug])
        await super().reset(slug)
