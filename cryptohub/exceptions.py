"""API errors always come back as JSON with a reason, never as a 500 page or a traceback."""

import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.db import IntegrityError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.deprecation import MiddlewareMixin
from django.views.defaults import page_not_found
from rest_framework import status
from rest_framework.exceptions import ParseError
from rest_framework.response import Response
from rest_framework.views import exception_handler

logger = logging.getLogger(__name__)
# The database down, or a lock held past the wait: our outage, never the client's mistake, and
# gone in seconds as a rule, so the answer is a 503 that says when to ask again.
DATABASE_UNAVAILABLE = "the database is busy or unavailable; try again shortly"
DATABASE_RETRY_AFTER_S = 5
DATABASE_RETRY_HEADERS = {"Retry-After": str(DATABASE_RETRY_AFTER_S)}
# Django's form-parsing caps (settings "Request limits"): what was counted, and the setting.
FORM_LIMITS = {TooManyFieldsSent: ("fields", "DATA_UPLOAD_MAX_NUMBER_FIELDS"),
               TooManyFilesSent: ("files", "DATA_UPLOAD_MAX_NUMBER_FILES")}


def api_exception_handler(exc, context):
    response = exception_handler(exc, context)
    if response is not None:
        if isinstance(response.data, list):
            response.data = {"detail": response.data}
        if isinstance(exc, ParseError):
            response.data["field"] = "body"  # the body as a whole could not be read
        return response
    if isinstance(exc, RequestDataTooBig):
        # Raised lazily when a view first reads a body BodyLimitMiddleware could not size up front.
        return Response({"detail": f"request body larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes",
                         "field": "body"}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if type(exc) in FORM_LIMITS:
        what, setting = FORM_LIMITS[type(exc)]
        return Response({"detail": f"at most {getattr(settings, setting)} form {what} per request",
                         "field": "body"}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, MultiPartParserError):
        # A multipart body that cannot be parsed (no boundary, cut short) is the client's mistake.
        return Response({"detail": f"malformed multipart body: {exc}", "field": "body"},
                        status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, OperationalError):
        _log_database_unavailable(exc, context.get("view").__class__.__name__)
        return Response({"detail": DATABASE_UNAVAILABLE}, status=status.HTTP_503_SERVICE_UNAVAILABLE,
                        headers=DATABASE_RETRY_HEADERS)
    if isinstance(exc, IntegrityError):
        # A unique constraint raced past validation: still a duplicate, not a server error.
        return Response({"detail": "conflicts with an existing record"}, status=status.HTTP_409_CONFLICT)
    logger.exception("unhandled API error in %s", context.get("view").__class__.__name__)
    return Response({"detail": "internal error; the server log has the details"}, status=500)


def not_found(request, exception=None):
    """An unknown URL: JSON under /api/ (API clients read the reason), Django's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "no such endpoint"}, status=404)
    return page_not_found(request, exception)


class DatabaseUnavailableMiddleware(MiddlewareMixin):
    """The same 503 for Django's own views (the admin, the dashboard) as the API handler gives.
    (MiddlewareMixin: sync and async, so an ASGI request is not pushed through a thread for it.)"""

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError):
            return None
        _log_database_unavailable(exception, request.path)
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": DATABASE_UNAVAILABLE}, status=503, headers=DATABASE_RETRY_HEADERS)
        return HttpResponse(DATABASE_UNAVAILABLE.capitalize() + ".", status=503, content_type="text/plain",
                            headers=DATABASE_RETRY_HEADERS)


def _log_database_unavailable(exc: OperationalError, where: str) -> None:
    # One line, no traceback: the cause is outside the code, and a lock storm must not flood the log.
    logger.warning("database unavailable in %s: %s", where, exc)
