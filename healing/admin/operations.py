"""Two operator pages of the admin: the cache (answers held per capability, purge buttons) and the
activity log (the latest entries, filtered). Each calls the one service its API and command call
(healing.cache_control, healing.monitoring.activity_log); like healing/admin/backup.py they are
extra URLs on the default admin site, linked from its index."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import redis
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from rest_framework.exceptions import ValidationError

from healing import activity, cache_control
from healing.api.monitoring import parse_since
from healing.dataplane.params import CAPABILITIES
from healing.monitoring import activity_log

LOG_ROWS = 200
LOG_FILTERS = ("level", "category", "provider", "pool", "capability", "client", "q", "since")


def cache_page(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _purge(request)
    try:
        counts, unavailable = cache_control.answer_counts(), False
    except redis.RedisError:
        counts, unavailable = {}, True
    rows = [{"name": name, "cache": cache_control.cache_capability(name),
             "answers": counts.get(cache_control.cache_capability(name), 0)} for name in sorted(CAPABILITIES)]
    return TemplateResponse(request, "healing/admin/cache.html", {
        **admin.site.each_context(request), "title": "Cache", "rows": rows, "raw": counts.get("raw", 0),
        "unavailable": unavailable})


def _purge(request: HttpRequest) -> HttpResponse:
    capability = request.POST.get("capability", "")
    keep_stale = request.POST.get("keep_stale") == "1"
    try:
        report = cache_control.purge(capability=capability, everything=not capability, keep_stale=keep_stale)
    except cache_control.PurgeError as exc:
        messages.error(request, f"{exc.field}: {exc}")
    except redis.RedisError as exc:
        messages.error(request, f"Redis unavailable, nothing purged: {exc}")
    else:
        what = capability or "every capability"
        messages.success(request, f"{what}: {report.deleted} answer(s) deleted, {report.expired} kept as stale only")
    return redirect("admin:cache")


def activity_page(request: HttpRequest) -> HttpResponse:
    query = {name: request.GET.get(name, "").strip() for name in LOG_FILTERS}
    errors, rows = [], []
    try:
        since = parse_since(query["since"], datetime.now(UTC)) if query["since"] else None
        filters = activity_log.parse_filters(query, since=since)
        rows = [activity_log.present(item) for item in activity_log.entries(filters, limit=LOG_ROWS)]
    except ValidationError as exc:
        errors.append(f"since: {exc.detail['since'][0]}")
    except activity_log.FilterError as exc:
        errors.append(f"{exc.field}: {exc}")
    except redis.RedisError as exc:
        errors.append(f"the activity log (Redis) is unavailable: {exc}")
    return TemplateResponse(request, "healing/admin/activity.html", {
        **admin.site.each_context(request), "title": "Activity log", "rows": rows, "errors": errors,
        "query": query, "levels": activity.LEVELS, "categories": activity.CATEGORIES, "limit": LOG_ROWS})


def _with_operations_urls(site_urls: Any) -> Any:
    def get_urls() -> list[URLPattern]:
        return [path("cache/", admin.site.admin_view(cache_page), name="cache"),
                path("activity-log/", admin.site.admin_view(activity_page), name="activity-log"),
                *site_urls()]

    return get_urls


admin.site.get_urls = _with_operations_urls(admin.site.get_urls)
