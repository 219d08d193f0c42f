"""CORS: which other sites' pages may call /api/; cryptohub.settings imports these."""

import re

import environ
from django.core.exceptions import ImproperlyConfigured

env = environ.Env()


def envorigins(name: str) -> list[str]:
    """Comma-separated exact origins or "*": anything else (a path, a trailing slash) never
    equals a browser's Origin header, so it would silently allow nothing."""
    values = [value.strip() for value in env.list(name, default=[]) if value.strip()]
    for value in values:
        if value != "*" and not re.fullmatch(r"https?://[^/?#\s]+", value):
            raise ImproperlyConfigured(f"{name}: {value!r} is not an origin like https://app.example.com (or *)")
    return values


# --- CORS (README, "CORS") ---
# Browser apps on these origins may call /api/ on both planes: django-cors-headers reads the
# CORS_* values below, and healing/dataplane/cors.py hands the same values to the data plane.
# Empty (the default) allows no other origin; "*" allows any.
CRYPTOHUB_CORS_ORIGINS = envorigins("CRYPTOHUB_CORS_ORIGINS")
CORS_ALLOW_ALL_ORIGINS = "*" in CRYPTOHUB_CORS_ORIGINS
CORS_ALLOWED_ORIGINS = [origin for origin in CRYPTOHUB_CORS_ORIGINS if origin != "*"]
# The API only: pages, the admin, /health and /metrics stay same-origin.
CORS_URLS_REGEX = r"^/api/.*$"
# Client keys travel in headers; a session cookie must never ride along on another site's call.
CORS_ALLOW_CREDENTIALS = False
CORS_ALLOW_METHODS = ["DELETE", "GET", "OPTIONS", "PATCH", "POST", "PUT"]
CORS_ALLOW_HEADERS = ["accept", "authorization", "content-type", "user-agent", "x-api-key", "x-requested-with"]
# What a page may read of an answer beyond the basic headers: limits, and where the data came from.
CORS_EXPOSE_HEADERS = [
    "Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset",
    "X-Cryptohub-Source", "X-Cryptohub-Cache", "X-Cryptohub-Degraded",
]
# Browsers re-ask at most hourly, so a narrowed policy reaches them within the hour.
CORS_PREFLIGHT_MAX_AGE = 3600
