"""GET /api/logs and its views (recent, errors, stats, export): the activity log, for staff (it
names clients and what they asked). Thin: healing.monitoring.activity_log reads and filters."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.restapi import READ_ERRORS, error_responses
from healing import activity
from healing.api.monitoring import parse_limit, parse_since
from healing.monitoring import activity_log

FILTER_PARAMETERS = [
    OpenApiParameter("level", OpenApiTypes.STR, description=f"one or more of {', '.join(activity.LEVELS)}, comma-separated"),
    OpenApiParameter("category", OpenApiTypes.STR, enum=list(activity.CATEGORIES)),
    OpenApiParameter("provider", OpenApiTypes.STR, description="asked or answering provider (slug)"),
    OpenApiParameter("pool", OpenApiTypes.STR, description="entries of the pool's members or capability"),
    OpenApiParameter("capability", OpenApiTypes.STR),
    OpenApiParameter("client", OpenApiTypes.STR, description="a client key's name, or anonymous"),
    OpenApiParameter("q", OpenApiTypes.STR, description="text search, case-insensitive"),
    OpenApiParameter("since", OpenApiTypes.STR, description="ISO-8601 date/time, or '30m', '24h', '7d'"),
]
LIMIT = OpenApiParameter("limit", OpenApiTypes.INT, description=f"1-{activity_log.LIMIT_MAX} (default 100)")
ERRORS = error_responses(400, *READ_ERRORS)


def _filters(request: Request, **forced: str) -> activity_log.Filters:
    query = {**request.query_params.dict(), **forced}
    since = parse_since(query["since"], datetime.now(UTC)) if query.get("since") else None
    try:
        return activity_log.parse_filters(query, since=since)
    except activity_log.FilterError as exc:
        raise ValidationError({exc.field: [str(exc)]}) from None


def _listing(request: Request, default_limit: int = 100, **forced: str) -> Response:
    filters = _filters(request, **forced)
    limit = parse_limit(request.query_params.get("limit"), default_limit, activity_log.LIMIT_MAX)
    rows = [activity_log.present(item) for item in activity_log.entries(filters, limit=limit)]
    return Response({"count": len(rows), "results": rows})


class StaffOnly(APIView):
    permission_classes = [IsAdminUser]


class LogsView(StaffOnly):
    @extend_schema(summary="The activity log, newest first", parameters=[*FILTER_PARAMETERS, LIMIT],
                   responses={200: OpenApiTypes.OBJECT, **ERRORS})
    def get(self, request: Request) -> Response:
        return _listing(request)


class RecentLogsView(StaffOnly):
    @extend_schema(summary="The last 50 entries of the activity log", parameters=[*FILTER_PARAMETERS, LIMIT],
                   responses={200: OpenApiTypes.OBJECT, **ERRORS})
    def get(self, request: Request) -> Response:
        return _listing(request, default_limit=50)


class ErrorLogsView(StaffOnly):
    @extend_schema(summary="Warnings and errors of the activity log", parameters=[*FILTER_PARAMETERS, LIMIT],
                   responses={200: OpenApiTypes.OBJECT, **ERRORS})
    def get(self, request: Request) -> Response:
        return _listing(request, level=f"{activity.WARNING},{activity.ERROR}")


class LogStatsView(StaffOnly):
    @extend_schema(summary="Counts by category, level and status, and request latency per capability",
                   parameters=FILTER_PARAMETERS, responses={200: OpenApiTypes.OBJECT, **ERRORS})
    def get(self, request: Request) -> Response:
        return Response(activity_log.stats(_filters(request)))


class FirstRenderer(BaseContentNegotiation):
    """JSON, whatever ?format= says: here it names the download's format, not DRF's renderer."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class LogExportView(StaffOnly):
    content_negotiation_class = FirstRenderer
    @extend_schema(summary="The filtered activity log as a download",
                   parameters=[*FILTER_PARAMETERS, LIMIT,
                               OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv"])],
                   responses={(200, "application/json"): inline_serializer("ActivityEntry", {
                       "at": serializers.CharField(), "t": serializers.FloatField(), "level": serializers.CharField(),
                       "category": serializers.CharField(), "msg": serializers.CharField()}, many=True),
                              (200, "text/csv"): OpenApiTypes.STR, **ERRORS})
    def get(self, request: Request) -> HttpResponse:
        fmt = request.query_params.get("format", "json")
        if fmt not in ("json", "csv"):
            raise ValidationError({"format": ["must be json or csv"]})
        filters = _filters(request)
        limit = parse_limit(request.query_params.get("limit"), activity_log.LIMIT_MAX, activity_log.LIMIT_MAX)
        rows = [activity_log.present(item) for item in activity_log.entries(filters, limit=limit)]
        if fmt == "csv":
            body, content_type = activity_log.as_csv(rows), "text/csv; charset=utf-8"
        else:
            body, content_type = orjson.dumps(rows).decode(), "application/json"
        response = HttpResponse(body, content_type=content_type)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        response["Content-Disposition"] = f'attachment; filename="cryptohub-activity-{stamp}.{fmt}"'
        return response
