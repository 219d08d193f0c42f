"""The healing app's routes: health, status and stats; self-healing; monitoring.

Included before the catalogue's routes (so /api/providers/<slug>/health is ours). Every path
answers with and without a trailing slash (APPEND_SLASH is off); the slash twin stays out of
the OpenAPI schema.
"""

from django.urls import path, re_path

from common.restapi import slash_optional

from . import activity, selfheal
from .audit import AuditView
from .backup import ConfigExportView, ConfigImportView
from .cache import CacheView
from .discovery import DiscoveryView
from .monitoring import AlertListView, ProviderHealthView, metrics_view
from .old_resources import ResourcesBackupView, ResourcesExportView
from .status import HealthView, StatsExportView, StatsView, StatusView

urlpatterns = [
    *slash_optional("health", HealthView, "health"),
    *slash_optional("api/status", StatusView, "status"),
    *slash_optional("api/stats", StatsView, "stats"),
    *slash_optional("api/stats/export", StatsExportView, "stats-export"),
    *slash_optional("api/audit", AuditView, "audit"),
    *slash_optional("api/cache", CacheView, "cache"),
    *slash_optional("api/discovery", DiscoveryView, "discovery"),
    *slash_optional("api/logs", activity.LogsView, "logs"),
    *slash_optional("api/logs/recent", activity.RecentLogsView, "logs-recent"),
    *slash_optional("api/logs/errors", activity.ErrorLogsView, "logs-errors"),
    *slash_optional("api/logs/stats", activity.LogStatsView, "logs-stats"),
    *slash_optional("api/logs/export", activity.LogExportView, "logs-export"),
    *slash_optional("api/resources/export/<str:fmt>", ResourcesExportView, "resources-export"),
    *slash_optional("api/resources/backup", ResourcesBackupView, "resources-backup"),
    *slash_optional("api/config/export", ConfigExportView, "config-export"),
    *slash_optional("api/config/import", ConfigImportView, "config-import"),
    re_path(r"^api/crypto-hub/health-status/?$", selfheal.HealthStatusView.as_view(), name="health-status"),
    re_path(r"^api/crypto-hub/health-check/?$", selfheal.HealthCheckView.as_view(), name="health-check"),
    re_path(r"^api/crypto-hub/recover/?$", selfheal.RecoverView.as_view(), name="recover"),
    re_path(r"^api/crypto-hub/diagnostics/?$", selfheal.DiagnosticsView.as_view(), name="diagnostics"),
    re_path(r"^api/crypto-hub/recovery-log/?$", selfheal.RecoveryLogView.as_view(), name="recovery-log"),
    re_path(r"^api/crypto-hub/clear-failures/?$", selfheal.ClearFailuresView.as_view(), name="clear-failures"),
    path("metrics", metrics_view, name="metrics"),
    path("metrics/", metrics_view),
    *slash_optional("api/providers/<slug:slug>/health", ProviderHealthView, "provider-health"),
    *slash_optional("api/providers/<slug:slug>/health-check", selfheal.ProviderHealthCheckView,
                    "provider-health-check"),
    *slash_optional("api/alerts", AlertListView, "alert-list"),
]
