"""API errors always come back as JSON with a reason, never as a 500 page or a traceback."""

import logging

from django.db import IntegrityError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler

logger = logging.getLogger(__name__)


def api_exception_handler(exc, context):
    response = exception_handler(exc, context)
    if response is not None:
        if isinstance(response.data, list):
            response.data = {"detail": response.data}
        return response
    if isinstance(exc, IntegrityError):
        # A unique constraint raced past validation: still a duplicate, not a server error.
        return Response({"detail": "conflicts with an existing record"}, status=status.HTTP_409_CONFLICT)
    logger.exception("unhandled API error in %s", context.get("view").__class__.__name__)
    return Response({"detail": "internal error; the server log has the details"}, status=500)
