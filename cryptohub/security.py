"""Login protection hooks for django-axes (settings "Login protection"): who a client is, what
counts, and what a locked-out client is told. The alert a lockout raises is healing.security's."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

LOCKOUT_STATUS = 403
API_PREFIXES = ("/api/", "/api-auth/")


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR, or behind CRYPTOHUB_TRUSTED_PROXIES reverse proxies the address the first of
    them saw (X-Forwarded-For entries further left are the client's to forge)."""
    trusted = int(getattr(settings, "CRYPTOHUB_TRUSTED_PROXIES", 0))
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if trusted and len(forwarded) >= trusted:
        return forwarded[-trusted]
    return request.META.get("REMOTE_ADDR", "")


def lockout_parameters(request: Any, credentials: dict | None) -> list[str]:
    """Per IP and per user name, each alone; a failure without a user name (a bad API token) per IP."""
    if credentials is not None:
        username = credentials.get(settings.AXES_USERNAME_FORM_FIELD)
    else:  # an AccessAttempt row, or a request axes checks before it knows the credentials
        username = getattr(request, "username", None)
    return ["ip_address", "username"] if username else ["ip_address"]


def cool_off_minutes() -> int:
    return max(1, round(float(settings.AXES_COOLOFF_TIME) * 60))


def lockout_response(request: HttpRequest, original_response: Any = None, credentials: Any = None) -> HttpResponse:
    """403: a JSON body for API clients, a page for people."""
    minutes = cool_off_minutes()
    detail = f"Too many failed logins: locked for {minutes} minutes. Try again later or ask an administrator."
    wants_json = request.path.startswith(API_PREFIXES) and not request.path.startswith("/api-auth/login")
    if wants_json or "application/json" in request.headers.get("Accept", ""):
        return JsonResponse({"detail": detail, "locked_out": True, "cooloff_minutes": minutes}, status=LOCKOUT_STATUS)
    return render(request, "security/lockout.html", {"detail": detail, "minutes": minutes}, status=LOCKOUT_STATUS)
