"""A small HTTP/1.1 server on 127.0.0.1 playing candidate APIs for the discovery tests.

    /api/v1/coins/markets  200 JSON with price keys, X-RateLimit-* headers, CORS when asked
    /feed                  200 RSS 2.0            /atom   200 Atom
    /private/prices        401 {"error": "API key required"}
    /keyed                 200 {"status": "0", "message": "NOTOK", "result": "Missing/Invalid API Key"}
    /moved                 301 to another host (must be reported, never followed)
    /hang                  never answers within a test's deadline
    /page                  200 an HTML page (whose menu mentions an "API key")
    /gas                   200 fee keys          /tvl   200 a list of protocols with tvl
    anything else          404 {"error": "not found"}

A leading path segment that is no route is ignored ("/coins/feed" answers as "/feed"), so one
server plays many providers with distinct base URLs. Every request is recorded (method, path,
headers) for the tests to check what was sent.
"""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass, field
from urllib.parse import urlsplit

RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<!-- a comment before the root -->
<rss version="2.0"><channel><title><![CDATA[Fake Crypto News]]></title><link>https://news.example</link>
<item><title>Bitcoin up</title><link>https://news.example/1</link></item>
<item><title>Ether down</title><link>https://news.example/2</link></item>
</channel></rss>"""
ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Fake Atom</title>
<entry><title>One</title></entry></feed>"""
HTML = b"""<!DOCTYPE html><html><head><title>Welcome</title></head>
<body><nav>Pricing | Get an API key</nav><p>Hello</p></body></html>"""
MARKETS = [{"id": "bitcoin", "symbol": "btc", "current_price": 97000.5, "market_cap": 1.9e12, "total_volume": 3e10}]


def _routes(path: str) -> tuple[int, str, bytes, dict[str, str]]:
    json_type = "application/json; charset=utf-8"
    if path == "/api/v1/coins/markets":
        return 200, json_type, json.dumps(MARKETS).encode(), {
            "X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "99", "X-RateLimit-Reset": "60"}
    if path == "/feed":
        return 200, "application/rss+xml", RSS, {}
    if path == "/atom":
        return 200, "application/atom+xml", ATOM, {}
    if path == "/private/prices":
        return 401, json_type, b'{"error": "API key required"}', {"WWW-Authenticate": "Bearer"}
    if path == "/keyed":
        return 200, json_type, b'{"status": "0", "message": "NOTOK", "result": "Missing/Invalid API Key"}', {}
    if path == "/moved":
        return 301, "text/html", b"<html>moved</html>", {"Location": "https://moved.invalid/api/v2"}
    if path == "/page":
        return 200, "text/html; charset=utf-8", HTML, {}
    if path == "/gas":
        return 200, json_type, b'{"fastestFee": 12, "halfHourFee": 9, "hourFee": 6, "economyFee": 3}', {}
    if path == "/tvl":
        return 200, json_type, b'[{"name": "Aave", "tvl": 1.2e10, "chainTvls": {"Ethereum": 1e10}}]', {}
    if path == "/limited":
        return 429, json_type, b'{"error": "too many requests"}', {"Retry-After": "30"}
    return 404, json_type, b'{"error": "not found"}', {}


def _route_of(path: str) -> str:
    while path.count("/") > 1 and _routes(path)[0] == 404:
        path = "/" + path.split("/", 2)[2]
    return path


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]


@dataclass
class CandidateServer:
    host: str = "127.0.0.1"
    port: int = 0
    requests: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> CandidateServer:
        ready = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            self._server = self._loop.run_until_complete(asyncio.start_server(self._handle, self.host, self.port))
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()
            self._loop.run_forever()
            self._loop.close()

        self._thread = threading.Thread(target=run, name="fake-candidates", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("fake candidate server did not start")
        return self

    def stop(self) -> None:
        async def shutdown() -> None:
            self._server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()

    def paths(self) -> list[str]:
        with self._lock:
            return [r.path for r in self.requests]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers = {k.strip().lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:] if ":" in ln)}
            path = urlsplit(target).path
            with self._lock:
                self.requests.append(Seen(method, path, headers))
            route = _route_of(path)
            if route == "/hang":
                await asyncio.sleep(60)
            status, content_type, body, extra = _routes(route)
            if "origin" in headers and route == "/api/v1/coins/markets":
                extra = {**extra, "Access-Control-Allow-Origin": "*"}
            lines = [f"HTTP/1.1 {status} X", f"Content-Type: {content_type}", f"Content-Length: {len(body)}",
                     "Connection: close", *(f"{k}: {v}" for k, v in extra.items())]
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError, ValueError):
            pass
        finally:
            writer.close()
