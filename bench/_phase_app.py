"""The cryptohub ASGI app with a stopwatch on each phase of a data request (`python -m bench.phases`).

Wraps, in this server process only, the functions a miss passes through and keeps each call's
wall time; `GET /_bench/phases` answers the samples and `DELETE /_bench/phases` forgets them.
Wall time, not CPU: a phase that waits on Redis or the upstream is charged for the wait, which
is the point (where does the added latency of a miss go?). Never used outside the benchmark.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from bench.phases import PHASES_PATH
from cryptohub.asgi import application as cryptohub_app
from healing.engine import attempt, cache, singleflight
from healing.engine import fetch as engine_fetch

samples: defaultdict[str, list[float]] = defaultdict(list)


def _timed(label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    async def timed(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return await fn(*args, **kwargs)
        finally:
            samples[label].append((time.perf_counter() - t0) * 1000)

    return timed


# Each phase is the module attribute its caller looks up at call time, so wrapping it here
# times the real calls. Nested phases include their children (lead includes the provider call).
engine_fetch.fetch_capability = _timed("engine: fetch_capability", engine_fetch.fetch_capability)
singleflight._lead = _timed("engine: single-flight lead (produce + release pipeline)", singleflight._lead)
attempt.call_provider = _timed("engine: upstream call (httpx, capped read)", attempt.call_provider)
cache.LocalCache.read = _timed("engine: cache read (one GET)", cache.LocalCache.read)


async def _answer(send: Callable[..., Any], status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


async def application(scope: dict, receive: Callable[..., Any], send: Callable[..., Any]) -> None:
    if scope["type"] == "http" and scope["path"] == PHASES_PATH:
        if scope["method"] == "DELETE":
            samples.clear()
        await _answer(send, 200, json.dumps(samples).encode())
        return
    if scope["type"] != "http" or not scope["path"].startswith("/api/data/"):
        await cryptohub_app(scope, receive, send)
        return
    t0 = time.perf_counter()
    await cryptohub_app(scope, receive, send)
    samples["server: whole request (ASGI in to body out)"].append((time.perf_counter() - t0) * 1000)
