"""The health probes' HTTP client: one aiohttp session per sweep and one capped health exchange.

Why aiohttp here and httpx everywhere else: a sweep sends every request at once, so the
client's CPU per request decides whether the answers are read in time. Measured on 2 cores
(bench/sweep.py, 1,000 providers answering in 1.1 s, 1,000 in flight, 2 s deadline): httpx costs
1.1-1.8 ms of CPU per request (anyio, sniffio and httpcore's pool bookkeeping), the loop fell
~1 s behind and 270-1,000 probes "timed out"; aiohttp costs 0.3-0.5 ms, the slowest probe takes
1.2-1.3 s and none times out. The engine's provider calls stay on httpx (healing.engine.http): they
go a few at a time, where that overhead is noise. Both follow the same rules: no proxies from the
environment, our User-Agent, at most one same-origin redirect, a capped body, and error
messages that name the exception class only (a URL can carry a key).
"""

from __future__ import annotations

import functools
import ssl
from typing import Any

import aiohttp
import certifi

from healing.engine import http

# A health answer is small; anything bigger than this is read no further (bad data).
MAX_PROBE_BODY_BYTES = 256_000
# Bytes read per chunk of a health answer.
READ_CHUNK_BYTES = 65_536
# Resolved host names are reused this long (seconds): a sweep resolves each provider once.
DNS_CACHE_S = 300


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One verifying TLS context per process (the CA bundle httpx uses): loading it takes
    20-50 ms of CPU, which a sweep should not pay again."""
    return ssl.create_default_context(cafile=certifi.where())


def make_session(*, timeout_s: float) -> aiohttp.ClientSession:
    """An aiohttp session for one sweep, in the running loop. No connection limit: the caller's
    semaphore bounds the requests in flight, and a second queue in the connector would make a
    probe wait inside its own deadline. No keep-alive: a sweep calls each provider once."""
    connector = aiohttp.TCPConnector(limit=0, limit_per_host=0, force_close=True, ssl=tls_context(),
                                     ttl_dns_cache=DNS_CACHE_S)
    return aiohttp.ClientSession(
        connector=connector,
        headers={"User-Agent": http.USER_AGENT},
        # Proxies from the environment would route provider traffic (and keys) elsewhere.
        trust_env=False,
        timeout=aiohttp.ClientTimeout(total=timeout_s, sock_connect=min(http.CONNECT_TIMEOUT_S, timeout_s)),
        # Cookies a provider sets must not travel to the next provider.
        cookie_jar=aiohttp.DummyCookieJar(),
    )


async def exchange(
    session: aiohttp.ClientSession, method: str, url: str, *, params: Any, headers: Any, json_body: Any,
    timeout_s: float, allowed_prefix: str,
) -> tuple[int, bytes, str | None]:
    """One health exchange (status, body, Retry-After) (plus at most one same-origin redirect, as healing.engine.http.send), body capped."""
    timeout = aiohttp.ClientTimeout(total=timeout_s, sock_connect=min(http.CONNECT_TIMEOUT_S, timeout_s))
    redirects = 0
    while True:
        async with session.request(method, url, params=params, headers=headers, json=json_body,
                                   allow_redirects=False, timeout=timeout) as response:
            location = response.headers.get("Location")
            if response.status in http.REDIRECT_STATUSES and location:
                if redirects >= http.MAX_REDIRECTS or method not in ("GET", "HEAD"):
                    raise http.RedirectRefused(f"HTTP {response.status} redirect not followed")
                url = http.redirect_target(str(response.url), location, allowed_prefix)
                params = None  # the Location carries its own query
                redirects += 1
                continue
            declared = response.content_length
            if declared is not None and declared > MAX_PROBE_BODY_BYTES:
                raise http.BodyTooLarge(f"body of {declared} bytes exceeds {MAX_PROBE_BODY_BYTES}")
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.content.iter_chunked(READ_CHUNK_BYTES):
                size += len(chunk)
                if size > MAX_PROBE_BODY_BYTES:
                    raise http.BodyTooLarge(f"body exceeds {MAX_PROBE_BODY_BYTES} bytes")
                chunks.append(chunk)
            return response.status, b"".join(chunks), response.headers.get("Retry-After")
