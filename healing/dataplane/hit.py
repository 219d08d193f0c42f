"""The data plane's fast path answer: a cache hit rendered from the held entry's pre-encoded parts."""

from __future__ import annotations

from healing.dataplane.headers import SECURITY_HEADERS
from healing.engine import cache, degraded
from providers.measures import iso_seconds


def render_hit(
    held: cache.LocalEntry, now: float, down: bool = False
) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """Headers and body of a cache hit, byte for byte what the full path
    (healing.dataplane.app `_answer`) would send for it.

    Everything but `age_s` is encoded once per held entry; a hit is then a concatenation.
    """
    if held.rendered is None:
        entry = held.entry
        head = (b'{"data":' + held.data_json + b',"meta":{"capability":' + cache.encode_data(held.capability)
                + b',"source":' + cache.encode_data(entry.source) + b',"served":"cache","age_s":')
        tail = b',"fetched_at":' + cache.encode_data(iso_seconds(entry.fetched_at)) + b',"attempts":[]}}'
        held.rendered = (head, tail, entry.source.encode("latin-1"))
    head, tail, source = held.rendered
    body = head + repr(round(held.entry.age(now), 2)).encode() + tail
    if down:
        # Served from this process's copy while Redis is unreachable: say so in meta and a header.
        body = body[:-2] + b',"degraded":"redis"}}'
    return hit_headers(source, body, down), body


def hit_headers(source: bytes, body: bytes, down: bool = False) -> list[tuple[bytes, bytes]]:
    """The headers of a fast-path hit (native or drop-in), with the degraded header first when
    the answer came from this process's copy while Redis was unreachable."""
    headers = [
        (b"x-cryptohub-source", source), (b"x-cryptohub-cache", b"cache"),
        (b"content-length", str(len(body)).encode()), (b"content-type", b"application/json"),
        *SECURITY_HEADERS,
    ]
    if down:
        headers.insert(0, (degraded.DEGRADED_HEADER, degraded.DEGRADED_REDIS.encode()))
    return headers
