"""Per-client usage as the data plane counted it: requests, 429s and when each caller was last seen.

The inbound check (healing.dataplane.inbound) writes the counters to Redis, in the hashes named in
healing.models.clients; this module only reads them, for /api/stats, the ApiClient admin and
/metrics. Callers are the API clients plus the keyless ones (ANONYMOUS, STAFF_SESSION). Redis
being down never raises out of here: the readers get None instead. Only names and counts leave
this module; a key, its hash or its prefix never do.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass

import redis

from healing.models.clients import RESERVED_NAMES, ApiClient, usage_key, utc_day
from providers.measures import iso_seconds
from providers.runtime import sync_redis

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClientUsage:
    requests: int = 0  # every request that reached the limit check, the refused ones included
    limited: int = 0  # answered 429
    requests_today: int = 0  # the same two for the current UTC day
    limited_today: int = 0
    last_seen: float | None = None  # epoch seconds of the latest request

    def as_dict(self) -> dict:
        return {"requests": self.requests, "rejected": self.limited, "requests_today": self.requests_today,
                "rejected_today": self.limited_today,
                "last_seen": iso_seconds(self.last_seen) if self.last_seen is not None else None}


def caller_names() -> list[str]:
    """Every caller usage is kept for: the clients (by name) and the keyless callers."""
    return [*RESERVED_NAMES, *ApiClient.objects.order_by("name").values_list("name", flat=True)]


def _int(raw: dict, field: str) -> int:
    value = raw.get(field) or raw.get(field.encode())
    return int(value) if value is not None else 0


def _usage(total: dict, day: dict) -> ClientUsage:
    seen = total.get("last_seen") or total.get(b"last_seen")
    return ClientUsage(requests=_int(total, "requests"), limited=_int(total, "limited"),
                       requests_today=_int(day, "requests"), limited_today=_int(day, "limited"),
                       last_seen=float(seen) if seen is not None else None)


def read_usage(names: Iterable[str], *, r: redis.Redis | None = None,
               now: float | None = None) -> dict[str, ClientUsage] | None:
    """Usage of each name (zeros for a caller never seen), in one pipeline; None when Redis is down."""
    names = list(names)
    day = utc_day(time.time() if now is None else now)
    r = r or sync_redis()
    try:
        with r.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.hgetall(usage_key(name))
                pipe.hgetall(usage_key(name, day))
            raw = pipe.execute()
    except redis.RedisError as exc:
        logger.warning("client usage unavailable, Redis down: %s", exc)
        return None
    return {name: _usage(raw[2 * i], raw[2 * i + 1]) for i, name in enumerate(names)}


def clients_section(*, r: redis.Redis | None = None, now: float | None = None) -> dict:
    """The "clients" object of /api/stats: usage per caller name, and the UTC day "today" means."""
    now = time.time() if now is None else now
    usage = read_usage(caller_names(), r=r, now=now)
    return {
        "today": utc_day(now),
        "redis": usage is not None,
        "usage": {name: u.as_dict() for name, u in usage.items()} if usage is not None else {},
    }
