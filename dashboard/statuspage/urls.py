"""The public status page's routes; each answers with and without a trailing slash."""

from django.urls import re_path

from common.restapi import slash_optional

from . import views

urlpatterns = [
    re_path(r"^status/?$", views.status_page_view, name="status-page"),
    *slash_optional("api/status/page", views.StatusPageView, "status-page-json"),
    # Any name reaches the view, which answers 404 in JSON for one that is not a pool.
    re_path(r"^status/badge/(?P<pool>.+)\.svg$", views.badge_view, name="status-badge"),
]
