"""The admin's "Discover providers" page: paste candidates (a JSON list, or base URLs one per
line), probe them, read the findings, and add them to the catalogue disabled (healing.discovery
does the work; this module only shows it).

"Probe only" writes nothing; "Probe and add disabled" writes what the findings table then shows.
The probe runs inside the request, so a paste is capped at MAX_CANDIDATES with a short deadline
each (worst case ceil(20 / 8) x 8 s); longer lists belong to `manage.py discover`.

Like healing/admin/backup.py, the page is an extra URL on the default admin site: its get_urls
is wrapped here (chained, so the backup page's URLs stay), and the index links to it.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path

from healing.discovery import candidates as inputs
from healing.discovery import service
from providers.models import Category

TEMPLATE = "healing/admin/discovery.html"
MAX_CANDIDATES = 20
TIMEOUT_S = 8.0
CONCURRENCY = 8
MAX_INPUT_CHARS = 100_000


def parse_input(text: str, path_: str, category: str) -> list[inputs.Candidate]:
    """A pasted JSON list, or base URLs one per line (blank lines and # comments ignored)."""
    text = text.strip()
    if not text:
        raise inputs.CandidateError(["paste a candidates JSON list or at least one base URL"])
    if len(text) > MAX_INPUT_CHARS:
        raise inputs.CandidateError([f"the pasted text is longer than {MAX_INPUT_CHARS} characters"])
    if text.startswith(("[", "{")):
        found = inputs.parse_json(text, source="pasted JSON")
    else:
        urls = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
        found = inputs.from_urls(urls, path=path_ or "/", category=category)
    if len(found) > MAX_CANDIDATES:
        raise inputs.CandidateError([f"{len(found)} candidates; this page probes at most {MAX_CANDIDATES} "
                                     "(use manage.py discover for more)"])
    return found


def discovery_page(request: HttpRequest) -> HttpResponse:
    form = {"candidates": "", "path": "/", "category": ""}
    if request.method != "POST":
        return _render(request, form=form)
    form = {key: request.POST.get(key, default) for key, default in form.items()}
    if form["category"] and form["category"] not in Category.values:
        return _render(request, form=form, errors=[f"category: {form['category']!r} is not a category"])
    try:
        found = parse_input(form["candidates"], form["path"].strip(), form["category"])
    except inputs.CandidateError as exc:
        return _render(request, form=form, errors=exc.errors)
    dry_run = request.POST.get("action") != "add"
    if not dry_run and not request.user.has_perms(["providers.add_provider", "providers.change_provider"]):
        return _render(request, form=form, errors=["adding providers needs the add and change provider permissions; "
                                                   "\"Probe only\" needs none"])
    outcomes = service.discover(found, dry_run=dry_run, timeout_s=TIMEOUT_S, concurrency=CONCURRENCY)
    return _render(request, form=form, dry_run=dry_run, rows=[_row(o) for o in outcomes],
                   summary=", ".join(f"{n} {action}" for action, n in service.summary(outcomes).items()))


def _row(outcome: service.Outcome) -> dict[str, Any]:
    f = outcome.finding
    if f.outcome == service.NOT_PROBED:
        return {"action": outcome.action, "slug": outcome.slug, "reason": outcome.reason, "url": f.url,
                "provider_id": outcome.provider_id, "verdict": service.verdict(f)}
    return {
        "action": outcome.action, "slug": outcome.slug, "reason": outcome.reason, "url": f.url,
        "provider_id": outcome.provider_id,
        "status": f.status or f.outcome, "kind": f.kind, "latency": f"{f.latency_ms:.0f} ms" if f.latency_ms else "",
        "auth": f.auth_evidence if f.auth_required else ("no key" if f.status else ""),
        "limits": ", ".join(f"{k}: {v}" for k, v in f.rate_limit_headers.items()),
        "cors": f.cors, "category": outcome.classification.describe(), "verdict": service.verdict(f),
        "details": service.findings_block(outcome.candidate, f, outcome.classification.describe()),
    }


def _render(request: HttpRequest, **context: Any) -> TemplateResponse:
    return TemplateResponse(request, TEMPLATE, {
        **admin.site.each_context(request), "title": "Discover providers", "categories": Category.choices,
        "max_candidates": MAX_CANDIDATES, **context})


def _with_discovery_urls(site_urls: Any) -> Any:
    def get_urls() -> list[URLPattern]:
        return [path("discover-providers/", admin.site.admin_view(discovery_page), name="discover-providers"),
                *site_urls()]

    return get_urls


admin.site.get_urls = _with_discovery_urls(admin.site.get_urls)
