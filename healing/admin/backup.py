"""The admin's "Configuration backup" page: download the configuration document, upload one, see
the diff, then confirm (healing.backup does the work; this module only shows it).

Upload → preview (a dry run: the diff, or every error with its entry and field) → confirm. The
confirm form carries the document back with a digest of the diff it showed; when the database
changed in between, the diff is shown again instead of importing something nobody reviewed.

The project uses Django's default admin site, which has no hook for a page without a model: its
URLs are extended here (AdminSite.get_urls is the documented place for extra admin views), and
the index links to the page through `index_template`.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path

from common import json_input
from healing.backup import BackupError, ImportPlan, dumps, export_config, import_config

TEMPLATE = "healing/admin/config_backup.html"
admin.site.index_template = "healing/admin/index.html"


def download(request: HttpRequest) -> HttpResponse:
    with_audit = request.GET.get("with_audit") == "1"
    response = HttpResponse(dumps(export_config(with_audit=with_audit)), content_type="application/json")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = f'attachment; filename="cryptohub-config-{stamp}.json"'
    return response


def backup_page(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _render(request)
    prune = request.POST.get("prune") == "1"
    if request.POST.get("step") == "confirm":
        return _confirm(request, request.POST.get("document", ""), prune)
    upload = request.FILES.get("document")
    if upload is None:
        return _render(request, errors=["choose a configuration document (.json) to upload"])
    try:
        text = upload.read().decode("utf-8")
    except UnicodeDecodeError:
        return _render(request, errors=["the file is not UTF-8 text"])
    return _preview(request, text, prune)


def _preview(request: HttpRequest, text: str, prune: bool, notice: str = "") -> HttpResponse:
    data, errors = _parse(text)
    if errors:
        return _render(request, errors=errors)
    try:
        plan = import_config(data, dry_run=True, prune=prune)
    except BackupError as exc:
        return _render(request, errors=[str(error) for error in exc.errors])
    return _render(request, plan=plan, rows=_rows(plan), document=text, prune=prune, digest=_digest(plan),
                   notice=notice)


def _confirm(request: HttpRequest, text: str, prune: bool) -> HttpResponse:
    data, errors = _parse(text)
    if errors:
        return _render(request, errors=errors)
    try:
        preview = import_config(data, dry_run=True, prune=prune)
        if _digest(preview) != request.POST.get("digest"):
            return _preview(request, text, prune, notice="The configuration changed since the preview: "
                                                         "review these changes again.")
        plan = import_config(data, prune=prune)
    except BackupError as exc:
        return _render(request, errors=[str(error) for error in exc.errors])
    messages.success(request, plan.summary())
    return redirect("admin:config-backup")


def _parse(text: str) -> tuple[Any, list[str]]:
    try:
        return json_input.loads(text), []
    except json.JSONDecodeError as exc:
        return None, [f"not valid JSON: {json_input.where(exc)}"]


def _digest(plan: ImportPlan) -> str:
    """The diff a person reviewed (the dry-run flag aside)."""
    return hashlib.sha256("\n".join(plan.lines()[1:]).encode()).hexdigest()


def _rows(plan: ImportPlan) -> list[dict[str, str]]:
    rows = []
    for name, section in plan.sections.items():
        rows += [{"section": name, "change": "new", "entry": key, "detail": ""} for key in section.create]
        rows += [{"section": name, "change": "changed", "entry": key, "detail": "; ".join(map(str, changes))}
                 for key, changes in section.update.items()]
        absent = "not in the document: " + ("delete" if plan.prune else "kept")
        rows += [{"section": name, "change": absent, "entry": key, "detail": ""} for key in section.absent]
    return rows


def _render(request: HttpRequest, **context: Any) -> TemplateResponse:
    return TemplateResponse(request, TEMPLATE, {
        **admin.site.each_context(request), "title": "Configuration backup", **context})


def _with_backup_urls(site_urls: Any) -> Any:
    def get_urls() -> list[URLPattern]:
        return [
            path("config-backup/", admin.site.admin_view(backup_page), name="config-backup"),
            path("config-backup/download/", admin.site.admin_view(download), name="config-backup-download"),
            *site_urls(),
        ]

    return get_urls


admin.site.get_urls = _with_backup_urls(admin.site.get_urls)
