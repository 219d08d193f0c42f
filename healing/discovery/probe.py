"""Probe candidate APIs: one GET each, concurrently and bounded, with a deadline per candidate.

ORM-free and async. What one probe finds out (a `Finding`): status and content type; whether
the body is JSON (parsed, its keys kept for the classifier) or an RSS/Atom feed (recognised by
its root element, never parsed as XML); latency; whether a key is needed (401/403, or an error
body saying so); rate-limit headers (`X-RateLimit-*`, `RateLimit-*`, `Retry-After`, ...); CORS
(`Access-Control-Allow-Origin` on a GET that carries an `Origin`); and a redirect, which is
reported and never followed.

This is an SSRF surface (a staff user names the URLs), so every connection goes through
`GuardedBackend`: the host is resolved once, refused when any of its addresses is loopback,
private, link-local, multicast or reserved (unless `allow_private`, which only the tests and a
deliberate setting turn on), and the socket is opened to the address that was checked, so a
second DNS answer cannot point it elsewhere. No proxy from the environment, no redirects.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpcore
import httpx

from common import json_input

from .candidates import Candidate, url_problem

DEFAULT_CONCURRENCY = 8
DEFAULT_TIMEOUT_S = 10.0
# Enough to parse any sample answer worth classifying; a larger one is recognised, not parsed.
MAX_BODY_BYTES = 1_000_000
MAX_KEYS = 40
USER_AGENT = "cryptohub-discovery/1 (+operator-requested probe)"
# A made-up origin: a CORS-enabled API echoes it or answers "*".
PROBE_ORIGIN = "https://cryptohub-discovery.invalid"

_RATE_HEADER = re.compile(r"rate-?limit|^retry-after$|^x-mbx-used-weight|quota|^api-key-(max|use)-limit$", re.I)
# Wording of "you need a key" in error bodies (Etherscan, CoinMarketCap, CryptoPanic, ...).
_AUTH_WORDS = re.compile(
    r"api[ _-]?key|access[ _-]?key|auth[ _-]?token|unauthori[sz]ed|authenticat|missing (?:a )?(?:key|token)"
    r"|invalid (?:key|token)|requires? (?:a )?(?:key|token|subscription)|forbidden", re.I)
# Top-level fields where JSON APIs put an error message even with HTTP 200.
_MESSAGE_FIELDS = ("error", "errors", "message", "msg", "detail", "status_message", "Message", "result")
_XML_PREAMBLE = re.compile(r"^(?:\s|<\?xml[^>]*\?>|<!--.*?-->|<!DOCTYPE[^>]*>)*", re.S | re.I)
_ROOT_TAG = re.compile(r"<\s*([A-Za-z_][\w:.-]*)([^>]*)>")


class TargetRefused(Exception):
    """The URL, or an address its host resolves to, is not allowed to be probed."""


def address_problem(address: str, allow_private: bool) -> str | None:
    """Why a resolved address may not be probed, or None. `is_global` is the test: it is false
    for loopback, RFC 1918, link-local (cloud metadata), shared (CGNAT) and reserved ranges."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip.is_multicast or ip.is_unspecified:
        return f"{address}, a multicast or unspecified address"
    if not allow_private and not ip.is_global:
        return f"{address}, not a public address (loopback, private, link-local or reserved)"
    return None


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend with the address check in front of every TCP connect."""

    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None, socket_options: Iterable[Any] | None = None):
        loop = asyncio.get_running_loop()
        try:
            infos = await asyncio.wait_for(loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), timeout)
        except socket.gaierror as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc.strerror or exc}") from exc
        addresses = list(dict.fromkeys(info[4][0] for info in infos))
        for address in addresses:  # one bad address refuses the host: it may be the one chosen next time
            if problem := address_problem(address, self.allow_private):
                raise TargetRefused(f"{host} resolves to {problem}")
        error: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        raise error or httpcore.ConnectError(f"{host} has no address")

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[Any] | None = None):
        raise TargetRefused("unix sockets are never probed")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport on a connection pool that uses GuardedBackend. httpx has no parameter
    for the network backend, so the pool it built is replaced by an equivalent one (the test
    that a loopback target is refused keeps this honest across httpx upgrades)."""

    def __init__(self, allow_private: bool) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False), max_connections=100,
            max_keepalive_connections=0, network_backend=GuardedBackend(allow_private))


def make_client(*, allow_private: bool = False, timeout_s: float = DEFAULT_TIMEOUT_S) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=GuardedTransport(allow_private), trust_env=False, follow_redirects=False,
        timeout=httpx.Timeout(timeout_s), headers={
            "User-Agent": USER_AGENT, "Origin": PROBE_ORIGIN,
            "Accept": "application/json, application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5",
        })


@dataclass
class Finding:
    url: str
    checked_at: str
    outcome: str = "error"  # ok | redirect | auth_required | http_error | timeout | refused | connect_error | error
    status: int | None = None
    content_type: str = ""
    kind: str = ""  # json | rss | atom | html | xml | text | empty
    latency_ms: float | None = None
    auth_required: bool = False
    auth_evidence: str = ""
    rate_limit_headers: dict[str, str] = field(default_factory=dict)
    cors: str = ""  # the Access-Control-Allow-Origin answered ("" = none)
    redirect_to: str = ""
    error: str = ""
    body_message: str = ""  # an error/message field of the body, shortened
    json_shape: str = ""
    json_keys: list[str] = field(default_factory=list)
    feed_title: str = ""
    feed_items: int = 0
    truncated: bool = False

    @property
    def usable(self) -> bool:
        return self.outcome == "ok" and self.kind in ("json", "rss", "atom")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def probe_one(client: httpx.AsyncClient, candidate: Candidate, timeout_s: float = DEFAULT_TIMEOUT_S) -> Finding:
    """Probe one candidate; never raises (every failure is a Finding with its outcome)."""
    url = candidate.url
    finding = Finding(url=url, checked_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    if problem := url_problem(url):
        finding.outcome, finding.error = "refused", f"URL {problem}"
        return finding
    started = time.monotonic()
    try:
        async with asyncio.timeout(timeout_s):
            async with client.stream("GET", url) as response:
                body, finding.truncated = await _read(response)
        finding.latency_ms = round((time.monotonic() - started) * 1000, 1)
        _inspect(finding, response, body)
    except (TimeoutError, httpx.TimeoutException):
        finding.outcome, finding.error = "timeout", f"no complete answer within {timeout_s:g} s"
    except TargetRefused as exc:
        finding.outcome, finding.error = "refused", str(exc)
    except httpx.ConnectError as exc:
        finding.outcome, finding.error = "connect_error", str(exc)[:200] or "connection failed"
    except httpx.HTTPError as exc:
        finding.outcome, finding.error = "error", f"{type(exc).__name__}: {exc}"[:200]
    return finding


async def _read(response: httpx.Response) -> tuple[bytes, bool]:
    chunks, size = [], 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return b"".join(chunks)[:MAX_BODY_BYTES], True
    return b"".join(chunks), False


def _inspect(finding: Finding, response: httpx.Response, body: bytes) -> None:
    finding.status = response.status_code
    finding.content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    finding.cors = response.headers.get("access-control-allow-origin", "")
    finding.rate_limit_headers = {
        name.decode("latin-1"): value.decode("latin-1")[:120]
        for name, value in response.headers.raw if _RATE_HEADER.search(name.decode("latin-1"))}
    try:
        text = body.decode(response.encoding or "utf-8", errors="replace")
    except LookupError:  # a charset Python does not know
        text = body.decode("utf-8", errors="replace")
    data = _recognise(finding, text)
    if response.is_redirect:
        finding.outcome = "redirect"
        finding.redirect_to = str(response.url.join(response.headers.get("location", "")))
        return
    _check_auth(finding, response.status_code, text, data)
    if finding.auth_required:
        finding.outcome = "auth_required"
    elif response.status_code >= 400:
        finding.outcome = "http_error"
    else:
        finding.outcome = "ok"


def _recognise(finding: Finding, text: str) -> Any:
    """Set kind (and the JSON keys or feed facts); return the decoded JSON, if any."""
    stripped = text.lstrip("\ufeff \t\r\n")
    if not stripped:
        finding.kind = "empty"
        return None
    if stripped[0] in "[{" or "json" in finding.content_type:
        try:
            data = json_input.loads(stripped)
        except ValueError:
            data = None
        else:
            finding.kind = "json"
            finding.json_shape, finding.json_keys = _shape(data)
            finding.body_message = _message(data)
            return data
        if finding.truncated and stripped[0] in "[{":
            finding.kind, finding.json_shape = "json", "too large to parse"
            return None
    if stripped.startswith("<"):
        _recognise_markup(finding, stripped[:65536])
    else:
        finding.kind = "text"
    return None


def _recognise_markup(finding: Finding, text: str) -> None:
    match = _ROOT_TAG.match(text, _XML_PREAMBLE.match(text).end())
    root, attributes = (match.group(1).lower(), match.group(2)) if match else ("", "")
    if root in ("rss", "rdf:rdf"):
        finding.kind, finding.feed_items = "rss", len(re.findall(r"<item[\s>]", text))
    elif root == "feed" and "atom" in attributes.lower():
        finding.kind, finding.feed_items = "atom", len(re.findall(r"<entry[\s>]", text))
    elif root == "html" or finding.content_type == "text/html" or text[:15].lower().startswith("<!doctype html"):
        finding.kind = "html"
        return
    else:
        finding.kind = "xml"
        return
    title = re.search(r"<title[^>]*>(.*?)</title>", text, re.S)
    if title:
        value = re.sub(r"<!\[CDATA\[(.*?)\]\]>", r"\1", title.group(1), flags=re.S).strip()
        finding.feed_title = re.sub(r"\s+", " ", value)[:80]


def _shape(data: Any) -> tuple[str, list[str]]:
    """A one-line description of the JSON and its keys (top level and one level down)."""
    keys: list[str] = []

    def add(obj: Any) -> None:
        if isinstance(obj, list):
            obj = next((item for item in obj[:5] if isinstance(item, dict)), None)
        if isinstance(obj, dict):
            keys.extend(str(k) for k in obj if str(k) not in keys)

    if isinstance(data, dict):
        add(data)
        for value in list(data.values())[:10]:
            add(value)
        shape = f"object with {len(data)} key{'s' if len(data) != 1 else ''}"
    elif isinstance(data, list):
        add(data)
        if data and isinstance(data[0], dict):
            for value in list(data[0].values())[:10]:
                add(value)
        shape = f"list of {len(data)}"
    else:
        shape = type(data).__name__
    return shape, keys[:MAX_KEYS]


def _message(data: Any) -> str:
    """The error/message fields of a JSON object, joined and shortened ("" when it has none)."""
    if not isinstance(data, dict):
        return ""
    said = []
    for name in _MESSAGE_FIELDS:
        value = data.get(name)
        if isinstance(value, list):
            value = "; ".join(str(v) for v in value[:3])
        if isinstance(value, dict):
            value = value.get("message") or value.get("msg") or ""
        # "result" is usually the data itself; only a sentence there is a message (Etherscan's
        # "Missing/Invalid API Key"), not a JSON-RPC "0x1".
        if isinstance(value, str) and value.strip() and (name != "result" or " " in value.strip()):
            said.append(re.sub(r"\s+", " ", value.strip()))
    return "; ".join(said)[:160]


def _check_auth(finding: Finding, status: int, text: str, data: Any) -> None:
    if status in (401, 403):
        finding.auth_required = True
        finding.auth_evidence = f"HTTP {status}"
        if finding.kind == "html" and status == 403:
            finding.auth_evidence += " with an HTML page (a key, or bot protection / a geo block)"
    elif status == 402:
        finding.auth_required, finding.auth_evidence = True, "HTTP 402 payment required"
    # The body: for an error status anything it says; for a 200 (or an HTML page, whose menus
    # may say "API key") only its error/message fields, as token lists mention "token" and "key".
    said = finding.body_message if status < 400 or finding.kind == "html" else text[:4096]
    if said and (words := _AUTH_WORDS.search(said)):
        finding.auth_required = True
        evidence = f"the body says {words.group(0)!r}"
        finding.auth_evidence = f"{finding.auth_evidence}; {evidence}" if finding.auth_evidence else evidence


async def probe_many(candidates: Sequence[Candidate], *, concurrency: int = DEFAULT_CONCURRENCY,
                     timeout_s: float = DEFAULT_TIMEOUT_S, allow_private: bool = False) -> list[Finding]:
    """Probe every candidate, at most `concurrency` at once; findings in the input's order.
    Each deadline starts when its probe gets a slot, so a queued probe never times out waiting."""
    slots = asyncio.Semaphore(max(1, concurrency))

    async def one(client: httpx.AsyncClient, candidate: Candidate) -> Finding:
        async with slots:
            return await probe_one(client, candidate, timeout_s)

    async with make_client(allow_private=allow_private, timeout_s=timeout_s) as client:
        return list(await asyncio.gather(*(one(client, c) for c in candidates)))


def probe_all(candidates: Sequence[Candidate], **options: Any) -> list[Finding]:
    """probe_many from sync code (a command, a Celery task, a sync admin view): its own event loop."""
    return asyncio.run(probe_many(candidates, **options))
