"""What a fetch reports when it goes wrong: the per-attempt record and the engine's exceptions.

`Attempt` lives here (and is re-exported by `healing.engine.fetch`) because `AllProvidersFailed`
carries the full list of them. Nothing in an `Attempt` or an exception message may contain an
API key: details are short, engine-written strings (status codes, exception class names).
"""

from __future__ import annotations

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

    def as_dict(self) -> dict:
        out = {"provider": self.provider, "outcome": self.outcome, "ms": round(self.ms, 1)}
        if self.detail:
            out["detail"] = self.detail
        return out

    @classmethod
    def from_dict(cls, raw: dict) -> "Attempt":
        return cls(raw["provider"], raw["outcome"], float(raw["ms"]), raw.get("detail", ""))


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

    def as_dict(self) -> dict:
        return {
            "capability": self.capability,
            "attempts": [a.as_dict() for a in self.attempts],
            "suggestions": list(self.suggestions),
        }


class UnknownCapability(EngineError):
    """No enabled pool serves the capability (or the requested provider cannot serve it): a 404."""
