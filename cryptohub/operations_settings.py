"""Operations settings (README: "Cache control", "The activity log"); cryptohub.settings imports them."""

import environ
from django.core.exceptions import ImproperlyConfigured

env = environ.Env()


def _strict_bool(name: str, default: bool) -> bool:
    """As cryptohub.settings.envbool: only True/False or 1/0, so a typo never silently means False."""
    raw = env.str(name, default=str(default)).lower()
    if raw not in {"true", "1", "false", "0"}:
        raise ImproperlyConfigured(f"{name} must be True or False, got {raw!r}")
    return raw in {"true", "1"}


# The activity log (healing/activity.py): on or off, and about how many entries the shared
# stream keeps (the oldest go first).
CRYPTOHUB_ACTIVITY_LOG = _strict_bool("CRYPTOHUB_ACTIVITY_LOG", True)
CRYPTOHUB_ACTIVITY_MAX = env.int("CRYPTOHUB_ACTIVITY_MAX", default=10_000)
# How many of the most requested answers a cache warm-up asks for again (healing/cache_warmup.py).
CRYPTOHUB_CACHE_WARM_TOP = env.int("CRYPTOHUB_CACHE_WARM_TOP", default=50)
