"""GET /api/config/export and POST /api/config/import: the configuration document, for staff.
Thin: the document, its validation and the diff are healing.backup's."""

from __future__ import annotations

from datetime import UTC, datetime

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAdminUser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.drf_json import StrictJSONParser
from common.restapi import READ_ERRORS, WRITE_ERRORS, error_responses, parse_bool
from healing.backup import BackupError, dumps, export_config, import_config


class ConfigExportView(APIView):
    permission_classes = [IsAdminUser]
    renderer_classes = [JSONRenderer]

    @extend_schema(
        summary="Download the whole configuration as one JSON document",
        description="Providers, pools with their members, notification channels, alert rules, maintenance "
                    "windows, periodic tasks and client keys, by natural key. Secrets stay environment "
                    "variable names; client keys are their sha256. POST it to /api/config/import to restore.",
        parameters=[OpenApiParameter("with_audit", OpenApiTypes.BOOL, default=False,
                                     description="add the audit trail (read-only; an import ignores it)")],
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description="The configuration document."),
                   **error_responses(400, *READ_ERRORS)},
    )
    def get(self, request: Request) -> HttpResponse:
        with_audit = parse_bool("with_audit", request.query_params.get("with_audit", "false"))
        response = HttpResponse(dumps(export_config(with_audit=with_audit)), content_type="application/json")
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        response["Content-Disposition"] = f'attachment; filename="cryptohub-config-{stamp}.json"'
        return response


class ConfigImportView(APIView):
    permission_classes = [IsAdminUser]
    parser_classes = [StrictJSONParser]

    @extend_schema(
        summary="Restore the configuration from a document (or, with dry_run, only see the diff)",
        description="The document is checked whole first: any error answers 400 naming the entry and field "
                    '(e.g. "alert_rules[2].channels") and nothing is written. Otherwise the answer is the '
                    "diff, section by section; without dry_run it has been applied, in one transaction. What "
                    "the document does not list is kept (listed as not_in_document) unless prune is true.",
        parameters=[
            OpenApiParameter("dry_run", OpenApiTypes.BOOL, default=False, description="only answer the diff"),
            OpenApiParameter("prune", OpenApiTypes.BOOL, default=False,
                             description="delete what the document does not list"),
        ],
        request=OpenApiTypes.OBJECT,
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description="The diff, and whether it was applied."),
                   **error_responses(*WRITE_ERRORS)},
    )
    def post(self, request: Request) -> Response:
        dry_run = parse_bool("dry_run", request.query_params.get("dry_run", "false"))
        prune = parse_bool("prune", request.query_params.get("prune", "false"))
        try:
            plan = import_config(request.data, dry_run=dry_run, prune=prune)
        except BackupError as exc:
            raise ValidationError(exc.by_key()) from None
        return Response(plan.as_dict())
