"""Monitor, provider pages, Pools and Alerts; every page with and without its trailing slash."""

from django.urls import path

from dashboard.operations import views

urlpatterns = [
    path("monitor", views.monitor_view, name="dashboard-monitor"),
    path("monitor/", views.monitor_view),
    path("monitor/<slug:slug>", views.provider_view, name="dashboard-provider"),
    path("monitor/<slug:slug>/", views.provider_view),
    path("pools", views.pools_view, name="dashboard-pools"),
    path("pools/", views.pools_view),
    path("pools/<slug:slug>", views.pools_view, name="dashboard-pool"),
    path("pools/<slug:slug>/", views.pools_view),
    path("pools/<slug:slug>/rotate", views.rotate_view, name="dashboard-pool-rotate"),
    path("alerts", views.alerts_view, name="dashboard-alerts"),
    path("alerts/", views.alerts_view),
    path("alerts/channels/<int:channel_id>/test", views.send_test_view, name="dashboard-channel-test"),
]
