"""What the data plane writes to the activity log (healing.activity): one entry per request,
built at the ASGI level from the status sent and the time taken, with what the handler noted on
the way (the capability and its parameters, who answered, how, after which attempts).

Handlers note into `scope[NOTE]` (a dict the app puts there); nothing here touches Redis.
Parameters are the endpoint's parsed ones, never the query string itself (it could carry a key);
a proxy call is logged with its provider and method, never its path or query.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson

from healing import activity

NOTE = "cryptohub.activity"
CLIENT = "cryptohub.client"
PARAMS_MAX = 200


def start(scope: MutableMapping[str, Any], send: Callable[[dict], Awaitable[None]]):
    """(the send to answer with, the status box, the start time); the note goes into the scope."""
    scope[NOTE] = {}
    status = [0]

    async def recording(message: dict) -> None:
        if message["type"] == "http.response.start":
            status[0] = message["status"]
        await send(message)

    return recording, status, time.monotonic()


def note(scope: MutableMapping[str, Any], **details: Any) -> None:
    box = scope.get(NOTE)
    if box is not None:
        box.update(details)


def params_text(params: Any) -> str:
    text = orjson.dumps(params, option=orjson.OPT_SORT_KEYS, default=str).decode()
    return text if len(text) <= PARAMS_MAX else text[: PARAMS_MAX - 1] + "…"


def note_answer(scope: MutableMapping[str, Any], meta: dict[str, Any]) -> None:
    note(scope, source=meta.get("source"), served=meta.get("served"),
         attempts=activity.attempts_summary(meta.get("attempts")) or None)


def log(buffer: activity.ActivityBuffer, scope: MutableMapping[str, Any], status: int, started: float) -> bool:
    """Buffer the request's entry (a fast-path hit folded with its query's); True when a flush is due."""
    hit = (scope.get(NOTE) or {}).get("hit")
    if hit is not None and status == 200:
        capability, params, source = hit
        return buffer.add_hit(capability, params, scope.get(CLIENT), source, (time.monotonic() - started) * 1000)
    return buffer.add(request_entry(scope, status, started))


def request_entry(scope: MutableMapping[str, Any], status: int, started: float) -> dict[str, Any]:
    details = dict(scope.get(NOTE) or {})
    path = scope["path"]
    category = activity.PROXY if path.startswith("/api/crypto-hub/proxy") else activity.REQUEST
    level = activity.ERROR if status >= 500 else activity.WARNING if status in (401, 403, 429) else activity.INFO
    ms = round((time.monotonic() - started) * 1000, 2)
    if category == activity.REQUEST and "capability" not in details:
        details["capability"] = path.removeprefix("/api/data").strip("/") or None
    return activity.entry(category, level, f"{scope['method']} {path} {status}", time.time(), status=status, ms=ms,
                          client=scope.get(CLIENT), **details)
