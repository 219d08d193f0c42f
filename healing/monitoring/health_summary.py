"""The old API's summaries, computed from cryptohub's own state: the totals `GET
/api/crypto-hub/health-status` adds (healthy / degraded / unhealthy, a percentage, one entry per
endpoint) and the `failed_endpoints` of the diagnostics report.

A provider is unhealthy when its breaker is open or its latest check failed; degraded when its
breaker is half open, it is cooling down after a 429, or a rate-limit window is spent; healthy
otherwise. Disabled providers and providers in a maintenance window are listed (status
"disabled", "maintenance") but counted in no total: they are out on purpose.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import Count, Max, Min

from healing.models.monitoring import HealthCheck
from healing.monitoring.history import latest_checks
from healing.monitoring.maintenance import active_maintenance
from providers.measures import iso_precise
from providers.models import Provider

# failed_endpoints looks back this far, and keeps this many errors per provider.
FAILURE_WINDOW = timedelta(hours=24)
LAST_ERRORS = 5


def _status(row: dict[str, Any], last_check: dict[str, Any] | None, drained: set[str]) -> str:
    if not row["enabled"]:
        return "disabled"
    if row["provider"] in drained:
        return "maintenance"
    breaker = row["breaker"]["state"]
    if breaker == "open" or (last_check is not None and not last_check["skipped"] and not last_check["ok"]):
        return "unhealthy"
    spent = any(b.get("remaining") == 0 for b in row["budgets"])
    if breaker == "half_open" or row["cooling_until"] or spent:
        return "degraded"
    return "healthy"


def health_totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """`rows`: selfheal.provider_runtime's answer. Totals over the enabled providers."""
    by_slug = dict(Provider.objects.filter(slug__in=[r["provider"] for r in rows]).values_list("slug", "pk"))
    latest = latest_checks(by_slug.values())
    base_urls = dict(Provider.objects.filter(slug__in=by_slug).values_list("slug", "base_url"))
    endpoints: dict[str, dict[str, Any]] = {}
    counts = {"healthy": 0, "degraded": 0, "unhealthy": 0}
    drained = active_maintenance()
    for row in rows:
        last = latest.get(by_slug.get(row["provider"], -1))
        status = _status(row, last, drained)
        if status in counts:
            counts[status] += 1
        endpoints[row["provider"]] = {
            "endpoint": base_urls.get(row["provider"], ""), "name": row["name"], "status": status,
            "breaker": row["breaker"]["state"],
            "last_check": None if last is None else {
                "ok": last["ok"], "skipped": last["skipped"], "checked_at": iso_precise(last["checked_at"]),
                "error": last["error_class"]},
        }
    total = sum(counts.values())
    return {"total": total, **counts,
            "health_percentage": round(100.0 * counts["healthy"] / total, 1) if total else None,
            "endpoints": endpoints}


def failed_endpoints(*, now: datetime | None = None) -> dict[str, Any]:
    """Providers whose checks failed in the last FAILURE_WINDOW: how often, first and last failure,
    their latest errors (one aggregate query, then one small query per failing provider)."""
    now = now or datetime.now(UTC)
    failed = HealthCheck.objects.filter(ok=False, skipped=False, checked_at__gt=now - FAILURE_WINDOW)
    totals = (failed.order_by().values("provider_id", "provider__slug", "provider__base_url")
              .annotate(failures=Count("id"), first=Min("checked_at"), last=Max("checked_at")))
    endpoints = {}
    for row in totals:
        latest = failed.filter(provider_id=row["provider_id"]).order_by("-checked_at", "-id")[:LAST_ERRORS]
        endpoints[row["provider__slug"]] = {
            "endpoint": row["provider__base_url"], "failures": row["failures"],
            "first_failure": iso_precise(row["first"]), "last_failure": iso_precise(row["last"]),
            "last_errors": [{"at": iso_precise(c.checked_at), "status_code": c.status_code, "error": c.error_class,
                             "message": c.message} for c in latest],
        }
    return {"count": len(endpoints), "window_hours": FAILURE_WINDOW.total_seconds() / 3600,
            "endpoints": dict(sorted(endpoints.items()))}
