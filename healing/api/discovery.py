"""POST /api/discovery: probe candidate APIs and add them as disabled providers (staff). Thin:
healing.discovery validates, probes, classifies and writes."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.restapi import WRITE_ERRORS, error_responses, parse_bool
from healing.discovery import candidates as inputs
from healing.discovery import service

# One request probes at most this many (each up to the probe timeout); larger lists: the command.
MAX_CANDIDATES = 20


class DiscoveryView(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        summary="Probe candidate APIs and add them as disabled providers with their findings",
        description="The body is a JSON list of {name?, base_url, sample_path, docs_url?, category?, note?}. "
                    f"At most {MAX_CANDIDATES} per request; any error names the entry and field and probes "
                    "nothing. Enabled providers, and disabled ones discovery did not add, are never touched.",
        parameters=[OpenApiParameter("dry_run", OpenApiTypes.BOOL, default=False,
                                     description="probe and report; write nothing")],
        request=OpenApiTypes.OBJECT, responses={200: OpenApiTypes.OBJECT, **error_responses(*WRITE_ERRORS)},
    )
    def post(self, request: Request) -> Response:
        dry_run = parse_bool("dry_run", request.query_params.get("dry_run", "false"))
        if isinstance(request.data, list) and len(request.data) > MAX_CANDIDATES:
            raise ValidationError({"body": [f"at most {MAX_CANDIDATES} candidates per request"]})
        try:
            candidates = inputs.parse_entries(request.data, "body")
        except inputs.CandidateError as exc:
            raise ValidationError({"body": exc.errors}) from None
        outcomes = service.discover(candidates, dry_run=dry_run)
        return Response({"summary": service.summary(outcomes), "results": [
            {"base_url": o.candidate.base_url, "action": o.action, "slug": o.slug or None, "reason": o.reason,
             "category": o.classification.category, "finding": o.finding.as_dict()} for o in outcomes]})
