"""Self-healing endpoints (control plane): thin DRF views over healing.monitoring.selfheal.

Reads follow the project's read permission; writes (probe, recover, clear) need a staff user.
"""

from __future__ import annotations

import json
import logging

import redis
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.restapi import READ_ERRORS, WRITE_ERRORS, error_responses
from healing.models.recovery import RecoveryLog
from healing.monitoring import health_summary, selfheal
from providers import endpoints
from providers.api.views import SLUG_PATTERN

logger = logging.getLogger(__name__)

# Longest free-text reason stored with a recovery (the column's width).
MAX_REASON = 300


def _actor(request: Request) -> str:
    return request.user.get_username() if request.user and request.user.is_authenticated else "anonymous"


def _slug_field(value, *, required: bool):
    """(slug, error response): the "provider" input, checked for type only."""
    if value is None or value == "":
        if required:
            return None, Response({"detail": "provider is required", "field": "provider"}, status=400)
        return None, None
    if not isinstance(value, str) or len(value) > 64:
        return None, Response({"detail": "provider must be a provider slug", "field": "provider"}, status=400)
    return value, None


def _unknown(slug: str, field: str = "provider") -> Response:
    what = "no registered provider has the endpoint" if field.startswith("endpoint") else "unknown provider"
    return Response({"detail": f"{what} {slug!r}", "field": field}, status=status.HTTP_404_NOT_FOUND)


# Endpoints one POST /health-check may name (the old API's {"endpoints": [URL, ...]}).
MAX_ENDPOINTS = 200


def _endpoint_slugs(urls, field: str) -> tuple[list[str], Response | None]:
    """The providers old-API endpoint URLs belong to, or the error answer naming the URL."""
    if not isinstance(urls, list) or not urls or len(urls) > MAX_ENDPOINTS:
        return [], Response({"detail": f"{field} must be a list of 1 to {MAX_ENDPOINTS} URLs", "field": field},
                            status=400)
    slugs = []
    for url in urls:
        try:
            slugs.append(selfheal.resolve_endpoint(url))
        except (endpoints.NotAUrl, endpoints.AmbiguousUrl) as exc:
            return [], Response({"detail": f"{url!r}: {exc}", "field": field}, status=400)
        except selfheal.UnknownProvider:
            return [], _unknown(str(url), field)
    return slugs, None


class ProviderInputSerializer(serializers.Serializer):
    provider = serializers.CharField(required=False, max_length=64, help_text="a provider slug; empty = all")
    endpoints = serializers.ListField(child=serializers.URLField(), required=False, max_length=MAX_ENDPOINTS,
                                      help_text="the old API's form: providers named by URL")


class RecoverInputSerializer(serializers.Serializer):
    provider = serializers.CharField(required=False, max_length=64)
    endpoint = serializers.URLField(required=False, help_text="the old API's form: the provider named by URL")
    reason = serializers.CharField(required=False, max_length=MAX_REASON)


# Every answer of a runtime-state view can also be the 503 of a Redis outage.
READ_STATE_ERRORS = error_responses(400, 404, 503, *READ_ERRORS)
WRITE_STATE_ERRORS = error_responses(404, 503, *WRITE_ERRORS)
PROVIDER_PARAM = OpenApiParameter("provider", OpenApiTypes.STR, description="only this provider (slug)")


def _body(request: Request) -> dict:
    return request.data if isinstance(request.data, dict) else {}


class RuntimeStateView(APIView):
    """A Redis outage is a 503 with a reason, not a 500."""

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, redis.RedisError):
            logger.warning("%s: Redis unavailable: %s", self.__class__.__name__, exc)
            return Response({"detail": "runtime state (Redis) is unavailable; try again shortly"}, status=503)
        return super().handle_exception(exc)


class HealthStatusView(RuntimeStateView):
    """Per provider: breaker state and reopen time, cool-down, budgets left, success rate, latency;
    and the old API's totals: total, healthy, degraded, unhealthy, health_percentage, endpoints."""

    @extend_schema(parameters=[PROVIDER_PARAM], responses={200: inline_serializer("HealthStatus", {
        "providers": serializers.ListField(child=serializers.DictField()),
        "total": serializers.IntegerField(), "healthy": serializers.IntegerField(),
        "degraded": serializers.IntegerField(), "unhealthy": serializers.IntegerField(),
        "health_percentage": serializers.FloatField(allow_null=True),
        "endpoints": serializers.DictField()}), **READ_STATE_ERRORS})
    def get(self, request: Request) -> Response:
        slug, bad = _slug_field(request.query_params.get("provider"), required=False)
        if bad:
            return bad
        try:
            providers = selfheal.health_status(slug)
        except selfheal.UnknownProvider:
            return _unknown(slug)
        return Response({"providers": providers, **health_summary.health_totals(providers)})


class HealthCheckView(RuntimeStateView):
    """Probe one provider ({"provider": slug}), the providers of the old API's {"endpoints": [URL]},
    or every enabled one ({}) now; feeds the breaker and the health history."""

    @extend_schema(request=ProviderInputSerializer, responses={200: inline_serializer("HealthCheckRun", {
        "results": serializers.ListField(child=serializers.DictField()),
        "ok": serializers.IntegerField(), "total": serializers.IntegerField()}), **WRITE_STATE_ERRORS})
    def post(self, request: Request) -> Response:
        body = _body(request)
        slugs: list[str] = []
        if body.get("endpoints") is not None:
            slugs, bad = _endpoint_slugs(body["endpoints"], "endpoints")
            if bad:
                return bad
        slug, bad = _slug_field(body.get("provider"), required=False)
        if bad:
            return bad
        try:
            results = selfheal.health_check(slug, slugs=slugs)
        except selfheal.UnknownProvider:
            return _unknown(slug)
        return Response({"results": results, "ok": sum(r["ok"] for r in results), "total": len(results)})


class RecoverView(RuntimeStateView):
    """Reset a provider's breaker and cool-down, probe it, and record why and who."""

    @extend_schema(request=RecoverInputSerializer, responses={200: OpenApiTypes.OBJECT, **WRITE_STATE_ERRORS})
    def post(self, request: Request) -> Response:
        body = _body(request)
        if body.get("endpoint") is not None and not body.get("provider"):
            slugs, bad = _endpoint_slugs([body["endpoint"]], "endpoint")
            slug = slugs[0] if slugs else ""
        else:
            slug, bad = _slug_field(body.get("provider"), required=True)
        if bad:
            return bad
        reason = body.get("reason", "")
        if not isinstance(reason, str) or len(reason) > MAX_REASON:
            return Response({"detail": f"reason must be text of at most {MAX_REASON} characters",
                             "field": "reason"}, status=400)
        try:
            outcome = selfheal.recover(slug, reason=reason or "manual recovery", actor=_actor(request))
        except selfheal.UnknownProvider:
            return _unknown(slug)
        return Response(outcome)


class ProviderHealthCheckView(RuntimeStateView):
    """Probe one provider now and record it (the old API's POST /api/providers/{id}/health-check)."""

    @extend_schema(request=None, parameters=[
        OpenApiParameter("slug", OpenApiTypes.STR, OpenApiParameter.PATH, pattern=SLUG_PATTERN)],
        responses={200: inline_serializer("ProviderHealthCheck", {
        "provider_id": serializers.CharField(), "name": serializers.CharField(),
        "is_healthy": serializers.BooleanField(), "status": serializers.ChoiceField(["online", "offline", "unknown"]),
        "response_time": serializers.FloatField(allow_null=True), "timestamp": serializers.DateTimeField()}),
        **WRITE_STATE_ERRORS})
    def post(self, request: Request, slug: str) -> Response:
        try:
            return Response(selfheal.provider_check(slug))
        except selfheal.UnknownProvider:
            return _unknown(slug)


class DiagnosticsView(RuntimeStateView):
    """A downloadable JSON report: snapshot summary, breakers, budgets, stats, recent recoveries."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT, **error_responses(503, *READ_ERRORS)})
    def get(self, request: Request) -> HttpResponse:
        report = selfheal.diagnostics()
        response = HttpResponse(json.dumps(report, indent=2), content_type="application/json")
        stamp = report["generated_at"].replace(":", "").replace("-", "")
        response["Content-Disposition"] = f'attachment; filename="cryptohub-diagnostics-{stamp}.json"'
        return response


class RecoveryLogSerializer(serializers.ModelSerializer):
    provider = serializers.CharField(source="provider_slug")

    class Meta:
        model = RecoveryLog
        fields = ["id", "provider", "action", "reason", "actor", "result", "created_at"]


class RecoveryLogPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


@extend_schema_view(get=extend_schema(responses={200: RecoveryLogSerializer(many=True),
                                                 **error_responses(404, *READ_ERRORS)}))
class RecoveryLogView(ListAPIView):
    """Recoveries, newest first; ?provider= filters."""

    serializer_class = RecoveryLogSerializer
    pagination_class = RecoveryLogPagination

    def get_queryset(self):
        queryset = RecoveryLog.objects.all()
        slug = self.request.query_params.get("provider")
        return queryset.filter(provider_slug=slug) if slug else queryset


class ClearFailuresView(RuntimeStateView):
    """Every breaker, cool-down and failure counter back to zero (staff)."""

    @extend_schema(parameters=[OpenApiParameter("reason", OpenApiTypes.STR, description="why (recorded)")],
                   responses={200: OpenApiTypes.OBJECT, **error_responses(503, *WRITE_ERRORS)})
    def delete(self, request: Request) -> Response:
        reason = request.query_params.get("reason", "") or _body(request).get("reason", "") or "clear failures"
        return Response(selfheal.clear_failures(actor=_actor(request), reason=str(reason)[:MAX_REASON]))
