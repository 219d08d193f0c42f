"""Who made a configuration change: the actor of every audit entry (django-auditlog's LogEntry).

django-auditlog records each save and delete of a registered model with its field diff; this
module says who did it, in one place, for every way a change can be made:

- a request (the admin, the REST API): the user, resolved when the entry is written, not when the
  request starts, because DRF authenticates a token inside the view (auditlog's own middleware
  reads the user too early and would record token writes as anonymous); the client address is
  the one the login lockout uses (cryptohub.security.client_ip), never a forgeable header;
- a `manage.py` command: `command:<name>` (manage.py names the process);
- anything else (Celery tasks, beat, start-up): `system`, unless code says who with `acting_as`.

Every entry carries the label in `additional_data["actor"]` ("user:alice", "command:rotate",
"system"), so `GET /api/audit?actor=` finds commands and the system as well as users.
`record_change` writes an entry for a change made without `save()` (a queryset `update()`), which
auditlog's signals cannot see.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

SYSTEM = "system"

_request: ContextVar[Any] = ContextVar("audit_request", default=None)
_label: ContextVar[str | None] = ContextVar("audit_label", default=None)
_process_label = SYSTEM
_client_ip: Callable[[Any], str] | None = None


def set_process_actor(label: str) -> None:
    """The actor of everything this process does outside a request (manage.py: `command:<name>`)."""
    global _process_label
    _process_label = label


@contextlib.contextmanager
def acting_as(label: str) -> Iterator[None]:
    token = _label.set(label)
    try:
        yield
    finally:
        _label.reset(token)


@contextlib.contextmanager
def during_request(request: Any, client_ip: Callable[[Any], str]) -> Iterator[None]:
    global _client_ip
    _client_ip = client_ip
    token = _request.set(request)
    try:
        yield
    finally:
        _request.reset(token)


def _request_user(request: Any) -> Any:
    user = getattr(request, "user", None)  # DRF has put the token's user here by the time a view saves
    return user if user is not None and getattr(user, "is_authenticated", False) else None


def current_actor() -> tuple[Any, str]:
    """(the user or None, the label) of the change being made now."""
    request = _request.get()
    user = _request_user(request) if request is not None else None
    if user is not None:
        return user, f"user:{user.get_username()}"
    label = _label.get()
    if label is not None:
        return None, label
    if request is not None:
        return None, "anonymous"
    return None, _process_label


def stamp_entry(sender: Any, instance: Any, **kwargs: Any) -> None:
    """pre_save of LogEntry: the actor, its label and the client address."""
    user, label = current_actor()
    if instance.actor_id is None and user is not None:
        instance.actor = user
    data = dict(instance.additional_data or {})
    data.setdefault("actor", label)
    instance.additional_data = data
    request = _request.get()
    if request is not None and _client_ip is not None and not instance.remote_addr:
        instance.remote_addr = _client_ip(request) or None


def record_change(instance: Any, changes: dict[str, tuple[Any, Any]], *, action: str = "update",
                  extra: dict[str, Any] | None = None) -> Any:
    """An audit entry for a change written without `save()`: {field: (old, new)}."""
    from auditlog.models import LogEntry

    actions = {"create": LogEntry.Action.CREATE, "update": LogEntry.Action.UPDATE,
               "delete": LogEntry.Action.DELETE, "access": LogEntry.Action.ACCESS}
    return LogEntry.objects.log_create(
        instance, force_log=True, action=actions[action],
        changes={field: [_jsonable(old), _jsonable(new)] for field, (old, new) in changes.items()},
        additional_data=dict(extra or {}))


def _jsonable(value: Any) -> Any:
    return value if value is None or isinstance(value, (str, int, float, bool, list, dict)) else str(value)
