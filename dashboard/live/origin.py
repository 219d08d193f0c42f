"""Who may open the live feed: browsers from this site's hosts and CORS origins, and any client
that sends no `Origin` at all.

Channels' AllowedHostsOriginValidator refuses a handshake without an `Origin` header, which is
every non-browser client (a Python or Node service, `websocat`). `Origin` protects a user's
browser from other sites riding on its cookies; a client that sends none is no browser and
carries no such cookie, so it is let in and treated like any other anonymous client. A header
that is present but unreadable or `null` (a sandboxed page, a file: URL) is refused: a browser
sent it.
"""

from __future__ import annotations

from typing import Any

from channels.security.websocket import OriginValidator, WebsocketDenier
from django.conf import settings

NO_ORIGIN = object()


def _origin_header(scope: dict[str, Any]) -> Any:
    values = [value for name, value in scope.get("headers", []) if name == b"origin"]
    return values[-1] if values else NO_ORIGIN


class FeedOriginValidator(OriginValidator):
    async def __call__(self, scope, receive, send):
        raw = _origin_header(scope)
        if raw is NO_ORIGIN:
            return await self.application(scope, receive, send)
        return await super().__call__(scope, receive, send)

    def valid_origin(self, parsed_origin) -> bool:
        # Reached only with an Origin header: one that could not be parsed counts as refused.
        return parsed_origin is not None and self.validate_origin(parsed_origin)


def allowed_origins() -> list[str]:
    """This site's hosts (any scheme and port, as Channels matches ALLOWED_HOSTS) and the CORS origins."""
    hosts = list(settings.ALLOWED_HOSTS) or (["localhost", "127.0.0.1", "[::1]"] if settings.DEBUG else [])
    return hosts + [origin for origin in getattr(settings, "CORS_ALLOWED_ORIGINS", []) if origin != "*"]


def feed_origin_validator(application) -> FeedOriginValidator:
    return FeedOriginValidator(application, allowed_origins())


__all__ = ["FeedOriginValidator", "WebsocketDenier", "allowed_origins", "feed_origin_validator"]
