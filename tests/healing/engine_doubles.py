"""Test doubles for the engine tests: a scripted HTTP server on a real socket, test adapters,
snapshot builders, short ways to ask the engine, and a burst of fetches run from another OS process.

`Upstream` is a small HTTP/1.1 server (asyncio streams, keep-alive) on 127.0.0.1 running in a
background thread, so it keeps answering while a test's own loop is blocked or another process
calls it. Each provider slug gets a script of behaviours (the last one repeats); the server
counts calls per slug and notes when each request arrived and whether it is still open.
Their fixtures (`upstream`, `up`, `adapters`, `deps`, ...) live in tests/fixtures/engine.py.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import struct
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from healing.engine.config import MemberConfig, PoolConfig, ProviderConfig, Snapshot
from providers.adapters.base import Adapter, BadData, PermanentError, RateLimitedError, RequestSpec

SLUGS = ("alpha", "beta", "gamma", "delta")


class RecordingSleep:
    """Stands in for asyncio.sleep in retries: records the delay, yields once, never waits."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)


# --- test adapters ----------------------------------------------------------------------------


class EchoAdapter(Adapter):
    """Asks GET /price?ids=..&vs=.. and expects {"price": {...}} back."""

    capabilities = frozenset({"price"})

    def build_request(self, capability, params):
        ids = list(params.get("ids", []))
        if "unknown-coin" in ids:
            raise PermanentError(f"{self.slug}: unknown symbol unknown-coin")
        return RequestSpec(path="/price", params={"ids": ",".join(ids), "vs": params.get("vs", "usd")})

    def parse(self, capability, params, payload):
        if not isinstance(payload, dict):
            raise BadData(f"{self.slug}: not an object")
        if payload.get("error") == "slow down":
            raise RateLimitedError(f"{self.slug}: slow down", retry_after_s=30)
        if payload.get("error"):
            raise BadData(f"{self.slug}: error inside 200")
        if "price" not in payload:
            raise BadData(f"{self.slug}: no price")
        return payload["price"]


class Alpha(EchoAdapter):
    slug = "alpha"


class Beta(EchoAdapter):
    slug = "beta"


class Gamma(EchoAdapter):
    slug = "gamma"


class Delta(EchoAdapter):
    slug = "delta"


ADAPTER_PATHS = {slug: f"tests.healing.engine_doubles.{slug.capitalize()}" for slug in SLUGS}


def register_adapters() -> None:
    """Register the test adapters (for child processes; tests use the monkeypatching fixture)."""
    from providers import registry

    registry.ADAPTERS.update(ADAPTER_PATHS)
    registry.get_adapter.cache_clear()


# --- snapshots ----------------------------------------------------------------------------------


def provider(upstream: "Upstream", slug: str, **overrides: Any) -> ProviderConfig:
    fields: dict[str, Any] = {
        "slug": slug, "name": slug.title(), "category": "market_data", "base_url": upstream.url(slug),
        "rate_limits": "", "timeout_s": 5.0,
    }
    fields.update(overrides)
    return ProviderConfig(**fields)


def snapshot(*providers: ProviderConfig, strategy: str = "priority", capability: str = "price") -> Snapshot:
    """One pool for `capability` with the providers in the given order of priority."""
    n = len(providers)
    members = tuple(MemberConfig(p.slug, priority=n - i) for i, p in enumerate(providers))
    return Snapshot(
        version=1,
        providers={p.slug: p for p in providers},
        pools={capability: PoolConfig(capability, capability, strategy, members)},
    )


# --- asking the engine ------------------------------------------------------------------------------


async def ask(snap: Snapshot, deps: Any, coin: str = "bitcoin", **options: Any) -> Any:
    """One price of `coin` in USD through the whole engine (`options` go to fetch_capability)."""
    # Imported here, like child_burst's imports: a spawned child imports this module before Django is set up.
    from healing.engine.fetch import fetch_capability

    return await fetch_capability("price", {"ids": [coin], "vs": "usd"}, snapshot=snap, deps=deps, **options)


def log_round_trips(monkeypatch: Any, deps: Any, log: list[str]) -> None:
    """Append "redis" to `log` for every Redis round trip of `deps` and "call" for every provider call."""
    import redis.asyncio.client

    from healing.engine import attempt

    real_pipe_execute, real_execute = redis.asyncio.client.Pipeline.execute, deps.redis.execute_command
    real_call = attempt.call_provider

    async def pipe_execute(self: Any, *args: Any, **kwargs: Any) -> Any:
        log.append("redis")
        return await real_pipe_execute(self, *args, **kwargs)

    async def execute_command(*args: Any, **kwargs: Any) -> Any:
        log.append("redis")
        return await real_execute(*args, **kwargs)

    async def call(*args: Any, **kwargs: Any) -> Any:
        log.append("call")
        return await real_call(*args, **kwargs)

    monkeypatch.setattr(redis.asyncio.client.Pipeline, "execute", pipe_execute)
    monkeypatch.setattr(deps.redis, "execute_command", execute_command)
    monkeypatch.setattr(attempt, "call_provider", call)


def outcomes(answer_or_error: Any) -> list[tuple[str, str]]:
    """(provider, outcome) of each attempt of an answer or of an AllProvidersFailed."""
    return [(a.provider, a.outcome) for a in answer_or_error.attempts]


def two(up: "Upstream", **alpha: Any) -> Snapshot:
    """alpha (with `alpha` as its overrides) before beta."""
    return snapshot(provider(up, "alpha", **alpha), provider(up, "beta"))


async def trip(deps: Any, cfg: ProviderConfig) -> None:
    """Open `cfg`'s breaker: its threshold of failures in a row."""
    for _ in range(cfg.breaker_failure_threshold):
        await deps.breakers.record(cfg, False)


# --- the scripted upstream ------------------------------------------------------------------------


@dataclass(frozen=True)
class B:
    """One behaviour: kind plus an argument (seconds, status, header value, size, location)."""

    kind: str
    arg: Any = None


OK = B("ok")
HANG = B("hang")
RESET = B("reset")
MALFORMED = B("malformed")
ERROR_IN_200 = B("error200")
SLOW_DOWN_IN_200 = B("slowdown200")
TEAPOT = B("status", 418)


def latency(seconds: float) -> B:
    return B("latency", seconds)


def status(code: int) -> B:
    return B("status", code)


def too_many(retry_after: str | None) -> B:
    return B("429", retry_after)


def big(size: int) -> B:
    return B("big", size)


def redirect(location: str) -> B:
    return B("redirect", location)


def price_body(slug: str, query: dict) -> dict:
    ids = [i for i in query.get("ids", [""])[0].split(",") if i]
    vs = query.get("vs", ["usd"])[0]
    return {"price": {coin: {vs: 100.0 + i} for i, coin in enumerate(ids)}, "provider": slug}


class Upstream:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.scripts: dict[str, list[B]] = {}
        self.calls: Counter = Counter()
        self.paths: dict[str, list[str]] = defaultdict(list)
        self.arrivals: list[tuple[str, float]] = []  # (slug, time.monotonic()) per request
        self.open_requests = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.port = 0

    # control, from the test thread
    def start(self) -> "Upstream":
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def url(self, slug: str) -> str:
        return f"http://127.0.0.1:{self.port}/p/{slug}"

    def script(self, slug: str, *behaviours: B) -> None:
        with self.lock:
            self.scripts[slug] = list(behaviours)

    def reset(self) -> None:
        with self.lock:
            self.scripts.clear()
            self.calls.clear()
            self.paths.clear()
            self.arrivals.clear()

    def count(self, slug: str) -> int:
        with self.lock:
            return self.calls[slug]

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """True once no request is open any more (the client hung up on every hanging one)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self.lock:
                if self.open_requests == 0:
                    return True
            time.sleep(0.01)
        return False

    # the server, in its thread
    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    def _next(self, slug: str) -> B:
        with self.lock:
            script = self.scripts.get(slug) or [OK]
            return script.pop(0) if len(script) > 1 else script[0]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)}
                if int(headers.get("content-length", 0) or 0):
                    await reader.readexactly(int(headers["content-length"]))
                parts = urlsplit(target)
                segments = parts.path.split("/")
                slug = segments[2] if len(segments) > 2 and segments[1] == "p" else "-"
                with self.lock:
                    self.calls[slug] += 1
                    self.paths[slug].append(parts.path)
                    self.arrivals.append((slug, time.monotonic()))
                    self.open_requests += 1
                try:
                    keep = await self._answer(slug, method, parts, reader, writer)
                finally:
                    with self.lock:
                        self.open_requests -= 1
                if not keep:
                    return
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    async def _answer(self, slug, method, parts, reader, writer) -> bool:
        b = self._next(slug)
        query = parse_qs(parts.query)
        if b.kind == "latency":
            await asyncio.sleep(b.arg)
            b = OK
        if b.kind == "hang":
            # Hold the request until the client hangs up.
            while await reader.read(1024):
                pass
            return False
        if b.kind == "reset":
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            return False
        if b.kind == "ok":
            return self._write(writer, 200, json.dumps(price_body(slug, query)).encode())
        if b.kind == "status":
            return self._write(writer, b.arg, json.dumps({"status": b.arg}).encode())
        if b.kind == "429":
            extra = {"Retry-After": b.arg} if b.arg is not None else {}
            return self._write(writer, 429, b'{"error": "too many requests"}', extra)
        if b.kind == "malformed":
            return self._write(writer, 200, b'{"price": {"bitcoin": ')
        if b.kind == "error200":
            return self._write(writer, 200, b'{"error": "upstream exploded"}')
        if b.kind == "slowdown200":
            return self._write(writer, 200, b'{"error": "slow down"}')
        if b.kind == "big":
            return self._write(writer, 200, b'{"price": {}, "pad": "' + b"x" * b.arg + b'"}')
        if b.kind == "redirect":
            return self._write(writer, 302, b"", {"Location": b.arg})
        raise AssertionError(f"unknown behaviour {b}")

    @staticmethod
    def _write(writer, code: int, body: bytes, headers: dict | None = None) -> bool:
        lines = [f"HTTP/1.1 {code} X", f"Content-Length: {len(body)}", "Content-Type: application/json"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        return True


# --- two OS processes hitting the same key ---------------------------------------------------------


def child_burst(redis_url: str, snap: Snapshot, n: int, start: Any, out: Any) -> None:
    """Run in a spawned process: `n` concurrent identical fetches once `start` is set."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()
    register_adapters()

    import redis.asyncio

    from healing.engine import http
    from healing.engine.fetch import Deps, EngineSettings, fetch_capability

    async def main() -> list[tuple[str, str]]:
        r = redis.asyncio.Redis.from_url(redis_url, max_connections=200)
        client = http.make_client()
        deps = Deps(redis=r, http=client, settings=EngineSettings(deadline_s=5.0))
        start.wait(30)
        answers = await asyncio.gather(*(
            fetch_capability("price", {"ids": ["bitcoin"], "vs": "usd"}, snapshot=snap, deps=deps)
            for _ in range(n)
        ))
        await client.aclose()
        await r.aclose()
        return [(a.source, a.served) for a in answers]

    out.put(asyncio.run(main()))
