"""Health, status and statistics routes, each with and without a trailing slash."""

from providers.api.urls import slash_optional

from .status_views import HealthView, StatsExportView, StatsView, StatusView

urlpatterns = [
    *slash_optional("health", HealthView, "health"),
    *slash_optional("api/status", StatusView, "status"),
    *slash_optional("api/stats", StatsView, "stats"),
    *slash_optional("api/stats/export", StatsExportView, "stats-export"),
]
