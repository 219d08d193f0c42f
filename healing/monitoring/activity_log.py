"""Reading the activity log (healing.activity writes it): filtered entries newest first,
the recent ones, the errors, counts, and exports that honour the same filters.

The stream is bounded (CRYPTOHUB_ACTIVITY_MAX entries), so a query reads it backwards in pages
and filters here; it stops at `since` or once `limit` entries matched.
"""

from __future__ import annotations

import csv
import io
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import redis

from common import spreadsheet
from healing import activity
from pools.models import Pool
from providers.measures import iso_precise
from providers.runtime import sync_redis

PAGE = 1000
LIMIT_MAX = 5000
SEARCH_MAX = 200
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.:-]{0,99}$", re.IGNORECASE)
CSV_COLUMNS = ["at", "level", "category", "msg", "status", "ms", "capability", "params", "client", "provider",
               "source", "served", "attempts"]


class FilterError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Filters:
    level: frozenset[str] = frozenset()
    category: str | None = None
    provider: str | None = None
    pool_members: frozenset[str] | None = None
    pool_capability: str | None = None
    capability: str | None = None
    client: str | None = None
    text: str | None = None
    since: float | None = None

    def match(self, item: dict[str, Any]) -> bool:
        if self.since is not None and item.get("t", 0) < self.since:
            return False
        if self.level and item.get("level") not in self.level:
            return False
        if self.category and item.get("category") != self.category:
            return False
        if self.provider and self.provider not in (item.get("provider"), item.get("source")):
            return False
        if self.pool_members is not None and not (
                {item.get("provider"), item.get("source")} & self.pool_members
                or (self.pool_capability and item.get("capability") == self.pool_capability)):
            return False
        if self.capability and item.get("capability") != self.capability:
            return False
        if self.client and item.get("client") != self.client:
            return False
        return not self.text or self.text in orjson.dumps(item).decode().lower()


def _name(query: Any, field: str) -> str | None:
    value = (query.get(field) or "").strip()
    if not value:
        return None
    if not _NAME.match(value):
        raise FilterError(field, f"{field} must be a name (letters, digits, _ . : -), got {value[:40]!r}")
    return value


def parse_filters(query: Any, *, since: datetime | None) -> Filters:
    """Filters from a query string; FilterError names the first bad field."""
    levels = frozenset(v.strip() for v in (query.get("level") or "").split(",") if v.strip())
    if levels - set(activity.LEVELS):
        raise FilterError("level", f"level must be among {', '.join(activity.LEVELS)}")
    category = _name(query, "category")
    if category and category not in activity.CATEGORIES:
        raise FilterError("category", f"category must be one of {', '.join(activity.CATEGORIES)}")
    members = capability = None
    if pool_slug := _name(query, "pool"):
        pool = Pool.objects.filter(slug=pool_slug).first()
        if pool is None:
            raise FilterError("pool", f"unknown pool {pool_slug!r}")
        members = frozenset(pool.memberships.values_list("provider__slug", flat=True))
        capability = pool.capability
    text = (query.get("q") or "").strip().lower()
    if len(text) > SEARCH_MAX:
        raise FilterError("q", f"q is at most {SEARCH_MAX} characters")
    return Filters(level=levels, category=category, provider=_name(query, "provider"), pool_members=members,
                   pool_capability=capability, capability=_name(query, "capability"),
                   client=_name(query, "client"), text=text or None,
                   since=since.timestamp() if since is not None else None)


def _backwards(r: redis.Redis) -> Iterator[dict[str, Any]]:
    end = "+"
    while True:
        page = r.xrevrange(activity.stream_key(), max=end, count=PAGE)
        for entry_id, fields in page:
            raw = (fields.get("e") or fields.get(b"e")) if isinstance(fields, dict) else None
            try:
                item = orjson.loads(raw)
            except (TypeError, ValueError):
                continue
            item["id"] = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
            yield item
        if len(page) < PAGE:
            return
        last = page[-1][0]
        end = "(" + (last.decode() if isinstance(last, bytes) else last)


def entries(filters: Filters, *, limit: int, r: redis.Redis | None = None) -> list[dict[str, Any]]:
    found = []
    for item in _backwards(r or sync_redis()):
        if filters.since is not None and item.get("t", 0) < filters.since:
            break  # the stream is in time order: nothing older can match
        if filters.match(item):
            found.append(item)
            if len(found) >= limit:
                break
    return found


def stats(filters: Filters, *, r: redis.Redis | None = None) -> dict[str, Any]:
    """Counts by category, level and status, and latency per capability, over the matching entries."""
    by = {"category": Counter(), "level": Counter(), "status": Counter()}
    latency: dict[str, list[float]] = defaultdict(list)
    total = 0
    for item in entries(filters, limit=10**9, r=r):
        total += 1
        for field, counter in by.items():
            counter[str(item.get(field))] += 1
        if item.get("category") == activity.REQUEST and isinstance(item.get("ms"), int | float):
            latency[item.get("capability") or "?"].append(float(item["ms"]))
    return {"entries": total, **{f"by_{k}": dict(v) for k, v in by.items()},
            "latency_ms": {cap: {"count": len(v), "p50": round(statistics.median(v), 2),
                                 "p95": round(_p95(v), 2)} for cap, v in sorted(latency.items())}}


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def as_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow(spreadsheet.row(present(row)))
    return out.getvalue()


def present(item: dict[str, Any]) -> dict[str, Any]:
    """An entry as the API shows it: its time as ISO 8601 (UTC) beside the epoch seconds."""
    return {"at": iso_precise(item.get("t", 0)), **item}
