"""Which registered provider a URL belongs to: the old API named providers by URL
(`{"endpoint": "https://api.coingecko.com"}`), cryptohub by slug.

A lookup, not a security check (the proxy has its own, stricter one): the scheme and host must
match a provider's base URL; among those, the one whose base path is the longest prefix of the
URL's path wins; a URL with the host alone names the provider only when one provider has that host.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit


class NotAUrl(ValueError):
    pass


class AmbiguousUrl(LookupError):
    def __init__(self, candidates: list[str]) -> None:
        super().__init__(f"several providers share that host: {', '.join(candidates)}; name one by its path")
        self.candidates = candidates


def _origin_and_path(url: str) -> tuple[tuple[str, str, int | None], str]:
    if not isinstance(url, str) or not url.strip():
        raise NotAUrl("must be an http(s) URL")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise NotAUrl("must be an http(s) URL") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise NotAUrl("must be an http(s) URL")
    default = {"http": 80, "https": 443}[parts.scheme.lower()]
    return (parts.scheme.lower(), parts.hostname.lower(), port or default), parts.path.rstrip("/")


def provider_for_url(url: str, providers: Iterable[tuple[str, str]]) -> str | None:
    """The slug of the provider `url` belongs to, from (slug, base_url) pairs; None if none."""
    origin, path = _origin_and_path(url)
    same_host: list[tuple[str, str]] = []
    for slug, base_url in providers:
        try:
            base_origin, base_path = _origin_and_path(base_url)
        except NotAUrl:
            continue
        if base_origin == origin:
            same_host.append((slug, base_path))
    under = [(len(base), slug) for slug, base in same_host if path == base or path.startswith(base + "/")]
    if under:
        return max(under)[1]
    if len(same_host) == 1:
        return same_host[0][0]
    if same_host:
        raise AmbiguousUrl(sorted(slug for slug, _ in same_host))
    return None
