"""System checks: catch a broken configuration at start-up, not on the first request."""

from django.conf import settings
from django.core.checks import Error, register


@register()
def redis_configured(app_configs, **kwargs) -> list[Error]:
    if not getattr(settings, "REDIS_URL", ""):
        return [Error("REDIS_URL is empty: breakers, rate limits and the cache live in Redis.", id="providers.E001")]
    return []
