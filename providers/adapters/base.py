"""The shape every provider adapter has: build a request, parse an answer, classify errors.

Adapters are pure: no I/O, no Django, no clock. The healing engine does the HTTP call (adding
auth from the provider's configuration) and hands the answer back to `parse()`. Anything an
adapter rejects raises an `AdapterError` whose `outcome` tells the engine what to do next.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, ClassVar


class Outcome(str, Enum):
    OK = "ok"
    TRANSIENT = "transient"  # timeout, connection error, 5xx: retry once, count against the breaker
    TIMEOUT = "timeout"  # a transient outcome, reported separately because callers care
    RATE_LIMITED = "rate_limited"  # 429, 418, provider-specific bodies: cool down until Retry-After
    PERMANENT = "permanent"  # 400/401/403/404, unknown symbol: no retry, next provider
    BAD_DATA = "bad_data"  # unparseable, failed validation, error inside HTTP 200

    @property
    def counts_against_breaker(self) -> bool:
        return self in (Outcome.TRANSIENT, Outcome.TIMEOUT, Outcome.BAD_DATA)


class AdapterError(Exception):
    """A provider answered, but not with usable data."""

    outcome: Outcome = Outcome.BAD_DATA

    def __init__(self, message: str, *, outcome: Outcome | None = None, retry_after_s: float | None = None):
        super().__init__(message)
        if outcome is not None:
            self.outcome = outcome
        self.retry_after_s = retry_after_s


class BadData(AdapterError):
    outcome = Outcome.BAD_DATA


class PermanentError(AdapterError):
    outcome = Outcome.PERMANENT


class RateLimitedError(AdapterError):
    outcome = Outcome.RATE_LIMITED


class UnsupportedCapability(PermanentError):
    pass


@dataclass(frozen=True)
class RequestSpec:
    """What to send, relative to the provider's base URL. Auth is added by the engine."""

    path: str
    params: Mapping[str, Any] = field(default_factory=dict)
    method: str = "GET"
    headers: Mapping[str, str] = field(default_factory=dict)
    json_body: Any = None


class Adapter:
    """Base class: subclasses set `slug` and `capabilities` and implement the two hooks."""

    slug: ClassVar[str] = ""
    capabilities: ClassVar[frozenset[str]] = frozenset()

    def build_request(self, capability: str, params: Mapping[str, Any]) -> RequestSpec:
        raise UnsupportedCapability(f"{self.slug} does not serve {capability}")

    def parse(self, capability: str, params: Mapping[str, Any], payload: Any) -> Any:
        """Turn a decoded answer into the normalized shape, or raise an AdapterError."""
        raise UnsupportedCapability(f"{self.slug} does not serve {capability}")

    # --- shared helpers -------------------------------------------------------------------

    def decode(self, body: bytes, content_type: str = "") -> Any:
        """JSON by default; feed adapters override this. Undecodable bodies are bad data."""
        try:
            return json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadData(f"{self.slug}: answer is not JSON ({exc.__class__.__name__})") from exc

    def classify_http_error(self, status: int, payload: Any) -> Outcome:
        """Outcome of a non-2xx answer; adapters refine it when a provider misuses codes."""
        if status in (429, 418):
            return Outcome.RATE_LIMITED
        if status >= 500 or status in (408, 425):
            return Outcome.TRANSIENT
        return Outcome.PERMANENT
