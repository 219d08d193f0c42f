"""DELETE /api/cache: purge cached answers (staff). Thin: healing.cache_control decides."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.restapi import WRITE_ERRORS, error_responses, parse_bool
from healing import cache_control

# The purge's own parameters; every other one names the answer (the data endpoint's parameters).
OWN = ("capability", "provider", "all", "keep_stale")


class CacheView(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        summary="Purge cached answers: a capability, one answer of it, a provider's answers, or all",
        parameters=[
            OpenApiParameter("capability", OpenApiTypes.STR, description="a data endpoint, e.g. price, fear-greed"),
            OpenApiParameter("provider", OpenApiTypes.STR, description="only the answers this provider produced"),
            OpenApiParameter("all", OpenApiTypes.BOOL, description="everything (when neither is given)"),
            OpenApiParameter("keep_stale", OpenApiTypes.BOOL,
                             description="keep the answers as last-resort stale copies (never fresh again)"),
        ],
        description="Any other parameter names one answer of the capability, as the data endpoint takes it "
                    "(`?capability=price&ids=bitcoin&vs=usd`). Every process sees the purge at once.",
        responses={200: OpenApiTypes.OBJECT, **error_responses(404, *WRITE_ERRORS)},
    )
    def delete(self, request: Request) -> Response:
        query = request.query_params
        everything = parse_bool("all", query["all"]) if "all" in query else False
        keep_stale = parse_bool("keep_stale", query["keep_stale"]) if "keep_stale" in query else False
        try:
            report = cache_control.purge(
                capability=query.get("capability", "").strip(), provider=query.get("provider", "").strip(),
                params={k: v for k, v in query.items() if k not in OWN}, everything=everything, keep_stale=keep_stale)
        except cache_control.PurgeError as exc:
            if exc.status == 404:
                raise NotFound({"detail": str(exc), "field": exc.field}) from None
            raise ValidationError({exc.field: [str(exc)]}) from None
        return Response(report.as_dict())
