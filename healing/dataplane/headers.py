"""Headers every data plane answer carries, and the ones it never carries.

Data answers are JSON (the proxy's are a provider's bytes): `nosniff` keeps a browser from reading
them as anything else, and a CSP of `default-src 'none'; sandbox` keeps even an upstream HTML or
SVG body inert on our origin. No answer sets a cookie: `secure_send` drops any Set-Cookie a
handler (or a future change) adds, and the proxy passes only healing.dataplane.proxy_policy's
safe headers in the first place.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'; sandbox"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)
_OURS = frozenset(name for name, _ in SECURITY_HEADERS)
DROPPED = frozenset({b"set-cookie", *_OURS})

Send = Callable[[dict[str, Any]], Awaitable[None]]


def secured(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """`headers` without cookies or other values of our security headers, plus ours."""
    return [(k, v) for k, v in headers if k.lower() not in DROPPED] + list(SECURITY_HEADERS)


def secure_send(send: Send) -> Send:
    async def wrapped(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": secured(list(message.get("headers", ())))}
        await send(message)

    return wrapped
