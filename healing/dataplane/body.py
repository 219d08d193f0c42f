"""Reading a JSON request body on the data plane: bounded in size and in time."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request

from common import json_input
from healing.dataplane.param_errors import ParamError


async def read_json(request: Request, limit: int, timeout_s: float) -> Any:
    # Refused before a byte is read: answering mid-upload is what a client sees as a reset.
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ParamError("body", f"request body larger than {limit} bytes", status=413)
    chunks, size = [], 0
    try:
        # A slow or truncated body must not hold a worker: the whole read has one deadline.
        async with asyncio.timeout(timeout_s):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise ParamError("body", f"request body larger than {limit} bytes", status=413)
                chunks.append(chunk)
    except TimeoutError:
        raise ParamError("body", f"request body not received within {timeout_s:g} s", status=408) from None
    try:
        return json_input.loads(b"".join(chunks))
    except ValueError as exc:
        raise ParamError("body", f"the request body must be JSON ({exc})") from None


