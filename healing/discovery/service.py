"""Discovery's writes: probed candidates become *disabled* providers with their findings in `notes`.

Rules, in the order they are checked for each candidate:

* a provider whose base URL is the candidate's (scheme and host case-insensitive, trailing slash
  ignored) and that is **enabled** is never touched: the candidate is reported as skipped;
* a disabled provider with that base URL that discovery did not add (no MARKER in its notes) is
  left alone too: an operator switched it off for a reason;
* a disabled provider that discovery added gets its findings block rewritten in place; its other
  fields (category, auth, ...) may have been edited during review and are kept;
* otherwise a new provider is created, disabled, with a unique slug from the name or host.

The findings block starts at the MARKER line and runs to the end of `notes`: whatever an
operator writes above it is kept on every re-check. The marker is also how the weekly
re-validation (`revalidate`) finds discovered candidates, so no schema change was needed.
Each write locks its row and re-checks `enabled`, so a provider enabled while its probe was in
flight is still left alone.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from providers.models import Provider

from .candidates import MAX_CANDIDATES, Candidate, match_key
from .classify import Classification, classify
from .probe import PROBE_ORIGIN, Finding, probe_all

logger = logging.getLogger(__name__)

MARKER = "[discovery]"
MARKER_LINE = (f"{MARKER} Findings of the last probe; rewritten at every re-check (manage.py discover, "
               "the weekly re-validation). Write your own notes above this line.")
# Host labels that name nothing ("api.bitflyer.com" -> "bitflyer").
_GENERIC_LABELS = frozenset({"api", "www", "rest", "public", "data", "open", "openapi", "pro", "v1", "v2", "v3"})
MAX_SLUG = 64
NOT_PROBED = "not_probed"  # the outcome of a candidate skipped before its probe


@dataclass
class Outcome:
    candidate: Candidate
    finding: Finding
    classification: Classification
    action: str  # created | updated | skipped | invalid (with dry_run: would create | would update)
    slug: str = ""
    reason: str = ""
    provider_id: int | None = None  # the row written or left alone, for links

    def line(self) -> str:
        f = self.finding
        if f.outcome == NOT_PROBED:
            return f"{self.action} {self.slug}: {self.reason} - {self.candidate.url} (not probed)"
        status = f"{f.status} {f.kind or f.content_type}".strip() if f.status else f.outcome
        latency = f", {f.latency_ms:.0f} ms" if f.latency_ms is not None else ""
        where = f" {self.slug}" if self.slug else ""
        why = f": {self.reason}" if self.reason else ""
        return (f"{self.action}{where}{why} - {self.candidate.url} -> {status}{latency}; "
                f"category {self.classification.category}; {verdict(f)}")


# --- the findings block -------------------------------------------------------------------------


def verdict(f: Finding) -> str:
    if f.outcome == NOT_PROBED:
        return "not probed"
    if f.usable:
        return f"answers {'JSON' if f.kind == 'json' else f.kind.upper() + ' feed'}: review, then enable"
    if f.outcome == "auth_required":
        return "needs a key: fill in auth_type/auth_param and api_key_env (the variable's name), then enable"
    if f.outcome == "redirect":
        return "redirects (not followed): if the API moved, change base_url"
    if f.outcome == "http_error":
        return f"HTTP {f.status}: check the sample path"
    if f.outcome == "ok" and f.kind == "html":
        return "answers an HTML page, not an API (a wrong path, or bot protection)"
    if f.outcome == "ok":
        return f"answers {f.kind or 'something'} that is neither JSON nor a feed"
    return f"not reachable ({f.outcome}): {f.error}"


def _payload_line(f: Finding) -> str:
    if f.kind == "json":
        keys = f": {', '.join(f.json_keys[:15])}" if f.json_keys else ""
        return f"payload: JSON {f.json_shape}{keys}"
    if f.kind in ("rss", "atom"):
        return f"payload: {f.kind.upper()} feed {f.feed_title!r}, {f.feed_items} items"
    return f"payload: {f.kind or 'none'}" + (f" ({f.content_type})" if f.content_type else "")


def _cors_line(f: Finding) -> str:
    if not f.cors:
        return "CORS: no Access-Control-Allow-Origin (browsers cannot call it directly)"
    reach = "any origin" if f.cors in ("*", PROBE_ORIGIN) else "listed origins only"
    return f"CORS: Access-Control-Allow-Origin: {f.cors} ({reach})"


def findings_block(candidate: Candidate, f: Finding, category_line: str, first_seen: str = "") -> str:
    lines = [MARKER_LINE, f"discovered {first_seen or f.checked_at}; last checked {f.checked_at}"]
    took = f" in {f.latency_ms:.0f} ms" if f.latency_ms is not None else ""
    answer = f"{f.status} {f.content_type}".strip() if f.status else f.outcome
    lines += [f"probe: GET {f.url} -> {answer}{took}", f"verdict: {verdict(f)}"]
    if f.status:
        lines.append(_payload_line(f) + (" (body cut at the size limit)" if f.truncated else ""))
        if f.body_message:
            lines.append(f"body says: {f.body_message}")
        lines.append(f"auth: key needed ({f.auth_evidence})" if f.auth_required
                     else "auth: no key needed (no 401/403, no error about a key)")
        limits = ", ".join(f"{k}: {v}" for k, v in f.rate_limit_headers.items())
        lines.append(f"rate-limit headers: {limits or 'none'}")
        lines.append(_cors_line(f))
    if f.redirect_to:
        lines.append(f"redirect: HTTP {f.status} to {f.redirect_to} (not followed)")
    if f.error:
        lines.append(f"error: {f.error}")
    lines.append(f"category: {category_line}")
    if candidate.docs_url:
        lines.append(f"docs: {candidate.docs_url}")
    if candidate.note:
        lines.append(f"candidate note: {candidate.note}")
    return "\n".join(lines)


def merge_notes(notes: str, block: str) -> str:
    """The operator's notes (everything above the marker) kept, the block replaced."""
    head = notes.split(MARKER, 1)[0].rstrip()
    return f"{head}\n\n{block}" if head else block


def _old_value(notes: str, prefix: str) -> str:
    block = notes.split(MARKER, 1)[1] if MARKER in notes else ""
    match = re.search(rf"^{re.escape(prefix)}(.*)$", block, re.M)
    return match.group(1).strip() if match else ""


def _first_seen(notes: str) -> str:
    return _old_value(notes, "discovered ").split(";", 1)[0]


def _category_line_for_existing(row_category: str, c: Classification) -> str:
    if not c.suggested:
        return f"{row_category} (as set; the rules found nothing to go on)"
    if c.suggested == row_category:
        return f"{row_category} (as set; the rules agree: {'; '.join(c.reasons)})"
    return f"{row_category} (as set; the rules suggest {c.suggested}: {'; '.join(c.reasons)})"


# --- slugs and matching ---------------------------------------------------------------------------


def base_slug(candidate: Candidate) -> str:
    if candidate.name:
        slug = slugify(candidate.name).replace("-", "_")
    else:
        host = urlsplit(candidate.base_url).hostname or ""
        labels = host.replace(":", ".").split(".")
        if len(labels) > 1 and not _is_ip(host):
            labels = labels[:-1]  # the top-level domain says nothing
        slug = "_".join(slugify(label).replace("-", "_") for label in labels if label not in _GENERIC_LABELS)
    return slug.strip("_")[: MAX_SLUG - 4] or "candidate"


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def unique_slug(candidate: Candidate, taken: set[str]) -> str:
    slug, n = base_slug(candidate), 2
    while slug in taken:
        slug, n = f"{base_slug(candidate)}_{n}", n + 1
    return slug


def _catalogue_by_url() -> dict[str, dict[str, Any]]:
    rows = Provider.objects.values("id", "slug", "base_url", "enabled", "notes")
    return {match_key(row["base_url"]): row for row in rows}


# --- writing ---------------------------------------------------------------------------------------


def _create(candidate: Candidate, f: Finding, c: Classification, taken: set[str]) -> Provider | str:
    """The new disabled provider, or why the model refused it."""
    slug = unique_slug(candidate, taken)
    provider = Provider(
        slug=slug, name=(candidate.name or urlsplit(candidate.base_url).hostname or slug)[:120],
        category=c.category, base_url=candidate.base_url, docs_url=candidate.docs_url,
        health_path=candidate.sample_path, enabled=False, key_required=f.auth_required, is_free=True,
        notes=findings_block(candidate, f, c.describe()))
    try:
        provider.full_clean()
    except ValidationError as exc:
        return "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
    try:
        with transaction.atomic():
            provider.save()
    except IntegrityError:  # another run took the slug between the check and the save
        return f"slug {slug!r} was taken meanwhile by another run; run discovery again"
    taken.add(slug)
    return provider


def _update(row_id: int, candidate: Candidate, f: Finding, c: Classification) -> tuple[str, str]:
    """Rewrite the findings of a discovered, still disabled provider; (action, reason)."""
    with transaction.atomic():
        provider = Provider.objects.select_for_update().filter(pk=row_id).first()
        if provider is None:
            return "skipped", "deleted while it was probed"
        if provider.enabled:
            return "skipped", "enabled while it was probed: left alone"
        kept = replace(candidate, docs_url=candidate.docs_url or provider.docs_url,
                       note=candidate.note or _old_value(provider.notes, "candidate note: "))
        block = findings_block(kept, f, _category_line_for_existing(provider.category, c),
                               first_seen=_first_seen(provider.notes))
        provider.notes = merge_notes(provider.notes, block)
        provider.save(update_fields=["notes", "updated_at"])
    return "updated", ""


def _decide(candidate: Candidate, known: dict[str, dict[str, Any]]) -> tuple[str, dict[str, Any] | None, str]:
    row = known.get(match_key(candidate.base_url))
    if row is None:
        return "create", None, ""
    if row["enabled"]:
        return "skip", row, "an enabled provider has this base URL: left alone"
    if MARKER not in row["notes"]:
        return "skip", row, "a disabled provider that discovery did not add has this base URL: left alone"
    return "update", row, ""


def allow_private_targets() -> bool:
    """Loopback/private targets only when a deliberate setting allows them (the tests do)."""
    return bool(getattr(settings, "CRYPTOHUB_DISCOVERY_ALLOW_PRIVATE", False))


def discover(candidates: Sequence[Candidate], *, dry_run: bool = False, **probe_options: Any) -> list[Outcome]:
    """Probe the candidates, classify them, and (unless dry_run) add or refresh them, disabled.

    A candidate that will be skipped (an enabled provider, or one discovery did not add, has its
    base URL) is not probed at all: a probe is traffic against that provider's free budget."""
    probe_options.setdefault("allow_private", allow_private_targets())
    known = _catalogue_by_url()
    wanted = [c for c in candidates if _decide(c, known)[0] != "skip"]
    findings = dict(zip(wanted, probe_all(wanted, **probe_options) if wanted else [], strict=True))
    taken = set(Provider.objects.values_list("slug", flat=True))
    outcomes = []
    for candidate in candidates:
        finding = findings.get(candidate) or Finding(url=candidate.url, checked_at="", outcome=NOT_PROBED)
        c = classify(candidate, finding)
        decision, row, reason = _decide(candidate, known)
        outcome = Outcome(candidate, finding, c, action="skipped", slug=row["slug"] if row else "", reason=reason,
                          provider_id=row["id"] if row else None)
        if decision == "create" and dry_run:
            outcome.action, outcome.slug = "would create", unique_slug(candidate, taken)
            taken.add(outcome.slug)
        elif decision == "create":
            _write_new(outcome, taken, known)
        elif decision == "update" and dry_run:
            outcome.action, outcome.reason = "would update", ""
        elif decision == "update":
            outcome.action, outcome.reason = _update(row["id"], candidate, finding, c)
        outcomes.append(outcome)
    logger.info("discovery: %s", summary(outcomes))
    return outcomes


def _write_new(outcome: Outcome, taken: set[str], known: dict[str, dict[str, Any]]) -> None:
    created = _create(outcome.candidate, outcome.finding, outcome.classification, taken)
    if isinstance(created, str):
        outcome.action, outcome.reason = "invalid", created
        return
    outcome.action, outcome.slug, outcome.provider_id = "created", created.slug, created.pk
    # The same API twice in one run (a file and a URL): the second one refreshes this row.
    known[match_key(outcome.candidate.base_url)] = {"id": created.pk, "slug": created.slug, "enabled": False,
                                                    "notes": created.notes}


def summary(outcomes: Sequence[Outcome]) -> dict[str, int]:
    counts: dict[str, int] = {"probed": sum(o.finding.outcome != NOT_PROBED for o in outcomes),
                              "usable": sum(o.finding.usable for o in outcomes)}
    for outcome in outcomes:
        counts[outcome.action] = counts.get(outcome.action, 0) + 1
    return counts


def discovered_candidates(limit: int = MAX_CANDIDATES) -> list[Provider]:
    """Disabled providers that discovery added, least recently checked first."""
    return list(Provider.objects.filter(enabled=False, notes__contains=MARKER).order_by("updated_at")[:limit])


def revalidate(**probe_options: Any) -> dict[str, int]:
    """Probe every disabled discovered provider again and rewrite its findings (the weekly task)."""
    probe_options.setdefault("allow_private", allow_private_targets())
    rows = discovered_candidates()
    candidates = [Candidate(base_url=p.base_url, sample_path=p.health_path, name=p.name, docs_url=p.docs_url)
                  for p in rows]
    findings = probe_all(candidates, **probe_options) if candidates else []
    counts = {"checked": len(rows), "usable": 0, "updated": 0, "skipped": 0}
    for row, candidate, finding in zip(rows, candidates, findings, strict=True):
        action, _ = _update(row.pk, candidate, finding, classify(candidate, finding))
        counts[action] += 1
        counts["usable"] += finding.usable
    logger.info("discovery re-validation: %s", counts)
    return counts
