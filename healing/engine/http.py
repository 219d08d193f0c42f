"""The one seam for outbound HTTP: the per-process client and a capped, redirect-safe send().

- `make_client()` builds an httpx.AsyncClient with explicit timeouts, pool limits, a User-Agent
  and `follow_redirects=False`. Make one per process and keep it (in the engine's Deps): creating
  one costs ~31 ms, and an AsyncClient belongs to the event loop that first used it.
- `send()` streams the answer and stops at `max_body_bytes` (BodyTooLarge), so a huge or endless
  body never fills memory; `bounded()` caps its total time.
- `call_provider()` is one provider call: URL under the base URL, the key added server-side,
  time capped by the request deadline, and every transport problem classified (`Failure`);
  `classify_status()` and `parse_answer()` classify what came back.

Redirects: a redirect to another origin (scheme, host or port) is refused (RedirectRefused, a
permanent outcome). A same-origin redirect of a GET/HEAD whose target still lies under the
provider's base URL is followed once (http -> https upgrades and trailing-slash moves are common
and harmless); a second redirect is refused. Auth added as a query parameter is not carried to
the new location: the provider named it itself.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urljoin, urlsplit

import httpx

from healing.engine.config import ProviderConfig
from healing.engine.ratelimit import parse_retry_after
from providers.adapters.base import Adapter, AdapterError, Outcome, RequestSpec

logger = logging.getLogger(__name__)
T = TypeVar("T")

USER_AGENT = "cryptohub/1.0 (+https://github.com/cryptohub)"
# Connecting should be quick on any healthy provider; reads get the provider's own timeout.
CONNECT_TIMEOUT_S = 3.0
DEFAULT_READ_TIMEOUT_S = 10.0
# Connections kept per process: enough for hedged fan-out under load without exhausting sockets.
MAX_CONNECTIONS = 200
MAX_KEEPALIVE = 50
# Same-origin redirects followed per request (see module docstring).
MAX_REDIRECTS = 1
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Bodies above this are refused (bad data) unless the caller passes its own cap.
DEFAULT_MAX_BODY_BYTES = 5_000_000


class BodyTooLarge(Exception):
    pass


class RedirectRefused(Exception):
    pass


@dataclass(frozen=True)
class RawResponse:
    status: int
    headers: dict[str, str]  # lower-cased names
    body: bytes
    url: str  # without the query string, so it can never leak a key


def make_client(*, read_timeout_s: float = DEFAULT_READ_TIMEOUT_S, **overrides: Any) -> httpx.AsyncClient:
    """A client with every timeout explicit; callers still pass a per-request Timeout."""
    options: dict[str, Any] = {
        "timeout": httpx.Timeout(read_timeout_s, connect=CONNECT_TIMEOUT_S),
        "limits": httpx.Limits(max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_KEEPALIVE),
        "follow_redirects": False,
        "headers": {"User-Agent": USER_AGENT},
        # Proxies from the environment would route provider traffic (and keys) elsewhere.
        "trust_env": False,
    }
    options.update(overrides)
    return httpx.AsyncClient(**options)


# Time an interrupted request gets to clean up its connection before we stop waiting (seconds).
CLEANUP_GRACE_S = 1.0


async def bounded(coro: Awaitable[T], timeout_s: float) -> T:
    """Await `coro` for at most `timeout_s` (TimeoutError after), cancelling it exactly once.

    Runs it as its own task because httpcore closes a cancelled connection in a cleanup step; a
    second cancellation arriving during that step (the attempt's own timeout, then a hedge or
    deadline cancel from outside) leaves the connection ACTIVE in the pool forever. Here an
    outside cancel is passed on once, the cleanup is awaited, and then the cancel is re-raised.
    """
    task = asyncio.ensure_future(coro)
    try:
        done, _ = await asyncio.wait({task}, timeout=max(0.0, timeout_s))
    except asyncio.CancelledError:
        task.cancel()
        await _settle(task)
        raise
    if done:
        return task.result()
    task.cancel()
    if await _settle(task):
        raise asyncio.CancelledError()
    if not task.cancelled() and task.exception() is None:
        return task.result()  # it finished just as the time ran out: the answer still counts
    raise TimeoutError()


async def _settle(task: asyncio.Future) -> bool:
    """Wait (bounded) for a cancelled task to finish; True if we were cancelled meanwhile."""
    loop = asyncio.get_running_loop()
    end = loop.time() + CLEANUP_GRACE_S
    interrupted = False
    while not task.done() and (left := end - loop.time()) > 0:
        try:
            await asyncio.wait({task}, timeout=left)
        except asyncio.CancelledError:
            interrupted = True
    if task.done() and not task.cancelled():
        task.exception()  # retrieved, so asyncio does not log "exception never retrieved"
    return interrupted


def request_timeout(seconds: float) -> httpx.Timeout:
    """Per-request timeouts: connect capped at CONNECT_TIMEOUT_S, everything capped at `seconds`."""
    seconds = max(0.001, seconds)
    return httpx.Timeout(seconds, connect=min(CONNECT_TIMEOUT_S, seconds))


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


def redirect_target(url: str, location: str, allowed_prefix: str) -> str:
    target = urljoin(url, location)
    if _origin(target) != _origin(url):
        raise RedirectRefused(f"redirect to another host refused ({_origin(target)[1] or 'unknown'})")
    path = urlsplit(target).path
    prefix = urlsplit(allowed_prefix).path.rstrip("/")
    if allowed_prefix and not (path == prefix or path.startswith(prefix + "/")):
        raise RedirectRefused("redirect outside the provider's base URL refused")
    return target


async def send(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    params: Any = None,
    headers: Any = None,
    json_body: Any = None,
    timeout_s: float,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    allowed_prefix: str = "",
) -> RawResponse:
    """One HTTP exchange (plus at most one same-origin redirect), body capped at max_body_bytes."""
    timeout = request_timeout(timeout_s)
    redirects = 0
    while True:
        request = client.build_request(method, url, params=params, headers=headers, json=json_body, timeout=timeout)
        response = await client.send(request, stream=True)
        try:
            if response.status_code in REDIRECT_STATUSES and "location" in response.headers:
                if redirects >= MAX_REDIRECTS or method.upper() not in ("GET", "HEAD"):
                    raise RedirectRefused(f"HTTP {response.status_code} redirect not followed")
                url = redirect_target(str(response.request.url), response.headers["location"], allowed_prefix)
                params = None  # the Location carries its own query
                redirects += 1
                continue
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > max_body_bytes:
                raise BodyTooLarge(f"body of {declared} bytes exceeds {max_body_bytes}")
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > max_body_bytes:
                    raise BodyTooLarge(f"body exceeds {max_body_bytes} bytes")
                chunks.append(chunk)
            return RawResponse(
                status=response.status_code,
                headers={k.lower(): v for k, v in response.headers.items()},
                body=b"".join(chunks),
                url=str(response.request.url.copy_with(query=None)),
            )
        finally:
            await response.aclose()


# --- provider calls: URL, auth, classification ----------------------------------------------

# Attempt details are short so an error page stays readable.
DETAIL_MAX_CHARS = 160


class Failure(Exception):
    """One attempt's classified failure (the message is safe to show: no URL, no key)."""

    def __init__(self, outcome: str, detail: str = "", retry_after_s: float | None = None):
        super().__init__(detail)
        self.outcome = outcome
        self.detail = detail[:DETAIL_MAX_CHARS]
        self.retry_after_s = retry_after_s


def provider_url(cfg: ProviderConfig, path: str) -> str:
    base = cfg.base_url.rstrip("/")
    if not path:
        return base
    return base + (path if path.startswith("/") else "/" + path)


def with_auth(cfg: ProviderConfig, spec: RequestSpec) -> tuple[dict, dict]:
    """Params and headers with the provider's key added server-side (never logged)."""
    params, headers = dict(spec.params), dict(spec.headers)
    key = cfg.api_key()
    if key and cfg.auth_type == "query":
        params[cfg.auth_param or "api_key"] = key
    elif key and cfg.auth_type == "header":
        headers[cfg.auth_param or "Authorization"] = f"{cfg.auth_scheme} {key}".strip()
    return params, headers


async def call_provider(
    client: httpx.AsyncClient, cfg: ProviderConfig, spec: RequestSpec, *, deadline: float, max_body_bytes: int
) -> RawResponse:
    """One call to base_url + spec.path, bounded by min(provider timeout, time to `deadline`).

    `deadline` is event-loop time. Transport problems come back as classified Failures.
    """
    left = deadline - asyncio.get_running_loop().time()
    if left <= 0:
        raise Failure(Outcome.TIMEOUT.value, "request deadline reached")
    timeout_s = min(cfg.timeout_s, left)
    params, headers = with_auth(cfg, spec)
    try:
        return await bounded(
            send(
                client,
                spec.method,
                provider_url(cfg, spec.path),
                params=params or None,
                headers=headers or None,
                json_body=spec.json_body,
                timeout_s=timeout_s,
                max_body_bytes=max_body_bytes,
                allowed_prefix=cfg.base_url,
            ),
            timeout_s,
        )
    except (TimeoutError, httpx.TimeoutException):
        raise Failure(Outcome.TIMEOUT.value, f"no answer within {timeout_s:.2f} s") from None
    except BodyTooLarge as exc:
        raise Failure(Outcome.BAD_DATA.value, str(exc)) from None
    except RedirectRefused as exc:
        raise Failure(Outcome.PERMANENT.value, str(exc)) from None
    except httpx.DecodingError:
        raise Failure(Outcome.BAD_DATA.value, "undecodable body (content encoding)") from None
    except httpx.TransportError as exc:
        # The class name only: httpx messages can quote the URL, and the URL can hold a key.
        raise Failure(Outcome.TRANSIENT.value, f"connection failed ({exc.__class__.__name__})") from None
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise Failure(Outcome.PERMANENT.value, f"request refused ({exc.__class__.__name__})") from None


def _decode_quietly(adapter: Adapter, response: RawResponse) -> Any:
    try:
        return adapter.decode(response.body, response.headers.get("content-type", ""))
    except Exception:  # noqa: BLE001 - an error page that is not JSON is still an error page
        return None


def classify_status(adapter: Adapter, response: RawResponse, now: float) -> Failure:
    """The Failure for a non-2xx answer (the adapter may refine the status-code rules)."""
    outcome = adapter.classify_http_error(response.status, _decode_quietly(adapter, response))
    if outcome == Outcome.OK:
        outcome = Outcome.PERMANENT  # a non-2xx answer is never data
    retry_after = parse_retry_after(response.headers.get("retry-after"), now)
    return Failure(outcome.value, f"HTTP {response.status}", retry_after)


def parse_answer(adapter: Adapter, capability: str, params: Mapping[str, Any], response: RawResponse) -> Any:
    """Decode and normalize a 2xx answer; errors inside it become classified Failures."""
    try:
        payload = adapter.decode(response.body, response.headers.get("content-type", ""))
        return adapter.parse(capability, params, payload)
    except AdapterError as exc:
        raise Failure(exc.outcome.value, str(exc), exc.retry_after_s) from None
    except Exception as exc:  # noqa: BLE001 - an unexpected shape must not become a 500
        raise Failure(Outcome.BAD_DATA.value, f"unparseable answer ({exc.__class__.__name__})") from None
