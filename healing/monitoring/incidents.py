"""Incidents of the public status page, opened and resolved automatically.

`evaluate_incidents(now)` looks at every enabled pool once:

- `no_healthy_member`: none of the pool's members is healthy. A member is healthy unless it is
  in a maintenance window, its latest check failed or was skipped (no key), or its breaker is
  not closed; a member never checked yet counts as healthy (nothing says otherwise).
- `head_breaker_open`: the breaker of the pool's first member (highest priority, then slug: the
  order routing tries first) is open or half-open.

A condition that holds and has no unresolved incident opens one ("investigating"); the next
evaluation that still sees it adds "identified" with what each member's last check said; an
unresolved incident whose condition no longer holds (or whose pool was disabled or emptied of
that condition) is resolved with a timeline row. A pool in a maintenance window is left alone:
the window is the announcement. Running it twice at the same `now` changes nothing, and a
partial unique constraint keeps one unresolved incident per pool and kind even when two
evaluations race. Without Redis the breaker half cannot be judged: head-breaker incidents are
neither opened nor resolved, and `no_healthy_member` uses the checks alone.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import redis.asyncio
from django.conf import settings
from django.db import IntegrityError, transaction

from healing.engine.breaker import CLOSED, BreakerStore
from healing.models.incidents import Incident, IncidentKind, IncidentState, IncidentUpdate
from healing.monitoring.history import latest_checks
from healing.monitoring.maintenance import active_maintenance, active_pool_maintenance
from pools.models import Pool, PoolMembership

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MemberView:
    """What the evaluation knows about one member: its slug, latest check and breaker state."""

    slug: str
    last: dict[str, Any] | None
    breaker: str | None  # "closed" / "open" / "half_open", None when Redis could not say
    drained: bool = False

    @property
    def healthy(self) -> bool:
        if self.drained:
            return False
        if self.last is not None and (self.last["skipped"] or not self.last["ok"]):
            return False
        return self.breaker in (None, CLOSED)

    @property
    def state(self) -> str:
        """What the status page shows: up, down, skipped (not probed), unknown (never checked), maintenance."""
        if self.drained:
            return "maintenance"
        if self.breaker not in (None, CLOSED) or (self.last is not None and not self.last["skipped"]
                                                   and not self.last["ok"]):
            return "down"
        if self.last is None:
            return "unknown"
        return "skipped" if self.last["skipped"] else "up"

    def cause(self) -> str:
        """One short phrase: why this member is not serving (or that it is)."""
        if self.drained:
            return "in maintenance"
        if self.breaker not in (None, CLOSED):
            return f"breaker {self.breaker}"
        if self.last is None:
            return "not checked yet"
        if self.last["skipped"]:
            return "not probed (no key)"
        if not self.last["ok"]:
            return self.last["message"] or self.last["error_class"] or "check failed"
        return "healthy"


@dataclass
class IncidentReport:
    opened: list[int] = field(default_factory=list)
    identified: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)

    def summary(self) -> dict[str, int]:
        return {"opened": len(self.opened), "identified": len(self.identified), "resolved": len(self.resolved)}


def conditions(pool_slug: str, members: list[MemberView], *, breakers_known: bool) -> dict[str, str | None]:
    """kind -> the incident title when the condition holds, None when it does not, and no entry
    when it cannot be judged (head breaker without Redis). Pure: no database, no Redis."""
    out: dict[str, str | None] = {}
    if any(m.healthy for m in members):
        out[IncidentKind.NO_HEALTHY_MEMBER] = None
    else:
        out[IncidentKind.NO_HEALTHY_MEMBER] = f"{pool_slug}: no healthy provider ({len(members)} member(s))"
    if breakers_known:
        head = members[0] if members else None
        if head is not None and head.breaker not in (None, CLOSED):
            out[IncidentKind.HEAD_BREAKER_OPEN] = f"{pool_slug}: breaker {head.breaker} on {head.slug}, " \
                                                  f"the first provider"
        else:
            out[IncidentKind.HEAD_BREAKER_OPEN] = None
    return out


def members_by_pool(pool_ids: list[int]) -> dict[int, list[tuple[int, str]]]:
    """pool id -> [(provider id, slug)] in routing order, for every pool in one query."""
    rows = (PoolMembership.objects.filter(pool_id__in=pool_ids, enabled=True, provider__enabled=True)
            .order_by("pool_id", "-priority", "provider__slug").values_list("pool_id", "provider_id", "provider__slug"))
    out: dict[int, list[tuple[int, str]]] = {pk: [] for pk in pool_ids}
    for pool_id, provider_id, slug in rows:
        out[pool_id].append((provider_id, slug))
    return out


async def _read_breakers(slugs: list[str], clock: float) -> dict[str, str]:
    r = redis.asyncio.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    try:
        states = await BreakerStore(r, lambda: clock).states(slugs)
        return {slug: state.state for slug, state in states.items()}
    finally:
        await r.aclose()


def breaker_states(slugs: list[str], now: datetime) -> dict[str, str] | None:
    """slug -> breaker state from the shared store; None when Redis does not answer."""
    if not slugs:
        return {}
    try:
        return asyncio.run(_read_breakers(slugs, now.timestamp()))
    except Exception as exc:  # Redis down: the caller judges what the database alone can tell
        logger.warning("breaker states unavailable for incidents: %s", exc)
        return None


def member_views(providers: dict[int, str], now: datetime) -> tuple[dict[int, MemberView], bool]:
    """provider id -> MemberView for the given {id: slug}; checks, breakers and maintenance are read
    once for all. The flag says whether the breakers could be read."""
    latest = latest_checks(providers)
    drained = active_maintenance(now)
    breakers = breaker_states(sorted(providers.values()), now)
    views = {pk: MemberView(slug, latest.get(pk), None if breakers is None else breakers.get(slug, CLOSED),
                            drained=slug in drained) for pk, slug in providers.items()}
    return views, breakers is not None


def pool_member_views(pools: list[Pool], now: datetime) -> tuple[dict[int, list[MemberView]], bool]:
    """Every pool's members as MemberViews, in routing order."""
    members = members_by_pool([p.pk for p in pools])
    views, breakers_known = member_views({pid: slug for rows in members.values() for pid, slug in rows}, now)
    return {pool_id: [views[pid] for pid, _ in rows] for pool_id, rows in members.items()}, breakers_known


def evaluate_incidents(now: datetime | None = None) -> IncidentReport:
    """Open, confirm and resolve the pools' incidents at `now` (idempotent)."""
    now = now or datetime.now(UTC)
    report = IncidentReport()
    pools = list(Pool.objects.filter(enabled=True))
    views, breakers_known = pool_member_views(pools, now)
    drained_pools = active_pool_maintenance(now)
    unresolved = {(i.pool_id, i.kind): i for i in Incident.objects.filter(resolved_at__isnull=True)}
    judged: set[tuple[int, str]] = set()
    for pool in pools:
        if pool.slug in drained_pools:
            judged.update((pool.pk, kind) for kind in IncidentKind.values)
            continue
        for kind, title in conditions(pool.slug, views[pool.pk], breakers_known=breakers_known).items():
            judged.add((pool.pk, kind))
            incident = unresolved.get((pool.pk, kind))
            if title is not None and incident is None:
                _open(pool, kind, title, now, report)
            elif title is not None and incident.state == IncidentState.INVESTIGATING:
                _identify(incident, views[pool.pk], now, report)
            elif title is None and incident is not None:
                _resolve(incident, "the pool has a healthy provider again" if kind == IncidentKind.NO_HEALTHY_MEMBER
                         else "the first provider's breaker closed", now, report)
    for key, incident in unresolved.items():
        # Pools disabled (or deleted members' pools) since the incident opened: nothing to watch.
        if key not in judged and (key[1] != IncidentKind.HEAD_BREAKER_OPEN or breakers_known):
            _resolve(incident, "the pool is no longer watched (disabled)", now, report)
    if any(report.summary().values()):
        logger.info("incidents evaluated: %s", report.summary())
    return report


def _open(pool: Pool, kind: str, title: str, now: datetime, report: IncidentReport) -> None:
    try:
        with transaction.atomic():
            incident = Incident.objects.create(pool=pool, kind=kind, title=title[:200], opened_at=now,
                                               state=IncidentState.INVESTIGATING)
            IncidentUpdate.objects.create(incident=incident, at=now, state=IncidentState.INVESTIGATING,
                                          message=f"Detected automatically: {title}"[:500])
    except IntegrityError:  # another evaluation opened it a moment ago
        return
    report.opened.append(incident.pk)
    logger.warning("incident opened: %s", title)


def _identify(incident: Incident, members: list[MemberView], now: datetime, report: IncidentReport) -> None:
    causes = "; ".join(f"{m.slug}: {m.cause()}" for m in members) or "the pool has no enabled member"
    with transaction.atomic():
        # Compare-and-set on the state: two racing evaluations write one "identified" row.
        changed = Incident.objects.filter(pk=incident.pk, state=IncidentState.INVESTIGATING,
                                          resolved_at__isnull=True).update(state=IncidentState.IDENTIFIED)
        if changed:
            IncidentUpdate.objects.create(incident=incident, at=now, state=IncidentState.IDENTIFIED,
                                          message=f"Still failing: {causes}"[:500])
    if changed:
        report.identified.append(incident.pk)


def _resolve(incident: Incident, why: str, now: datetime, report: IncidentReport) -> None:
    with transaction.atomic():
        changed = Incident.objects.filter(pk=incident.pk, resolved_at__isnull=True).update(
            state=IncidentState.RESOLVED, resolved_at=now)
        if changed:
            IncidentUpdate.objects.create(incident=incident, at=now, state=IncidentState.RESOLVED,
                                          message=f"Resolved automatically: {why}"[:500])
    if changed:
        report.resolved.append(incident.pk)
        logger.info("incident resolved: %s (%s)", incident.title, why)
