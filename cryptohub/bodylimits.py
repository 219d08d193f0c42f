"""Bounded input on the Django plane (the DRF API, the admin): a body over CRYPTOHUB_MAX_REQUEST_BYTES
is a JSON 413 naming "body", a query string over CRYPTOHUB_MAX_QUERY_BYTES a 414 naming "query", a
body that stops arriving a 408 after CRYPTOHUB_BODY_READ_TIMEOUT_S.

Under ASGI, Django reads the whole body before any middleware runs, with no size cap and no
deadline: `BoundedBody` wraps Django's ASGI app to answer before that read (a declared size) or
during it (a chunked body that grows too large, a body that stalls). `BodyLimitMiddleware` refuses
by Content-Length inside Django too, for servers that do not go through the wrapper. The data plane
has its own per-endpoint limits (healing.dataplane.app).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def too_large(limit: int) -> tuple[int, dict[str, str]]:
    return 413, {"detail": f"request body larger than {limit} bytes", "field": "body"}


def refusal(content_length: str | None, query_bytes: int) -> tuple[int, dict[str, str]] | None:
    """The answer a request gets from its head alone, before its body is read; None lets it in."""
    if query_bytes > settings.CRYPTOHUB_MAX_QUERY_BYTES:
        return 414, {"detail": f"query string longer than {settings.CRYPTOHUB_MAX_QUERY_BYTES} bytes",
                     "field": "query"}
    limit = settings.CRYPTOHUB_MAX_REQUEST_BYTES
    if content_length and content_length.strip().isdigit() and int(content_length) > limit:
        return too_large(limit)
    return None


async def _answer(send: Send, status: int, body: dict[str, str]) -> None:
    payload = json.dumps(body).encode()
    # Connection: close, because the rest of the body is never read.
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
               (b"connection", b"close"), (b"x-content-type-options", b"nosniff")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


class BoundedBody:
    """ASGI wrapper of Django's app: size, query and time limits applied before Django sees the request.

    Refusing mid-body works by answering here and then telling Django the client went away
    (http.disconnect), which Django's body reader treats as an aborted request: it stops
    without answering, so the client gets exactly one answer.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.max_bytes: int = settings.CRYPTOHUB_MAX_REQUEST_BYTES
        self.read_timeout_s: float = settings.CRYPTOHUB_BODY_READ_TIMEOUT_S

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = next((value.decode("latin-1") for name, value in scope["headers"] if name == b"content-length"),
                        None)
        refused = refusal(declared, len(scope.get("query_string", b"")))
        if refused is not None:
            await _answer(send, *refused)
            return
        await self.app(scope, self._bounded_receive(receive, send), send)

    def _bounded_receive(self, receive: Receive, send: Send) -> Receive:
        """`receive` with one deadline for the whole body and a running size count."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.read_timeout_s
        state = {"size": 0, "done": False}

        async def bounded() -> Message:
            if state["done"]:  # the body is in: what follows is Django waiting for a disconnect
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                state["done"] = True
                await _answer(send, 408, {"detail": f"request body not received within {self.read_timeout_s:g} s",
                                          "field": "body"})
                return {"type": "http.disconnect"}
            if message["type"] != "http.request":
                return message
            state["size"] += len(message.get("body", b""))
            if state["size"] > self.max_bytes:
                state["done"] = True
                await _answer(send, *too_large(self.max_bytes))
                return {"type": "http.disconnect"}
            state["done"] = not message.get("more_body", False)
            return message

        return bounded


class BodyLimitMiddleware:
    """Refuses a request whose Content-Length or query string is over the limit, before any view."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def _refused(self, request: HttpRequest) -> HttpResponse | None:
        refused = refusal(request.META.get("CONTENT_LENGTH"), len(request.META.get("QUERY_STRING", "").encode()))
        if refused is None:
            return None
        status, body = refused
        return JsonResponse(body, status=status)

    def __call__(self, request: HttpRequest) -> Any:
        if iscoroutinefunction(self):
            return self._acall(request)
        return self._refused(request) or self.get_response(request)

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        return self._refused(request) or await self.get_response(request)
