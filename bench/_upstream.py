"""The fake upstream (tests/fake_upstream) plus an arrival log, for the rate-limit figure.

    python -m bench._upstream --port N

The fake's own /_control/requests keeps no times, so this wraps its ASGI app: every provider
call is stamped with `time.time()` on arrival before the fake handles it. `GET /_bench/arrivals`
answers {slug: [epoch, ...]}, `POST /_bench/arrivals` clears the log. Everything else is the fake.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import uvicorn

from tests.fake_upstream.server import app as fake_app

# Arrivals kept per provider; a burst of the benchmark is a few thousand.
MAX_ARRIVALS = 200_000
_arrivals: dict[str, list[float]] = {}


async def _answer(send: Any, body: Any) -> None:
    data = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]})
    await send({"type": "http.response.body", "body": data})


async def app(scope: dict, receive: Any, send: Any) -> None:
    if scope["type"] == "http":
        path = scope["path"]
        if path == "/_bench/arrivals":
            if scope["method"] == "POST":
                _arrivals.clear()
            return await _answer(send, _arrivals)
        if not path.startswith("/_control/"):
            slug = path.lstrip("/").partition("/")[0]
            times = _arrivals.setdefault(slug, [])
            if len(times) < MAX_ARRIVALS:
                times.append(time.time())
    await fake_app(scope, receive, send)


def main() -> None:
    parser = argparse.ArgumentParser(description="fake upstream with an arrival log (127.0.0.1 only)")
    parser.add_argument("--port", type=int, required=True)
    port = parser.parse_args().port
    # Same server options as tests/fake_upstream/server.py: one process, so the log is one list.
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="off",
                backlog=4096, timeout_keep_alive=30)


if __name__ == "__main__":
    main()
