"""What a fetch reports when it goes wrong: the per-attempt record and the engine's exceptions.

`Attempt` lives here (and is re-exported by `healing.engine.fetch`) because `AllProvidersFailed`
carries the full list of them. Nothing in an `Attempt` or an exception message may contain an
API key: details are short, engine-written strings (status codes, exception class names).

An attempt whose provider is out for a known time carries `retry_at`, the epoch time (engine
clock) it may be tried again: a maintenance window's end (the provider's or its pool's, the later
one), a breaker's reopening, a cool-down's end (Retry-After), a spent budget window's next free
token. `AllProvidersFailed.retry_after_s` turns the earliest of them into the 503's Retry-After.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

# Attempt outcomes besides the adapter's `Outcome` values (ok, timeout, transient, rate_limited,
# permanent, bad_data): providers skipped before any call, and hedge losers.
SKIPPED_BREAKER_OPEN = "skipped_breaker_open"
SKIPPED_BUDGET = "skipped_budget"
SKIPPED_NO_KEY = "skipped_no_key"
CANCELLED = "cancelled"
# A provider drained by a maintenance window: the operator took it out on purpose, so the
# attempt list says why it was passed over but its stats don't count it.
SKIPPED_MAINTENANCE = "skipped_maintenance"
SKIPPED = frozenset({SKIPPED_BREAKER_OPEN, SKIPPED_BUDGET, SKIPPED_NO_KEY, SKIPPED_MAINTENANCE})


@dataclass(frozen=True)
class Attempt:
    provider: str
    outcome: str
    ms: float
    detail: str = ""
    # When the provider may be tried again (epoch seconds), if known. Left out of equality: it is
    # a reading of the clock about the future, not part of what this attempt did.
    retry_at: float | None = field(default=None, compare=False)

    def as_dict(self) -> dict:
        out = {"provider": self.provider, "outcome": self.outcome, "ms": round(self.ms, 1)}
        if self.detail:
            out["detail"] = self.detail
        if self.retry_at is not None:
            out["retry_at"] = round(self.retry_at, 3)
        return out

    @classmethod
    def from_dict(cls, raw: dict) -> "Attempt":
        retry_at = raw.get("retry_at")
        return cls(raw["provider"], raw["outcome"], float(raw["ms"]), raw.get("detail", ""),
                   None if retry_at is None else float(retry_at))


def retry_after_s(retry_at: float | None, now: float) -> int | None:
    """Whole seconds until `retry_at` for a Retry-After header (ceil, at least 1), or None."""
    if retry_at is None:
        return None
    return max(1, math.ceil(retry_at - now))


class EngineError(Exception):
    """Base class of everything the engine raises on purpose."""


@dataclass
class AllProvidersFailed(EngineError):
    """No provider produced a usable answer and no stale copy was available (the caller's 503)."""

    capability: str
    attempts: list[Attempt] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.capability, self.attempts, self.suggestions)

    def __str__(self) -> str:
        tried = ", ".join(f"{a.provider}: {a.outcome}" for a in self.attempts) or "no provider could be tried"
        return f"all providers failed for {self.capability} ({tried})"

    @property
    def retry_at(self) -> float | None:
        """The earliest time any provider asked may be tried again, if any attempt knows one.

        A provider's last attempt speaks for it (an open breaker's member that was then tried as
        the last resort and failed is no longer "back at reopening"). Attempts without an end (a
        timeout, a 5xx) neither set nor delay it; with no known end at all there is no Retry-After.
        """
        last = {a.provider: a.retry_at for a in self.attempts}
        ends = [end for end in last.values() if end is not None]
        return min(ends) if ends else None

    def retry_after_s(self, now: float) -> int | None:
        """Retry-After in whole seconds at epoch time `now` (ceil, at least 1), or None if unknown."""
        return retry_after_s(self.retry_at, now)

    def as_dict(self) -> dict:
        return {
            "capability": self.capability,
            "attempts": [a.as_dict() for a in self.attempts],
            "suggestions": list(self.suggestions),
        }


class UnknownCapability(EngineError):
    """No enabled pool serves the capability (or the requested provider cannot serve it): a 404."""
