"""Who may read the live feed: everyone while CRYPTOHUB_PUBLIC_READ is on, else a logged-in user
(the dashboard's session) or a client sending `Authorization: Token <token>` (as the REST API)."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings


def _token(scope: dict[str, Any]) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            words = value.decode("latin1").split()
            if len(words) == 2 and words[0].lower() == "token":
                return words[1]
    return None


@database_sync_to_async
def _token_user_active(key: str) -> bool:
    from rest_framework.authtoken.models import Token

    token = Token.objects.select_related("user").filter(key=key).first()
    return token is not None and token.user.is_active


async def may_read(scope: dict[str, Any]) -> bool:
    if settings.CRYPTOHUB_PUBLIC_READ:
        return True
    user = scope.get("user")
    if user is not None and user.is_authenticated:
        return True
    key = _token(scope)
    return key is not None and await _token_user_active(key)
