"""The asset registry in the admin: assets with every provider's name for them, and the listings
a sync could not tie to one coin (`ambiguous`), for an operator to decide — picking the asset of a
listing makes it a manual match that later syncs keep."""

from __future__ import annotations

from django.contrib import admin

from providers.asset_models import Asset, MatchKind, ProviderAsset


class ListingInline(admin.TabularInline):
    model = ProviderAsset
    fields = ["provider", "key", "symbol", "name", "match", "quotes", "delisted", "seen_at"]
    readonly_fields = ["seen_at"]
    extra = 0
    show_change_link = True


@admin.register(Asset)
class AssetAdmin(admin.ModelAdmin):
    list_display = ["id", "symbol", "name", "rank", "delisted", "updated_at"]
    list_filter = ["delisted"]
    search_fields = ["id", "symbol", "name"]
    readonly_fields = ["first_seen", "updated_at"]
    inlines = [ListingInline]
    list_per_page = 100


class NeedsReview(admin.SimpleListFilter):
    title = "review"
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return [("yes", "Ambiguous or unmatched")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(match__in=[MatchKind.AMBIGUOUS, MatchKind.UNMATCHED], delisted=False)
        return queryset


@admin.register(ProviderAsset)
class ProviderAssetAdmin(admin.ModelAdmin):
    list_display = ["provider", "key", "symbol", "name", "asset", "match", "candidates", "delisted", "seen_at"]
    list_filter = [NeedsReview, "match", "delisted", "provider"]
    search_fields = ["key", "symbol", "name", "asset__id"]
    autocomplete_fields = ["asset"]
    readonly_fields = ["candidates", "seen_at", "updated_at"]
    list_per_page = 100
