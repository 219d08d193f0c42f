"""The public status page's content as plain data (the views in dashboard/statuspage shape it).

Components are the enabled pools (one per capability pool) and the provider categories that
have enabled providers. Each has a status now, 90 daily uptime bars, uptime over 24 h / 7 d /
30 d / 90 d and an hourly response-time series; the page also lists incidents (open, and those
of the last 30 days, with their timelines) and maintenance in progress or scheduled ahead.

History is read with one grouped query per table (health checks by provider and UTC day,
roll-ups of the last 24 hours, incidents with their updates, maintenance windows), never one
query per provider or day; `status_page()` keeps the result in Redis for CACHE_TTL_S.
The rules below are printed on the page as they are written here.
"""

from __future__ import annotations

import json
import logging
import statistics
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import redis
from django.conf import settings
from django.db.models import Count, Q
from django.db.models.functions import TruncDate

from healing.models.incidents import Incident
from healing.models.monitoring import HealthCheck, MaintenanceWindow, StatsRollup
from healing.monitoring.history import DEFAULT_HISTORY_DAYS
from healing.monitoring.incidents import MemberView, member_views, members_by_pool
from healing.monitoring.maintenance import active_pool_maintenance
from pools.models import Pool
from providers.measures import iso_precise
from providers.models import Category, Provider
from providers.runtime import rkey, sync_redis

logger = logging.getLogger(__name__)

UPTIME_DAYS = 90  # daily bars on the page
RESPONSE_HOURS = 24  # hourly points of the response-time chart
INCIDENT_DAYS = 30  # resolved incidents stay listed this long
MAINTENANCE_LISTED = 20  # at most this many windows ahead
CACHE_TTL_S = 30  # the computed page is shared by every process for this long (seconds)
CACHE_KEY = ("statuspage", "v1")
# Uptime percentages over these spans: "24h" is the last 24 hours, the others whole UTC days
# counted back from today (today included), as the daily bars are.
PERCENT_DAYS = {"7d": 7, "30d": 30, "90d": 90}

OPERATIONAL, DEGRADED, DOWN, MAINTENANCE, NO_DATA = "operational", "degraded", "down", "maintenance", "no_data"
BANNERS = {
    "operational": "All systems operational",
    "degraded": "Degraded performance",
    "partial_outage": "Partial outage",
    "major_outage": "Major outage",
    "maintenance": "Under maintenance",
    "no_data": "No data yet",
}
# A day's colour by its downtime (100 - uptime %): up to this many percent -> band.
DAY_BANDS = [(0.0, "up"), (1.0, "minor"), (5.0, "partial")]  # above the last: "major"

BANNER_RULE = (
    "A component is down when none of its probed providers is up, degraded when some are up and "
    "some down, operational when every probed provider is up. Components in maintenance or without "
    "data are left out. Banner: half or more of the components down = major outage; any down = "
    "partial outage; any degraded = degraded performance; otherwise all systems operational."
)
UPTIME_RULE = (
    "Uptime of a day = the share of that day's health checks (UTC) of the component's providers that "
    "succeeded. Checks that were skipped (a provider without its API key) and checks made during a "
    "maintenance window of the provider or the pool are not counted; a day without any counted check "
    "shows as no data, not as 100 %. 24 h = the last 24 hours; 7 d / 30 d / 90 d = the last 7 / 30 / 90 "
    "UTC days, today included. Bar colours by downtime: none, up to 1 %, up to 5 %, more than 5 %."
)


# --- rules (pure) --------------------------------------------------------------------------------


def component_status(members: list[MemberView], *, in_maintenance: bool = False, empty_is_down: bool = False) -> str:
    """A component's status from its members' current states (see BANNER_RULE)."""
    if in_maintenance or (members and all(m.state == "maintenance" for m in members)):
        return MAINTENANCE
    states = [m.state for m in members]
    up, down = states.count("up"), states.count("down")
    if not members and empty_is_down:
        return DOWN  # a pool without an enabled member cannot serve anything
    if up and down:
        return DEGRADED
    if down:
        return DOWN
    return OPERATIONAL if up else NO_DATA


def banner(statuses: list[str]) -> str:
    """The overall banner from the components' statuses (see BANNER_RULE)."""
    counted = [s for s in statuses if s not in (MAINTENANCE, NO_DATA)]
    if not counted:
        return MAINTENANCE if MAINTENANCE in statuses else NO_DATA
    down = counted.count(DOWN)
    if down and 2 * down >= len(counted):
        return "major_outage"
    if down:
        return "partial_outage"
    return "degraded" if DEGRADED in counted else "operational"


def day_band(uptime_pct: float | None) -> str:
    if uptime_pct is None:
        return "nodata"
    downtime = 100.0 - uptime_pct
    for limit, band in DAY_BANDS:
        if downtime <= limit:
            return band
    return "major"


def _pct(up: int, total: int) -> float | None:
    return round(100.0 * up / total, 3) if total else None


# --- uptime from the health checks (one grouped query) -------------------------------------------


class Counts:
    """Per provider: (total, up) per UTC day and over the last 24 h; the same again for checks
    inside each pool's maintenance windows (subtracted for that pool only)."""

    def __init__(self) -> None:
        self.days: dict[int, dict[date, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
        self.last_24h: dict[int, list[int]] = defaultdict(lambda: [0, 0])
        self.pool_days: dict[tuple[int, int], dict[date, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
        self.pool_24h: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])


def _window_q(windows: list[tuple[datetime, datetime]]) -> Q:
    q = Q(pk__in=[])
    for starts, ends in windows:
        q |= Q(checked_at__gte=starts, checked_at__lt=ends)
    return q


def _maintenance_windows(start: datetime, now: datetime) -> tuple[Q | None, dict[int, list[tuple[datetime, datetime]]]]:
    """Provider windows as one exclusion, pool windows by pool id, overlapping [start, now]."""
    rows = MaintenanceWindow.objects.filter(starts_at__lt=now, ends_at__gt=start).values_list(
        "provider_id", "pool_id", "starts_at", "ends_at")
    exclude: Q | None = None
    by_pool: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    for provider_id, pool_id, starts, ends in rows:
        if provider_id is not None:
            q = Q(provider_id=provider_id, checked_at__gte=starts, checked_at__lt=ends)
            exclude = q if exclude is None else exclude | q
        else:
            by_pool[pool_id].append((starts, ends))
    return exclude, by_pool


def check_counts(provider_ids: list[int], *, start: datetime, now: datetime) -> Counts:
    """Counted checks per provider per UTC day since `start` in one grouped query (see UPTIME_RULE)."""
    exclude, pool_windows = _maintenance_windows(start, now)
    since_24h = now - timedelta(hours=24)
    aggregates: dict[str, Any] = {
        "total": Count("id"), "up": Count("id", filter=Q(ok=True)),
        "total_24h": Count("id", filter=Q(checked_at__gt=since_24h)),
        "up_24h": Count("id", filter=Q(ok=True, checked_at__gt=since_24h)),
    }
    for pool_id, windows in pool_windows.items():
        inside = _window_q(windows)
        aggregates[f"p{pool_id}_total"] = Count("id", filter=inside)
        aggregates[f"p{pool_id}_up"] = Count("id", filter=inside & Q(ok=True))
        aggregates[f"p{pool_id}_total_24h"] = Count("id", filter=inside & Q(checked_at__gt=since_24h))
        aggregates[f"p{pool_id}_up_24h"] = Count("id", filter=inside & Q(ok=True, checked_at__gt=since_24h))
    # Sweeps only: an operator probing a provider again and again must not move the public figures.
    qs = HealthCheck.objects.filter(provider_id__in=provider_ids, skipped=False, manual=False, checked_at__gte=start,
                                    checked_at__lte=now)
    if exclude is not None:
        qs = qs.exclude(exclude)
    rows = (qs.annotate(day=TruncDate("checked_at", tzinfo=UTC)).order_by()
            .values("provider_id", "day").annotate(**aggregates))
    counts = Counts()
    for row in rows:
        pid, day = row["provider_id"], row["day"]
        counts.days[pid][day] = [row["total"], row["up"]]
        counts.last_24h[pid][0] += row["total_24h"]
        counts.last_24h[pid][1] += row["up_24h"]
        for pool_id in pool_windows:
            key = (pool_id, pid)
            counts.pool_days[key][day] = [row[f"p{pool_id}_total"], row[f"p{pool_id}_up"]]
            counts.pool_24h[key][0] += row[f"p{pool_id}_total_24h"]
            counts.pool_24h[key][1] += row[f"p{pool_id}_up_24h"]
    return counts


def component_uptime(counts: Counts, provider_ids: list[int], *, today: date,
                     pool_id: int | None = None) -> dict[str, Any]:
    """The component's daily bars (oldest first) and its uptime percentages."""
    per_day: dict[date, list[int]] = defaultdict(lambda: [0, 0])
    total_24h = up_24h = 0
    for pid in provider_ids:
        for day, (total, up) in counts.days.get(pid, {}).items():
            minus = counts.pool_days.get((pool_id, pid), {}).get(day, [0, 0]) if pool_id else [0, 0]
            per_day[day][0] += total - minus[0]
            per_day[day][1] += up - minus[1]
        minus = counts.pool_24h.get((pool_id, pid), [0, 0]) if pool_id else [0, 0]
        total_24h += counts.last_24h.get(pid, [0, 0])[0] - minus[0]
        up_24h += counts.last_24h.get(pid, [0, 0])[1] - minus[1]
    days = []
    for back in range(UPTIME_DAYS - 1, -1, -1):
        day = today - timedelta(days=back)
        total, up = per_day.get(day, [0, 0])
        pct = _pct(up, total)
        days.append({"date": day.isoformat(), "uptime_pct": pct, "checks": total, "ok": up, "band": day_band(pct)})
    uptime = {"24h": _pct(up_24h, total_24h)}
    for name, span in PERCENT_DAYS.items():
        recent = days[-span:]
        uptime[name] = _pct(sum(d["ok"] for d in recent), sum(d["checks"] for d in recent))
    return {"uptime": uptime, "days": days}


# --- response time from the hourly roll-ups (one query) ------------------------------------------


def response_series(provider_ids: list[int], *, now: datetime) -> dict[int, dict[datetime, float]]:
    """provider id -> hour -> that hour's p50 latency (ms), for the last RESPONSE_HOURS hours."""
    first = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=RESPONSE_HOURS - 1)
    rows = StatsRollup.objects.filter(provider_id__in=provider_ids, hour__gte=first, hour__lte=now,
                                      latency_p50_ms__isnull=False).values_list("provider_id", "hour", "latency_p50_ms")
    out: dict[int, dict[datetime, float]] = defaultdict(dict)
    for pid, hour, p50 in rows:
        out[pid][hour.astimezone(UTC)] = p50
    return out


def component_response(series: dict[int, dict[datetime, float]], provider_ids: list[int], *,
                       now: datetime) -> list[dict[str, Any]]:
    """Hourly points (oldest first): the median of the providers' hourly p50, None without data."""
    last = now.replace(minute=0, second=0, microsecond=0)
    points = []
    for back in range(RESPONSE_HOURS - 1, -1, -1):
        hour = last - timedelta(hours=back)
        values = [series[pid][hour] for pid in provider_ids if hour in series.get(pid, {})]
        points.append({"hour": iso_precise(hour), "p50_ms": round(statistics.median(values), 1) if values else None})
    return points


# --- incidents and maintenance -------------------------------------------------------------------


def incidents_listed(now: datetime) -> list[dict[str, Any]]:
    """Unresolved incidents, and those resolved within INCIDENT_DAYS, newest first, with timelines."""
    since = now - timedelta(days=INCIDENT_DAYS)
    qs = (Incident.objects.filter(Q(resolved_at__isnull=True) | Q(resolved_at__gte=since))
          .filter(opened_at__lte=now).select_related("pool").prefetch_related("updates"))
    return [
        {"id": i.pk, "pool": i.pool.slug, "pool_name": i.pool.name, "kind": i.kind, "title": i.title,
         "state": i.state, "opened_at": iso_precise(i.opened_at), "resolved_at": iso_precise(i.resolved_at),
         "updates": [{"at": iso_precise(u.at), "state": u.state, "message": u.message} for u in i.updates.all()]}
        for i in qs
    ]


def maintenance_listed(now: datetime) -> list[dict[str, Any]]:
    """Windows in progress and scheduled ahead, soonest first."""
    qs = (MaintenanceWindow.objects.filter(ends_at__gt=now).select_related("provider", "pool")
          .order_by("starts_at", "id")[:MAINTENANCE_LISTED])
    return [
        {"subject": f"pool {w.pool.slug}" if w.pool_id else f"provider {w.provider.slug}",
         "starts_at": iso_precise(w.starts_at), "ends_at": iso_precise(w.ends_at), "reason": w.reason,
         "in_progress": w.starts_at <= now}
        for w in qs
    ]


# --- the page ------------------------------------------------------------------------------------


def _components(now: datetime) -> list[dict[str, Any]]:
    pools = list(Pool.objects.filter(enabled=True).order_by("name", "slug"))
    providers = list(Provider.objects.enabled().order_by("slug").values_list("pk", "slug", "category"))
    members = members_by_pool([p.pk for p in pools])
    views, _ = member_views({pk: slug for pk, slug, _ in providers}, now)
    ids = [pk for pk, _, _ in providers]
    counts = check_counts(ids, start=datetime.combine(now.date() - timedelta(days=UPTIME_DAYS - 1), datetime.min.time(),
                                                      UTC), now=now)
    series = response_series(ids, now=now)
    drained_pools = active_pool_maintenance(now)
    groups: list[tuple[str, str, str, list[int], int | None, bool]] = [
        ("pool", p.slug, p.name, [pid for pid, _ in members[p.pk]], p.pk, p.slug in drained_pools) for p in pools]
    labels = dict(Category.choices)
    for category in sorted({c for _, _, c in providers}):
        groups.append(("category", category, labels.get(category, category),
                       [pk for pk, _, c in providers if c == category], None, False))
    out = []
    for kind, slug, name, pids, pool_id, drained in groups:
        mviews = [views[pid] for pid in pids]
        out.append({
            "kind": kind, "slug": slug, "name": name,
            "status": component_status(mviews, in_maintenance=drained, empty_is_down=kind == "pool"),
            "members": [{"provider": m.slug, "state": m.state} for m in mviews],
            **component_uptime(counts, pids, today=now.date(), pool_id=pool_id),
            "response_ms": component_response(series, pids, now=now),
        })
    return out


def build_status_page(now: datetime | None = None) -> dict[str, Any]:
    """The whole page as plain data (also the JSON of /api/status/page)."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    components = _components(now)
    overall = banner([c["status"] for c in components])
    return {
        "generated_at": iso_precise(now),
        "banner": {"status": overall, "title": BANNERS[overall]},
        "rules": {"banner": BANNER_RULE, "uptime": UPTIME_RULE},
        "history_days": int(getattr(settings, "CRYPTOHUB_HISTORY_DAYS", DEFAULT_HISTORY_DAYS)),
        "components": components,
        "incidents": incidents_listed(now),
        "maintenance": maintenance_listed(now),
    }


def status_page() -> dict[str, Any]:
    """build_status_page(), shared through Redis for CACHE_TTL_S; computed directly without Redis."""
    key = rkey(*CACHE_KEY)
    try:
        cached = sync_redis().get(key)
        if cached:
            return json.loads(cached)
    except redis.RedisError as exc:
        logger.warning("status page cache unavailable: %s", exc)
        return build_status_page()
    page = build_status_page()
    try:
        sync_redis().set(key, json.dumps(page), ex=CACHE_TTL_S)
    except redis.RedisError as exc:
        logger.warning("status page not cached: %s", exc)
    return page


def pool_badge_status(slug: str) -> str | None:
    """The status of one enabled pool for its badge, from the (cached) page; None if no such pool."""
    for component in status_page()["components"]:
        if component["kind"] == "pool" and component["slug"] == slug:
            return component["status"]
    return None
