"""A small HTTP/1.1 server on 127.0.0.1 for monitoring tests and the sweep benchmark.

One server stands in for many providers and for the alert receivers (webhook, Slack, Telegram):
the path says how to answer, and every request is recorded.

    /ok                   200 {"ok": true}
    /slow/<ms>            waits <ms> milliseconds, then 200
    /status/<code>        answers with that status
    /rpc                  JSON-RPC: 200 {"result": "0x1"}; /rpc/error answers an error inside HTTP 200
    /redirect?to=<url>    302 to <url> (a path or a full URL)
    /big/<bytes>          200 with a body of that many bytes
    /bot<token>/sendMessage   Telegram: 200 {"ok": true}
    anything else         200 "ok" (a webhook receiver)

`fail_next(path, n, status)` makes the next n requests to `path` answer `status` first. The tests'
`loopback` fixtures live in tests/fixtures/loopback.py.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


@dataclass
class LoopbackServer:
    host: str = "127.0.0.1"
    port: int = 0
    requests: list[Recorded] = field(default_factory=list)
    in_flight: int = 0
    peak_in_flight: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: dict[str, list[int]] = defaultdict(list)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None

    # --- control ------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> "LoopbackServer":
        ready = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            self._server = self._loop.run_until_complete(
                asyncio.start_server(self._handle, self.host, self.port, backlog=4096))
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()
            self._loop.run_forever()
            self._loop.close()

        self._thread = threading.Thread(target=run, name="loopback-http", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("loopback server did not start")
        return self

    def stop(self) -> None:
        if self._loop is None:
            return

        async def shutdown() -> None:
            self._server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop = None

    def fail_next(self, path: str, n: int, status: int = 500) -> None:
        with self._lock:
            self._failures[path].extend([status] * n)

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self._failures.clear()
            self.peak_in_flight = 0

    def requests_to(self, prefix: str) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.path.startswith(prefix)]

    # --- serving ------------------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", 0) or 0))
                parts = urlsplit(target)
                with self._lock:
                    self.requests.append(Recorded(method, parts.path, parse_qs(parts.query), headers, body))
                    self.in_flight += 1
                    self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
                    forced = self._failures[parts.path].pop(0) if self._failures.get(parts.path) else None
                try:
                    status, payload = await self._answer(method, parts.path, body, forced)
                finally:
                    with self._lock:
                        self.in_flight -= 1
                extra = ""
                if parts.path == "/redirect":
                    status, payload = 302, b""
                    extra = f"Location: {parse_qs(parts.query).get('to', ['/ok'])[0]}\r\n"
                writer.write(
                    f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
                    f"{extra}Connection: keep-alive\r\n\r\n".encode() + payload)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError, ValueError):
            pass
        finally:
            writer.close()

    async def _answer(self, method: str, path: str, body: bytes, forced: int | None) -> tuple[int, bytes]:
        if forced is not None:
            return forced, b'{"error": "forced"}'
        if path.startswith("/slow/"):
            await asyncio.sleep(int(path.split("/")[2]) / 1000)
            return 200, b'{"ok": true}'
        if path.startswith("/big/"):
            return 200, b"x" * int(path.split("/")[2])
        if path.startswith("/status/"):
            return int(path.split("/")[2]), b'{"status": "forced"}'
        if path == "/rpc/error":
            return 200, b'{"jsonrpc": "2.0", "id": 1, "error": {"code": -32000, "message": "header not found"}}'
        if path.startswith("/rpc"):
            return 200, b'{"jsonrpc": "2.0", "id": 1, "result": "0x1"}'
        if path.startswith("/bot") and path.endswith("/sendMessage"):
            return 200, b'{"ok": true, "result": {"message_id": 1}}'
        return 200, b'{"ok": true}'


def wait_until(predicate, timeout_s: float = 10.0, interval_s: float = 0.05) -> bool:
    """Poll `predicate` until it is true or the (bounded) wait runs out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval_s)
    return bool(predicate())
