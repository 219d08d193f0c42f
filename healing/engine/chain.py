"""The fallback chain: which providers to try, in what order, and how each try runs.

Owns steps 3-9 of "one data request" (DESIGN.md): order the pool's members by its strategy;
skip disabled providers, those without a required key, open breakers, cool-downs and spent
budgets (but never let breakers alone empty the pool: the member that reopens soonest is tried
last); run each provider with at most one retry on transient failures (exponential backoff, full
jitter); act on each classified outcome (healing.engine.http makes the call and classifies it); and
hedge: when an attempt runs longer than the provider's p90 latency, start the next provider in
parallel, take the first valid answer, cancel the loser.

Every attempt is recorded: the request's attempt list, the breaker, stats, cool-downs, and
pools.state usage/latency (which feeds least_used, fastest_response and the hedging p90).
Nothing here outlives the request deadline: each HTTP call gets min(provider timeout, time
left) and the controller cancels whatever still runs when the deadline passes.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tenacity import RetryCallState, wait_exponential

from healing.engine import drained, stats
from healing.engine.breaker import CLOSED, HALF_OPEN, OPEN, BreakerState, decode_state
from healing.engine.config import PoolConfig, ProviderConfig
from healing.engine.errors import (
    CANCELLED,
    SKIPPED_BREAKER_OPEN,
    SKIPPED_BUDGET,
    SKIPPED_MAINTENANCE,
    SKIPPED_NO_KEY,
    Attempt,
)
from healing.engine.http import DETAIL_MAX_CHARS, Failure, with_auth  # noqa: F401 - with_auth re-exported
from healing.engine.ratelimit import cooldown_seconds
from pools import state as pool_state
from pools.strategies import PRIORITY, Member, order_members
from providers.adapters.base import Adapter, AdapterError, Outcome, RequestSpec

if TYPE_CHECKING:
    from healing.engine.fetch import Deps

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


def backoff_cap(retry_number: int) -> float:
    """Upper bound of the full-jitter backoff before retry number `retry_number` (1-based)."""
    state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})
    state.attempt_number = retry_number
    return float(_backoff(state))


class Exhausted(Exception):
    """Every candidate failed or was skipped."""


def counts_against_breaker(outcome: str) -> bool:
    try:
        return Outcome(outcome).counts_against_breaker
    except ValueError:
        return False


# --- candidates -----------------------------------------------------------------------------


@dataclass
class Candidate:
    cfg: ProviderConfig
    adapter: Adapter
    skip: str = ""  # an attempt outcome (skipped_*) when it must not be called
    skip_detail: str = ""
    needs_probe: bool = False  # half-open: claim the single probe before calling
    forced: bool = False  # open breaker tried last because every member is open
    reopens_at: float | None = None
    p90_ms: float | None = None  # recent p90 latency (read with the other inputs; hedging timer)


def adapter_for(slug: str) -> Adapter | None:
    from providers import registry  # looked up per call so tests (and reloads) can swap adapters

    return registry.get_adapter(slug)


def serves(adapter: Adapter | None, capability: str, params: Mapping[str, Any] | None = None) -> bool:
    """The adapter serves the capability and, when it lists its `chains`, the requested chain."""
    if adapter is None or (adapter.capabilities and capability not in adapter.capabilities):
        return False
    chains = getattr(adapter, "chains", None)
    chain = (params or {}).get("chain")
    # Only gas adapters name their chains; elsewhere "chain" (TVL) is the adapter's to judge.
    return not (chains and chain and capability == "gas" and chain not in chains)


# How long a provider's p90 latency (the hedging timer) is reused before it is read again
# (seconds of the engine clock; Deps.p90_memo, one per process).
P90_REFRESH_S = 1.0


def _memo_fresh(held: tuple[float | None, float] | None, now: float) -> bool:
    return held is not None and 0 <= now - held[1] < P90_REFRESH_S


# The order_members() argument each runtime-driven strategy needs.
_STRATEGY_INPUT = {"round_robin": "cursor", "least_used": "usage", "fastest_response": "latency_ms"}


@dataclass
class OrderPlan:
    """The reads order_candidates needs, queued on any pipeline, and how to turn them into candidates.

    `order_candidates` sends them in a round trip of their own; the engine may queue them on the
    single-flight lock attempt instead (`speculative`: only when reading has no side effect).
    """

    deps: "Deps"
    pool: PoolConfig | None
    usable: dict[str, tuple[ProviderConfig, Adapter]]
    now: float
    last_resort: bool
    stale: list[str] = field(default_factory=list)  # slugs whose p90 is read (not memoized)

    @property
    def strategy(self) -> str:
        return self.pool.strategy if self.pool is not None else PRIORITY

    @property
    def speculative(self) -> bool:
        """Safe to read before knowing the reads will be used (round robin advances a cursor)."""
        return bool(self.usable) and self.strategy != "round_robin"

    def queue(self, pipe: Any) -> None:
        deps, now, slugs = self.deps, self.now, list(self.usable)
        for slug in slugs:
            deps.breakers.queue_read(pipe, slug)
            deps.budget.queue_cooling(pipe, slug)
        pipe.zrangebyscore(drained.providers_key(), f"({now}", "+inf", withscores=True)
        # The latency samples (up to 200 per provider) cost more to parse than everything else
        # here, and the hedging timer needs only their p90: read at most once per P90_REFRESH_S.
        memo = getattr(deps, "p90_memo", None)
        self.stale = [slug for slug in slugs if memo is None or not _memo_fresh(memo.get(slug), now)]
        for slug in self.stale:
            pipe.lrange(pool_state.latency_key(slug), 0, -1)
        if self.pool is not None:
            pool_state.queue_order_inputs(pipe, self.pool, self.strategy, slugs, now, True)

    def finish(self, raw: Sequence[Any]) -> list[Candidate]:
        return _candidates(self, raw)


def plan_order(
    deps: "Deps", pool: PoolConfig | None, providers: Sequence[ProviderConfig], capability: str,
    *, last_resort: bool = True, params: Mapping[str, Any] | None = None,
) -> OrderPlan:
    usable: dict[str, tuple[ProviderConfig, Adapter]] = {}
    for cfg in providers:
        adapter = adapter_for(cfg.slug)
        if cfg.enabled and serves(adapter, capability, params):
            usable[cfg.slug] = (cfg, adapter)
    return OrderPlan(deps, pool, usable, deps.clock(), last_resort)


async def order_candidates(
    deps: "Deps", pool: PoolConfig | None, providers: Sequence[ProviderConfig], capability: str,
    *, last_resort: bool = True, params: Mapping[str, Any] | None = None,
) -> list[Candidate]:
    """The pool's usable members in strategy order, each marked with why it must be skipped.

    Members whose adapter cannot serve `params` (a gas adapter without that chain) are left out.
    With `last_resort`, an all-open pool still tries the member whose breaker reopens soonest.
    """
    plan = plan_order(deps, pool, providers, capability, last_resort=last_resort, params=params)
    if not plan.usable:
        return []
    # Everything the decision needs in ONE round trip: breakers, cool-downs, maintenance,
    # latency samples (hedging p90), then the strategy's inputs and demotions.
    pipe = deps.redis.pipeline(transaction=False)
    plan.queue(pipe)
    return plan.finish(await pipe.execute())


def _candidates(plan: OrderPlan, raw: Sequence[Any]) -> list[Candidate]:
    deps, pool, usable, now, strategy = plan.deps, plan.pool, plan.usable, plan.now, plan.strategy
    if not usable:
        return []
    slugs = list(usable)
    n = 2 * len(slugs)
    drained = {(m.decode() if isinstance(m, bytes) else str(m)): float(end) for m, end in raw[n]}
    p90s = {slug: pool_state.p90_of(raw[n + 1 + i]) for i, slug in enumerate(plan.stale)}
    memo = getattr(deps, "p90_memo", None)
    if memo is not None:
        memo.update((slug, (p90, now)) for slug, p90 in p90s.items())
        p90s.update((slug, memo[slug][0]) for slug in slugs if slug not in p90s and slug in memo)
    extra: dict[str, Any] = {}
    if pool is not None:
        extra = pool_state.parse_order_inputs(strategy, slugs, list(raw[n + 1 + len(plan.stale):]), True)

    if pool is not None:
        members = [Member(m.provider, m.priority, m.weight) for m in pool.members if m.provider in usable]
    else:
        members = [Member(slug) for slug in slugs]
    try:
        ordered = order_members(strategy, members, rng=deps.rng, **extra)
    except ValueError:
        logger.warning("pool %s has unknown strategy %r; using priority", getattr(pool, "slug", "-"), strategy)
        ordered = order_members(PRIORITY, members, demoted=extra.get("demoted", ()))

    out: list[Candidate] = []
    index = {slug: i for i, slug in enumerate(slugs)}
    for member in ordered:
        cfg, adapter = usable[member.provider]
        i = index[cfg.slug]
        state: BreakerState = decode_state(raw[2 * i]).at(now)
        cooling = deps.budget.parse_cooling(raw[2 * i + 1])
        cand = Candidate(cfg, adapter, p90_ms=p90s.get(cfg.slug))
        if cfg.slug in drained:
            cand.skip = SKIPPED_MAINTENANCE
            cand.skip_detail = f"in a maintenance window for {math.ceil(drained[cfg.slug] - now)} s"
        elif cfg.key_required and not cfg.api_key():
            cand.skip, cand.skip_detail = SKIPPED_NO_KEY, f"needs an API key in {cfg.api_key_env or 'its key variable'}"
        elif cooling is not None:
            cand.skip, cand.skip_detail = SKIPPED_BUDGET, f"cooling down for {math.ceil(cooling - now)} s (Retry-After)"
        elif state.state == OPEN:
            cand.skip, cand.reopens_at = SKIPPED_BREAKER_OPEN, state.reopens_at
            cand.skip_detail = f"breaker open for {math.ceil(state.reopens_at - now)} s"
        elif state.state == HALF_OPEN:
            cand.needs_probe = True
        out.append(cand)

    gated = [c for c in out if c.skip in ("", SKIPPED_BREAKER_OPEN)]
    if plan.last_resort and gated and all(c.skip == SKIPPED_BREAKER_OPEN for c in gated):
        # A pool is never emptied by breakers alone: the member that reopens soonest goes last.
        soonest = min(gated, key=lambda c: c.reopens_at or 0.0)
        out.append(Candidate(soonest.cfg, soonest.adapter, forced=True, reopens_at=soonest.reopens_at))
    return out


# --- the chain ------------------------------------------------------------------------------


def _queue_ok(pipe: Any, *, slug: str, ms: float, now: float) -> None:
    """A successful attempt's stats and usage, queued on a caller's pipeline (Chain.release)."""
    stats.queue_record(pipe, slug, Outcome.OK.value, ms, now)
    pool_state.queue_record_use(pipe, slug, ms, now)

# op(candidate, spec, deadline) -> (value, outcome): what one attempt does after the gate.
Op = Callable[[Candidate, RequestSpec, float], Awaitable[tuple[Any, str]]]


@dataclass
class _Run:
    cand: Candidate
    spec: RequestSpec
    hedge_after_s: float
    launched: float  # loop time the provider run began: the hedge timer counts from here
    started: float | None = None  # loop time the current HTTP attempt began (None between attempts)
    hedged: bool = False  # a hedge was already started because of this run


@dataclass
class Chain:
    """One request's walk through its candidates; `attempts` is what the caller reports."""

    deps: "Deps"
    capability: str
    deadline: float  # event-loop time
    build: Callable[[Candidate], RequestSpec]
    op: Op
    hedge: bool = True
    # When set, successes queue their stats writes here (callables taking a pipeline) for the
    # caller to send with its own next round trip, instead of writing them at once.
    release: list[Callable[[Any], None]] | None = None
    gate: asyncio.Event | None = None  # set by the caller once its answer is ready (record_later)
    attempts: list[Attempt] = field(default_factory=list)
    _skips: list[tuple[str, str]] = field(default_factory=list)

    async def run(self, candidates: list[Candidate]) -> tuple[Candidate, Any]:
        """The first valid answer as (candidate, value); raises Exhausted when none came."""
        loop = asyncio.get_running_loop()
        queue = deque(candidates)
        running: dict[asyncio.Task, _Run] = {}
        newest: _Run | None = None
        try:
            while True:
                if not running:
                    newest = await self._launch(queue, running)
                    if newest is None:
                        raise Exhausted()
                now = loop.time()
                if now >= self.deadline:
                    done, _ = await asyncio.wait(running, timeout=DEADLINE_GRACE_S)
                    winner = self._collect(done, running)
                    if winner is not None:
                        return winner
                    break
                wake = self.deadline
                hedge_at = None
                if (
                    self.hedge and newest is not None and not newest.hedged
                    and len(running) < HEDGE_MAX_INFLIGHT and any(not c.skip for c in queue)
                ):
                    hedge_at = newest.launched + newest.hedge_after_s
                    wake = min(wake, hedge_at)
                done, _ = await asyncio.wait(running, timeout=max(0.0, wake - now), return_when=asyncio.FIRST_COMPLETED)
                if not done:
                    if hedge_at is not None and loop.time() >= hedge_at and loop.time() < self.deadline:
                        newest.hedged = True
                        logger.info("hedging %s after %.0f ms", newest.cand.cfg.slug, newest.hedge_after_s * 1000)
                        started = await self._launch(queue, running)
                        newest = started or newest
                    continue
                winner = self._collect(done, running)
                if winner is not None:
                    return winner
                if running and newest not in running.values():
                    newest = next(reversed(running.values()))
                    # Its hedge failed: if it is still the slow one, the next provider may start now.
                    newest.hedged = False
            raise Exhausted()
        finally:
            await self._stop(running, deadline_passed=loop.time() >= self.deadline)
            await self._flush_skips()

    def _collect(self, done: set[asyncio.Task], running: dict[asyncio.Task, _Run]) -> tuple[Candidate, Any] | None:
        """Take finished runs out of `running`; the first success, if any, as (candidate, value)."""
        winner = None
        for task in done:
            run = running.pop(task)
            exc = task.exception()
            if exc is None:
                winner = winner or (run.cand, task.result())
            elif not isinstance(exc, Failure):
                logger.error("attempt on %s crashed", run.cand.cfg.slug, exc_info=exc)
        return winner

    async def _launch(self, queue: deque[Candidate], running: dict[asyncio.Task, _Run]) -> _Run | None:
        """Start the next candidate that passes its gates; skipped ones are recorded in order."""
        while queue:
            cand = queue.popleft()
            slug = cand.cfg.slug
            if cand.skip:
                self._skip(slug, cand.skip, cand.skip_detail)
                continue
            try:
                spec = self.build(cand)
            except AdapterError as exc:
                self.attempts.append(Attempt(slug, exc.outcome.value, 0.0, str(exc)[:DETAIL_MAX_CHARS]))
                continue
            if cand.needs_probe and not await self.deps.breakers.allow(cand.cfg):
                self._skip(slug, SKIPPED_BREAKER_OPEN, "half-open: another caller holds the probe")
                continue
            # The rate-limit token is taken last, right before the request is written (see
            # _take_token): every await between a grant and the upstream's arrival widens the
            # jitter the limiter's guard interval must absorb.
            spent = await self._take_token(cand)
            if spent:
                self._skip(slug, SKIPPED_BUDGET, f"budget {spent} spent")
                continue
            hedge_after = max(self.deps.settings.hedge_floor_ms, cand.p90_ms or 0.0) / 1000
            run = _Run(cand, spec, hedge_after, launched=asyncio.get_running_loop().time())
            running[asyncio.ensure_future(self._provider(run))] = run
            return run
        return None

    async def _take_token(self, cand: Candidate) -> str | None:
        """One token in every window of the provider's budget; the spent limit, or None if taken."""
        return await self.deps.budget.acquire(cand.cfg)

    async def _provider(self, run: _Run) -> Any:
        """Up to 1 + RETRIES_PER_PROVIDER attempts on one provider; raises the last Failure."""
        loop = asyncio.get_running_loop()
        cand = run.cand
        last: Failure | None = None
        for number in range(RETRIES_PER_PROVIDER + 1):
            if number:
                delay = self.deps.rng.uniform(0, backoff_cap(number))
                if loop.time() + delay >= self.deadline:
                    break
                await self.deps.sleep(delay)
                # The retry is a call like any other: it needs a token and a breaker that lets it pass.
                if (await self.deps.breakers.state(cand.cfg.slug)).state != CLOSED and not cand.forced:
                    self._skip(cand.cfg.slug, SKIPPED_BREAKER_OPEN, "breaker opened before the retry")
                    break
                spent = await self._take_token(cand)
                if spent:
                    self._skip(cand.cfg.slug, SKIPPED_BUDGET, f"budget {spent} spent before the retry")
                    break
            run.started = loop.time()
            try:
                value, outcome = await self.op(cand, run.spec, self.deadline)
            except Failure as failure:
                ms = (loop.time() - run.started) * 1000
                run.started = None  # recorded here, so a later cancel must not record it again
                await self._record(cand.cfg, failure.outcome, ms, failure.detail, failure.retry_after_s)
                if failure.outcome in (Outcome.TRANSIENT.value, Outcome.TIMEOUT.value):
                    last = failure
                    continue
                raise
            ms = (loop.time() - run.started) * 1000
            run.started = None
            await self._record(cand.cfg, outcome, ms, "")
            return value
        assert last is not None
        raise last

    async def _record(
        self, cfg: ProviderConfig, outcome: str, ms: float, detail: str, retry_after_s: float | None = None
    ) -> None:
        """Everything one finished call changes: attempts, stats, usage, breaker, cool-down."""
        self.attempts.append(Attempt(cfg.slug, outcome, ms, detail))
        deps, now = self.deps, self.deps.clock()
        ok = outcome == Outcome.OK.value
        record_later = getattr(deps.breakers, "record_later", None)
        if ok and record_later is not None and self.release is not None:
            # A success changes nothing this request still decides on. Its stats and usage ride
            # on the caller's next pipeline (the single-flight release: no round trip of their
            # own), and the breaker's compare-and-set (3 round trips) runs after the answer as a
            # tracked task: delayed, never skipped, and never overtaken (the engine's breaker
            # store makes later breaker calls for this provider wait for it). A failure is
            # written before the chain moves on: the next attempt's gates must see it.
            self.release.append(functools.partial(_queue_ok, slug=cfg.slug, ms=ms, now=now))
            record_later(cfg, True, self.gate)
            return
        # Stats and usage share one round trip; the breaker's compare-and-set runs beside it.
        pipe = deps.redis.pipeline(transaction=False)
        stats.queue_record(pipe, cfg.slug, outcome, ms, now)
        pool_state.queue_record_use(pipe, cfg.slug, ms if ok else None, now)
        writes = [pipe.execute()]
        if ok or counts_against_breaker(outcome):
            writes.append(deps.breakers.record(cfg, ok))
        if outcome == Outcome.RATE_LIMITED.value:
            writes.append(deps.budget.cool_down(cfg.slug, cooldown_seconds(retry_after_s)))
        if not ok:
            logger.info("provider %s: %s (%s) after %.0f ms", cfg.slug, outcome, detail, ms)
        await asyncio.gather(*writes)

    def _skip(self, slug: str, outcome: str, detail: str) -> None:
        self.attempts.append(Attempt(slug, outcome, 0.0, detail))
        if outcome != SKIPPED_MAINTENANCE:
            self._skips.append((slug, outcome))

    async def _flush_skips(self) -> None:
        if not self._skips:
            return
        pipe = self.deps.redis.pipeline(transaction=False)
        now = self.deps.clock()
        for slug, outcome in self._skips:
            stats.queue_record(pipe, slug, outcome, None, now)
        self._skips.clear()
        await pipe.execute()

    async def _stop(self, running: dict[asyncio.Task, _Run], *, deadline_passed: bool) -> None:
        """Cancel what still runs: hedge losers are `cancelled`, deadline victims `timeout`.

        Either counts against the breaker only if the attempt had overrun the provider's usual
        latency (it was the slow one), so a hanging provider still trips its breaker.
        """
        if not running:
            return
        loop = asyncio.get_running_loop()
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        for run in running.values():
            if run.started is None:
                continue  # cancelled between attempts (in backoff): no call was cut short
            ms = (loop.time() - run.started) * 1000
            outcome = Outcome.TIMEOUT.value if deadline_passed else CANCELLED
            detail = "request deadline reached" if deadline_passed else "a faster provider answered"
            overran = ms >= run.hedge_after_s * 1000
            self.attempts.append(Attempt(run.cand.cfg.slug, outcome, ms, detail))
            deps, now = self.deps, self.deps.clock()
            writes = [
                stats.record(deps.redis, run.cand.cfg.slug, outcome, None, now),
                pool_state.arecord_use(deps.redis, run.cand.cfg.slug, None, now),
            ]
            if overran:
                writes.append(deps.breakers.record(run.cand.cfg, False))
            await asyncio.gather(*writes)

