"""The fallback chain: run a request's candidates in order, with retries, hedging and one deadline.

Steps 4-9 of "one data request" (DESIGN.md), as a controller that knows nothing of pools, stats
or breakers. It takes the ordered candidates (healing.engine.candidates), a `Call` (what one
attempt does: healing.engine.attempt) and a `Recorder` (the gates before a call and the records
after it: healing.engine.ledger), in the manner of a failsafe executor:

- each candidate gets at most one retry on a transient failure or timeout (exponential backoff,
  full jitter), then the next candidate is tried (fallback);
- hedging: when an attempt runs longer than the provider's p90 latency (at least the hedge
  floor), the next candidate starts in parallel; the first valid answer wins, the loser is
  cancelled;
- nothing outlives the deadline: the call gets it, and whatever still runs when it passes is
  cancelled and recorded as a timeout.

`attempts` is the request's report: every skip, failure, success and cancellation, in order.
A skip or a failure whose end is known (the candidate's `skip_until`, the recorder's answer for a
refused gate or a finished call) carries it as the attempt's `retry_at`.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from tenacity import RetryCallState, wait_exponential

from healing.engine.errors import CANCELLED, Attempt
from healing.engine.http import DETAIL_MAX_CHARS, Failure
from providers.adapters.base import AdapterError, Outcome

logger = logging.getLogger(__name__)

# Retries on the same provider after a transient failure or timeout (then the next provider).
RETRIES_PER_PROVIDER = 1
# Backoff before a retry: full jitter over min(RETRY_BACKOFF_MAX_S, RETRY_BACKOFF_BASE_S * 2**n).
RETRY_BACKOFF_BASE_S = 0.1
RETRY_BACKOFF_MAX_S = 1.0
# Providers running at once for one request: the original plus one hedge.
HEDGE_MAX_INFLIGHT = 2
# At the deadline every attempt has hit its own timeout; this long is left for them to record it
# before the rest is cancelled (seconds; bookkeeping only, no request runs in it).
DEADLINE_GRACE_S = 0.05

_backoff = wait_exponential(multiplier=RETRY_BACKOFF_BASE_S, max=RETRY_BACKOFF_MAX_S)
_RETRIED = frozenset({Outcome.TRANSIENT.value, Outcome.TIMEOUT.value})


def backoff_cap(retry_number: int) -> float:
    """Upper bound of the full-jitter backoff before retry number `retry_number` (1-based)."""
    state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})
    state.attempt_number = retry_number
    return float(_backoff(state))


class Exhausted(Exception):
    """Every candidate failed or was skipped."""


class Runnable(Protocol):
    """A candidate as the chain sees it (healing.engine.candidates.Candidate)."""

    slug: str
    skip: str  # an attempt outcome (skipped_*) when it must not be called at all
    skip_detail: str
    skip_until: float | None  # when the skip ends (epoch seconds), if known
    p90_ms: float | None  # its usual latency: the hedge timer


class Call(Protocol):
    """What one attempt does: `prepare` (pure, once per candidate; AdapterError if it cannot
    build the request), then the call itself, which answers (value, outcome) or raises Failure."""

    def prepare(self, cand: Any) -> Any: ...

    def __call__(self, cand: Any, prepared: Any, deadline: float) -> Awaitable[tuple[Any, str]]: ...


class Recorder(Protocol):
    """The gates before each call and the records after it (healing.engine.ledger.Ledger)."""

    async def admit(self, cand: Any, *, retry: bool) -> tuple[str, str, float | None] | None:
        """None if a call may go now (its token is taken), else (skip outcome, detail, when it ends or None)."""

    async def finished(
        self, cand: Any, outcome: str, ms: float, detail: str, retry_after_s: float | None
    ) -> float | None:
        """A call came back (or failed) after `ms`; when the provider may be called again, if that is
        now known (a cool-down it set), else None."""

    async def cut_short(self, cand: Any, outcome: str, ms: float, *, overran: bool) -> None:
        """A call was cancelled (hedge loser, or the deadline); `overran` its usual latency."""

    def skipped(self, slug: str, outcome: str) -> None:
        """A candidate was passed over without a call."""

    async def flush(self) -> None:
        """The chain is done: write what was buffered (skips)."""


@dataclass
class _Run:
    cand: Runnable
    prepared: Any
    hedge_after_s: float
    launched: float  # loop time the provider run began: the hedge timer counts from here
    started: float | None = None  # loop time the current HTTP attempt began (None between attempts)
    hedged: bool = False  # a hedge was already started because of this run


@dataclass
class Chain:
    """One request's walk through its candidates; `attempts` is what the caller reports."""

    deadline: float  # event-loop time
    recorder: Recorder
    hedge_floor_ms: float
    rng: random.Random
    sleep: Callable[[float], Awaitable[None]]
    hedge: bool = True
    attempts: list[Attempt] = field(default_factory=list)

    async def run(self, candidates: list[Runnable], call: Call) -> tuple[Runnable, Any]:
        """The first valid answer as (candidate, value); raises Exhausted when none came."""
        loop = asyncio.get_running_loop()
        queue = deque(candidates)
        running: dict[asyncio.Task, _Run] = {}
        newest: _Run | None = None
        try:
            while True:
                if not running:
                    newest = await self._launch(queue, running, call)
                    if newest is None:
                        raise Exhausted()
                now = loop.time()
                if now >= self.deadline:
                    done, _ = await asyncio.wait(running, timeout=DEADLINE_GRACE_S)
                    if (winner := self._collect(done, running)) is not None:
                        return winner
                    raise Exhausted()
                hedge_at = self._hedge_at(newest, queue, running)
                wake = self.deadline if hedge_at is None else min(self.deadline, hedge_at)
                done, _ = await asyncio.wait(running, timeout=max(0.0, wake - now), return_when=asyncio.FIRST_COMPLETED)
                if not done:
                    if hedge_at is not None and hedge_at <= loop.time() < self.deadline:
                        newest.hedged = True
                        logger.info("hedging %s after %.0f ms", newest.cand.slug, newest.hedge_after_s * 1000)
                        newest = await self._launch(queue, running, call) or newest
                    continue
                if (winner := self._collect(done, running)) is not None:
                    return winner
                if running and newest not in running.values():
                    newest = next(reversed(running.values()))
                    # Its hedge failed: if it is still the slow one, the next provider may start now.
                    newest.hedged = False
        finally:
            await self._stop(running, deadline_passed=loop.time() >= self.deadline)
            await self.recorder.flush()

    def _hedge_at(self, newest: _Run, queue: deque[Runnable], running: dict[asyncio.Task, _Run]) -> float | None:
        """Loop time to start a hedge beside `newest`, or None if no hedge may start."""
        if (
            self.hedge and not newest.hedged
            and len(running) < HEDGE_MAX_INFLIGHT and any(not c.skip for c in queue)
        ):
            return newest.launched + newest.hedge_after_s
        return None

    def _collect(self, done: set[asyncio.Task], running: dict[asyncio.Task, _Run]) -> tuple[Runnable, Any] | None:
        """Take finished runs out of `running`; the first success, if any, as (candidate, value)."""
        winner = None
        for task in done:
            run = running.pop(task)
            exc = task.exception()
            if exc is None:
                winner = winner or (run.cand, task.result())
            elif not isinstance(exc, Failure):
                logger.error("attempt on %s crashed", run.cand.slug, exc_info=exc)
        return winner

    async def _launch(self, queue: deque[Runnable], running: dict[asyncio.Task, _Run], call: Call) -> _Run | None:
        """Start the next candidate that passes its gates; skipped ones are recorded in order."""
        while queue:
            cand = queue.popleft()
            if cand.skip:
                self._skip(cand.slug, cand.skip, cand.skip_detail, cand.skip_until)
                continue
            try:
                prepared = call.prepare(cand)
            except AdapterError as exc:
                self.attempts.append(Attempt(cand.slug, exc.outcome.value, 0.0, str(exc)[:DETAIL_MAX_CHARS]))
                continue
            refused = await self.recorder.admit(cand, retry=False)
            if refused is not None:
                self._skip(cand.slug, *refused)
                continue
            # Nothing awaits between the gate (its rate-limit token last) and the call: every
            # await there would widen the jitter the limiter's guard interval must absorb.
            hedge_after = max(self.hedge_floor_ms, cand.p90_ms or 0.0) / 1000
            run = _Run(cand, prepared, hedge_after, launched=asyncio.get_running_loop().time())
            running[asyncio.ensure_future(self._provider(run, call))] = run
            return run
        return None

    async def _provider(self, run: _Run, call: Call) -> Any:
        """Up to 1 + RETRIES_PER_PROVIDER attempts on one provider; raises the last Failure."""
        loop = asyncio.get_running_loop()
        cand = run.cand
        last: Failure | None = None
        for number in range(RETRIES_PER_PROVIDER + 1):
            if number:
                delay = self.rng.uniform(0, backoff_cap(number))
                if loop.time() + delay >= self.deadline:
                    break
                await self.sleep(delay)
                # The retry is a call like any other: it needs a token and a breaker that lets it pass.
                refused = await self.recorder.admit(cand, retry=True)
                if refused is not None:
                    self._skip(cand.slug, *refused)
                    break
            run.started = loop.time()
            try:
                value, outcome = await call(cand, run.prepared, self.deadline)
            except Failure as failure:
                await self._finished(run, failure.outcome, failure.detail, failure.retry_after_s)
                if failure.outcome in _RETRIED:
                    last = failure
                    continue
                raise
            await self._finished(run, outcome, "", None)
            return value
        assert last is not None
        raise last

    async def _finished(self, run: _Run, outcome: str, detail: str, retry_after_s: float | None) -> None:
        ms = (asyncio.get_running_loop().time() - run.started) * 1000
        run.started = None  # recorded here, so a later cancel must not record it again
        at = len(self.attempts)
        self.attempts.append(Attempt(run.cand.slug, outcome, ms, detail))
        until = await self.recorder.finished(run.cand, outcome, ms, detail, retry_after_s)
        if until is not None:
            # Appended before the await so that a hedge's records keep their order; only
            # appends happen meanwhile, so the index still points at this attempt.
            self.attempts[at] = replace(self.attempts[at], retry_at=until)

    def _skip(self, slug: str, outcome: str, detail: str, until: float | None = None) -> None:
        self.attempts.append(Attempt(slug, outcome, 0.0, detail, until))
        self.recorder.skipped(slug, outcome)

    async def _stop(self, running: dict[asyncio.Task, _Run], *, deadline_passed: bool) -> None:
        """Cancel what still runs: hedge losers are `cancelled`, deadline victims `timeout`.

        Either counts as a failure of the provider only if the attempt had overrun its usual
        latency (it was the slow one), so a hanging provider still trips its breaker.
        """
        if not running:
            return
        loop = asyncio.get_running_loop()
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        outcome = Outcome.TIMEOUT.value if deadline_passed else CANCELLED
        detail = "request deadline reached" if deadline_passed else "a faster provider answered"
        for run in running.values():
            if run.started is None:
                continue  # cancelled between attempts (in backoff): no call was cut short
            ms = (loop.time() - run.started) * 1000
            self.attempts.append(Attempt(run.cand.slug, outcome, ms, detail))
            await self.recorder.cut_short(run.cand, outcome, ms, overran=ms >= run.hedge_after_s * 1000)
