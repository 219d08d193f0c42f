"""GET /api/audit: the audit trail, newest first, for staff (it names who changed what). Thin:
the query and the entries' shape are healing.audit's."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.restapi import READ_ERRORS, error_responses
from healing import audit
from healing.api.monitoring import parse_limit

FILTERS = ("model", "object", "actor", "since", "until")
MAX_OFFSET = 10**9  # a database's OFFSET is a 64-bit integer at most


class AuditView(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        summary="The audit trail: who changed which configuration object, when, and the field diff",
        parameters=[
            OpenApiParameter("model", OpenApiTypes.STR, description="e.g. provider, pools.pool, alertrule"),
            OpenApiParameter("object", OpenApiTypes.STR, description="the object's id or text (a slug, a name)"),
            OpenApiParameter("actor", OpenApiTypes.STR,
                             description="a user name, user:NAME, command:NAME or system"),
            OpenApiParameter("since", OpenApiTypes.DATETIME, description="ISO 8601 with a zone"),
            OpenApiParameter("until", OpenApiTypes.DATETIME, description="ISO 8601 with a zone"),
            OpenApiParameter("limit", OpenApiTypes.INT, description=f"1-{audit.LIST_MAX} (default 100)"),
            OpenApiParameter("offset", OpenApiTypes.INT, description="entries to skip (default 0)"),
        ],
        responses={200: OpenApiTypes.OBJECT, **error_responses(400, *READ_ERRORS)},
    )
    def get(self, request: Request) -> Response:
        params = {name: request.query_params.get(name, "").strip() for name in FILTERS}
        limit = parse_limit(request.query_params.get("limit"), 100, audit.LIST_MAX)
        offset = request.query_params.get("offset", "0") or "0"
        if not offset.isdigit() or int(offset) > MAX_OFFSET:
            raise ValidationError({"offset": [f"must be a whole number from 0 to {MAX_OFFSET}"]})
        try:
            entries = audit.audit_entries(**params)
        except audit.AuditQueryError as exc:
            raise ValidationError({exc.field: [str(exc)]}) from None
        count = entries.count()
        page = entries[int(offset): int(offset) + limit]
        return Response({"count": count, "results": [audit.entry_as_dict(e) for e in page]})
