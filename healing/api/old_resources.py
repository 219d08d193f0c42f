"""The old system's resource paths, as thin aliases: /api/resources/export/json and /csv are the
provider catalogue (what GET /api/providers answers) as a download; /api/resources/backup is GET
/api/config/export. Deprecated in the schema; they stay so that old scripts keep working."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from common import spreadsheet
from common.restapi import READ_ERRORS, error_responses
from healing.api.backup import ConfigExportView
from providers.api.serializers import ProviderSerializer
from providers.api.views import filter_providers
from providers.models import Provider

FORMATS = ("json", "csv")
# The columns of the CSV: the catalogue's fields without the long text ones.
CSV_FIELDS = ["slug", "name", "category", "base_url", "docs_url", "auth_type", "api_key_env", "api_key_set",
              "key_required", "rate_limits", "is_free", "enabled", "pools"]


def _download(body: str, content_type: str, extension: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = f'attachment; filename="cryptohub-resources-{stamp}.{extension}"'
    return response


class ResourcesExportView(APIView):
    @extend_schema(
        summary="Alias of GET /api/providers as a download (the old system's path)", deprecated=True,
        parameters=[OpenApiParameter("fmt", OpenApiTypes.STR, OpenApiParameter.PATH, enum=list(FORMATS))],
        responses={(200, "application/json"): OpenApiResponse(ProviderSerializer(many=True),
                                                              description="The providers, as GET /api/providers."),
                   (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The providers as CSV."),
                   **error_responses(400, 404, *READ_ERRORS)},
    )
    def get(self, request: Request, fmt: str) -> HttpResponse:
        if fmt not in FORMATS:
            raise NotFound({"detail": f"unknown format {fmt[:20]!r}; json or csv", "field": "format"})
        providers = filter_providers(Provider.objects.prefetch_related("pools"), request.query_params)
        rows = ProviderSerializer(providers, many=True).data
        if fmt == "json":
            return _download(JSONRenderer().render(rows).decode(), "application/json", "json")
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow(spreadsheet.row({**row, "pools": " ".join(row["pools"])}))
        return _download(out.getvalue(), "text/csv; charset=utf-8", "csv")


@extend_schema(summary="Alias of GET /api/config/export (the old system's path)", deprecated=True)
class ResourcesBackupView(ConfigExportView):
    pass
