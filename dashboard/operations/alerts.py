"""The Alerts tab: open and recent alerts, the rules, the channels (with their last deliveries) and
the maintenance windows, as plain dicts. Sending a test goes through
healing.monitoring.notifications.channel_test_send, the function the admin's action calls.
A channel's secret is never read here: only the variable's name and whether it is set.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from healing.models.monitoring import AlertDelivery, AlertRule, AlertState, MaintenanceWindow, NotificationChannel
from healing.monitoring.alerts import alerts_list
from healing.monitoring.notifications import channel_test_send
from providers.measures import iso_precise

# Recent alerts listed (open ones are always all listed).
RECENT_ALERTS = 50
# Deliveries shown per channel.
DELIVERIES_SHOWN = 3
# Maintenance windows that ended this long ago are still listed.
MAINTENANCE_PAST = timedelta(days=7)


def _rule_row(rule: AlertRule) -> dict[str, Any]:
    scope = rule.provider.slug if rule.provider_id else rule.pool.slug if rule.pool_id else "all"
    return {"name": rule.name, "kind": rule.kind, "kind_label": rule.get_kind_display(), "severity": rule.severity,
            "scope": scope, "enabled": rule.enabled, "channels": [c.name for c in rule.channels.all()],
            "repeat_minutes": rule.repeat_minutes}


def _delivery_row(d: AlertDelivery) -> dict[str, Any]:
    return {"event": d.event, "ok": d.ok, "attempts": d.attempts, "error": d.error,
            "at": iso_precise(d.created_at), "alert": d.alert_id}


def _channel_row(channel: NotificationChannel) -> dict[str, Any]:
    deliveries = channel.deliveries.all()[:DELIVERIES_SHOWN]
    return {"id": channel.pk, "name": channel.name, "kind": channel.kind, "enabled": channel.enabled,
            "secret_env": channel.secret_env, "secret_set": channel.secret_is_set,
            "deliveries": [_delivery_row(d) for d in deliveries]}


def _window_row(w: MaintenanceWindow, now: datetime) -> dict[str, Any]:
    state = "active" if w.starts_at <= now < w.ends_at else "upcoming" if w.starts_at > now else "ended"
    return {"target": f"provider {w.provider.slug}" if w.provider_id else f"pool {w.pool.slug}",
            "starts_at": iso_precise(w.starts_at), "ends_at": iso_precise(w.ends_at), "reason": w.reason,
            "created_by": w.created_by, "state": state}


def alerts_page(*, now: datetime | None = None) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    windows = (MaintenanceWindow.objects.filter(ends_at__gt=now - MAINTENANCE_PAST)
               .select_related("provider", "pool").order_by("starts_at"))
    return {
        "open": alerts_list(state=AlertState.OPEN, limit=1000),
        "recent": alerts_list(limit=RECENT_ALERTS),
        "rules": [_rule_row(r) for r in AlertRule.objects.select_related("provider", "pool")
                  .prefetch_related("channels")],
        "channels": [_channel_row(c) for c in NotificationChannel.objects.all()],
        "maintenance": [_window_row(w, now) for w in windows],
        "generated_at": iso_precise(now),
    }


def send_test(channel_id: int) -> tuple[dict[str, Any] | None, str, int]:
    """Send one test on the channel now: (the delivery recorded, error, HTTP status)."""
    channel = NotificationChannel.objects.filter(pk=channel_id).first()
    if channel is None:
        return None, f"no notification channel with id {channel_id}", 404
    if not channel.enabled:
        return None, f"channel {channel.name!r} is disabled; enable it in the admin first", 409
    record = channel_test_send(channel)
    if record is None:  # deleted or disabled meanwhile
        return None, f"channel {channel.name!r} is gone or disabled", 409
    return {"channel": channel.name, **_delivery_row(record)}, "", 200
