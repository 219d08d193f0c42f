"""Admin for the monitoring models (imported by healing/admin.py).

Channel secrets are never shown: the admin lists the variable's NAME and whether it is set.
Saving or deleting a maintenance window re-syncs the drained sets in Redis at once, so routing
does not wait for the next sweep.
"""

from __future__ import annotations

import logging

import redis
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from healing.models.incidents import Incident, IncidentUpdate
from healing.models.monitoring import (
    Alert,
    AlertDelivery,
    AlertRule,
    HealthCheck,
    MaintenanceWindow,
    NotificationChannel,
    StatsRollup,
)
from healing.monitoring import maintenance
from healing.monitoring.notifications import channel_test_send

logger = logging.getLogger(__name__)


class ReadOnlyAdmin(admin.ModelAdmin):
    """History written by the tasks: browsable and deletable, never edited by hand."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(HealthCheck)
class HealthCheckAdmin(ReadOnlyAdmin):
    list_display = ["checked_at", "provider", "ok", "skipped", "status_code", "latency_ms", "error_class", "streak"]
    list_filter = ["ok", "skipped", "error_class"]
    search_fields = ["provider__slug", "message"]
    list_select_related = ["provider"]
    date_hierarchy = "checked_at"


@admin.register(NotificationChannel)
class NotificationChannelAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "target", "secret_env", "secret_state", "enabled"]
    list_filter = ["kind", "enabled"]
    search_fields = ["name"]
    actions = ["send_test"]

    @admin.display(description="secret")
    def secret_state(self, obj: NotificationChannel) -> str:
        if not obj.secret_env:
            return "-"
        return "set" if obj.secret_is_set else "unset"

    @admin.action(description="Send a test notification")
    def send_test(self, request: HttpRequest, queryset: QuerySet[NotificationChannel]) -> None:
        for channel in queryset:
            record = channel_test_send(channel)
            if record is None:
                self.message_user(request, f"{channel.name}: disabled, nothing sent", messages.WARNING)
            elif record.ok:
                self.message_user(request, f"{channel.name}: test delivered ({record.attempts} attempt(s))")
            else:
                self.message_user(request, f"{channel.name}: test failed: {record.error}", messages.ERROR)


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "severity", "provider", "pool", "repeat_minutes", "enabled"]
    list_filter = ["kind", "severity", "enabled"]
    search_fields = ["name"]
    filter_horizontal = ["channels"]


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ["opened_at", "severity", "subject", "state", "message", "notify_count", "resolved_at"]
    list_filter = ["state", "severity", "rule"]
    search_fields = ["subject", "message"]
    date_hierarchy = "opened_at"


class IncidentUpdateInline(admin.TabularInline):
    """The timeline: rows written by the evaluation stay as written; an operator may add a note."""

    model = IncidentUpdate
    extra = 0
    fields = ["at", "state", "message"]

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    """Opened and resolved by the incident evaluation (the status page); only the public title
    may be reworded, and notes added to the timeline."""

    list_display = ["opened_at", "pool", "kind", "state", "title", "resolved_at"]
    list_filter = ["state", "kind", "pool"]
    search_fields = ["title", "pool__slug"]
    date_hierarchy = "opened_at"
    readonly_fields = ["pool", "kind", "state", "opened_at", "resolved_at"]
    inlines = [IncidentUpdateInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(AlertDelivery)
class AlertDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "channel", "event", "alert", "ok", "attempts", "error"]
    list_filter = ["ok", "event", "channel"]


@admin.register(MaintenanceWindow)
class MaintenanceWindowAdmin(admin.ModelAdmin):
    list_display = ["provider", "pool", "starts_at", "ends_at", "reason", "created_by"]
    list_filter = ["starts_at"]
    search_fields = ["reason", "provider__slug", "pool__slug"]
    readonly_fields = ["created_by", "created_at"]

    def save_model(self, request, obj, form, change) -> None:
        if not obj.created_by:
            obj.created_by = request.user.get_username()
        super().save_model(request, obj, form, change)
        self._sync(request)

    def delete_model(self, request, obj) -> None:
        super().delete_model(request, obj)
        self._sync(request)

    def delete_queryset(self, request, queryset) -> None:
        super().delete_queryset(request, queryset)
        self._sync(request)

    def _sync(self, request: HttpRequest) -> None:
        try:
            maintenance.maintenance_sync()
        except redis.RedisError as exc:
            logger.warning("maintenance windows not synced to Redis: %s", exc)
            self.message_user(request, "Saved, but routing picks it up only at the next sweep (Redis unavailable).",
                              messages.WARNING)


@admin.register(StatsRollup)
class StatsRollupAdmin(ReadOnlyAdmin):
    list_display = ["hour", "provider", "requests", "success_rate", "latency_p50_ms", "latency_p95_ms",
                    "cache_hit_ratio"]
    list_filter = ["hour"]
    list_select_related = ["provider"]
