"""The public status page: /status (HTML), /api/status/page (JSON) and /status/badge/<pool>.svg.

Thin: the content is healing.monitoring.statuspage (cached in Redis), the drawing
dashboard.statuspage.render. All three follow CRYPTOHUB_PUBLIC_READ like the other public reads:
while it is off, only a logged-in user sees them.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_safe
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.restapi import READ_ERRORS, error_responses
from dashboard.statuspage import render as drawing
from dashboard.statuspage.schema import StatusPageSerializer
from healing.monitoring import statuspage


def _may_read(request: HttpRequest) -> bool:
    return settings.CRYPTOHUB_PUBLIC_READ or request.user.is_authenticated


@require_safe
def status_page_view(request: HttpRequest) -> HttpResponse:
    if not _may_read(request):
        return redirect_to_login(request.get_full_path(), reverse("admin:login"))
    return render(request, "statuspage/status.html", drawing.page_context(statuspage.status_page()))


@require_safe
def badge_view(request: HttpRequest, pool: str) -> HttpResponse:
    if not _may_read(request):
        return JsonResponse({"detail": "public reads are off: log in to see the status"}, status=403)
    status = statuspage.pool_badge_status(pool)
    if status is None:
        return JsonResponse({"detail": "no such pool on the status page", "field": "pool"}, status=404)
    svg = render_to_string("statuspage/badge.svg", {"badge": drawing.badge(pool, status)})
    response = HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")
    # Badges are fetched by other sites' pages and proxies: let them re-ask every cache period.
    response["Cache-Control"] = f"max-age={statuspage.CACHE_TTL_S}"
    return response


@extend_schema(tags=["status"])
class StatusPageView(APIView):
    """The public status page as JSON: the overall banner, every component (pools, provider
    categories) with its status, 90 daily uptime values, uptime over 24 h / 7 d / 30 d / 90 d and
    hourly response times; incidents with their timelines; maintenance ahead; the rules used."""

    @extend_schema(summary="Public status page", responses={200: StatusPageSerializer,
                                                             **error_responses(*READ_ERRORS)})
    def get(self, request: Request) -> Response:
        return Response(statuspage.status_page())
