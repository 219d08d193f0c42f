"""The frame's tabs: Market at /, Sentiment, Tools; /api/crypto-hub/ redirects to /.
Each path answers with and without its trailing slash (APPEND_SLASH is off)."""

from django.urls import path

from dashboard.site import views

urlpatterns = [
    path("", views.market, name="dashboard-market"),
    path("sentiment", views.sentiment, name="dashboard-sentiment"),
    path("sentiment/", views.sentiment),
    path("tools", views.tools_page, name="dashboard-tools"),
    path("tools/", views.tools_page),
    path("api/crypto-hub", views.to_market, name="crypto-hub-home"),
    path("api/crypto-hub/", views.to_market),
]
