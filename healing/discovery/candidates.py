"""Candidate APIs to probe: a JSON list of entries, or base URLs given one by one.

The input is validated whole before anything is probed, and every error names its entry and
field ("entry 3 ('Foo'): base_url: ..."), so an operator fixes a file in one pass. The checks
here are about the *shape* of a URL (scheme, no userinfo, a host); whether its host may be
called at all is decided when it is resolved, in probe (a name can resolve anywhere).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from common import json_input
from providers.models import Category

# One run probes at most this many candidates: discovery is an operator reviewing a list, not
# a crawler, and each candidate costs one outbound request.
MAX_CANDIDATES = 200
FIELDS = ("name", "base_url", "sample_path", "docs_url", "category", "note")
REQUIRED = ("base_url", "sample_path")
MAX_LENGTHS = {"name": 120, "base_url": 300, "sample_path": 500, "docs_url": 300, "category": 32, "note": 500}
_CONTROL = re.compile(r"[\x00-\x20\x7f]")


class CandidateError(ValueError):
    """The input is not usable; `errors` holds one message per problem, each naming entry and field."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class Candidate:
    base_url: str
    sample_path: str
    name: str = ""
    docs_url: str = ""
    category: str = ""  # the category the list gives, if any ("" = let the classifier decide)
    note: str = ""

    @property
    def url(self) -> str:
        return probe_url(self.base_url, self.sample_path)


def probe_url(base_url: str, path: str) -> str:
    """The same join as the health sweep's (healing.monitoring.probes.probe_url): the URL probed
    now is the one the sweep will call once the provider is enabled with this health path."""
    if not path:
        return base_url
    return base_url.rstrip("/") + "/" + path.lstrip("/")


def url_problem(value: str) -> str | None:
    """Why `value` is not an acceptable absolute http(s) URL, or None when it is."""
    if _CONTROL.search(value):
        return "must not contain spaces or control characters"
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https"):
        return "must start with http:// or https://"
    if "@" in parts.netloc:
        return "must not carry a user name or password (user@host)"
    try:
        parts.port
    except ValueError:
        return "has an invalid port"
    if not parts.hostname:
        return "has no host"
    if parts.fragment:
        return "must not have a #fragment"
    return None


def _path_problem(value: str) -> str | None:
    if _CONTROL.search(value):
        return "must not contain spaces or control characters"
    if value and value[0] not in "/?":
        return 'must be empty or start with "/" or "?" (a path under base_url, e.g. "/ping")'
    if "://" in value or value.startswith("//"):
        return "must be a path under base_url, not another URL"
    if "#" in value:
        return "must not have a #fragment"
    return None


def _entry_errors(raw: Any, label: str) -> list[str]:
    if not isinstance(raw, dict):
        return [f"{label}: expected an object with base_url and sample_path, got {type(raw).__name__}"]
    errors = [f"{label}: {key}: unknown field (expected one of {', '.join(FIELDS)})"
              for key in raw if key not in FIELDS]
    errors += [f"{label}: {key}: required" for key in REQUIRED if key not in raw]
    for key in FIELDS:
        if key not in raw:
            continue
        value = raw[key]
        if not isinstance(value, str):
            errors.append(f"{label}: {key}: must be a string, got {type(value).__name__}")
            continue
        if len(value) > MAX_LENGTHS[key]:
            errors.append(f"{label}: {key}: longer than {MAX_LENGTHS[key]} characters")
            continue
        problem = _field_problem(key, value.strip())
        if problem:
            errors.append(f"{label}: {key}: {problem}")
    return errors


def _field_problem(key: str, value: str) -> str | None:
    if key == "base_url":
        problem = url_problem(value)
        if problem is None and urlsplit(value).query:
            return "must not have a query string (put it in sample_path)"
        return problem
    if key == "docs_url":
        return url_problem(value) if value else None
    if key == "sample_path":
        return _path_problem(value)
    if key == "category" and value and value not in Category.values:
        return f"{value!r} is not a category (one of {', '.join(Category.values)})"
    return None


def _label(index: int, raw: Any) -> str:
    name = raw.get("name") if isinstance(raw, dict) else None
    return f"entry {index}" + (f" ({name!r})" if isinstance(name, str) and name else "")


def _build(raw: dict[str, Any]) -> Candidate:
    return Candidate(**{key: raw[key].strip() for key in FIELDS if key in raw})


def _check_duplicates(candidates: list[Candidate], labels: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    errors = []
    # One candidate per API (base URL) and run: it becomes one provider row.
    for candidate, label in zip(candidates, labels, strict=True):
        key = match_key(candidate.base_url)
        if key in seen:
            errors.append(f"{label}: base_url: the same base URL as {seen[key]}")
        else:
            seen[key] = label
    return errors


def match_key(url: str) -> str:
    """A URL as compared for "the same API": scheme and host case-insensitive, no trailing slash."""
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{path}" + (f"?{parts.query}" if parts.query else "")


def parse_entries(data: Any, source: str = "candidates") -> list[Candidate]:
    """Validate a decoded candidates document (a list of entries); raise CandidateError naming
    every bad entry and field."""
    if not isinstance(data, list):
        raise CandidateError([f"{source}: expected a JSON list of candidates, got {type(data).__name__}"])
    if not data:
        raise CandidateError([f"{source}: the list is empty"])
    if len(data) > MAX_CANDIDATES:
        raise CandidateError([f"{source}: {len(data)} candidates; at most {MAX_CANDIDATES} per run"])
    labels = [f"{source} {_label(i, raw)}" for i, raw in enumerate(data, start=1)]
    errors = [error for raw, label in zip(data, labels, strict=True) for error in _entry_errors(raw, label)]
    if errors:
        raise CandidateError(errors)
    candidates = [_build(raw) for raw in data]
    if errors := _check_duplicates(candidates, labels):
        raise CandidateError(errors)
    return candidates


def parse_json(text: str, source: str = "candidates") -> list[Candidate]:
    try:
        data = json_input.loads(text)
    except json.JSONDecodeError as exc:
        raise CandidateError([f"{source}: not valid JSON: {json_input.where(exc)}"])
    return parse_entries(data, source)


def from_urls(urls: list[str], path: str = "/", category: str = "") -> list[Candidate]:
    """Candidates from bare base URLs (the command line, the admin's URL box): all share `path`."""
    entries = [{"base_url": url, "sample_path": path, **({"category": category} if category else {})}
               for url in urls]
    if not entries:
        raise CandidateError(["give at least one base URL"])
    try:
        return parse_entries(entries, source="URL")
    except CandidateError as exc:
        # "URL entry 2: base_url: ..." reads oddly for a command line; say "URL 2 (<the url>)".
        raise CandidateError([_relabel(error, urls) for error in exc.errors]) from None


def _relabel(error: str, urls: list[str]) -> str:
    match = re.match(r"URL entry (\d+): (.*)", error)
    if not match:
        return error
    index = int(match.group(1))
    return f"URL {index} ({urls[index - 1]!r}): {match.group(2)}"
