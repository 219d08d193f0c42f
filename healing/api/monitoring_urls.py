"""Monitoring routes, included before the catalogue's (so /api/providers/<slug>/health is ours).
Each answers with and without a trailing slash (APPEND_SLASH is off)."""

from __future__ import annotations

from django.urls import path

from .monitoring_views import AlertListView, ProviderHealthView, metrics_view

urlpatterns = [
    path("metrics", metrics_view, name="metrics"),
    path("metrics/", metrics_view),
    path("api/providers/<slug:slug>/health", ProviderHealthView.as_view(), name="provider-health"),
    path("api/providers/<slug:slug>/health/", ProviderHealthView.as_view(schema=None)),
    path("api/alerts", AlertListView.as_view(), name="alert-list"),
    path("api/alerts/", AlertListView.as_view(schema=None)),
]
