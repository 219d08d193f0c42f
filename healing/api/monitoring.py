"""Monitoring endpoints: /metrics, a provider's health history, the alert list. Thin: parse the
query, call healing.monitoring.history / healing.monitoring.alerts / healing.monitoring.metrics, shape the answer."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from django.http import HttpRequest, HttpResponse
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from prometheus_client import CONTENT_TYPE_LATEST
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.restapi import READ_ERRORS, error_responses
from healing.models.monitoring import AlertState, Severity
from healing.monitoring import alerts, history, metrics
from providers.api.views import SLUG_PATTERN
from providers.measures import iso_precise
from providers.models import Provider

# History answered when ?since= is absent.
DEFAULT_SINCE = timedelta(hours=24)
MAX_HISTORY_ROWS = 5000
DEFAULT_HISTORY_ROWS = 1000
MAX_ALERT_ROWS = 1000
_RELATIVE = re.compile(r"^(\d+)\s*([mhd])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def metrics_view(request: HttpRequest) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405, headers={"Allow": "GET, HEAD"})
    if not metrics.scrape_allowed(request.headers.get("Authorization", "")):
        return HttpResponse("metrics need 'Authorization: Bearer <token>'\n", status=401,
                            content_type="text/plain", headers={"WWW-Authenticate": "Bearer"})
    return HttpResponse(metrics.render_metrics(), content_type=CONTENT_TYPE_LATEST)


def parse_since(raw: str | None, now: datetime) -> datetime:
    """ISO-8601 date or datetime (naive means UTC), or a relative "30m", "24h", "7d"."""
    if raw is None or not raw.strip():
        return now - DEFAULT_SINCE
    raw = raw.strip()
    if m := _RELATIVE.match(raw):
        try:
            return now - timedelta(**{_UNITS[m.group(2)]: int(m.group(1))})
        except OverflowError:  # "99999999999d": before the calendar begins
            raise ValidationError({"since": [f"{raw!r} reaches back before year 1"]}) from None
    try:
        parsed = parse_datetime(raw.replace(" ", "+"))  # an unencoded "+00:00" arrives as a space
        if parsed is None and (day := parse_date(raw)) is not None:
            parsed = datetime(day.year, day.month, day.day)
    except ValueError:
        parsed = None
    if parsed is None:
        raise ValidationError({"since": [f"expected an ISO-8601 date/time or e.g. '24h', '7d'; got {raw!r}"]})
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_limit(raw: str | None, default: int, maximum: int) -> int:
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise ValidationError({"limit": [f"must be a whole number from 1 to {maximum}"]})
    return int(raw)


class ProviderHealthView(APIView):
    @extend_schema(
        summary="A provider's health-check history and uptime",
        parameters=[
            OpenApiParameter("slug", OpenApiTypes.STR, OpenApiParameter.PATH, pattern=SLUG_PATTERN),
            OpenApiParameter("since", OpenApiTypes.STR, description="ISO-8601 date/time, or '30m', '24h', '7d' "
                             "(default: the last 24 h)"),
            OpenApiParameter("limit", OpenApiTypes.INT, description=f"at most this many checks (1-{MAX_HISTORY_ROWS})"),
        ],
        responses={200: OpenApiTypes.OBJECT, **error_responses(400, 404, *READ_ERRORS)},
    )
    def get(self, request: Request, slug: str) -> Response:
        provider = Provider.objects.filter(slug=slug).first()
        if provider is None:
            raise NotFound(f"no provider with slug {slug!r}")
        now = datetime.now(UTC)
        since = parse_since(request.query_params.get("since"), now)
        limit = parse_limit(request.query_params.get("limit"), DEFAULT_HISTORY_ROWS, MAX_HISTORY_ROWS)
        checks = history.health_history(provider, since=since, limit=limit)
        uptime = history.provider_uptime([provider.slug], now=now)[provider.slug]
        return Response({"provider": provider.slug, "since": iso_precise(since), "uptime": uptime,
                         "count": len(checks), "checks": checks})


class AlertListView(APIView):
    @extend_schema(
        summary="Alerts, newest first",
        parameters=[
            OpenApiParameter("state", OpenApiTypes.STR, enum=AlertState.values),
            OpenApiParameter("severity", OpenApiTypes.STR, enum=Severity.values),
            OpenApiParameter("limit", OpenApiTypes.INT, description=f"1-{MAX_ALERT_ROWS} (default 200)"),
        ],
        responses={200: OpenApiTypes.OBJECT, **error_responses(400, *READ_ERRORS)},
    )
    def get(self, request: Request) -> Response:
        state = request.query_params.get("state") or None
        severity = request.query_params.get("severity") or None
        if state is not None and state not in AlertState.values:
            raise ValidationError({"state": [f"must be one of {AlertState.values}"]})
        if severity is not None and severity not in Severity.values:
            raise ValidationError({"severity": [f"must be one of {Severity.values}"]})
        limit = parse_limit(request.query_params.get("limit"), 200, MAX_ALERT_ROWS)
        rows = alerts.alerts_list(state=state, severity=severity, limit=limit)
        return Response({"count": len(rows), "results": rows})
