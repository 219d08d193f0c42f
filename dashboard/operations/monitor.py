"""The Monitor tab and a provider's page, as plain dicts for the templates.

Nothing here measures anything itself: health comes from the sweep's checks (healing.monitoring.history:
last check, uptime, history), runtime state from the same reader /api/crypto-hub/health-status uses
(healing.monitoring.selfheal.provider_runtime: breaker, cool-down, budgets) and latency from the
live samples the roll-ups read (history.read_live_totals: p50/p95 and the samples themselves).
Redis being down leaves the runtime columns unknown instead of failing the page.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import redis.asyncio
from django.conf import settings

from healing.engine import stats
from healing.engine.config import Snapshot
from healing.monitoring import history, selfheal
from pools.models import PoolMembership
from providers.measures import iso_precise
from providers.models import Category, Provider

logger = logging.getLogger(__name__)

# Latency samples drawn in a row's sparkline (the newest ones, oldest first).
SPARK_SAMPLES = 30
# What a provider's page charts and lists: the last day of checks, the newest failures.
HISTORY_WINDOW = timedelta(hours=24)
RECENT_FAILURES = 20
STATUSES = ("up", "down", "degraded", "unknown")
BREAKER_STATES = ("closed", "open", "half_open")


class BadFilter(ValueError):
    """A filter value the page cannot use; `field` names the query parameter (answered 400)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Filters:
    category: str = ""
    pool: str = ""
    state: str = ""  # a status (up/down/...) or a breaker state (open/half_open/closed)

    @classmethod
    def parse(cls, query: Any, pool_slugs: list[str]) -> "Filters":
        """From ?category=&pool=&state=; an unknown value is a BadFilter naming its parameter."""
        category, pool, state = (str(query.get(name, "") or "").strip() for name in ("category", "pool", "state"))
        if category and category not in Category.values:
            raise BadFilter("category", f"unknown category {category!r}; one of {', '.join(Category.values)}")
        if pool and pool not in pool_slugs:
            raise BadFilter("pool", f"no pool with slug {pool!r}")
        if state and state not in STATUSES + BREAKER_STATES:
            raise BadFilter("state", f"unknown state {state!r}; one of {', '.join(STATUSES + BREAKER_STATES)}")
        return cls(category, pool, state)

    def keep(self, row: dict[str, Any]) -> bool:
        if self.category and row["category"] != self.category:
            return False
        if self.pool and self.pool not in row["pools"]:
            return False
        return not self.state or self.state in (row["status"], row["breaker"])


def _runtime(configs: list[Any]) -> tuple[dict[str, dict], dict[str, dict]]:
    """(provider -> health-status runtime row, provider -> live latency figures); empty when Redis is down."""
    slugs = [c.slug for c in configs]

    async def read() -> tuple[list[dict], dict[str, dict]]:
        r = redis.asyncio.Redis.from_url(settings.REDIS_URL)
        try:
            rows = await selfheal.provider_runtime(r, configs)
            live = await history.read_live_totals(settings.REDIS_URL, slugs)
            pipe = r.pipeline(transaction=False)
            for slug in slugs:  # the totals sort their samples; the sparkline needs them in time order
                pipe.lrange(stats.latency_key(slug), 0, SPARK_SAMPLES - 1)
            for slug, newest in zip(slugs, await pipe.execute()):
                live.setdefault(slug, {})["samples_newest"] = [float(v) for v in newest]
            return rows, live
        finally:
            await r.aclose()

    try:
        rows, live = asyncio.run(read())
    except (redis.RedisError, OSError) as exc:
        logger.warning("monitor: runtime state unavailable: %s", exc)
        return {}, {}
    return {row["provider"]: row for row in rows}, live


def budget_left(budgets: list[dict]) -> dict[str, Any] | None:
    """The tightest window: its tokens left of its limit ("30/minute"), and that as a percentage."""
    tightest = None
    for window in budgets:
        amount = int(str(window["limit"]).split("/")[0] or 0)
        pct = 100.0 * window["remaining"] / amount if amount else 0.0
        if tightest is None or pct < tightest["pct"]:
            tightest = {"limit": window["limit"], "remaining": window["remaining"], "pct": round(pct, 1)}
    return tightest


def check_status(check: dict | None) -> str:
    """What the latest sweep check says: up, down, or unknown (never checked, or skipped)."""
    if check is None or check["skipped"]:
        return "unknown"
    return "up" if check["ok"] else "down"


def status_of(check: dict | None, breaker: str | None) -> str:
    """up / down from the latest check; an open or probing breaker on a passing provider is degraded.
    operations.js derives a live row's status by the same rule (derivedStatus)."""
    status = check_status(check)
    return "degraded" if status == "up" and breaker in ("open", "half_open") else status


def _pools_by_provider() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for provider, pool in PoolMembership.objects.order_by("pool__slug").values_list("provider__slug", "pool__slug"):
        out.setdefault(provider, []).append(pool)
    return out


def provider_rows(providers: list[Provider], snapshot: Snapshot, *, now: datetime) -> list[dict[str, Any]]:
    """One Monitor row per provider (the order given), every figure read once for all of them."""
    configs = [snapshot.providers[p.slug] for p in providers if p.slug in snapshot.providers]
    runtime, live = _runtime(configs)
    checks = history.latest_checks([p.pk for p in providers])
    uptime = history.provider_uptime([p.slug for p in providers], now=now)
    pools = _pools_by_provider()
    rows = []
    for p in providers:
        state = runtime.get(p.slug)
        breaker = state["breaker"]["state"] if state else None
        figures = live.get(p.slug) or {}
        check = checks.get(p.pk)
        rows.append({
            "slug": p.slug, "name": p.name, "category": p.category, "enabled": p.enabled,
            "status": status_of(check, breaker), "check": check_status(check), "breaker": breaker or "unknown",
            "reopens_at": state["breaker"]["reopens_at"] if state else None,
            "cooling_until": state["cooling_until"] if state else None,
            "budget": budget_left(state["budgets"]) if state else None,
            "p50_ms": figures.get("p50_ms"), "p95_ms": figures.get("p95_ms"),
            # Newest first in Redis; the sparkline reads left to right, oldest first.
            "spark": list(reversed((figures.get("samples_newest") or [])[:SPARK_SAMPLES])),
            "last_check": {**check, "checked_at": iso_precise(check["checked_at"])} if check else None,
            "uptime_24h": uptime.get(p.slug, {}).get("24h"), "pools": pools.get(p.slug, []),
        })
    return rows


def monitor_page(query: Any, *, now: datetime | None = None) -> dict[str, Any]:
    """Every provider's row, kept by the filters; BadFilter for an unusable filter."""
    now = now or datetime.now(UTC)
    snapshot = selfheal.current_snapshot()
    pool_slugs = sorted(snapshot.pools)
    filters = Filters.parse(query, pool_slugs)
    providers = list(Provider.objects.order_by("category", "slug"))
    if filters.category:
        providers = [p for p in providers if p.category == filters.category]
    rows = [row for row in provider_rows(providers, snapshot, now=now) if filters.keep(row)]
    return {
        "rows": rows, "filters": filters, "generated_at": iso_precise(now),
        "categories": Category.choices, "pool_slugs": pool_slugs, "states": STATUSES + BREAKER_STATES,
        "counts": {status: sum(r["status"] == status for r in rows) for status in STATUSES},
    }


def provider_page(slug: str, *, now: datetime | None = None) -> dict[str, Any] | None:
    """A provider's row, its health history chart, recent failures and pools; None if unknown."""
    provider = Provider.objects.filter(slug=slug).first()
    if provider is None:
        return None
    now = now or datetime.now(UTC)
    row = provider_rows([provider], selfheal.current_snapshot(), now=now)[0]
    checks = history.health_history(provider, since=now - HISTORY_WINDOW)
    made = [c for c in reversed(checks) if not c["skipped"]]  # oldest first for the chart
    chart = {"labels": [c["checked_at"] for c in made],
             "series": [{"label": "latency ms", "values": [c["latency_ms"] for c in made]},
                        {"label": "up (1) / down (0)", "values": [1 if c["ok"] else 0 for c in made]}]}
    failures = [c for c in checks if not c["ok"] and not c["skipped"]][:RECENT_FAILURES]
    memberships = (PoolMembership.objects.filter(provider=provider).select_related("pool")
                   .order_by("pool__slug"))
    return {
        "provider": provider, "row": row, "chart": chart, "checks": len(made), "failures": failures,
        "uptime": history.provider_uptime([provider.slug], now=now)[provider.slug],
        "memberships": [{"pool": m.pool.slug, "capability": m.pool.capability, "priority": m.priority,
                         "weight": m.weight, "enabled": m.enabled and m.pool.enabled} for m in memberships],
        "generated_at": iso_precise(now),
    }
