"""/health, /api/status, /api/stats and /api/stats/export: thin views over healing.status."""

from __future__ import annotations

import csv
import io
import time
from datetime import UTC, datetime

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from healing import status as reports

EXPORT_FORMATS = ("json", "csv")

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


class StatsCSVRenderer(BaseRenderer):
    """Rows (a list of dicts) as CSV; an error answer becomes a one-column `detail` table."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        out = io.StringIO()
        if isinstance(data, list):
            writer = csv.DictWriter(out, fieldnames=reports.STATS_CSV_FIELDS, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(data)
        else:
            writer = csv.writer(out)
            writer.writerow(["detail"])
            writer.writerow([data.get("detail", data) if isinstance(data, dict) else data])
        return out.getvalue().encode(self.charset)


@extend_schema(tags=["status"])
class HealthView(APIView):
    """Liveness: 200 when the database and Redis answer, 503 (still JSON) when either does not."""

    # Load balancers probe this without credentials, whatever CRYPTOHUB_PUBLIC_READ says.
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(summary="Liveness and dependencies", responses={200: HealthSerializer, 503: HealthSerializer})
    def get(self, request: Request) -> Response:
        report = reports.health_report()
        code = status.HTTP_200_OK if report["status"] == "ok" else status.HTTP_503_SERVICE_UNAVAILABLE
        return Response(report, status=code)


@extend_schema(tags=["status"])
class StatusView(APIView):
    """Catalogue counts (by category, pools, providers missing a required key) and runtime state."""

    @extend_schema(summary="Gateway status", responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request) -> Response:
        return Response(reports.status_report())


@extend_schema(tags=["status"])
class StatsView(APIView):
    """Catalogue and rotation counts, recent usage and latency per provider and per pool."""

    @extend_schema(summary="Gateway statistics", responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request) -> Response:
        return Response(reports.stats_report())


@extend_schema(tags=["status"])
class StatsExportView(APIView):
    """The statistics as a download: JSON (the full report) or CSV (one row per provider)."""

    renderer_classes = [JSONRenderer, StatsCSVRenderer]

    def perform_content_negotiation(self, request: Request, force: bool = False):
        requested = request.query_params.get("format")
        if requested is not None and requested not in EXPORT_FORMATS and not force:
            raise ValidationError({"format": [f"must be one of {list(EXPORT_FORMATS)}, got {requested!r}"]})
        return super().perform_content_negotiation(request, force=force)

    @extend_schema(
        summary="Download the statistics",
        parameters=[
            OpenApiParameter("format", OpenApiTypes.STR, enum=list(EXPORT_FORMATS), default="json",
                             description="json: the full report; csv: one row per provider."),
        ],
        responses={
            (200, "application/json"): OpenApiTypes.OBJECT,
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="One row per provider."),
            400: OpenApiTypes.OBJECT,
        },
    )
    def get(self, request: Request) -> Response:
        now = time.time()
        report = reports.stats_report(now=now)
        fmt = request.accepted_renderer.format
        stamp = datetime.fromtimestamp(now, UTC).strftime("%Y%m%dT%H%M%SZ")
        data = reports.stats_rows(report) if fmt == "csv" else report
        response = Response(data)
        response["Content-Disposition"] = f'attachment; filename="cryptohub-stats-{stamp}.{fmt}"'
        return response
