"""Catalogue routes. Every route answers with and without a trailing slash (APPEND_SLASH is off
so a POST body is never lost to a redirect); the schema lists the slash-less form only."""

from __future__ import annotations

from common.restapi import slash_optional

from .views import ProviderCategoryView, ProviderDetailView, ProviderListView

urlpatterns = [
    *slash_optional("api/providers", ProviderListView, "provider-list"),
    # Before the detail route so "category" is never taken for a slug.
    *slash_optional("api/providers/category/<str:category>", ProviderCategoryView, "provider-category"),
    *slash_optional("api/providers/<slug:slug>", ProviderDetailView, "provider-detail"),
]
