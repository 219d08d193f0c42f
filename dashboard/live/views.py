"""GET /api/sessions: who is connected to the live feed right now, across every server process."""

from __future__ import annotations

import redis
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.restapi import READ_ERRORS, error_responses
from dashboard.live import sessions
from providers.runtime import sync_redis


@extend_schema(tags=["live feed"])
class SessionsView(APIView):
    """Live-feed clients of every server process: a random client id, the channels it holds and
    when it connected (oldest first; at most 1,000 listed, `count` counts all). No address, no key."""

    @extend_schema(summary="Connected live-feed clients",
                   responses={200: OpenApiTypes.OBJECT, **error_responses(503, *READ_ERRORS)})
    def get(self, request: Request) -> Response:
        try:
            return Response(sessions.sessions_report(sync_redis()))
        except (redis.RedisError, OSError):
            return Response({"detail": "the sessions registry (Redis) is unavailable; try again shortly"}, status=503)
