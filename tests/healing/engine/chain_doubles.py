"""Doubles for the chain's unit tests: an event loop on virtual time, scripted calls, a recording
recorder.

`run(coro)` runs a coroutine on a loop whose clock only moves when nothing is ready: a sleep of
0.3 s takes no wall time and ends at exactly +0.3 s of loop time, so hedge timers, backoffs and
deadlines are pinned at their boundaries without any wall-clock dependence.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from typing import Any

from healing.engine.chain import Chain
from healing.engine.http import Failure
from providers.adapters.base import AdapterError

START = 1000.0  # the virtual loop's time when a test starts


class _VirtualSelector:
    """Polls the real selector without blocking; a wait that finds nothing advances the clock."""

    SPIN = 1000  # polls in a row that find nothing and wait for nothing: the real clock would move

    def __init__(self, loop: VirtualTimeLoop, real: Any) -> None:
        self._loop, self._real, self._idle = loop, real, 0

    def select(self, timeout: float | None = None):
        events = self._real.select(0)
        if events:
            self._idle = 0
        elif timeout is None:
            raise RuntimeError("virtual loop: nothing is ready or scheduled (the test would hang)")
        elif timeout > 0:
            self._idle = 0
            self._loop.now += timeout
        else:
            # Code that polls a timer to the exact tick would spin forever on a clock that never
            # moves by itself: after SPIN empty polls, let a microsecond pass, as a real clock would.
            self._idle += 1
            if self._idle >= self.SPIN:
                self._idle = 0
                self._loop.now += 1e-6
        return events

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """A selector loop whose time() is `now`; it wraps the loop's own selector (CPython keeps it in
    `_selector`), which the loop asks to wait exactly until its next timer."""

    def __init__(self) -> None:
        super().__init__()
        self.now = START
        self._selector = _VirtualSelector(self, self._selector)

    def time(self) -> float:
        return self.now


def run(coro):
    with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
        return runner.run(coro)


def now() -> float:
    return asyncio.get_running_loop().time()


@dataclass
class Cand:
    slug: str
    skip: str = ""
    skip_detail: str = ""
    skip_until: float | None = None
    p90_ms: float | None = None


@dataclass
class Step:
    """One scripted call: it takes `after` seconds, then answers `value` (outcome ok) or raises `fail`."""

    after: float = 0.0
    value: Any = "v"
    fail: BaseException | None = None


def ok(after: float = 0.0, value: Any = "v") -> Step:
    return Step(after, value)


def fails(outcome: str, after: float = 0.0, detail: str = "", retry_after_s: float | None = None) -> Step:
    return Step(after, fail=Failure(outcome, detail, retry_after_s))


def crashes(after: float = 0.0) -> Step:
    return Step(after, fail=RuntimeError("boom"))


class Calls:
    """The chain's `Call`: each slug answers its scripted steps in turn; records every call."""

    def __init__(self, **scripts: list[Step]) -> None:
        self.scripts = {slug: list(steps) for slug, steps in scripts.items()}
        self.unpreparable: dict[str, AdapterError] = {}
        self.log: list[tuple[str, float, Any, float]] = []  # (slug, loop time, prepared, deadline)
        self.prepared: list[str] = []
        self.active = 0  # calls started and not yet ended (cancelled ones end when they see it)

    def prepare(self, cand: Cand) -> Any:
        self.prepared.append(cand.slug)
        if cand.slug in self.unpreparable:
            raise self.unpreparable[cand.slug]
        return f"request-of-{cand.slug}"

    async def __call__(self, cand: Cand, prepared: Any, deadline: float) -> tuple[Any, str]:
        self.log.append((cand.slug, now(), prepared, deadline))
        step = self.scripts[cand.slug].pop(0)
        self.active += 1
        try:
            await asyncio.sleep(step.after)
        finally:
            self.active -= 1
        if step.fail is not None:
            raise step.fail
        return step.value, "ok"

    def called(self) -> list[str]:
        return [slug for slug, *_ in self.log]

    def times(self, slug: str) -> list[float]:
        return [round(at - START, 6) for s, at, *_ in self.log if s == slug]


@dataclass
class Recorder:
    """The chain's `Recorder`: refuses what `refuse` says, answers `until` from `finished`, records all."""

    refuse: dict[tuple[str, bool], tuple[str, str, float | None]] = field(default_factory=dict)
    until: dict[str, float] = field(default_factory=dict)
    slow_gate: dict[tuple[str, bool], float] = field(default_factory=dict)  # (slug, retry) -> seconds
    events: list[tuple] = field(default_factory=list)

    async def admit(self, cand: Cand, *, retry: bool):
        self.events.append(("admit", cand.slug, retry))
        if (cand.slug, retry) in self.slow_gate:
            await asyncio.sleep(self.slow_gate[cand.slug, retry])
        return self.refuse.get((cand.slug, retry))

    async def finished(self, cand: Cand, outcome: str, ms: float, detail: str, retry_after_s: float | None):
        self.events.append(("finished", cand.slug, outcome, round(ms, 3), detail, retry_after_s))
        return self.until.get(cand.slug)

    async def cut_short(self, cand: Cand, outcome: str, ms: float, *, overran: bool) -> None:
        self.events.append(("cut_short", cand.slug, outcome, round(ms, 3), overran))

    def skipped(self, slug: str, outcome: str) -> None:
        self.events.append(("skipped", slug, outcome))

    async def flush(self) -> None:
        self.events.append(("flush",))

    def of(self, kind: str) -> list[tuple]:
        return [e[1:] for e in self.events if e[0] == kind]


class Sleeps:
    """The chain's `sleep`: a real (virtual-time) sleep that remembers its delays."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        await asyncio.sleep(delay)


class Fixed(random.Random):
    """An rng whose uniform(a, b) is always `value` (a binary fraction keeps loop times exact)."""

    def __init__(self, value: float) -> None:
        super().__init__(0)
        self.value, self.ranges = value, []

    def uniform(self, a: float, b: float) -> float:
        self.ranges.append((a, b))
        return self.value


class TopOfRange(random.Random):
    """An rng whose uniform(a, b) is `share` of the way from a to b, and which remembers its ranges."""

    def __init__(self, share: float = 1.0) -> None:
        super().__init__(0)
        self.share, self.ranges = share, []

    def uniform(self, a: float, b: float) -> float:
        self.ranges.append((a, b))
        return a + (b - a) * self.share


def chain(recorder: Recorder, *, deadline_s: float = 3.0, hedge_floor_ms: float = 5000.0, hedge: bool = True,
          rng: random.Random | None = None, sleep: Sleeps | None = None) -> Chain:
    """A chain whose deadline is `deadline_s` of loop time from now (call inside `run`); its hedge floor
    is above every scripted latency unless a test lowers it."""
    return Chain(now() + deadline_s, recorder, hedge_floor_ms=hedge_floor_ms, rng=rng or TopOfRange(0.5),
                 sleep=sleep or Sleeps(), hedge=hedge)


def table(attempts) -> list[tuple[str, str, float, str]]:
    """The attempts as (provider, outcome, ms rounded to µs, detail)."""
    return [(a.provider, a.outcome, round(a.ms, 3), a.detail) for a in attempts]


def walk(recorder: Recorder, cands: list, calls: Calls, **kw) -> tuple[Any, list]:
    """Run one chain over `cands`: (the winner, or the Exhausted it raised; its attempts)."""
    from healing.engine.chain import Exhausted

    async def body():
        ch = chain(recorder, **kw)
        try:
            return await ch.run(cands, calls), ch.attempts
        except Exhausted as exc:
            return exc, ch.attempts

    return run(body())
