"""What a drop-in dialect is made of: plans over the normalized capabilities, and its error shapes.

A dialect answers a request with a plan, never with I/O of its own:

- `OneAnswer`: one normalized answer (a capability and its params, the same cache entry the native
  `/api/data` endpoint uses) and a pure `shape` that turns its data into the dialect's JSON. Most
  requests are this, and repeats of them are answered by the data plane's fast path: the shaped
  bytes are kept beside the held cache entry, so a compat hit costs what a native hit costs.
- `Composite`: an async `run(fetch)` for answers built from several normalized answers (a price in
  three currencies, an asset plus its market row). `fetch` goes through the engine too.

A client's mistake is a `CompatError` in the dialect's shape (never counted against a provider);
when no provider could answer, the dialect's `failure` turns the engine's attempts into its 404 or
503.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from healing.engine.errors import CANCELLED, SKIPPED, AllProvidersFailed
from providers.adapters.base import Outcome

# Shaped answers are plain JSON values; a shape never does I/O and never raises for good data.
Shape = Callable[[Any], Any]


class CompatError(Exception):
    """An answer other than 200, already in the dialect's shape."""

    def __init__(self, status: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(status)
        self.status, self.body, self.headers = status, body, dict(headers or {})


@dataclass(frozen=True)
class OneAnswer:
    capability: str
    params: Mapping[str, Any]
    shape: Shape
    # The answer when every provider asked says "not found" (None: the dialect's generic failure).
    not_found: Callable[[], CompatError] | None = None


@dataclass
class Fetched:
    """One normalized answer a composite used: its data and how it was served."""

    data: Any
    source: str
    served: str  # live | cache | stale


Fetch = Callable[[str, Mapping[str, Any]], Awaitable[Fetched]]


@dataclass(frozen=True)
class Composite:
    run: Callable[[Fetch], Awaitable[Any]]
    # The capability the activity log files the request under.
    capability: str = "compat"


Plan = OneAnswer | Composite


@dataclass(frozen=True)
class WithHeaders:
    """What a composite's `run` may return instead of a bare body: the body and headers of its own
    (a note that a substitute answered, say), added to the source and cache headers."""

    body: Any
    headers: Mapping[str, str]


class Dialect(Protocol):
    name: str  # "coingecko", "binance"
    prefix: str  # "/compat/coingecko/api/v3/"

    def plan(self, path: str, query: Mapping[str, str]) -> Plan | Any:
        """The plan for `path` (below the prefix, no leading slash), or a static JSON answer."""

    def error(self, status: int, message: str) -> Any:
        """The dialect's error body for a status it sends itself (400, 404, 429, 503)."""

    def failure(self, exc: AllProvidersFailed, plan: Plan) -> CompatError:
        """The 404 or 503 of a plan no provider could answer."""


def all_not_found(exc: AllProvidersFailed) -> bool:
    """True when every provider that was really called said "not found" (the caller's mistake)."""
    called = [a for a in exc.attempts if a.outcome not in SKIPPED and a.outcome != CANCELLED]
    return bool(called) and all(a.outcome == Outcome.NOT_FOUND.value for a in called)


def retry_after(exc: AllProvidersFailed, now: float) -> dict[str, str]:
    wait_s = exc.retry_after_s(now)
    return {} if wait_s is None else {"Retry-After": str(wait_s)}


def worst_served(served: list[str]) -> str:
    """How a composite answer was served: stale if any part was, else live if any was, else cache."""
    for kind in ("stale", "live"):
        if kind in served:
            return kind
    return served[0] if served else "cache"
