"""Pool routes, each with and without a trailing slash (see providers.api.urls.slash_optional)."""

from common.restapi import slash_optional

from .views import (
    PoolDetailView,
    PoolListView,
    PoolMemberDetailView,
    PoolMembersView,
    PoolRotateView,
    RotationHistoryView,
)

urlpatterns = [
    *slash_optional("api/pools", PoolListView, "pool-list"),
    # Before the detail route: "history" is a reserved pool slug.
    *slash_optional("api/pools/history", RotationHistoryView, "pool-history"),
    *slash_optional("api/rotations", RotationHistoryView, "rotation-list"),
    *slash_optional("api/pools/<slug:slug>", PoolDetailView, "pool-detail"),
    *slash_optional("api/pools/<slug:slug>/members", PoolMembersView, "pool-members"),
    *slash_optional("api/pools/<slug:slug>/members/<slug:provider>", PoolMemberDetailView, "pool-member-detail"),
    *slash_optional("api/pools/<slug:slug>/rotate", PoolRotateView, "pool-rotate"),
]
