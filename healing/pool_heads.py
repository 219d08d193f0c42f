"""The `pools` channel of the live feed: manual rotations and automatic head changes.

A pool's head is the member its next request would use, by the engine's own candidate order
(healing.engine.candidates: breakers, cool-downs, maintenance, the strategy). It changes by
itself when the head's breaker opens (or a better member's closes), its budget is spent, or a
maintenance window starts or ends; whoever causes that calls `heads_changed` for the pools that
contain the provider. The last head of each pool is kept in Redis and swapped by one script, so
every process agrees and each change is published exactly once, by the process that saw it.

Round-robin pools have no lasting head (it moves on with every request): they are left out.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

import redis
import redis.asyncio

from healing import events
from healing.catalogue import snapshot_builder
from healing.engine.candidates import plan_order
from healing.engine.config import PoolConfig, Snapshot
from healing.engine.deps import Deps
from healing.engine.snapshot import read_config_version
from providers.runtime import rkey, sync_redis

logger = logging.getLogger(__name__)

BREAKER_OPEN, BUDGET_SPENT, MAINTENANCE, RECOVERED = "breaker_open", "budget_spent", "maintenance", "recovered"
# How long a remembered head is kept (seconds): a pool nobody's state touched for a day starts afresh.
HEAD_TTL_S = 86400
# Swap the stored head for ARGV[1]; the old one ("" if none) when it differed, nil when it is the same.
_SWAP_HEAD = """
local old = redis.call('GET', KEYS[1])
if old == ARGV[1] then return nil end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return old or ''
"""
# No member can be used (every one drained or cooling): stored as this, published as null.
NO_HEAD = "-"


def head_key(pool_slug: str) -> str:
    return rkey("feed", "pool_head", pool_slug)


async def _snapshot_from_catalogue(redis_client: redis.asyncio.Redis) -> Snapshot:
    return await snapshot_builder(await read_config_version(redis_client))


# Where the config comes from: the database by default; the data plane installs its snapshot holder.
_snapshots: list[Callable[[redis.asyncio.Redis], Awaitable[Snapshot]]] = [_snapshot_from_catalogue]


def use_snapshots(source: Callable[[redis.asyncio.Redis], Awaitable[Snapshot]]) -> None:
    """Read the config through `source` in this process (the data plane's per-process snapshot)."""
    _snapshots[:] = [source]


def pools_with(snapshot: Snapshot, provider: str | None) -> list[PoolConfig]:
    """The enabled pools with a lasting head that contain `provider` (all of them for None)."""
    return [p for p in snapshot.pools.values() if p.enabled and p.strategy != "round_robin"
            and (provider is None or any(m.provider == provider for m in p.members))]


async def head_of(deps: Deps, snapshot: Snapshot, pool: PoolConfig) -> str:
    """The member the pool's next request would use (NO_HEAD if none may be called)."""
    providers = [snapshot.providers[m.provider] for m in pool.members if m.provider in snapshot.providers]
    for cand in await plan_order(deps, pool, providers, pool.capability).read():
        # A member whose budget is spent is skipped by its refused token; the head is the next one.
        if not cand.skip and all(w["remaining"] > 0 for w in await deps.budget.remaining(cand.cfg)):
            return cand.slug
    return NO_HEAD


def _reading_deps(redis_client: redis.asyncio.Redis, clock: Callable[[], float]) -> Deps:
    # Reads only (no HTTP); a fixed seed so a weighted or exploring strategy names the same head each time.
    return Deps(redis=redis_client, http=None, clock=clock, rng=random.Random(0))  # type: ignore[arg-type]


async def heads_changed(
    redis_client: redis.asyncio.Redis, provider: str | None, reason: str | Callable[[str, str | None], str], *,
    clock: Callable[[], float] | None = None, snapshot: Snapshot | None = None,
) -> list[dict[str, Any]]:
    """Recompute the heads of the pools containing `provider` (every pool for None); publish and
    return the changes. `reason` may be a function of (pool slug, old head).

    Never raises: a head change missed while Redis or the config is unreadable is caught up by
    the next cause that recomputes it.
    """
    if snapshot is None:
        try:
            snapshot = await _snapshots[0](redis_client)
        except Exception as exc:  # noqa: BLE001 - a process without the config (no database) judges no heads
            logger.debug("pool heads not recomputed for %s, no config: %r", provider or "every pool", exc)
            return []
    try:
        deps = _reading_deps(redis_client, clock or time.time)
        swap = redis_client.register_script(_SWAP_HEAD)
        changes = []
        for pool in pools_with(snapshot, provider):
            head = await head_of(deps, snapshot, pool)
            old = await swap(keys=[head_key(pool.slug)], args=[head, HEAD_TTL_S])
            old = old.decode() if isinstance(old, bytes) else old
            if old:  # None: unchanged; "": first time seen, nothing known to have changed
                why = reason(pool.slug, _named(old)) if callable(reason) else reason
                changes.append({"pool": pool.slug, "from": _named(old), "to": _named(head), "reason": why,
                                "kind": "auto"})
    except Exception as exc:  # noqa: BLE001 - the feed is best-effort; the request or task goes on
        logger.warning("pool heads not recomputed for %s: %r", provider or "every pool", exc)
        return []
    await events.apublish(events.POOLS, changes)
    return changes


def _named(head: str) -> str | None:
    return None if head == NO_HEAD else head


async def seed_heads(redis_client: redis.asyncio.Redis, snapshot: Snapshot) -> None:
    """Remember every pool's head at startup (a first change then has a known `from`)."""
    await heads_changed(redis_client, None, RECOVERED, snapshot=snapshot)


# --- manual rotations ----------------------------------------------------------------------


def rotation_payload(event: Any) -> dict[str, Any]:
    """The `pools` event of a RotationEvent row (pools.models): who rotated which pool, and why."""
    def slug(provider: Any) -> str | None:
        return None if provider is None else provider.slug

    return {"pool": event.pool.slug, "from": slug(event.from_provider), "to": slug(event.to_provider),
            "reason": event.reason, "actor": event.actor, "kind": "manual"}


def on_rotation_saved(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    """post_save of RotationEvent: publish the rotation once its transaction commits, and remember
    its new head, so the next recompute (whatever its cause) does not announce the same move again
    as an automatic one."""
    if not created:
        return
    from django.db import transaction

    payload = rotation_payload(instance)
    lasting = instance.pool.strategy != "round_robin"

    def committed() -> None:
        events.publish(events.POOLS, [payload])
        if lasting and payload["to"] is not None:
            remember_head(payload["pool"], payload["to"])

    transaction.on_commit(committed)


def remember_head(pool_slug: str, head: str) -> None:
    """Store `head` as the pool's last head without publishing (best-effort, from sync code)."""
    try:
        sync_redis().set(head_key(pool_slug), head, ex=HEAD_TTL_S)
    except redis.RedisError as exc:
        logger.warning("head of pool %s after a rotation not remembered: %s", pool_slug, exc)


def connect() -> None:
    """Publish every manual rotation (the admin action and the API both record a RotationEvent)."""
    from django.db.models.signals import post_save

    from pools.models import RotationEvent

    post_save.connect(on_rotation_saved, sender=RotationEvent, dispatch_uid="healing.pool_heads.rotation")

