"""CORS of the data plane: the Django plane's policy, enforced by Starlette's CORSMiddleware.

The policy is written once, as the CORS_* settings django-cors-headers reads (cryptohub/settings.py,
from CRYPTOHUB_CORS_ORIGINS); `cors_options` turns those values into CORSMiddleware's arguments, so
both planes allow the same origins, methods and headers and expose the same answer headers.

cryptohub/asgi.py wraps the whole data plane in `DataPlaneCORS`, outside DataPlane.__call__: a
preflight is answered here and never reaches the inbound key and limit check (a browser sends no
key with it, and must not spend a caller's requests on it). Every other request goes through, and
an allowed origin's answer, a 401 or 429 included, gets Access-Control-Allow-Origin so the page can
read why it was refused. A refused preflight is answered like every other 4xx here: JSON naming
the request header at fault, with the data plane's security headers.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse, Response

from healing.dataplane.headers import secured

# Starlette names a refused part of a preflight ("Disallowed CORS origin, headers"); the caller is
# told which of its request headers that part came from.
REFUSED_PART_HEADER = {
    "origin": "Origin",
    "method": "Access-Control-Request-Method",
    "headers": "Access-Control-Request-Headers",
    "private-network": "Access-Control-Request-Private-Network",
}
REFUSAL_PREFIX = "Disallowed CORS "


def cors_options(settings: Any) -> dict[str, Any]:
    """CORSMiddleware's keyword arguments from the Django settings django-cors-headers reads."""
    origins = ["*"] if settings.CORS_ALLOW_ALL_ORIGINS else list(settings.CORS_ALLOWED_ORIGINS)
    return {
        "allow_origins": origins,
        "allow_methods": list(settings.CORS_ALLOW_METHODS),
        "allow_headers": list(settings.CORS_ALLOW_HEADERS),
        "expose_headers": list(settings.CORS_EXPOSE_HEADERS),
        "allow_credentials": bool(settings.CORS_ALLOW_CREDENTIALS),
        "max_age": int(settings.CORS_PREFLIGHT_MAX_AGE),
    }


class DataPlaneCORS(CORSMiddleware):
    """Starlette's CORSMiddleware; only the shape of its preflight answers is the data plane's."""

    def preflight_response(self, request_headers: Headers) -> Response:
        answer = super().preflight_response(request_headers)
        if answer.status_code == 400:
            answer = _refusal(answer)
        answer.raw_headers = secured(answer.raw_headers)
        return answer


def _refusal(answer: Response) -> JSONResponse:
    detail = bytes(answer.body).decode()
    first_part = detail.removeprefix(REFUSAL_PREFIX).split(",")[0].strip()
    # The CORS headers (Vary, Allow-Methods, ...) stay; the body and its length and type are ours.
    cors_headers = {k: v for k, v in answer.headers.items() if k.startswith("access-control-") or k == "vary"}
    return JSONResponse({"detail": detail, "field": REFUSED_PART_HEADER.get(first_part, "Origin")},
                        status_code=400, headers=cors_headers)
