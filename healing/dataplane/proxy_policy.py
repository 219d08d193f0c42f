"""What the safe proxy may send: pure checks on a proxy request, no I/O.

The proxy only ever calls a URL under a registered, enabled provider's base URL: same scheme,
same host, same port, and a path under the base path. Everything that could make the URL parse
differently here and in the HTTP client (userinfo, percent-encoded hosts, numeric IP spellings,
backslashes, dot-segments hidden behind any number of percent-encodings, CR/LF) is refused
outright instead of being "cleaned", because a cleaned URL is a URL someone else may parse
another way. `resolve()` turns a request body into a `ProxyTarget` or raises `ProxyRefused`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from healing.engine.config import ProviderConfig

# Longest URL or path accepted, in characters (browsers and most servers stop around here).
MAX_URL_LENGTH = 2048
# Percent-decoding is repeated until the text stops changing; more layers than this is an attack.
MAX_DECODE_ROUNDS = 4
MAX_PARAMS = 50
MAX_PARAM_VALUES = 50
MAX_PARAM_LENGTH = 1000
# A JSON-RPC body larger than this (bytes, serialized) is refused.
MAX_BODY_BYTES = 64_000
# Longest cache TTL a caller may ask the proxy for, in seconds.
MAX_PROXY_CACHE_TTL_S = 3600

ALLOWED_SCHEMES = frozenset({"http", "https"})
DEFAULT_PORTS = {"http": 80, "https": 443}
READ_METHODS = frozenset({"GET", "HEAD"})
REQUEST_FIELDS = frozenset({"provider", "path", "url", "params", "method", "body", "cache_ttl_s"})
# Upstream response headers a caller may see. Never Set-Cookie, auth challenges, Location, or
# anything that could carry a credential or steer the caller's client.
SAFE_RESPONSE_HEADERS = frozenset({"content-type", "cache-control", "etag", "last-modified", "retry-after"})

_SCHEME_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_HOST_RE = re.compile(r"^[a-z0-9.-]+$")
# A label that an IPv4 parser would read as a number: decimal, octal (leading 0) or hex (0x).
_NUMERIC_LABEL_RE = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")
_PARAM_NAME_RE = re.compile(r"^[A-Za-z0-9_.\-\[\]]{1,100}$")


class ProxyRefused(Exception):
    """The proxy will not send this request; `reason` says why, `field` names the input at fault."""

    def __init__(self, reason: str, *, status: int = 400, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.field = field

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"detail": self.reason}
        if self.field:
            body["field"] = self.field
        return body


@dataclass(frozen=True)
class ParsedUrl:
    scheme: str
    host: str
    port: int
    raw_path: str  # as given (still percent-encoded): what is sent upstream
    path: str  # fully decoded: what the checks look at
    query: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ProxyTarget:
    provider: str
    path: str  # relative to the provider's base URL: "" or starting with "/"
    params: dict[str, str | list[str]] = field(default_factory=dict)
    method: str = "GET"
    body: Any = None
    cache_ttl_s: float = 0


# --- text ----------------------------------------------------------------------------------


def fully_decode(text: str, *, field_name: str) -> str:
    """Percent-decode until stable, so `%252e%252e` is seen as `..` whatever the server decodes."""
    for _ in range(MAX_DECODE_ROUNDS + 1):  # up to MAX_DECODE_ROUNDS decodings, one more to see it stable
        decoded = unquote(text)
        if decoded == text:
            return text
        text = decoded
    raise ProxyRefused(f"{field_name} is percent-encoded more than {MAX_DECODE_ROUNDS} times", field=field_name)


def _check_characters(text: str, *, field_name: str, allow_space: bool = False) -> None:
    for ch in text:
        if ch == " " and allow_space:
            continue
        if ch in "\r\n":
            raise ProxyRefused(f"{field_name} contains CR/LF (header injection)", field=field_name)
        if ord(ch) < 0x20 or ord(ch) == 0x7F:
            raise ProxyRefused(f"{field_name} contains a control character", field=field_name)
        if ch == "\\":
            raise ProxyRefused(f"{field_name} contains a backslash", field=field_name)
        if ch.isspace():
            raise ProxyRefused(f"{field_name} contains whitespace", field=field_name)


def _check_text(text: str, *, field_name: str) -> str:
    """Raw form free of control characters, backslashes and whitespace; the decoded form too
    (a decoded space is harmless, a decoded CR/LF or backslash is not)."""
    if len(text) > MAX_URL_LENGTH:
        raise ProxyRefused(f"{field_name} is longer than {MAX_URL_LENGTH} characters", field=field_name)
    if any(ord(ch) > 0x7E for ch in text):
        raise ProxyRefused(f"{field_name} must be ASCII (percent-encode other characters)", field=field_name)
    _check_characters(text, field_name=field_name)
    decoded = fully_decode(text, field_name=field_name)
    _check_characters(decoded, field_name=field_name, allow_space=True)
    return decoded


def _check_segments(decoded_path: str, *, field_name: str) -> None:
    segments = decoded_path.split("/")[1:]
    for i, segment in enumerate(segments):
        # "..;" and "..." count too: some servers strip path parameters or collapse dots.
        if segment.startswith("..") or segment.split(";")[0] == ".":
            raise ProxyRefused(f"{field_name} contains a dot-segment ('..' or '.')", field=field_name)
        if segment == "" and i < len(segments) - 1:
            raise ProxyRefused(f"{field_name} contains an empty segment ('//')", field=field_name)


# --- hosts and URLs ------------------------------------------------------------------------


def _check_host(host: str, *, field_name: str) -> None:
    if not host:
        raise ProxyRefused(f"{field_name} has no host", field=field_name)
    if not _HOST_RE.match(host):
        raise ProxyRefused(f"{field_name}: host {host!r} has characters outside a-z 0-9 . -", field=field_name)
    labels = host.split(".")
    if _NUMERIC_LABEL_RE.match(labels[-1]):
        # Only the canonical dotted quad passes: 2130706433, 0x7f.1, 0177.0.0.1 and 127.1 all
        # mean 127.0.0.1 to some parser, and none of them is how a provider spells its host.
        canonical = len(labels) == 4 and all(
            lbl.isdigit() and (lbl == "0" or not lbl.startswith("0")) and int(lbl) <= 255 for lbl in labels
        )
        if not canonical:
            raise ProxyRefused(
                f"{field_name}: host {host!r} is a numeric IP spelling (decimal, octal or hex)", field=field_name
            )


def parse_url(url: Any, *, field_name: str = "url") -> ParsedUrl:
    """Structural checks that hold whatever provider the URL is meant for."""
    if not isinstance(url, str) or not url:
        raise ProxyRefused(f"{field_name} must be a non-empty string", field=field_name)
    _check_text(url, field_name=field_name)
    match = _SCHEME_RE.match(url)
    if match is None:
        raise ProxyRefused(f"{field_name} must be an absolute http(s) URL", field=field_name)
    scheme = match.group(0)[:-1].lower()
    if scheme not in ALLOWED_SCHEMES:
        raise ProxyRefused(f"{field_name}: scheme {scheme!r} is not allowed (http or https only)", field=field_name)
    if not url[len(scheme) + 1:].startswith("//"):
        raise ProxyRefused(f"{field_name} must look like {scheme}://host/path", field=field_name)
    try:
        parts = urlsplit(url)
    except ValueError:  # urlsplit's own checks of a bracketed host: "[::1", "a]", "[abc]"
        raise ProxyRefused(f"{field_name}: IPv6 literal hosts are not allowed", field=field_name) from None
    netloc = parts.netloc
    if "@" in netloc:
        raise ProxyRefused(f"{field_name} contains userinfo ('@' before the host)", field=field_name)
    if "%" in netloc:
        raise ProxyRefused(f"{field_name}: the host contains percent-encoded characters", field=field_name)
    if "[" in netloc or "]" in netloc:
        raise ProxyRefused(f"{field_name}: IPv6 literal hosts are not allowed", field=field_name)
    if parts.fragment or "#" in url:
        raise ProxyRefused(f"{field_name} must not contain a fragment ('#')", field=field_name)
    host = (parts.hostname or "").lower()
    _check_host(host, field_name=field_name)
    try:
        port = parts.port
    except ValueError:
        raise ProxyRefused(f"{field_name} has an invalid port", field=field_name) from None
    if port is None and netloc.endswith(":"):
        raise ProxyRefused(f"{field_name} has an empty port", field=field_name)
    raw_path = parts.path
    decoded_path = fully_decode(raw_path, field_name=field_name)
    if raw_path and not raw_path.startswith("/"):
        raise ProxyRefused(f"{field_name} has a relative path", field=field_name)
    _check_segments(decoded_path, field_name=field_name)
    query = tuple(parse_qsl(parts.query, keep_blank_values=True))
    for name, value in query:
        _check_characters(name + value, field_name=field_name, allow_space=True)
    return ParsedUrl(
        scheme=scheme, host=host, port=port or DEFAULT_PORTS[scheme],
        raw_path=raw_path, path=decoded_path, query=query,
    )


def relative_path(url: ParsedUrl, base: ParsedUrl) -> str | None:
    """The part of `url`'s path under `base`, or None if `url` is not under `base`."""
    if (url.scheme, url.host, url.port) != (base.scheme, base.host, base.port):
        return None
    base_raw, base_decoded = base.raw_path.rstrip("/"), base.path.rstrip("/")
    # Both the bytes sent and their decoded meaning must sit under the base path; "/v3evil"
    # is not under "/v3".
    for path, prefix in ((url.raw_path, base_raw), (url.path, base_decoded)):
        if not (path == prefix or path.startswith(prefix + "/")):
            return None
    return url.raw_path[len(base_raw):]


def check_path(path: Any) -> str:
    """A `path` input: relative to the base URL, no scheme, no query, no escapes."""
    if not isinstance(path, str):
        raise ProxyRefused("path must be a string", field="path")
    decoded = _check_text(path, field_name="path")
    for form in (path, decoded):
        if _SCHEME_RE.match(form) or form.startswith("//") or "://" in form:
            raise ProxyRefused("path must be relative to the provider's base URL, not an absolute URL", field="path")
    if "?" in path or "#" in path:
        raise ProxyRefused("path must not contain '?' or '#'; send query parameters in params", field="path")
    if path and not path.startswith("/"):
        path, decoded = "/" + path, "/" + decoded
    _check_segments(decoded, field_name="path")
    return path


# --- the rest of the request ---------------------------------------------------------------


def _param_value(value: Any, name: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        if len(value) > MAX_PARAM_LENGTH:
            raise ProxyRefused(f"params.{name} is longer than {MAX_PARAM_LENGTH} characters", field="params")
        _check_characters(value, field_name=f"params.{name}", allow_space=True)
        return value
    raise ProxyRefused(f"params.{name} must be a string, number, boolean or a list of them", field="params")


def _key_param(provider: ProviderConfig) -> str:
    """The query parameter the engine puts the key in (healing.engine.http.with_auth), lower-cased."""
    return (provider.auth_param or "api_key").lower() if provider.auth_type == "query" else ""


def check_params(params: Any, provider: ProviderConfig) -> dict[str, str | list[str]]:
    if params is None:
        return {}
    if not isinstance(params, Mapping):
        raise ProxyRefused("params must be an object", field="params")
    if len(params) > MAX_PARAMS:
        raise ProxyRefused(f"params has more than {MAX_PARAMS} entries", field="params")
    key_param = _key_param(provider)
    clean: dict[str, str | list[str]] = {}
    for name, value in params.items():
        if not isinstance(name, str) or not _PARAM_NAME_RE.match(name):
            raise ProxyRefused(f"params: {str(name)[:40]!r} is not a valid parameter name", field="params")
        if key_param and name.lower() == key_param:
            raise ProxyRefused(f"params.{name}: the API key is added by the server; do not send it", field="params")
        if isinstance(value, list):
            if len(value) > MAX_PARAM_VALUES:
                raise ProxyRefused(f"params.{name} has more than {MAX_PARAM_VALUES} values", field="params")
            clean[name] = [_param_value(v, name) for v in value]
        else:
            clean[name] = _param_value(value, name)
    return clean


def check_method(method: Any, provider: ProviderConfig) -> str:
    if method is None:
        return "GET"
    if not isinstance(method, str):
        raise ProxyRefused("method must be a string", field="method")
    method = method.upper()
    if method in READ_METHODS:
        return method
    if method == "POST":
        if provider.allow_post:
            return method
        raise ProxyRefused(f"provider {provider.slug!r} accepts GET and HEAD only through the proxy",
                           status=403, field="method")
    raise ProxyRefused(f"method {method[:10]!r} is not supported (GET, HEAD; POST where allowed)", field="method")


def _check_body(body: Any, method: str) -> Any:
    if body is None:
        return None
    if method != "POST":
        raise ProxyRefused("body is only sent with POST", field="body")
    if len(json.dumps(body).encode()) > MAX_BODY_BYTES:
        raise ProxyRefused(f"body is larger than {MAX_BODY_BYTES} bytes", field="body")
    return body


def _check_cache_ttl(value: Any, method: str) -> float:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= MAX_PROXY_CACHE_TTL_S:
        raise ProxyRefused(f"cache_ttl_s must be a number from 0 to {MAX_PROXY_CACHE_TTL_S}", field="cache_ttl_s")
    if value and method != "GET":
        raise ProxyRefused("only GET answers are cached", field="cache_ttl_s")
    return float(value)


def _provider(slug: Any, providers: Mapping[str, ProviderConfig]) -> ProviderConfig:
    if not isinstance(slug, str) or not slug:
        raise ProxyRefused("provider must be a provider slug", field="provider")
    provider = providers.get(slug)
    if provider is None:
        raise ProxyRefused(f"{slug[:64]!r} is not a registered provider", status=403, field="provider")
    if not provider.enabled:
        raise ProxyRefused(f"provider {slug!r} is disabled", status=403, field="provider")
    return provider


def _parsed_base(provider: ProviderConfig) -> ParsedUrl | None:
    try:
        return parse_url(provider.base_url, field_name="base_url")
    except ProxyRefused:
        return None


def _match_url(url: ParsedUrl, providers: Mapping[str, ProviderConfig]) -> tuple[ProviderConfig, str] | None:
    """The enabled provider whose base URL is the longest prefix of `url`."""
    best: tuple[ProviderConfig, str, int] | None = None
    for provider in providers.values():
        base = _parsed_base(provider) if provider.enabled else None
        rel = relative_path(url, base) if base else None
        if rel is not None and (best is None or len(base.raw_path) > best[2]):
            best = (provider, rel, len(base.raw_path))
    return (best[0], best[1]) if best else None


def resolve(request: Any, providers: Mapping[str, ProviderConfig]) -> ProxyTarget:
    """Validate a proxy request body against the catalogue and say exactly what to send."""
    if not isinstance(request, Mapping):
        raise ProxyRefused("the request body must be a JSON object")
    unknown = sorted(str(k)[:40] for k in request if k not in REQUEST_FIELDS)
    if unknown:
        raise ProxyRefused(f"unknown fields {unknown}; allowed: {sorted(REQUEST_FIELDS)}", field=unknown[0])
    has_path, has_url = request.get("path") is not None, request.get("url") is not None
    if has_path == has_url:
        raise ProxyRefused("send either provider + path, or url", field="path")

    query: dict[str, str | list[str]] = {}
    if has_path:
        provider = _provider(request.get("provider"), providers)
        rel = check_path(request["path"])
        base = _parsed_base(provider)
        if base is None:
            raise ProxyRefused(f"provider {provider.slug!r} has a base URL the proxy cannot use", status=403)
        # Defense in depth: the composed URL must pass the same checks as a caller's URL.
        composed = parse_url(provider.base_url.rstrip("/") + rel, field_name="path")
        if relative_path(composed, base) is None:
            raise ProxyRefused("path leaves the provider's base URL", status=403, field="path")
    else:
        parsed = parse_url(request["url"])
        if request.get("provider") is not None:
            provider = _provider(request["provider"], providers)
            base = _parsed_base(provider)
            rel = relative_path(parsed, base) if base else None
            if rel is None:
                raise ProxyRefused(f"url is not under provider {provider.slug!r}'s base URL",
                                   status=403, field="url")
        else:
            match = _match_url(parsed, providers)
            if match is None:
                raise ProxyRefused("url is not under any registered, enabled provider's base URL",
                                   status=403, field="url")
            provider, rel = match
        for name, value in parsed.query:
            existing = query.get(name)
            if existing is None:
                query[name] = value
            else:  # a repeated name (?a=1&a=2) becomes a list, as httpx sends it
                query[name] = [*([existing] if isinstance(existing, str) else existing), value]

    method = check_method(request.get("method"), provider)
    params = {**query, **check_params(request.get("params"), provider)}
    key_param = _key_param(provider)
    if key_param and any(name.lower() == key_param for name in params):
        raise ProxyRefused("the API key is added by the server; do not send it", field="url")
    return ProxyTarget(
        provider=provider.slug, path=rel, params=params, method=method,
        body=_check_body(request.get("body"), method),
        cache_ttl_s=_check_cache_ttl(request.get("cache_ttl_s"), method),
    )


def safe_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The subset of upstream response headers a caller may see."""
    return {k.lower(): v for k, v in headers.items() if k.lower() in SAFE_RESPONSE_HEADERS}
