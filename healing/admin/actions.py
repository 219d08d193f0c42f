"""Admin helpers for the provider admin (healing/admin.py wires them in): a "reset breaker"
action and a one-line breaker/budget summary per provider.

Admin views are sync and run in a worker thread without an event loop, so the Redis reads run
in a short `asyncio.run` (healing.monitoring.selfheal) with their own client.
"""

from __future__ import annotations

import logging
from typing import Any

import redis
from django.contrib import admin, messages

from healing import cache_control
from healing.monitoring import selfheal

logger = logging.getLogger(__name__)


def _summary(row: dict[str, Any]) -> str:
    breaker = row["breaker"]
    parts = [breaker["state"].replace("_", "-")]
    if breaker["state"] != "closed" and breaker["reopens_at"]:
        parts[0] += f" until {breaker['reopens_at']}"
    elif breaker["consecutive_failures"]:
        parts[0] += f" ({breaker['consecutive_failures']} failures in a row)"
    if row["cooling_until"]:
        parts.append(f"cooling down until {row['cooling_until']}")
    parts += [f"{b['remaining']} left of {b['limit']}" for b in row["budgets"]]
    return " · ".join(parts)


def breaker_summaries(slugs: list[str]) -> dict[str, str]:
    """slug -> summary for many providers in one Redis round of reads (for a changelist column)."""
    snapshot = selfheal.current_snapshot()
    configs = [snapshot.providers[s] for s in slugs if s in snapshot.providers]
    try:
        rows = selfheal.run_with_redis(lambda r: selfheal.provider_runtime(r, configs))
    except redis.RedisError:
        return {s: "unknown (Redis unavailable)" for s in slugs}
    return {row["provider"]: _summary(row) for row in rows}


def breaker_summary(provider_slug: str) -> str:
    """e.g. "open until 2026-11-21T12:00:30Z · 28 left of 30/minute"; never raises."""
    return breaker_summaries([provider_slug]).get(provider_slug, "unknown provider")


@admin.action(description="Reset breaker and cool-down")
def reset_breaker(modeladmin: admin.ModelAdmin, request: Any, queryset: Any) -> None:
    slugs = sorted(queryset.values_list("slug", flat=True))
    try:
        selfheal.reset_breakers(slugs, actor=request.user.get_username(), reason="admin action")
    except redis.RedisError as exc:
        modeladmin.message_user(request, f"Redis unavailable, nothing reset: {exc}", messages.ERROR)
        return
    modeladmin.message_user(request, f"Breaker and cool-down reset for {len(slugs)} provider(s): {', '.join(slugs)}")


@admin.action(description="Purge the cached answers they produced")
def purge_cache(modeladmin: admin.ModelAdmin, request: Any, queryset: Any) -> None:
    slugs = sorted(queryset.values_list("slug", flat=True))
    try:
        deleted = sum(cache_control.purge(provider=slug).deleted for slug in slugs)
    except redis.RedisError as exc:
        modeladmin.message_user(request, f"Redis unavailable, nothing purged: {exc}", messages.ERROR)
        return
    modeladmin.message_user(request, f"{deleted} cached answer(s) of {', '.join(slugs)} purged")
