"""Catalogue routes. Every route answers with and without a trailing slash (APPEND_SLASH is off
so a POST body is never lost to a redirect); the schema lists the slash-less form only."""

from __future__ import annotations

from django.urls import URLPattern, path
from rest_framework.views import APIView

from .views import ProviderCategoryView, ProviderDetailView, ProviderListView


def slash_optional(route: str, view: type[APIView], name: str) -> list[URLPattern]:
    """`route` and `route/` for one view; the second is left out of the OpenAPI schema."""
    return [
        path(route, view.as_view(), name=name),
        path(route + "/", view.as_view(schema=None)),
    ]


urlpatterns = [
    *slash_optional("api/providers", ProviderListView, "provider-list"),
    # Before the detail route so "category" is never taken for a slug.
    *slash_optional("api/providers/category/<str:category>", ProviderCategoryView, "provider-category"),
    *slash_optional("api/providers/<slug:slug>", ProviderDetailView, "provider-detail"),
]
