"""The shape every provider adapter has: build a request, parse an answer, classify errors.

Adapters are pure: no I/O, no Django, no clock. The healing engine does the HTTP call (adding
auth from the provider's configuration) and hands the answer back to `parse()`. Anything an
adapter rejects raises an `AdapterError` whose `outcome` tells the engine what to do next.

Errors a provider reports in its body are read in one place: an adapter finds the error
(`body_error`, its one hook) and declares what the provider's codes, code families and wording
mean (`error_codes`, `error_code_prefixes`, `error_markers`, `status_outcomes`) as data; the
base class turns that into an outcome, for an error inside HTTP 200 (`raise_for_body_error`)
and for a non-2xx answer (`classify_http_error`) alike.
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
    # The thing asked for does not exist (unknown coin id, protocol, chain): the caller's
    # mistake, so it never feeds a breaker; the next provider may still know it.
    NOT_FOUND = "not_found"

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


class NotFound(AdapterError):
    """The provider says the requested thing does not exist; `field` and `values` name it."""

    outcome = Outcome.NOT_FOUND

    def __init__(self, message: str, *, field: str, values: list[str]):
        super().__init__(message)
        self.field = field
        self.values = list(values)


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


@dataclass(frozen=True)
class ProviderError:
    """An error a provider reported in an answer's body, as `Adapter.body_error` found it."""

    summary: str  # the AdapterError message after "<slug>: "
    code: Any = None  # the provider's error code, looked up in error_codes / error_code_prefixes
    text: str = ""  # the provider's wording, searched for error_markers
    unlisted: Outcome | None = None  # outcome when no table entry matches; None: Adapter.unlisted_error


# When several table entries match one error, the first of these wins: a rate limit (cool down
# rather than hammer), then "no such thing" (the most specific refusal: the caller's mistake, which
# no breaker counts), then a refusal (retrying will not help), then a passing failure.
OUTCOME_PRECEDENCE = (Outcome.RATE_LIMITED, Outcome.NOT_FOUND, Outcome.PERMANENT, Outcome.TRANSIENT,
                      Outcome.BAD_DATA)


class Adapter:
    """Base class: subclasses set `slug` and `capabilities`, implement the two hooks and, when the
    provider reports errors in its body, `body_error` plus the error table below."""

    slug: ClassVar[str] = ""
    capabilities: ClassVar[frozenset[str]] = frozenset()
    # Whose names in the asset registry this adapter asks coins by ("" = its own slug's). A mirror
    # of another provider's API lists what that provider lists, so it reads that provider's names
    # rather than needing a listing (and a registry sync) of its own.
    names_from: ClassVar[str] = ""

    # --- the error table (data; read by error_outcome and classify_http_error) ---------------
    # HTTP statuses this provider uses its own way, e.g. 403 from a WAF that throttles.
    status_outcomes: ClassVar[Mapping[int, Outcome]] = {}
    # The provider's error codes, exactly as body_error reports them (int or string).
    error_codes: ClassVar[Mapping[Any, Outcome]] = {}
    # Families of string codes by prefix, e.g. KuCoin's 400xxx parameter errors.
    error_code_prefixes: ClassVar[Mapping[str, Outcome]] = {}
    # Case-insensitive phrases of the provider's error wording.
    error_markers: ClassVar[Mapping[str, Outcome]] = {}
    # A body error that no entry matches.
    unlisted_error: ClassVar[Outcome] = Outcome.BAD_DATA
    # Body-error outcomes that override the status class of a non-2xx answer.
    body_overrides_status: ClassVar[frozenset[Outcome]] = frozenset({Outcome.RATE_LIMITED})

    @property
    def names_slug(self) -> str:
        """The slug whose registry names this adapter uses (see `names_from`)."""
        return self.names_from or self.slug

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
        # RecursionError: an answer nested a few thousand levels deep is bad data, not a crash.
        except (ValueError, RecursionError) as exc:
            raise BadData(f"{self.slug}: answer is not JSON ({exc.__class__.__name__})") from exc

    def body_error(self, payload: Any) -> ProviderError | None:
        """The error the provider reported in a decoded answer, or None (the default: none reported)."""
        return None

    def raise_for_body_error(self, payload: Any) -> None:
        """Raise the AdapterError for an error reported inside an answer (typically HTTP 200)."""
        error = self.body_error(payload)
        if error is not None:
            raise AdapterError(f"{self.slug}: {error.summary}", outcome=self.error_outcome(error))

    def error_outcome(self, error: ProviderError) -> Outcome:
        """What the error table says about `error` (see OUTCOME_PRECEDENCE when entries disagree)."""
        matched = set()
        try:
            matched.add(self.error_codes.get(error.code))
        except TypeError:  # an unhashable "code" (a list or object in the body) is in no table
            pass
        code = str(error.code)
        matched.update(outcome for prefix, outcome in self.error_code_prefixes.items() if code.startswith(prefix))
        text = error.text.lower()
        matched.update(outcome for marker, outcome in self.error_markers.items() if marker.lower() in text)
        for outcome in OUTCOME_PRECEDENCE:
            if outcome in matched:
                return outcome
        return error.unlisted or self.unlisted_error

    def classify_http_error(self, status: int, payload: Any) -> Outcome:
        """Outcome of a non-2xx answer: the provider's own use of the status, then a body error
        that overrides it (a rate limit by default), then the HTTP status class."""
        if status in self.status_outcomes:
            return self.status_outcomes[status]
        error = self.body_error(payload)
        if error is not None:
            outcome = self.error_outcome(error)
            # "No such thing" only refines a plain refusal: a 429 or a 5xx stays what its status says.
            refusal = 400 <= status < 500 and status not in (408, 418, 425, 429)
            if outcome in self.body_overrides_status and (outcome != Outcome.NOT_FOUND or refusal):
                return outcome
        if status in (429, 418):
            return Outcome.RATE_LIMITED
        if status >= 500 or status in (408, 425):
            return Outcome.TRANSIENT
        return Outcome.PERMANENT
