"""The Pools tab: each pool's members in the order its next request would try them, and why any is skipped.

The order is the engine's own (healing.engine.candidates: `plan_order` over the same catalogue
snapshot, the one skip rule `mark`, the all-breakers-open last resort), and, like the head the
live feed reports (healing.pool_heads.head_of), a member whose budget is spent counts as skipped.
Reading must never change what it shows: a round-robin pool's cursor is peeked (GET) where the
engine claims it (INCR), so the page shows the order the next request gets without taking it.
Rotating goes through pools.rotation.pool_rotate, the function the API and the admin call.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from typing import Any

import redis
import redis.asyncio
from django.conf import settings

from healing.engine import errors
from healing.engine.candidates import Candidate, plan_order
from healing.engine.config import PoolConfig, Snapshot
from healing.engine.deps import Deps
from healing.monitoring import history, selfheal
from pools.models import Pool, PoolMembership, RotationEvent
from pools.rotation import RotationError, RotationStateUnavailable, pool_rotate
from pools.state import rr_key
from providers.measures import iso_precise

logger = logging.getLogger(__name__)

# Rotation events shown under a pool (the overview) and on its own page.
HISTORY_SHOWN, HISTORY_SHOWN_DETAIL = 5, 50
# Skip outcomes of the engine, as the page names them.
SKIP_LABEL = {
    errors.SKIPPED_BREAKER_OPEN: "breaker", errors.SKIPPED_BUDGET: "budget",
    errors.SKIPPED_NO_KEY: "key", errors.SKIPPED_MAINTENANCE: "maintenance",
}


class PeekPipeline:
    """A pipeline that reads a round-robin cursor instead of claiming it (GET, not INCR).

    `finish` then sees what INCR would have answered (the cursor plus one), so the order is the
    one the next request will take.
    """

    def __init__(self, pipe: Any, cursor_key: str):
        self._pipe, self._cursor_key, self.peeked = pipe, cursor_key, []

    def incr(self, key: Any, *args: Any) -> Any:
        if key != self._cursor_key:
            raise RuntimeError(f"the pools page must not write {key!r}")
        self.peeked.append(len(self._pipe.command_stack))
        return self._pipe.get(key)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pipe, name)

    async def execute(self) -> list[Any]:
        raw = await self._pipe.execute()
        for i in self.peeked:
            raw[i] = int(raw[i] or 0) + 1
        return raw


def _reading_deps(r: redis.asyncio.Redis) -> Deps:
    # Reads only (no HTTP); a fixed seed so a weighted strategy shows the same order on each refresh.
    return Deps(redis=r, http=None, clock=time.time, rng=random.Random(0))  # type: ignore[arg-type]


async def _candidates(deps: Deps, snapshot: Snapshot, pool: PoolConfig) -> list[Candidate]:
    providers = [snapshot.providers[m.provider] for m in pool.members if m.provider in snapshot.providers]
    plan = plan_order(deps, pool, providers, pool.capability)
    if not plan.usable:
        return []
    pipe = PeekPipeline(deps.redis.pipeline(transaction=False), rr_key(pool.slug))
    plan.queue(pipe)
    return plan.finish(await pipe.execute())


async def _member_row(deps: Deps, cand: Candidate, now: float) -> dict[str, Any]:
    skip, detail = SKIP_LABEL.get(cand.skip, cand.skip), cand.skip_detail
    if not cand.skip and not cand.forced:
        spent = [w for w in await deps.budget.remaining(cand.cfg) if w["remaining"] <= 0]
        if spent:  # the engine's token would be refused: it moves on to the next member
            skip = "budget"
            detail = f"budget {spent[0]['limit']} spent, frees in {max(0.0, spent[0]['resets_at'] - now):.0f} s"
    if cand.forced:
        detail = "every breaker is open: tried last, the one that reopens soonest"
    elif cand.needs_probe:
        detail = "breaker half-open: this request is its probe"
    return {"provider": cand.slug, "skip": skip, "detail": detail, "forced": cand.forced,
            "probe": cand.needs_probe, "reopens_at": iso_precise(cand.reopens_at) if cand.reopens_at else None}


async def read_orders(snapshot: Snapshot, slugs: list[str]) -> dict[str, list[dict[str, Any]]]:
    """pool slug -> its members in next-request order, each with its skip reason ("" = callable)."""
    r = redis.asyncio.Redis.from_url(settings.REDIS_URL)
    try:
        deps, out = _reading_deps(r), {}
        for slug in slugs:
            pool = snapshot.pools[slug]
            rows = [await _member_row(deps, c, deps.clock()) for c in await _candidates(deps, snapshot, pool)]
            nxt = next((row for row in rows if not row["skip"]), None)
            for row in rows:
                row["next"] = row is nxt
            out[slug] = rows
        return out
    finally:
        await r.aclose()


def _not_ordered(pool: Pool, ordered: set[str]) -> list[dict[str, Any]]:
    """Members the engine never considers for this pool, and why."""
    out = []
    for m in pool.memberships.all():
        if m.provider.slug in ordered:
            continue
        why = ("membership disabled" if not m.enabled else "provider disabled" if not m.provider.enabled
               else "its adapter does not serve " + pool.capability)
        out.append({"provider": m.provider.slug, "skip": "disabled", "detail": why})
    return sorted(out, key=lambda row: row["provider"])


def _history(pool: Pool, limit: int) -> list[dict[str, Any]]:
    events = RotationEvent.objects.filter(pool=pool).select_related("from_provider", "to_provider")[:limit]
    return [{"at": iso_precise(e.created_at), "from": e.from_provider.slug if e.from_provider else None,
             "to": e.to_provider.slug if e.to_provider else None, "reason": e.reason, "actor": e.actor}
            for e in events]


def pools_page(slug: str | None = None) -> dict[str, Any] | None:
    """Every pool (or the one `slug` names: None when unknown) with order, skips, uptime and history."""
    pools = Pool.objects.prefetch_related("memberships__provider").order_by("slug")
    if slug is not None:
        pools = pools.filter(slug=slug)
    pools = list(pools)
    if slug is not None and not pools:
        return None
    snapshot = selfheal.current_snapshot()
    try:
        orders = asyncio.run(read_orders(snapshot, [p.slug for p in pools if p.slug in snapshot.pools]))
    except (redis.RedisError, OSError) as exc:
        logger.warning("pools page: order unavailable, Redis down: %s", exc)
        orders = None
    limit = HISTORY_SHOWN if slug is None else HISTORY_SHOWN_DETAIL
    rows = []
    for pool in pools:
        order = None if orders is None else orders.get(pool.slug, [])
        ordered = {row["provider"] for row in order or []}
        rows.append({"slug": pool.slug, "name": pool.name, "capability": pool.capability, "strategy": pool.strategy,
                     "enabled": pool.enabled, "order": order, "not_ordered": _not_ordered(pool, ordered),
                     "uptime": history.pool_uptime(pool), "history": _history(pool, limit),
                     "members": PoolMembership.objects.filter(pool=pool).count()})
    return {"pools": rows, "one": slug is not None, "order_unavailable": orders is None,
            "generated_at": iso_precise(time.time())}


def rotate(slug: str, *, reason: str, actor: str) -> tuple[RotationEvent | None, str, int]:
    """Rotate the pool now (the API's and the admin's function): (event, error, HTTP status)."""
    pool = Pool.objects.filter(slug=slug).first()
    if pool is None:
        return None, f"no pool with slug {slug!r}", 404
    try:
        return pool_rotate(pool=pool, reason=reason or "manual rotation from the dashboard", actor=actor), "", 201
    except RotationStateUnavailable as exc:
        return None, str(exc), 503
    except RotationError as exc:  # too few members (409) or a bad reason (400)
        message = str(exc)
        return None, message, 400 if message.startswith("reason:") else 409
