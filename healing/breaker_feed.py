"""The live feed's view of the traffic: breaker transitions (`breakers`, `health` with source
"traffic", pool heads) and spent budgets (pool heads).

Every breaker store and budget of every process (the data plane's workers, the Celery worker's
probes, the admin's and the API's resets) tells its observers once `install` has run (healing.apps
does it at startup). They run only after a write that changed a breaker's state or a refused
token, never on a request whose breaker and budget did not change, and they never raise.
"""

from __future__ import annotations

from typing import Any

from healing import activity, events, pool_heads
from healing.engine import breaker, ratelimit
from healing.engine.background import spawn
from providers.measures import iso_precise

# What the traffic says of a provider in each breaker state.
TRAFFIC_STATUS = {breaker.CLOSED: "up", breaker.HALF_OPEN: "degraded", breaker.OPEN: "down"}


def breaker_payload(t: breaker.Transition) -> dict[str, Any]:
    """The one shape of a `breakers` event."""
    return {"provider": t.provider, "from": t.before, "to": t.after,
            "reopens_at": iso_precise(t.reopens_at) if t.reopens_at is not None else None,
            "trips": t.trips, "reason": t.reason, "at": iso_precise(t.at)}


def health_payload(t: breaker.Transition) -> dict[str, Any]:
    return events.status_payload(
        provider=t.provider, status=TRAFFIC_STATUS[t.after], previous=TRAFFIC_STATUS[t.before],
        at=t.at, message=f"breaker {t.after.replace('_', '-')}: {t.reason}", source="traffic",
    )


def head_reason(t: breaker.Transition) -> str | None:
    """Why a pool's head may have moved with this transition (None: it cannot have)."""
    if t.after == breaker.OPEN:
        return pool_heads.BREAKER_OPEN
    if t.before == breaker.OPEN:
        return pool_heads.RECOVERED
    return None


async def on_transition(store: Any, t: breaker.Transition) -> None:
    level = activity.WARNING if t.after == breaker.OPEN else activity.INFO
    await activity.record_async(store.redis, [activity.entry(
        activity.BREAKER, level, f"breaker of {t.provider}: {t.before} -> {t.after} ({t.reason})", t.at,
        provider=t.provider, status=t.after)])
    await events.apublish(events.BREAKERS, [breaker_payload(t)])
    await events.apublish(events.HEALTH, [health_payload(t)])
    reason = head_reason(t)
    if reason is not None:
        await pool_heads.heads_changed(store.redis, t.provider, reason, clock=store.clock)


async def on_budget_spent(budget: Any, provider: str) -> None:
    # In the background: the refused request answers without waiting for the pools' heads.
    spawn(pool_heads.heads_changed(budget.redis, provider, pool_heads.BUDGET_SPENT, clock=budget.clock))


def install() -> None:
    """Publish this process's breaker transitions and spent budgets (idempotent)."""
    if on_transition not in breaker.OBSERVERS:
        breaker.OBSERVERS.append(on_transition)
    if on_budget_spent not in ratelimit.SPENT_OBSERVERS:
        ratelimit.SPENT_OBSERVERS.append(on_budget_spent)
