"""The one strict reading of a boolean environment variable, for every settings module."""

import environ
from django.core.exceptions import ImproperlyConfigured

env = environ.Env()


def envbool(name: str, default: bool) -> bool:
    """Only True/False (any case) or 1/0 are accepted: a typo must not silently mean False."""
    raw = env.str(name, default=str(default))
    if raw.lower() in {"true", "1"}:
        return True
    if raw.lower() in {"false", "0"}:
        return False
    raise ImproperlyConfigured(f"{name} must be True or False, got {raw!r}")
