"""What every app's REST API shares: service calls mapped to API errors, the OpenAPI description
of those errors (`error_responses`), and slash-optional routes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import URLPattern, path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.views import APIView

from common.errors import Duplicate

T = TypeVar("T")

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "conflicts with an existing record"
    default_code = "conflict"


class ErrorSerializer(serializers.Serializer):
    """An error answer: why, and for a bad input which field."""

    detail = serializers.CharField()
    field = serializers.CharField(required=False, help_text="The input at fault, when there is one.")


# Field errors come back as DRF writes them: {"<field>": ["<message>", ...]}, or {"detail": "..."}
# for a body that is not JSON; a schema of named properties would be wrong for all but one field.
_FIELD_ERRORS = OpenApiTypes.OBJECT
ERROR_TEXTS = {
    400: (_FIELD_ERRORS, "A bad input: each field at fault maps to its messages."),
    403: (ErrorSerializer, "Needs a login (reads, when public reads are off) or a staff user (writes); "
                           "also a client locked out after failed logins."),
    404: (ErrorSerializer, "No such record (or page)."),
    408: (ErrorSerializer, "The request body did not arrive in time (`field` is body)."),
    409: (_FIELD_ERRORS, "Conflicts with an existing record, or the state does not allow it."),
    413: (ErrorSerializer, "The request body is too large (`field` is body)."),
    414: (ErrorSerializer, "The query string is too long (`field` is query)."),
    503: (ErrorSerializer, "A backing service (Redis, the database) is unavailable; try again shortly."),
}
# What any control-plane request can be answered, whatever the operation.
READ_ERRORS = (403, 414)
WRITE_ERRORS = (400, 403, 408, 413, 414)


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    """The documented error answers for `extend_schema(responses=...)`, by status code."""
    return {code: OpenApiResponse(ERROR_TEXTS[code][0], description=ERROR_TEXTS[code][1]) for code in sorted(codes)}


def call_service(fn: Callable[..., T], /, **kwargs: Any) -> T:
    """Run a service and translate its domain errors into API answers (409, 400)."""
    try:
        return fn(**kwargs)
    except Duplicate as exc:
        raise Conflict({exc.field: [exc.message]}) from exc
    except DjangoValidationError as exc:
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        raise ValidationError(detail) from exc


def parse_bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValidationError({name: [f"must be true or false, got {raw!r}"]})


def slash_optional(route: str, view: type[APIView], name: str) -> list[URLPattern]:
    """`route` and `route/` for one view; the second is left out of the OpenAPI schema."""
    return [
        path(route, view.as_view(), name=name),
        path(route + "/", view.as_view(schema=None)),
    ]
