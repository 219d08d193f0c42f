"""Self-healing endpoints; every path works with and without a trailing slash."""

from django.urls import re_path

from . import selfheal_views as views

urlpatterns = [
    re_path(r"^api/crypto-hub/health-status/?$", views.HealthStatusView.as_view(), name="health-status"),
    re_path(r"^api/crypto-hub/health-check/?$", views.HealthCheckView.as_view(), name="health-check"),
    re_path(r"^api/crypto-hub/recover/?$", views.RecoverView.as_view(), name="recover"),
    re_path(r"^api/crypto-hub/diagnostics/?$", views.DiagnosticsView.as_view(), name="diagnostics"),
    re_path(r"^api/crypto-hub/recovery-log/?$", views.RecoveryLogView.as_view(), name="recovery-log"),
    re_path(r"^api/crypto-hub/clear-failures/?$", views.ClearFailuresView.as_view(), name="clear-failures"),
]
