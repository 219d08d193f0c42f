"""/health, /api/status, /api/stats and /api/stats/export: thin views over healing.monitoring.reports."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.restapi import READ_ERRORS, error_responses
from healing.monitoring import reports
from healing.monitoring.client_usage import clients_section

CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json"}
# The views' clock (tests freeze it to place roll-up windows exactly).
clock = time.time

HealthSerializer = inline_serializer(
    "Health",
    {
        "status": serializers.ChoiceField(choices=["ok", "degraded"]),
        # Plain strings: two fields with one enum would make the schema name it twice.
        "database": serializers.CharField(help_text='"ok" or "down"'),
        "redis": serializers.CharField(help_text='"ok" or "down"'),
        "time": serializers.DateTimeField(),
    },
)

# One roll-up row of the JSON export (the CSV has the same columns; `outcomes` there is JSON text).
RollupRowSerializer = inline_serializer(
    "RollupRow",
    {
        "hour": serializers.DateTimeField(),
        "provider": serializers.CharField(help_text="empty for the gateway's own line"),
        "requests": serializers.IntegerField(),
        "ok": serializers.IntegerField(),
        "failures": serializers.IntegerField(),
        "success_rate": serializers.FloatField(allow_null=True),
        "latency_p50_ms": serializers.FloatField(allow_null=True),
        "latency_p95_ms": serializers.FloatField(allow_null=True),
        "cache_hits": serializers.IntegerField(),
        "cache_misses": serializers.IntegerField(),
        "cache_hit_ratio": serializers.FloatField(allow_null=True),
        "outcomes": serializers.DictField(child=serializers.IntegerField(), allow_null=True,
                                         help_text="outcome -> count"),
    },
)

WINDOW_PARAMETERS = [
    OpenApiParameter("since", OpenApiTypes.STR, description="only hours from this ISO-8601 date or date-time on "
                     "(naive means UTC); not together with `hours`"),
    OpenApiParameter("hours", OpenApiTypes.INT, description=f"only the last N hours (1-{reports.MAX_ROLLUP_HOURS})"),
]


def _window(request: Request, now: float, *, default_hours: int | None):
    """The roll-up window's start from ?since= or ?hours=; a bad value is a 400 naming it."""
    try:
        return reports.parse_window(since=request.query_params.get("since"), hours=request.query_params.get("hours"),
                                    now=datetime.fromtimestamp(now, UTC), default_hours=default_hours)
    except reports.BadParameter as exc:
        raise ValidationError({exc.field: [str(exc)]}) from None


async def _async_chunks(chunks: Iterator[str]) -> AsyncIterator[str]:
    # Under ASGI Django reads a plain iterator into memory before sending it; this keeps the
    # download streamed, the database reads still running in the request's sync thread.
    step = sync_to_async(next, thread_sensitive=True)
    while (chunk := await step(chunks, None)) is not None:
        yield chunk


@extend_schema(tags=["status"])
class HealthView(APIView):
    """Liveness: 200 when the database and Redis answer, 503 (still JSON) when either does not."""

    # Load balancers probe this without credentials, whatever CRYPTOHUB_PUBLIC_READ says.
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(summary="Liveness and dependencies",
                   responses={200: HealthSerializer, 503: HealthSerializer, **error_responses(414)})
    def get(self, request: Request) -> Response:
        report = reports.health_report()
        code = status.HTTP_200_OK if report["status"] == "ok" else status.HTTP_503_SERVICE_UNAVAILABLE
        return Response(report, status=code)


@extend_schema(tags=["status"])
class StatusView(APIView):
    """Catalogue counts (by category, pools, providers missing a required key) and runtime state."""

    @extend_schema(summary="Gateway status", responses={200: OpenApiTypes.OBJECT, **error_responses(*READ_ERRORS)})
    def get(self, request: Request) -> Response:
        return Response(reports.status_report())


@extend_schema(tags=["status"])
class StatsView(APIView):
    """Live figures (recent usage and latency per provider and pool, from Redis) and history: the
    hourly roll-ups over the window (per provider, the gateway, the gateway by hour) and uptime
    over 24 h / 7 d / 30 d per provider and pool."""

    @extend_schema(
        summary="Gateway statistics",
        parameters=[*WINDOW_PARAMETERS[:1], OpenApiParameter(
            "hours", OpenApiTypes.INT,
            description=f"roll-ups of the last N hours (default {reports.DEFAULT_ROLLUP_HOURS})")],
        responses={200: OpenApiTypes.OBJECT, **error_responses(400, *READ_ERRORS)},
    )
    def get(self, request: Request) -> Response:
        now = clock()
        since = _window(request, now, default_hours=reports.DEFAULT_ROLLUP_HOURS)
        # Per-client usage (client keys) beside the providers' figures; never a key or its hash.
        return Response({**reports.stats_report(now=now, since=since), "clients": clients_section(now=now)})


@extend_schema(tags=["status"])
class StatsExportView(APIView):
    """The hourly roll-ups as a download: CSV (a header, one line per provider per hour; the
    gateway's line has an empty provider) or JSON (the same rows). Same content as
    `manage.py export_stats`."""

    # Errors answer in JSON whatever the format asked for; the download itself is streamed.
    renderer_classes = [JSONRenderer]

    def perform_content_negotiation(self, request: Request, force: bool = False):
        # `format` names the download, not a DRF renderer (DRF would answer 404 for "csv").
        return self.renderer_classes[0](), JSONRenderer.media_type

    @extend_schema(
        summary="Download the hourly roll-ups",
        parameters=[
            OpenApiParameter("format", OpenApiTypes.STR, enum=list(reports.EXPORT_FORMATS), default="json"),
            *WINDOW_PARAMETERS,
        ],
        responses={
            (200, "application/json"): OpenApiResponse(serializers.ListSerializer(child=RollupRowSerializer),
                                                       description="The roll-up rows, oldest hour first."),
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="One line per provider per hour."),
            **{(code, "application/json"): answer for code, answer in error_responses(400, *READ_ERRORS).items()},
        },
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        now = clock()
        fmt = request.query_params.get("format") or "json"
        if fmt not in reports.EXPORT_FORMATS:
            raise ValidationError({"format": [f"must be one of {list(reports.EXPORT_FORMATS)}, got {fmt!r}"]})
        since = _window(request, now, default_hours=None)
        stamp = datetime.fromtimestamp(now, UTC).strftime("%Y%m%dT%H%M%SZ")
        chunks = reports.export_rollups(fmt, since=since)
        content = _async_chunks(chunks) if isinstance(request._request, ASGIRequest) else chunks
        response = StreamingHttpResponse(content, content_type=CONTENT_TYPES[fmt])
        response["Content-Disposition"] = f'attachment; filename="cryptohub-rollups-{stamp}.{fmt}"'
        return response
