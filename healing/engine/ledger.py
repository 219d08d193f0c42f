"""The engine's side of each attempt: the gates before a call and everything a finished call changes.

`Ledger` is the chain's `Recorder` (healing.engine.chain). Before a call: the half-open probe
(or, before a retry, a breaker that is still closed) and then, last, the rate-limit token.
After it: stats and usage (pools.state: least_used, and the one latency list that feeds
fastest_response and the hedging p90), the breaker, and the cool-down of a rate-limited
provider. Skipped candidates are counted in the stats once the chain is done.

A refused gate and a rate-limited answer also say when the provider may be called again, where
that is known (the open breaker's reopening, the spent window's next free token, the cool-down's
end): the chain puts it on the attempt, and the caller's 503 into Retry-After.

A success changes nothing the request still decides on, so with `release` its stats and usage
are queued for the caller's next pipeline (the single-flight release: no round trip of their
own) and its breaker record runs after the answer (OrderedBreakers.record_later). A failure is
written before the chain moves on: the next attempt's gates must see it.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from healing.engine import stats
from healing.engine.breaker import CLOSED, OPEN
from healing.engine.candidates import Candidate
from healing.engine.chain import Chain
from healing.engine.deps import Deps
from healing.engine.errors import SKIPPED_BREAKER_OPEN, SKIPPED_BUDGET, SKIPPED_MAINTENANCE
from healing.engine.ratelimit import cooldown_seconds
from pools import state as pool_state
from providers.adapters.base import Outcome

logger = logging.getLogger(__name__)


def counts_against_breaker(outcome: str) -> bool:
    try:
        return Outcome(outcome).counts_against_breaker
    except ValueError:
        return False


def _queue_ok(pipe: Any, *, slug: str, ms: float, now: float) -> None:
    """A successful attempt's stats (with its latency sample) and usage, on a caller's pipeline."""
    stats.queue_record(pipe, slug, Outcome.OK.value, ms, now)
    pool_state.queue_record_use(pipe, slug, None, now)  # the sample is on the list already


@dataclass
class Ledger:
    deps: Deps
    # When set, successes queue their stats writes here (callables taking a pipeline) for the
    # caller to send with its own next round trip, instead of writing them at once.
    release: list[Callable[[Any], None]] | None = None
    gate: asyncio.Event | None = None  # set by the caller once its answer is ready (record_later)
    _skips: list[tuple[str, str]] = field(default_factory=list)

    def chain(self, deadline: float, *, hedge: bool = True) -> Chain:
        """A chain for one request that records through this ledger."""
        deps = self.deps
        return Chain(deadline, self, hedge_floor_ms=deps.settings.hedge_floor_ms, rng=deps.rng, sleep=deps.sleep,
                     hedge=hedge)

    def queue_released(self, pipe: Any) -> None:
        """Queue the deferred success writes on the caller's pipeline (see `release`)."""
        for queue in self.release or ():
            queue(pipe)

    async def admit(self, cand: Candidate, *, retry: bool) -> tuple[str, str, float | None] | None:
        if retry:
            state = await self.deps.breakers.state(cand.slug)
            if state.state != CLOSED and not cand.forced:
                until = state.reopens_at if state.state == OPEN else None  # half-open: the probe decides
                return SKIPPED_BREAKER_OPEN, "breaker opened before the retry", until
        elif cand.needs_probe and not await self.deps.breakers.allow(cand.cfg):
            # The probe's outcome decides when the breaker closes: no known end.
            return SKIPPED_BREAKER_OPEN, "half-open: another caller holds the probe", None
        # The rate-limit token is taken last, right before the request is written (see
        # _take_token): every await between a grant and the upstream's arrival widens the
        # jitter the limiter's guard interval must absorb.
        spent = await self._take_token(cand)
        if spent:
            detail = f"budget {spent} spent" + (" before the retry" if retry else "")
            return SKIPPED_BUDGET, detail, await self._frees_at(cand, spent)
        return None

    async def _frees_at(self, cand: Candidate, spent: str) -> float | None:
        """When the spent window (`spent` as Budget.acquire names it) grants its next token.

        Read only after a refusal: nothing waits on it to be called.
        """
        for window in await self.deps.budget.remaining(cand.cfg):
            if window["limit"] == spent:
                return window["resets_at"]
        return None

    async def _take_token(self, cand: Candidate) -> str | None:
        """One token in every window of the provider's budget; the spent limit, or None if taken."""
        return await self.deps.budget.acquire(cand.cfg)

    async def finished(
        self, cand: Candidate, outcome: str, ms: float, detail: str, retry_after_s: float | None = None
    ) -> float | None:
        """Everything one finished call changes: stats, usage, breaker, cool-down; returns the
        cool-down's end (epoch seconds) when the provider asked us to slow down, else None."""
        deps, cfg, now = self.deps, cand.cfg, self.deps.clock()
        ok = outcome == Outcome.OK.value
        if ok and self.release is not None:
            self.release.append(functools.partial(_queue_ok, slug=cfg.slug, ms=ms, now=now))
            deps.breakers.record_later(cfg, True, self.gate)
            return None
        # Stats and usage share one round trip; the breaker's compare-and-set runs beside it.
        pipe = deps.redis.pipeline(transaction=False)
        if outcome != Outcome.NOT_FOUND.value:
            # "Not found" is the caller's mistake: the provider answered, so it is no error of its.
            stats.queue_record(pipe, cfg.slug, outcome, ms, now)
        pool_state.queue_record_use(pipe, cfg.slug, None, now)
        writes = [pipe.execute()]
        if ok or counts_against_breaker(outcome):
            writes.append(deps.breakers.record(cfg, ok))
        limited = outcome == Outcome.RATE_LIMITED.value
        if limited:
            writes.append(deps.budget.cool_down(cfg.slug, cooldown_seconds(retry_after_s)))
        if not ok:
            logger.info("provider %s: %s (%s) after %.0f ms", cfg.slug, outcome, detail, ms)
        done = await asyncio.gather(*writes)
        return done[-1] if limited else None  # Budget.cool_down answers when it ends

    async def cut_short(self, cand: Candidate, outcome: str, ms: float, *, overran: bool) -> None:
        """A cancelled call: counted (no latency sample), and a breaker failure if it overran."""
        deps, now = self.deps, self.deps.clock()
        pipe = deps.redis.pipeline(transaction=False)
        stats.queue_record(pipe, cand.slug, outcome, None, now)
        pool_state.queue_record_use(pipe, cand.slug, None, now)
        writes = [pipe.execute()]
        if overran:
            writes.append(deps.breakers.record(cand.cfg, False))
        await asyncio.gather(*writes)

    def skipped(self, slug: str, outcome: str) -> None:
        # A maintenance window is the operator's doing: the attempt list says so, the stats don't.
        if outcome != SKIPPED_MAINTENANCE:
            self._skips.append((slug, outcome))

    async def flush(self) -> None:
        if not self._skips:
            return
        pipe = self.deps.redis.pipeline(transaction=False)
        now = self.deps.clock()
        for slug, outcome in self._skips:
            stats.queue_record(pipe, slug, outcome, None, now)
        self._skips.clear()
        await pipe.execute()
