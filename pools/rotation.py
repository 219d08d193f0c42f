"""Reading a pool's current order, and rotating it by hand ("rotate pool now").

Reading never rotates: `current_order` peeks the round-robin cursor and never explores.
A manual rotation demotes the current head for ROTATION_DEMOTE_S seconds (and, for round robin,
also advances the cursor), so the next member becomes primary for every strategy, then records
a RotationEvent.
"""

from __future__ import annotations

import logging
import time

import redis

from providers.models import Provider
from providers.runtime import sync_redis

from . import state
from .models import Pool, RotationEvent, Strategy
from .selectors import pool_members
from .strategies import Member, expected_order

logger = logging.getLogger(__name__)

# How long a manually rotated-away provider stays at the back of its pool, in seconds.
ROTATION_DEMOTE_S = 300
# RotationEvent.reason's column width.
REASON_MAX_LENGTH = RotationEvent._meta.get_field("reason").max_length


class RotationError(Exception):
    """The pool cannot be rotated as asked; the message says why (the API answers 400/409)."""


class NotEnoughMembers(RotationError):
    """Fewer than two eligible members: there is nothing to rotate to (409)."""


class RotationStateUnavailable(RotationError):
    """Redis, which holds the rotation state, did not answer (503)."""


def _pool(pool: Pool | str) -> Pool:
    return pool if isinstance(pool, Pool) else Pool.objects.get(slug=pool)


def _order(pool: Pool, members: list[Member], r: redis.Redis, now: float) -> list[Member]:
    inputs = state.order_inputs(r, pool.slug, pool.strategy, [m.provider for m in members], now, advance=False)
    return expected_order(pool.strategy, members, **inputs)


def current_order(pool: Pool | str, *, r: redis.Redis | None = None, now: float | None = None) -> list[Member]:
    """The order the next request would use, without rotating anything.

    Deterministic: fastest_response is shown without exploration and weighted as its most likely
    order (heaviest first). Pool.DoesNotExist for an unknown slug.
    """
    pool = _pool(pool)
    members = pool_members(pool)
    if not members:
        return []
    return _order(pool, members, r or sync_redis(), time.time() if now is None else now)


def pool_rotate(
    *, pool: Pool | str, reason: str, actor: str, r: redis.Redis | None = None, now: float | None = None
) -> RotationEvent:
    """Make the next member the pool's primary now, and record who did it and why."""
    reason = (reason or "").strip()
    if not reason:
        raise RotationError("reason: give a reason for the rotation")
    if len(reason) > REASON_MAX_LENGTH:
        raise RotationError(f"reason: at most {REASON_MAX_LENGTH} characters")
    pool = _pool(pool)
    r = r or sync_redis()
    now = time.time() if now is None else now
    members = pool_members(pool)
    if not members:
        raise NotEnoughMembers(f"pool {pool.slug!r} has no eligible member to rotate to")
    if len(members) == 1:
        # Nothing to rotate to: the head stays, and the request is still on record (who asked, why).
        old_head = new_head = members[0].provider
        return _record(pool, old_head, new_head, reason, actor)
    try:
        old_head = _order(pool, members, r, now)[0].provider
        if pool.strategy == Strategy.ROUND_ROBIN:
            state.rr_advance(r, pool.slug)
        state.demote(r, pool.slug, old_head, ROTATION_DEMOTE_S, now=now)
        demoted = state.demoted(r, pool.slug, now)
        if all(m.provider in demoted for m in members):
            # Everyone has been rotated away once: start the cycle again, the old head last.
            state.undemote(r, pool.slug, [m.provider for m in members if m.provider != old_head])
        new_head = _order(pool, members, r, now)[0].provider
    except redis.RedisError as exc:
        logger.warning("pool %s not rotated, Redis unavailable: %s", pool.slug, exc)
        raise RotationStateUnavailable("rotation state (Redis) is unavailable; try again") from exc

    return _record(pool, old_head, new_head, reason, actor)


def _record(pool: Pool, old_head: str, new_head: str, reason: str, actor: str) -> RotationEvent:
    by_slug = Provider.objects.in_bulk([old_head, new_head], field_name="slug")
    event = RotationEvent.objects.create(
        pool=pool,
        from_provider=by_slug.get(old_head),
        to_provider=by_slug.get(new_head),
        reason=reason,
        actor=actor or "system",
    )
    logger.info("pool %s rotated %s -> %s by %s: %s", pool.slug, old_head, new_head, event.actor, reason)
    return event
