"""The dashboard app's routes: one URL module per part (each part owns its views and templates)."""

from django.urls import include, path

urlpatterns = [
    path("", include("dashboard.live.urls")),  # the feed's REST side: /api/sessions
    path("", include("dashboard.site.urls")),  # the frame and the Market, Sentiment and Tools tabs
    path("", include("dashboard.operations.urls")),  # Monitor, provider pages, Pools, Alerts
    path("", include("dashboard.statuspage.urls")),  # the public status page, its JSON and badges
]
