"""What every app's REST API shares: service calls mapped to API errors, and slash-optional routes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import URLPattern, path
from rest_framework import status
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
